//! The cart and the intents that change it; held bills.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::*;

/// `cart`: one thing the cashier did to the cart. Answered with the whole cart.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(tag = "intent", rename_all = "snake_case")]
pub enum CartIntent {
    /// Only read the cart.
    Show,
    /// A scanned or typed code: a barcode or a SKU, exactly. Adds one, or one more.
    Scan {
        /// Digits from the scanner, or a SKU.
        code: String,
    },
    /// Add `qty` of an item picked from the search.
    Add {
        /// The item.
        sku: String,
        /// How many (default 1).
        #[ts(type = "number | null")]
        qty: Option<i64>,
    },
    /// Set a line's quantity (0 removes the line).
    SetQty {
        /// The line's index, from 0.
        line: u32,
        /// The line's item, as the page showed it: when another terminal's edit moved the
        /// lines meanwhile, the intent is refused (`stale_cart`) instead of changing another
        /// line.
        sku: String,
        /// New quantity.
        #[ts(type = "number")]
        qty: i64,
    },
    /// Remove a line.
    RemoveLine {
        /// The line's index.
        line: u32,
        /// The line's item, as the page showed it: when another terminal's edit moved the
        /// lines meanwhile, the intent is refused (`stale_cart`) instead of changing another
        /// line.
        sku: String,
    },
    /// A discount on one line, in rupiah (0 clears it).
    LineDiscount {
        /// The line's index.
        line: u32,
        /// The line's item, as the page showed it: when another terminal's edit moved the
        /// lines meanwhile, the intent is refused (`stale_cart`) instead of changing another
        /// line.
        sku: String,
        /// Rupiah off the line.
        #[ts(type = "number")]
        amount: i64,
    },
    /// A discount on the whole bill, in rupiah (0 clears it).
    BillDiscount {
        /// Rupiah off the bill.
        #[ts(type = "number")]
        amount: i64,
    },
    /// Select a customer (their price list applies) or clear it.
    Customer {
        /// A customer code, or `None` for a walk-in sale.
        code: Option<String>,
    },
    /// Apply a voucher (checked against the local vouchers) or remove it.
    Voucher {
        /// The voucher code, or `None` to remove.
        code: Option<String>,
    },
    /// Empty the cart (a held bill it came from stays held).
    Clear,
}

/// The cart as the page shows it: every figure computed in Rust.
#[derive(Clone, Debug, Default, Serialize, Deserialize, TS)]
pub struct CartView {
    /// Its lines, in order.
    pub lines: Vec<CartLineView>,
    /// The price list in force (`retail`, `wholesale`).
    pub price_list: String,
    /// The customer, if one is selected.
    pub customer: Option<CustomerView>,
    /// The voucher applied, if any.
    pub voucher: Option<VoucherView>,
    /// Sum of quantity × price.
    #[ts(type = "number")]
    pub subtotal: i64,
    /// Discounts on lines.
    #[ts(type = "number")]
    pub line_discounts: i64,
    /// The bill discount typed by the cashier.
    #[ts(type = "number")]
    pub bill_discount: i64,
    /// The voucher's discount taken.
    #[ts(type = "number")]
    pub voucher_discount: i64,
    /// Tax.
    #[ts(type = "number")]
    pub tax: i64,
    /// What the customer pays.
    #[ts(type = "number")]
    pub total: i64,
    /// The held bill this cart is, when it was resumed (edits merge with other terminals').
    pub held_bill: Option<String>,
    /// Things to tell the cashier (an item without a price, low stock, credit limit).
    pub notices: Vec<String>,
}

/// One cart line.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct CartLineView {
    /// The item.
    pub sku: String,
    /// Its name.
    pub name: String,
    /// Quantity.
    #[ts(type = "number")]
    pub qty: i64,
    /// Unit price from the list in force.
    #[ts(type = "number")]
    pub price: i64,
    /// Discount typed on this line.
    #[ts(type = "number")]
    pub discount: i64,
    /// Tax on the line (after discounts, including its share of bill discounts).
    #[ts(type = "number")]
    pub tax: i64,
    /// Quantity × price − discount.
    #[ts(type = "number")]
    pub amount: i64,
    /// Local stock estimate.
    #[ts(type = "number | null")]
    pub stock: Option<i64>,
    /// The item has no price in force on the list (sold at 0 until the office sets one).
    pub unpriced: bool,
}

/// A voucher on the cart.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct VoucherView {
    /// Its code.
    pub code: String,
    /// Its campaign.
    pub campaign: String,
    /// Rupiah off.
    #[ts(type = "number")]
    pub discount: i64,
}

/// `hold`: put the cart on hold (a `held_bills` document every terminal of the branch sees).
#[derive(Clone, Debug, Default, Serialize, Deserialize, TS)]
pub struct HoldRequest {
    /// A note for whoever resumes it (`table 4`, `coming back for rice`).
    pub note: Option<String>,
}

/// `held_bills`: no fields.
#[derive(Clone, Debug, Default, Serialize, Deserialize, TS)]
pub struct HeldBillsRequest {}

/// A held bill.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct HeldBillView {
    /// Its id.
    pub id: String,
    /// The terminal that held it.
    pub terminal: String,
    /// Who held it (the name on their staff row).
    pub cashier: String,
    /// The customer, if any.
    pub customer: Option<String>,
    /// Its note.
    pub note: String,
    /// Number of lines.
    pub lines: u32,
    /// Its total at today's prices.
    #[ts(type = "number")]
    pub total: i64,
}

/// `resume`: make a held bill the cart. It stays held until checkout removes it, so another
/// terminal can work on it at the same time; the lines merge.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct ResumeRequest {
    /// The held bill's id.
    pub id: String,
}
