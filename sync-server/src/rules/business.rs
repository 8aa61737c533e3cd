//! The rules of the POS and field-sales business ([`lapak_core::catalog::business`]): what
//! the server checks before a ledger entry becomes a fact, what it derives from accepted facts
//! (stock, returned quantities, voucher redemptions, credit dues, the cash drawer), which
//! exceptions it raises for the back office, and the event each fact emits. `docs/domain.md`
//! explains each rule and why.
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

use lapak_core::commerce::bounds::{check_amount, check_quantity};
use lapak_core::commerce::lines::{self, Line, qty_by_sku};
use lapak_core::commerce::payment::{check_payments, payments_of};
use lapak_core::commerce::price::{self, PriceRow};
use lapak_core::commerce::voucher::{self, VoucherTerms};
use lapak_core::commerce::when;
use lapak_core::{Item, Record, Scalar, Value};
use serde_json::json;

use super::{Effects, Facts, Needs, Rule, RuleVerdict, Rules, Write, WriteKind, real_of};

pub use lapak_core::commerce::{MAX_AMOUNT, MAX_QUANTITY};

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

/// The price list of an invoice: its customer's (when the writer may act on the customer) or
/// else its branch's ([`price::list_for`]).
fn price_list<'a>(w: &'a Write<'_>, facts: &'a Facts) -> &'a str {
    let customer = w.text("customer");
    let customer_list = (!customer.is_empty())
        .then(|| w.row_in_scope(facts, "customers", customer))
        .flatten()
        .map(|c| field_text(c, "price_list"));
    let branch_list = facts
        .row("branches", w.text("branch"))
        .map_or("", |b| field_text(b, "price_list"));
    price::list_for(customer_list, branch_list)
}

/// The price of `sku` on `list` in force at `at` ([`price::in_force`]).
fn price_in_force(facts: &Facts, list: &str, sku: &str, at: i64) -> Option<i64> {
    let rows = facts.rows_where("prices", &[("price_list", list), ("sku", sku)]);
    price::in_force(
        rows.iter().filter_map(|(id, p)| {
            Some(PriceRow {
                id,
                price: field_int(p, "price")?,
                effective_from: field_int(p, "effective_from")?,
                effective_to: field_int(p, "effective_to"),
            })
        }),
        at,
    )
}

/// Sales invoices: lines and payments add up; stock moves; prices are checked against the
/// price list in force; credit goes to the customer's dues; cash goes to the drawer.
struct InvoiceRule;

impl Rule for InvoiceRule {
    fn reads(&self, w: &Write<'_>, facts: &Facts, needs: &mut Needs<'_>) {
        let branch = w.text("branch");
        needs.row("branches", branch);
        let customer = w.text("customer");
        needs.row("customers", customer);
        if !customer.is_empty() {
            needs.tally(&format!("due:{customer}"));
        }
        if !w.text("terminal").is_empty() {
            needs.tally(&format!("drawer:{branch}/{}", w.text("terminal")));
        }
        let list = price_list(w, facts);
        for l in w.list("lines") {
            let sku = text(l, "sku");
            needs.row("items", sku);
            needs.tally(&stock_key(branch, sku));
            if !list.is_empty() {
                needs.rows_where("prices", &[("price_list", list), ("sku", sku)]);
            }
        }
    }

    fn check(&self, w: &Write<'_>, facts: &Facts, fx: &mut Effects) -> RuleVerdict {
        match Self::judge(w, facts, fx) {
            Ok(()) => RuleVerdict::Accept,
            Err(v) => v,
        }
    }
}

impl InvoiceRule {
    fn judge(w: &Write<'_>, facts: &Facts, fx: &mut Effects) -> Result<(), RuleVerdict> {
        lines::check_lines(w.list("lines"), "the invoice")?;
        let lines = Line::from_items(w.list("lines"));
        let total = w.int("total");
        lines::check_total(&lines, total, "the invoice")?;
        let split = check_payments(&payments_of(w.list("payments")), total)?;
        let (credit, cash) = (split.credit, split.cash);
        let branch = w.text("branch");
        let customer = w.text("customer");
        if credit > 0 {
            let Some(c) = w.row_in_scope(facts, "customers", customer) else {
                return Err(RuleVerdict::reject(
                    "unknown_customer",
                    format!(
                        "a credit sale needs a customer of this branch, and customer `{customer}` is not known at branch {branch}: pick the customer from the list"
                    ),
                ));
            };
            let (_, due) = fx.add_checked(
                facts,
                &format!("due:{customer}"),
                credit,
                &format!("the dues of customer `{customer}`"),
            )?;
            if let Some(limit) = field_int(c, "credit_limit")
                && due > limit
            {
                fx.raise(
                    "credit_limit_exceeded",
                    format!(
                        "customer `{customer}` now owes {due}, above their credit limit of {limit}"
                    ),
                    json!({ "customer": customer, "due": due, "limit": limit }),
                );
            }
        }
        for (sku, qty) in qty_by_sku(&lines) {
            let qty = check_quantity(&format!("the quantity of `{sku}` on the invoice"), qty)?;
            move_stock(w, facts, fx, branch, sku, -qty)?;
        }
        Self::check_prices(w, facts, fx);
        let terminal = w.text("terminal");
        if cash > 0 && !terminal.is_empty() {
            fx.add_checked(
                facts,
                &format!("drawer:{branch}/{terminal}"),
                cash,
                &format!("the drawer of terminal {terminal}"),
            )?;
        }
        Ok(())
    }

    /// Raises a `price_mismatch` for lines not charged the list price in force.
    fn check_prices(w: &Write<'_>, facts: &Facts, fx: &mut Effects) {
        let lines = w.list("lines");
        let branch = w.text("branch");
        let list = price_list(w, facts);
        if !list.is_empty() {
            let sold_at = w.int("sold_at");
            let off: Vec<serde_json::Value> = lines
                .iter()
                .enumerate()
                .filter_map(|(i, l)| {
                    let expected = price_in_force(facts, list, text(l, "sku"), sold_at);
                    (expected != Some(int(l, "price"))).then(|| {
                        json!({ "line": i + 1, "sku": text(l, "sku"), "charged": int(l, "price"), "list_price": expected })
                    })
                })
                .collect();
            if !off.is_empty() {
                fx.raise(
                    "price_mismatch",
                    format!(
                        "{} line(s) of invoice {} at branch {branch} were not charged the price of list `{list}` in force on {}",
                        off.len(),
                        w.text("number"),
                        when(sold_at)
                    ),
                    json!({ "price_list": list, "lines": off }),
                );
            }
        }
    }
}

/// Sales returns: against an invoice the server has, never more of an item than it sold net
/// of earlier returns, never more money than it took; stock comes back.
struct ReturnRule;

impl Rule for ReturnRule {
    fn reads(&self, w: &Write<'_>, _: &Facts, needs: &mut Needs<'_>) {
        let invoice = w.text("invoice");
        needs.row("sales_invoices", invoice);
        needs.tally(&format!("refunded:{invoice}"));
        let branch = w.text("branch");
        if !w.text("terminal").is_empty() {
            needs.tally(&format!("drawer:{branch}/{}", w.text("terminal")));
        }
        for l in w.list("lines") {
            let sku = text(l, "sku");
            needs.row("items", sku);
            needs.tally(&format!("returned:{invoice}/{sku}"));
            needs.tally(&stock_key(branch, sku));
        }
    }

    fn check(&self, w: &Write<'_>, facts: &Facts, fx: &mut Effects) -> RuleVerdict {
        match Self::judge(w, facts, fx) {
            Ok(()) => RuleVerdict::Accept,
            Err(v) => v,
        }
    }
}

impl ReturnRule {
    fn judge(w: &Write<'_>, facts: &Facts, fx: &mut Effects) -> Result<(), RuleVerdict> {
        lines::check_lines(w.list("lines"), "the return")?;
        let lines = Line::from_items(w.list("lines"));
        let refund = check_amount("the refund", i128::from(w.int("refund")))?;
        let invoice_id = w.text("invoice");
        // An invoice of a scope the writer may not act in is, to them, one that never came.
        let Some(invoice) = w.row_in_scope(facts, "sales_invoices", invoice_id) else {
            return Err(Self::not_arrived(w, invoice_id));
        };
        let sold_lines =
            Line::from_items(invoice.get("lines").and_then(Value::as_list).unwrap_or(&[]));
        let sold = qty_by_sku(&sold_lines);
        for (sku, qty) in qty_by_sku(&lines) {
            let qty = check_quantity(&format!("the quantity of `{sku}` returned"), qty)?;
            let sold_qty = sold.get(sku).copied().unwrap_or(0);
            let key = format!("returned:{invoice_id}/{sku}");
            let earlier = i128::from(facts.tally(&key).value) + fx.pending(&key);
            if i128::from(qty) + earlier > sold_qty {
                return Err(RuleVerdict::reject(
                    "return_exceeds_sale",
                    format!(
                        "invoice {invoice_id} sold {sold_qty} of `{sku}` and {earlier} were already returned, so at most {} more can be returned (this return has {qty})",
                        (sold_qty - earlier).max(0)
                    ),
                ));
            }
            fx.add_checked(
                facts,
                &key,
                qty,
                &format!("the returned quantity of `{sku}`"),
            )?;
            move_stock(w, facts, fx, w.text("branch"), sku, qty)?;
        }
        let refunded = facts.tally(&format!("refunded:{invoice_id}")).value;
        let total = field_int(invoice, "total").unwrap_or(0);
        if i128::from(refund) + i128::from(refunded) > i128::from(total) {
            return Err(RuleVerdict::reject(
                "refund_exceeds_sale",
                format!(
                    "invoice {invoice_id} took {total} and {refunded} was already refunded, so at most {} can be refunded (this return refunds {refund})",
                    (i128::from(total) - i128::from(refunded)).max(0)
                ),
            ));
        }
        fx.add_checked(
            facts,
            &format!("refunded:{invoice_id}"),
            refund,
            "the invoice's refunds",
        )?;
        let terminal = w.text("terminal");
        if refund > 0 && !terminal.is_empty() {
            fx.add_checked(
                facts,
                &format!("drawer:{}/{terminal}", w.text("branch")),
                -refund,
                &format!("the drawer of terminal {terminal}"),
            )?;
        }
        Ok(())
    }

    /// A return whose invoice is not (yet) at the server, or not in the writer's scopes:
    /// deferred until [`DEFERRAL_LIMIT_MS`] after its `returned_at` by the server's clock,
    /// rejected after.
    fn not_arrived(w: &Write<'_>, invoice_id: &str) -> RuleVerdict {
        let branch = w.text("branch");
        let returned_at = w.int("returned_at");
        let deadline = returned_at.saturating_add(DEFERRAL_LIMIT_MS);
        // A device clock far ahead would otherwise make the wait endless.
        if returned_at > w.now_ms.saturating_add(DEFERRAL_LIMIT_MS) {
            return RuleVerdict::reject(
                "returned_at_in_future",
                format!(
                    "this return is dated {}, more than {} days after the server's time ({}), and its invoice `{invoice_id}` has not reached the server at branch {branch}: set the device's clock and record the return again",
                    when(returned_at),
                    DEFERRAL_LIMIT_MS / 86_400_000,
                    when(w.now_ms)
                ),
            );
        }
        if w.now_ms > deadline {
            return RuleVerdict::reject(
                "invoice_never_arrived",
                format!(
                    "invoice `{invoice_id}` has not reached the server at branch {branch} in the {} days since this return was recorded ({}), so the return was refused: check the invoice number, sync the terminal that made the sale, and record the return again",
                    DEFERRAL_LIMIT_MS / 86_400_000,
                    when(returned_at)
                ),
            );
        }
        RuleVerdict::Defer {
            reason: format!(
                "invoice `{invoice_id}` has not reached the server at branch {branch} yet; the return is kept on this device and sent again until {}, when it is refused if the invoice has still not arrived",
                when(deadline)
            ),
        }
    }
}

/// Payments of dues: a known customer, a positive amount; paying more than is owed is raised.
struct CreditPaymentRule;

impl Rule for CreditPaymentRule {
    fn reads(&self, w: &Write<'_>, _: &Facts, needs: &mut Needs<'_>) {
        let customer = w.text("customer");
        needs.row("customers", customer);
        needs.tally(&format!("due:{customer}"));
    }

    fn check(&self, w: &Write<'_>, facts: &Facts, fx: &mut Effects) -> RuleVerdict {
        let customer = w.text("customer");
        let amount = w.int("amount");
        if amount <= 0 {
            return RuleVerdict::reject(
                "invalid_amount",
                format!("a payment must be above zero (it was {amount})"),
            );
        }
        if let Err(v) = check_amount("the payment", i128::from(amount)) {
            return v.into();
        }
        // Dues of a customer of another scope are not this writer's to move.
        if w.row_in_scope(facts, "customers", customer).is_none() {
            return RuleVerdict::reject(
                "unknown_customer",
                format!(
                    "customer `{customer}` is not known at branch {}: pick the customer from the list",
                    w.text("branch")
                ),
            );
        }
        let key = format!("due:{customer}");
        match fx.add_checked(
            facts,
            &key,
            -amount,
            &format!("the dues of customer `{customer}`"),
        ) {
            Ok((due, _)) if amount > due => {
                fx.raise(
                    "overpayment",
                    format!("customer `{customer}` paid {amount} but owed {due}"),
                    json!({ "customer": customer, "owed": due, "paid": amount }),
                );
                RuleVerdict::Accept
            }
            Ok(_) => RuleVerdict::Accept,
            Err(v) => v,
        }
    }
}

/// Stock movements other than sales and returns: receipts, transfers between branches and
/// adjustments (the only kind with a signed quantity).
struct StockMovementRule;

/// The kinds of stock movement.
pub const MOVEMENT_KINDS: &[&str] = &["receipt", "adjustment", "transfer_out", "transfer_in"];

impl Rule for StockMovementRule {
    fn reads(&self, w: &Write<'_>, _: &Facts, needs: &mut Needs<'_>) {
        needs.row("items", w.text("sku"));
        needs.tally(&stock_key(w.text("branch"), w.text("sku")));
    }

    fn check(&self, w: &Write<'_>, facts: &Facts, fx: &mut Effects) -> RuleVerdict {
        let kind = w.text("kind");
        let qty = w.int("qty");
        if let Err(v) = check_quantity(&format!("the quantity of the {kind}"), i128::from(qty)) {
            return v.into();
        }
        let delta = match kind {
            "receipt" | "transfer_in" if qty > 0 => qty,
            "transfer_out" if qty > 0 => -qty,
            "adjustment" if qty != 0 => qty,
            _ if MOVEMENT_KINDS.contains(&kind) => {
                return RuleVerdict::reject(
                    "invalid_quantity",
                    format!(
                        "a {kind} needs a quantity {} (it was {qty})",
                        if kind == "adjustment" {
                            "other than zero"
                        } else {
                            "above zero"
                        }
                    ),
                );
            }
            _ => {
                return RuleVerdict::reject(
                    "invalid_kind",
                    format!(
                        "`{kind}` is not a kind of stock movement: use one of {}",
                        MOVEMENT_KINDS.join(", ")
                    ),
                );
            }
        };
        if kind.starts_with("transfer")
            && (w.text("transfer").is_empty() || w.text("counterpart").is_empty())
        {
            return RuleVerdict::reject(
                "invalid_transfer",
                "a transfer needs its transfer number and the other branch (counterpart)",
            );
        }
        match move_stock(w, facts, fx, w.text("branch"), w.text("sku"), delta) {
            Ok(()) => RuleVerdict::Accept,
            Err(v) => v,
        }
    }
}

/// What redemption depends on of a `vouchers` row.
fn voucher_terms<'a>(code: &'a str, v: &'a Record) -> VoucherTerms<'a> {
    VoucherTerms {
        code,
        expires_at: field_int(v, "expires_at"),
        redeem_at: field_text(v, "redeem_at"),
        verified: match v.get("verified") {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        },
    }
}

/// Voucher redemptions: once, before expiry, where the voucher may be redeemed, and only when
/// its retailer was verified.
struct VoucherRule;

impl Rule for VoucherRule {
    fn reads(&self, w: &Write<'_>, _: &Facts, needs: &mut Needs<'_>) {
        let code = w.text("voucher");
        needs.row("vouchers", code);
        needs.tally(&format!("voucher:{code}"));
    }

    fn check(&self, w: &Write<'_>, facts: &Facts, fx: &mut Effects) -> RuleVerdict {
        let code = w.text("voucher");
        let branch = w.text("branch");
        // A voucher of a branch the writer may not act in is, to them, no voucher: nothing of
        // it (where, until when, whether redeemed) is told.
        let Some(v) = w.row_in_scope(facts, "vouchers", code) else {
            return RuleVerdict::reject(
                "unknown_voucher",
                format!(
                    "there is no voucher `{code}` for branch {branch}: check the code on the voucher (a voucher is redeemed only at the branch it was issued for)"
                ),
            );
        };
        let redeemed_at = w.int("redeemed_at");
        if let Err(refusal) =
            voucher::check_redeemable(&voucher_terms(code, v), branch, redeemed_at)
        {
            return refusal.into();
        }
        let tally = facts.tally(&format!("voucher:{code}"));
        if tally.value > 0 {
            // The note names the redeeming branch first; it is told only to its own writers
            // (the voucher may have moved branch since).
            let note = tally.note.as_deref().filter(|n| {
                n.strip_prefix("at branch ")
                    .and_then(|r| r.split([',', ' ']).next())
                    .is_some_and(|b| w.principal.can_write(&format!("branch:{b}")))
            });
            return RuleVerdict::reject(
                "voucher_already_redeemed",
                format!(
                    "voucher `{code}` was already redeemed {}: take it back from the customer",
                    note.unwrap_or("at another branch")
                ),
            );
        }
        let terminal = w.text("terminal");
        fx.set(
            format!("voucher:{code}"),
            1,
            Some(format!(
                "at branch {branch}{} on {} (redemption {}, by {})",
                if terminal.is_empty() {
                    String::new()
                } else {
                    format!(", terminal {terminal}")
                },
                when(redeemed_at),
                w.record_id,
                w.user
            )),
        );
        RuleVerdict::Accept
    }
}

/// The fastest a salesperson moves between two positions, in km/h; faster is implausible.
pub const MAX_PLAUSIBLE_KMH: f64 = 200.0;
/// The worst GPS accuracy, in metres, taken as a position.
pub const MAX_PLAUSIBLE_ACCURACY_M: f64 = 500.0;

/// Distance in metres between two positions (haversine).
#[must_use]
pub fn distance_m(lat1: f64, lng1: f64, lat2: f64, lng2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lng2 - lng1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371_000.0 * a.sqrt().asin()
}

/// Attendance: one's own, within one's territory (its centre and radius), with a flag (an
/// exception) when the position is implausible.
struct AttendanceRule;

impl AttendanceRule {
    /// Why the position cannot be trusted, if it cannot.
    fn implausible(w: &Write<'_>, facts: &Facts) -> Option<String> {
        let (Some(lat), Some(lng)) = (w.real("lat"), w.real("lng")) else {
            return Some("no GPS position was recorded".into());
        };
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lng) {
            return Some(format!("({lat}, {lng}) is not a position on Earth"));
        }
        if lat == 0.0 && lng == 0.0 {
            return Some("the position is (0, 0), which a GPS reports when it has no fix".into());
        }
        if let Some(acc) = w.real("accuracy_m")
            && acc > MAX_PLAUSIBLE_ACCURACY_M
        {
            return Some(format!(
                "the GPS accuracy was {acc:.0} m (more than {MAX_PLAUSIBLE_ACCURACY_M:.0} m)"
            ));
        }
        let last = facts.tally(&format!("lastpos:{}", w.user)).note?;
        let mut parts = last.split(',').map(str::parse::<f64>);
        let (Some(Ok(plat)), Some(Ok(plng)), Some(Ok(pat))) =
            (parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        #[allow(clippy::cast_precision_loss)]
        let hours = (w.int("at") as f64 - pat) / 3_600_000.0;
        let km = distance_m(plat, plng, lat, lng) / 1000.0;
        if hours > 0.0 && km > 1.0 && km / hours > MAX_PLAUSIBLE_KMH {
            return Some(format!(
                "the position is {km:.1} km from the previous one {:.0} minutes earlier ({:.0} km/h)",
                hours * 60.0,
                km / hours
            ));
        }
        None
    }
}

/// The kinds of attendance entry.
pub const ATTENDANCE_KINDS: &[&str] = &["check_in", "check_out"];

impl Rule for AttendanceRule {
    fn reads(&self, w: &Write<'_>, _: &Facts, needs: &mut Needs<'_>) {
        needs.row("territories", w.text("territory"));
        needs.tally(&format!("lastpos:{}", w.user));
    }

    fn check(&self, w: &Write<'_>, facts: &Facts, fx: &mut Effects) -> RuleVerdict {
        if w.text("user") != w.user {
            return RuleVerdict::reject(
                "not_your_attendance",
                format!(
                    "user `{}` may record only their own attendance, not `{}`'s",
                    w.user,
                    w.text("user")
                ),
            );
        }
        let kind = w.text("kind");
        if !ATTENDANCE_KINDS.contains(&kind) {
            return RuleVerdict::reject(
                "invalid_kind",
                format!("`{kind}` is not a kind of attendance: use check_in or check_out"),
            );
        }
        let territory = w.text("territory");
        let Some(t) = facts.row("territories", territory) else {
            return RuleVerdict::reject(
                "unknown_territory",
                format!(
                    "territory `{territory}` is not known to the back office: sync the device, or ask your supervisor"
                ),
            );
        };
        if let Some(reason) = Self::implausible(w, facts) {
            fx.raise(
                "gps_implausible",
                format!("{}'s {kind} in territory {territory} was accepted, but its position is implausible: {reason}", w.user),
                json!({ "user": w.user, "reason": reason, "lat": w.real("lat"), "lng": w.real("lng"), "accuracy_m": w.real("accuracy_m") }),
            );
            return RuleVerdict::Accept;
        }
        let (lat, lng) = (w.real("lat").unwrap_or(0.0), w.real("lng").unwrap_or(0.0));
        if let (Some(clat), Some(clng), Some(radius)) = (
            real_of(t.get("lat")),
            real_of(t.get("lng")),
            field_int(t, "radius_m"),
        ) {
            let d = distance_m(clat, clng, lat, lng);
            #[allow(clippy::cast_precision_loss)]
            let allowed = radius as f64 + w.real("accuracy_m").unwrap_or(0.0);
            if d > allowed {
                return RuleVerdict::reject(
                    "outside_territory",
                    format!(
                        "this {kind} is {:.1} km from the centre of territory {territory}, which reaches {:.1} km: check in where you work, or ask your supervisor to change your territory",
                        d / 1000.0,
                        allowed / 1000.0
                    ),
                );
            }
        }
        fx.set(
            format!("lastpos:{}", w.user),
            0,
            Some(format!("{lat},{lng},{}", w.int("at"))),
        );
        RuleVerdict::Accept
    }
}

/// The kinds of field activity: sell-in orders, sell-out, branch and program activities.
pub const ACTIVITY_KINDS: &[&str] = &["sell_in", "sell_out", "branch", "program"];

fn activity_rule(w: &Write<'_>) -> RuleVerdict {
    let kind = w.text("kind");
    if !ACTIVITY_KINDS.contains(&kind) {
        return RuleVerdict::reject(
            "invalid_kind",
            format!(
                "`{kind}` is not a kind of activity: use one of {}",
                ACTIVITY_KINDS.join(", ")
            ),
        );
    }
    if w.text("salesperson") != w.user {
        return RuleVerdict::reject(
            "not_your_activity",
            format!("user `{}` may submit only their own activities", w.user),
        );
    }
    if kind == "program" && w.text("program").is_empty() {
        return RuleVerdict::reject(
            "missing_program",
            "a program activity must name its program",
        );
    }
    if matches!(kind, "sell_in" | "sell_out")
        && let Err(v) = lines::check_lines(w.list("lines"), "the activity")
    {
        return v.into();
    }
    RuleVerdict::Accept
}

fn order_rule(w: &Write<'_>) -> RuleVerdict {
    if let Err(v) = lines::check_lines(w.list("lines"), "the order") {
        return v.into();
    }
    let sum = lines::sum(&Line::from_items(w.list("lines")));
    if i128::from(w.int("total")) != sum {
        return RuleVerdict::reject(
            "total_mismatch",
            format!(
                "the order's total {} is not the sum of its lines {sum}",
                w.int("total")
            ),
        );
    }
    RuleVerdict::Accept
}

/// Shifts: opening sets the drawer to the opening cash; closing compares the counted cash with
/// what the drawer should hold (opening cash, plus cash sales, minus refunds) and raises a
/// `cash_discrepancy` when they differ.
struct ShiftRule;

impl Rule for ShiftRule {
    fn reads(&self, w: &Write<'_>, _: &Facts, needs: &mut Needs<'_>) {
        needs.tally(&format!(
            "drawer:{}/{}",
            w.text("branch"),
            w.text("terminal")
        ));
    }

    fn check(&self, w: &Write<'_>, facts: &Facts, fx: &mut Effects) -> RuleVerdict {
        let key = format!("drawer:{}/{}", w.text("branch"), w.text("terminal"));
        match w.text("kind") {
            "open" => {
                let opening = w.int("opening_cash");
                if opening < 0 {
                    return RuleVerdict::reject(
                        "invalid_amount",
                        "the opening cash cannot be negative",
                    );
                }
                if let Err(v) = check_amount("the opening cash", i128::from(opening)) {
                    return v.into();
                }
                fx.set(key, opening, Some(format!("shift {} opened", w.record_id)));
                RuleVerdict::Accept
            }
            "close" => {
                let Some(counted) = w.record.get("counted_cash").and_then(Value::as_int) else {
                    return RuleVerdict::reject(
                        "missing_count",
                        "closing a shift needs the counted cash",
                    );
                };
                if let Err(v) = check_amount("the counted cash", i128::from(counted)) {
                    return v.into();
                }
                let expected = facts.tally(&key).value;
                let Some(difference) = counted.checked_sub(expected) else {
                    return RuleVerdict::reject(
                        "tally_out_of_range",
                        format!(
                            "the drawer holds {expected}, too far from any count: ask the back office to look at the drawer's entries"
                        ),
                    );
                };
                if counted != expected {
                    fx.raise(
                        "cash_discrepancy",
                        format!(
                            "terminal {} at branch {} closed with {counted} in the drawer, {} than the {expected} expected",
                            w.text("terminal"),
                            w.text("branch"),
                            if counted < expected { "less" } else { "more" }
                        ),
                        json!({ "expected": expected, "counted": counted, "difference": difference }),
                    );
                }
                fx.set(key, 0, Some(format!("shift closed by {}", w.record_id)));
                fx.event_type = Some("shift.closed".into());
                RuleVerdict::Accept
            }
            other => RuleVerdict::reject(
                "invalid_kind",
                format!("`{other}` is not a kind of shift entry: use open or close"),
            ),
        }
    }
}

/// Outlet profiles are keyed by their outlet's code (the `customers` row): the record id is the
/// code, `outlet` repeats it, and the profile lives only in scopes of that row, so nobody keeps
/// (or squats) a profile for an outlet outside their branch or territory.
struct OutletProfileRule;

impl Rule for OutletProfileRule {
    fn document_reads(&self, record_id: &str, needs: &mut Needs<'_>) {
        needs.row("customers", record_id);
    }

    fn check(&self, w: &Write<'_>, facts: &Facts, _: &mut Effects) -> RuleVerdict {
        let outlet = w.text("outlet");
        if outlet != w.record_id {
            return RuleVerdict::reject(
                "outlet_mismatch",
                format!(
                    "an outlet profile is keyed by its outlet's code, but this one has the id `{}` and the outlet `{outlet}`: create the profile with the outlet's code as its id",
                    w.record_id
                ),
            );
        }
        let scopes = w.collection.scopes_of(w.record);
        // Not there, or in no scope of the writer: the same answer, so nothing leaks.
        let Some(c) = w.row_in_scope(facts, "customers", outlet) else {
            return RuleVerdict::reject(
                "outlet_out_of_scope",
                format!(
                    "outlet `{outlet}` is not known in {}: a profile can be kept only for an outlet of your branch or territory; pick the outlet from the list",
                    scopes.join(" or ")
                ),
            );
        };
        let home = w.scopes_of("customers", c);
        if let Some(s) = scopes.iter().find(|s| !home.contains(s)) {
            return RuleVerdict::reject(
                "outlet_out_of_scope",
                format!(
                    "outlet `{outlet}` belongs to {}, so its profile cannot be kept in {s}: set the profile's branch and territory to the outlet's",
                    home.join(" and ")
                ),
            );
        }
        RuleVerdict::Accept
    }
}
