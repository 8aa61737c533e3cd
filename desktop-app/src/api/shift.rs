//! The shift and its drawer.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// `shift`: open or close this terminal's shift.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(tag = "intent", rename_all = "snake_case")]
pub enum ShiftIntent {
    /// Only read.
    Show,
    /// Open with the cash in the drawer.
    Open {
        /// Opening cash.
        #[ts(type = "number")]
        opening_cash: i64,
    },
    /// Close with the cash counted.
    Close {
        /// Counted cash.
        #[ts(type = "number")]
        counted_cash: i64,
    },
}

/// `shift`'s answer: the open shift, and the last one closed on this terminal.
#[derive(Clone, Debug, Default, Serialize, Deserialize, TS)]
pub struct ShiftState {
    /// The open shift.
    pub current: Option<ShiftView>,
    /// The last closed shift (its counted cash and difference).
    pub last_closed: Option<ShiftView>,
}

/// A shift and its drawer.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct ShiftView {
    /// The `shifts` entry that opened it.
    pub id: String,
    /// When it opened.
    #[ts(type = "number")]
    pub opened_at: i64,
    /// Opening cash.
    #[ts(type = "number")]
    pub opening_cash: i64,
    /// Cash taken by sales.
    #[ts(type = "number")]
    pub cash_sales: i64,
    /// Cash paid back for returns.
    #[ts(type = "number")]
    pub refunds: i64,
    /// Opening + cash sales − refunds.
    #[ts(type = "number")]
    pub expected_cash: i64,
    /// Sales in the shift.
    pub sales: u32,
    /// When closed: counted cash.
    #[ts(type = "number | null")]
    pub counted_cash: Option<i64>,
    /// When closed: counted − expected.
    #[ts(type = "number | null")]
    pub difference: Option<i64>,
    /// When closed: when.
    #[ts(type = "number | null")]
    pub closed_at: Option<i64>,
}
