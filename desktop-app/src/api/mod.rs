//! The typed boundary between the POS page and Rust: one request type per Tauri command, one
//! response type, and [`CommandError`] with a machine-readable [`ErrorCode`] and a message for
//! people. The page never computes money: every figure here was computed by
//! `lapak_core::commerce`.
//!
//! TypeScript types are generated from these with ts-rs into `ui/pos/src/generated/` (a test,
//! `bindings_are_current`, fails when the committed files differ; `LAPAK_UPDATE_BINDINGS=1`
//! rewrites them). Money and quantities are integers (rupiah, units) below 2^53, so they travel
//! as JSON numbers; times are milliseconds since the Unix epoch.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What went wrong, for the page to branch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The terminal has no cashier signed in.
    NotSignedIn,
    /// The cashier has not picked the terminal yet.
    NoTerminal,
    /// Selling and returns need an open shift.
    NoShift,
    /// A shift is already open on this terminal.
    ShiftOpen,
    /// The server refused the user name or password.
    BadCredentials,
    /// The server could not be reached (only signing in needs it).
    Unreachable,
    /// No item, customer, voucher, held bill or invoice by that code.
    NotFound,
    /// A request field is out of range or malformed (the message names it).
    Invalid,
    /// Checkout of an empty cart.
    EmptyCart,
    /// The payments do not settle the bill.
    Payment,
    /// The voucher cannot be redeemed (expired, another branch, unverified, already used).
    Voucher,
    /// A credit sale without a customer, or to one who is not known here.
    Credit,
    /// A return more than was sold, or refunding more than was paid.
    Return,
    /// The item may not go below zero stock at this branch.
    OutOfStock,
    /// The cart changed (another terminal edited the held bill) since the page showed it:
    /// show the cart again and repeat.
    StaleCart,
    /// The held bill this cart was is paid or removed (on another terminal): the cart is now
    /// empty; show it again.
    HeldBillGone,
    /// Something on this machine failed (disk, store); the message says what to do.
    Internal,
}

/// The error every command returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct CommandError {
    /// For the page to branch on.
    pub code: ErrorCode,
    /// For the cashier: what was wrong and what to do, in the terminal's language.
    pub message: String,
}

/// The interface language.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Locale {
    /// Bahasa Indonesia (the default).
    #[default]
    Id,
    /// English.
    En,
}

mod cart;
mod catalog;
mod sale;
mod session;
mod shift;
mod sync;

pub use cart::*;
pub use catalog::*;
pub use sale::*;
pub use session::*;
pub use shift::*;
pub use sync::*;
