//! Searching items and customers.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// `search_items`: by name (words in any order), SKU or barcode.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct SearchItemsRequest {
    /// What the cashier typed.
    pub query: String,
    /// At most this many hits (1 to 100; default 30).
    pub limit: Option<u32>,
}

/// One item found.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct ItemHit {
    /// `SKU-000001`.
    pub sku: String,
    /// Name.
    pub name: String,
    /// Barcode, if any.
    pub barcode: Option<String>,
    /// `pcs`, `box`, ...
    pub unit: Option<String>,
    /// The price in force now on the cart's list; `None` when the item has no price.
    #[ts(type = "number | null")]
    pub price: Option<i64>,
    /// Local stock estimate: the level the server delivered less this terminal's unsynced
    /// sales, plus unsynced returns; `None` when the server delivered no level.
    #[ts(type = "number | null")]
    pub stock: Option<i64>,
}

/// `search_customers`: by name or code, among the branch's customers.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct SearchCustomersRequest {
    /// What the cashier typed.
    pub query: String,
    /// At most this many (default 20).
    pub limit: Option<u32>,
}

/// A customer, with what a credit sale needs to know.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct CustomerView {
    /// `OUT-000001`.
    pub code: String,
    /// Name.
    pub name: String,
    /// The customer's own price list, if any (`wholesale`).
    pub price_list: Option<String>,
    /// Credit limit, if the customer may buy on credit.
    #[ts(type = "number | null")]
    pub credit_limit: Option<i64>,
    /// What the customer owes as the server last said, plus this terminal's unsynced credit
    /// sales; `None` when the server delivered nothing yet.
    #[ts(type = "number | null")]
    pub due: Option<i64>,
}
