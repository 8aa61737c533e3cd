//! The sync badge and the rejections.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The `lapak://changed` event: another device's changes arrived in these collections (the
/// page re-reads what shows them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChangedEvent {
    /// Collection names, such as `held_bills`.
    pub collections: Vec<String>,
}

/// The sync badge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Connection {
    /// The server cannot be reached: everything keeps working and waits.
    Offline,
    /// Reached, syncing by polling.
    Online,
    /// Reached, with the live socket: others' changes arrive within a second.
    Live,
}

/// `sync_status` (also sent as the `lapak://status` event whenever it changes).
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct SyncBadge {
    /// Offline, online or live.
    pub connection: Connection,
    /// Local writes not yet stored by the server.
    #[ts(type = "number")]
    pub pending: u64,
    /// When the last sync finished, if ever.
    #[ts(type = "number | null")]
    pub last_sync: Option<i64>,
    /// How many entries the server refused.
    pub rejected: u32,
    /// The last failure, for the curious.
    pub error: Option<String>,
}

/// `sync_status`, `sync_now` and `rejections`: no fields.
#[derive(Clone, Debug, Default, Serialize, Deserialize, TS)]
pub struct Empty {}

/// Something the server refused.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct RejectionView {
    /// What kind of record (`sales_invoices`).
    pub collection: String,
    /// Which (an invoice number where known, else its id).
    pub record: String,
    /// Machine-readable.
    pub code: String,
    /// The server's message (what was wrong).
    pub message: String,
    /// What the cashier should do, in the terminal's language.
    pub what_to_do: String,
    /// When the refusal arrived.
    #[ts(type = "number")]
    pub rejected_at: i64,
}
