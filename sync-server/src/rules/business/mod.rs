//! The rules of the POS and field-sales business ([`lapak_core::catalog::business`]): what
//! the server checks before a ledger entry becomes a fact, what it derives from accepted facts
//! (stock, returned quantities, voucher redemptions, credit dues, the cash drawer), which
//! exceptions it raises for the back office, and the event each fact emits. `docs/domain.md`
//! explains each rule and why. One module per concern: `sales` (invoices, returns, payments of
//! dues), `stock` (movements), `vouchers`, `field` (attendance, activities, orders, outlet
//! profiles), `shifts`; this module registers them and holds what they share (stock moves).
//!
//! Tallies (see [`Tally`](super::Tally)) are keyed `stock:<branch>/<sku>`,
//! `returned:<invoice>/<sku>`, `refunded:<invoice>`, `voucher:<code>`, `due:<customer>`,
//! `drawer:<branch>/<terminal>` and `lastpos:<user>`.
//!
//! Quantities and amounts are bounded ([`MAX_QUANTITY`], [`MAX_AMOUNT`]) and every sum,
//! product and tally move is checked (`i128` for sums and products, [`Effects::add_checked`]
//! for tallies): an entry that would overflow is rejected with a code, never wrapped. A row of
//! another scope (a customer, an invoice, a voucher the writer holds no write grant for) is
//! treated as absent, with the same message (see [`Write::row_in_scope`]).

use lapak_core::{Item, Record, Scalar, Value};
use serde_json::json;

use super::{Effects, Facts, Needs, Rule, RuleVerdict, Rules, Write, WriteKind, real_of};

pub use lapak_core::commerce::{MAX_AMOUNT, MAX_QUANTITY};

mod field;
mod sales;
mod shifts;
mod stock;
mod vouchers;

use field::{AttendanceRule, OutletProfileRule, activity_rule, order_rule};
use sales::{CreditPaymentRule, InvoiceRule, ReturnRule};
use shifts::ShiftRule;
use stock::StockMovementRule;
use vouchers::VoucherRule;

/// How long a return waits for its invoice: a return still deferred this long after its own
/// `returned_at`, by the server's clock, is rejected (`invoice_never_arrived`). Seven days.
pub const DEFERRAL_LIMIT_MS: i64 = 7 * 86_400_000;

/// The rules and events of the business catalogue.
#[must_use]
pub fn business() -> Rules {
    Rules::new()
        .rule("sales_invoices", InvoiceRule)
        .rule("sales_returns", ReturnRule)
        .rule("credit_payments", CreditPaymentRule)
        .rule("stock_movements", StockMovementRule)
        .rule("voucher_redemptions", VoucherRule)
        .rule("attendance", AttendanceRule)
        .rule("activities", activity_rule)
        .rule("order_submissions", order_rule)
        .rule("shifts", ShiftRule)
        .rule("outlet_profiles", OutletProfileRule)
        .event("sales_invoices", WriteKind::Recorded, "invoice.issued")
        .event("sales_returns", WriteKind::Recorded, "return.processed")
        .event("credit_payments", WriteKind::Recorded, "payment.received")
        .event("stock_movements", WriteKind::Recorded, "stock.adjusted")
        .event(
            "voucher_redemptions",
            WriteKind::Recorded,
            "voucher.redeemed",
        )
        .event("attendance", WriteKind::Recorded, "attendance.marked")
        .event("activities", WriteKind::Recorded, "activity.submitted")
        .event("order_submissions", WriteKind::Recorded, "order.created")
        .event("shifts", WriteKind::Recorded, "shift.opened")
}

fn int(item: &Item, key: &str) -> i64 {
    match item.get(key) {
        Some(Scalar::Int(v)) => *v,
        _ => 0,
    }
}

fn text<'a>(item: &'a Item, key: &str) -> &'a str {
    match item.get(key) {
        Some(Scalar::Text(v)) => v,
        _ => "",
    }
}

fn field_text<'a>(r: &'a Record, key: &str) -> &'a str {
    r.get(key).and_then(Value::as_text).unwrap_or("")
}

fn field_int(r: &Record, key: &str) -> Option<i64> {
    r.get(key).and_then(Value::as_int)
}

fn stock_key(branch: &str, sku: &str) -> String {
    format!("stock:{branch}/{sku}")
}

/// Moves the stock of `sku` at `branch` by `delta`: below zero, rejected when the item says
/// `negative_stock = reject`, otherwise accepted with a `negative_stock` exception.
fn move_stock(
    w: &Write<'_>,
    facts: &Facts,
    effects: &mut Effects,
    branch: &str,
    sku: &str,
    delta: i64,
) -> Result<(), RuleVerdict> {
    let Some(item) = facts.row("items", sku) else {
        return Err(RuleVerdict::reject(
            "unknown_item",
            format!(
                "item `{sku}` is not in the catalogue: sync the device to get the current items, or ask the back office to add it"
            ),
        ));
    };
    let key = stock_key(branch, sku);
    // Earlier lines of this record moved the tally in `effects`, not yet in `facts`; a
    // rejection below drops every effect of the record with it.
    let (before, after) = effects.add_checked(
        facts,
        &key,
        delta,
        &format!("the stock of `{sku}` at branch {branch}"),
    )?;
    if delta < 0 && after < 0 {
        if field_text(item, "negative_stock") == "reject" {
            return Err(RuleVerdict::reject(
                "out_of_stock",
                format!(
                    "only {before} of `{sku}` ({}) are in stock at branch {branch}, and this item may not go below zero: sell or move at most {before}",
                    field_text(item, "name")
                ),
            ));
        }
        effects.raise(
            "negative_stock",
            format!(
                "{} of `{sku}` at branch {branch} took its stock from {before} to {after}: count the shelf and record an adjustment or a receipt",
                w.collection.name()
            ),
            json!({ "branch": branch, "sku": sku, "before": before, "after": after }),
        );
    }
    Ok(())
}
