//! The arithmetic and checks of selling, in one place for the devices and the server: a
//! terminal computes a bill with the same functions the server's rules judge it with, so a
//! device never records a total, a payment split or a voucher the server then refuses for a
//! reason the device could have known.
//!
//! - [`bounds`]: the largest quantity and amount, checked arithmetic, [`Refusal`].
//! - [`lines`]: invoice and return lines: their checks and totals.
//! - [`price`]: the price list that applies and the price in force at a time.
//! - [`cart`]: a cart (lines, line and bill discounts, voucher) and the [`cart::Bill`] it
//!   comes to: discounts apportioned over the lines, tax per line.
//! - [`payment`]: payments of an invoice (they add up, valid methods) and tenders settled
//!   into payments with change.
//! - [`invoice`]: the `sales_invoices` entry of a bill, and the server's check of it.
//! - [`voucher`]: whether a voucher may be redeemed here and now.
//! - [`numbering`]: human-readable invoice numbers unique per terminal.
//! - [`drawer`]: the cash a terminal's drawer should hold.
//!
//! Money is an integer in minor units (rupiah); tax rates are basis points. Nothing here does
//! I/O: callers read items, prices and vouchers from their own store.

pub mod bounds;
pub mod cart;
pub mod drawer;
pub mod invoice;
pub mod lines;
pub mod numbering;
pub mod payment;
pub mod price;
pub mod voucher;

pub use bounds::{MAX_AMOUNT, MAX_QUANTITY, Refusal};

/// A time in messages: `2026-11-21 10:32 UTC` (the milliseconds themselves when out of range).
#[must_use]
pub fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}
