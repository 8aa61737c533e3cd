//! The rules of the POS and field-sales business ([`lapak_core::catalog::business`]): what
//! the server checks before a ledger entry becomes a fact, what it derives from accepted facts
//! (stock, returned quantities, voucher redemptions, credit dues, the cash drawer), which
//! exceptions it raises for the back office, and the event each fact emits. `docs/domain.md`
//! explains each rule and why.
//!
//! Tallies (see [`Tally`](super::Tally)) are keyed `stock:<branch>/<sku>`,
//! `returned:<invoice>/<sku>`, `refunded:<invoice>`, `voucher:<code>`, `due:<customer>`,
//! `drawer:<branch>/<terminal>` and `lastpos:<user>`.

use std::collections::BTreeMap;

use lapak_core::{Item, Record, Scalar, Value};
use serde_json::json;

use super::{Effects, Facts, Needs, Rule, RuleVerdict, Rules, Write, WriteKind, real_of};

/// Payment methods an invoice may use.
pub const PAYMENT_METHODS: &[&str] = &["cash", "card", "qris", "transfer", "ewallet", "credit"];

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

/// `2026-11-21 10:32 UTC`.
fn when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).map_or_else(
        || ms.to_string(),
        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

/// Quantity per SKU of a list of lines, in SKU order.
fn qty_by_sku(lines: &[Item]) -> BTreeMap<&str, i64> {
    let mut out = BTreeMap::new();
    for l in lines {
        *out.entry(text(l, "sku")).or_insert(0) += int(l, "qty");
    }
    out
}

/// Every line has a SKU and a positive quantity, and no money amount is negative.
fn check_lines(lines: &[Item], what: &str) -> Result<(), RuleVerdict> {
    if lines.is_empty() {
        return Err(RuleVerdict::reject(
            "no_lines",
            format!("{what} has no lines: add at least one item"),
        ));
    }
    for (i, l) in lines.iter().enumerate() {
        if text(l, "sku").is_empty() || int(l, "qty") <= 0 {
            return Err(RuleVerdict::reject(
                "invalid_line",
                format!(
                    "line {} of {what} needs an item and a quantity above zero",
                    i + 1
                ),
            ));
        }
        for k in ["price", "discount", "tax", "amount"] {
            if int(l, k) < 0 {
                return Err(RuleVerdict::reject(
                    "invalid_line",
                    format!("line {} of {what} has a negative {k}", i + 1),
                ));
            }
        }
    }
    Ok(())
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
    // Earlier lines of this record moved the tally in `effects`, not yet in `facts`.
    let pending: i64 = effects
        .tallies
        .iter()
        .filter_map(|t| match t {
            super::TallyOp::Add(k, d) if *k == key => Some(*d),
            _ => None,
        })
        .sum();
    let before = facts.tally(&key).value + pending;
    let after = before + delta;
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
    effects.add(key, delta);
    Ok(())
}

fn price_list<'a>(w: &'a Write<'_>, facts: &'a Facts) -> &'a str {
    let customer = w.text("customer");
    if !customer.is_empty()
        && let Some(c) = facts.row("customers", customer)
        && !field_text(c, "price_list").is_empty()
    {
        return field_text(c, "price_list");
    }
    facts
        .row("branches", w.text("branch"))
        .map_or("", |b| field_text(b, "price_list"))
}

/// The price of `sku` on `list` in force at `at`: the newest `effective_from <= at` whose
/// `effective_to` (if any) is after `at`.
fn price_in_force(facts: &Facts, list: &str, sku: &str, at: i64) -> Option<i64> {
    facts
        .rows_where("prices", &[("price_list", list), ("sku", sku)])
        .iter()
        .filter(|(_, p)| {
            field_int(p, "effective_from").is_some_and(|f| f <= at)
                && field_int(p, "effective_to").is_none_or(|t| at < t)
        })
        .max_by_key(|(_, p)| field_int(p, "effective_from"))
        .and_then(|(_, p)| field_int(p, "price"))
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
        let lines = w.list("lines");
        if let Err(v) = check_lines(lines, "the invoice") {
            return v;
        }
        let total = w.int("total");
        let sum: i64 = lines
            .iter()
            .map(|l| int(l, "qty") * int(l, "price") - int(l, "discount") + int(l, "tax"))
            .sum();
        if total < 0 || total != sum {
            return RuleVerdict::reject(
                "total_mismatch",
                format!(
                    "the invoice's total {total} is not the sum of its lines (quantity × price − discount + tax = {sum}): ring the sale up again"
                ),
            );
        }
        let payments = w.list("payments");
        let paid: i64 = payments.iter().map(|p| int(p, "amount")).sum();
        if paid != total {
            return RuleVerdict::reject(
                "payment_mismatch",
                format!(
                    "the payments add up to {paid} but the invoice's total is {total}: record how the whole invoice was paid"
                ),
            );
        }
        let mut credit = 0;
        let mut cash = 0;
        for p in payments {
            let method = text(p, "method");
            if !PAYMENT_METHODS.contains(&method) || int(p, "amount") <= 0 {
                return RuleVerdict::reject(
                    "invalid_payment",
                    format!(
                        "a payment must have an amount above zero and one of the methods {}; got `{method}` for {}",
                        PAYMENT_METHODS.join(", "),
                        int(p, "amount")
                    ),
                );
            }
            match method {
                "credit" => credit += int(p, "amount"),
                "cash" => cash += int(p, "amount"),
                _ => {}
            }
        }
        let branch = w.text("branch");
        let customer = w.text("customer");
        if credit > 0 {
            let Some(c) = facts.row("customers", customer) else {
                return RuleVerdict::reject(
                    "unknown_customer",
                    format!(
                        "a credit sale needs a customer the back office knows (got `{customer}`): pick the customer from the list"
                    ),
                );
            };
            let due = facts.tally(&format!("due:{customer}")).value + credit;
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
            fx.add(format!("due:{customer}"), credit);
        }
        for (sku, qty) in qty_by_sku(lines) {
            if let Err(v) = move_stock(w, facts, fx, branch, sku, -qty) {
                return v;
            }
        }
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
        let terminal = w.text("terminal");
        if cash > 0 && !terminal.is_empty() {
            fx.add(format!("drawer:{branch}/{terminal}"), cash);
        }
        RuleVerdict::Accept
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
        let lines = w.list("lines");
        if let Err(v) = check_lines(lines, "the return") {
            return v;
        }
        let invoice_id = w.text("invoice");
        let Some(invoice) = facts.row("sales_invoices", invoice_id) else {
            return RuleVerdict::Defer {
                reason: format!(
                    "invoice `{invoice_id}` has not reached the server yet; the return is kept on this device and sent again when it has"
                ),
            };
        };
        let sold = qty_by_sku(invoice.get("lines").and_then(Value::as_list).unwrap_or(&[]));
        for (sku, qty) in qty_by_sku(lines) {
            let sold_qty = sold.get(sku).copied().unwrap_or(0);
            let earlier = facts.tally(&format!("returned:{invoice_id}/{sku}")).value;
            if qty + earlier > sold_qty {
                return RuleVerdict::reject(
                    "return_exceeds_sale",
                    format!(
                        "invoice {invoice_id} sold {sold_qty} of `{sku}` and {earlier} were already returned, so at most {} more can be returned (this return has {qty})",
                        (sold_qty - earlier).max(0)
                    ),
                );
            }
            fx.add(format!("returned:{invoice_id}/{sku}"), qty);
            if let Err(v) = move_stock(w, facts, fx, w.text("branch"), sku, qty) {
                return v;
            }
        }
        let refund = w.int("refund");
        let refunded = facts.tally(&format!("refunded:{invoice_id}")).value;
        let total = field_int(invoice, "total").unwrap_or(0);
        if refund < 0 || refund + refunded > total {
            return RuleVerdict::reject(
                "refund_exceeds_sale",
                format!(
                    "invoice {invoice_id} took {total} and {refunded} was already refunded, so at most {} can be refunded (this return refunds {refund})",
                    (total - refunded).max(0)
                ),
            );
        }
        fx.add(format!("refunded:{invoice_id}"), refund);
        let terminal = w.text("terminal");
        if refund > 0 && !terminal.is_empty() {
            fx.add(format!("drawer:{}/{terminal}", w.text("branch")), -refund);
        }
        RuleVerdict::Accept
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
        if facts.row("customers", customer).is_none() {
            return RuleVerdict::reject(
                "unknown_customer",
                format!(
                    "customer `{customer}` is not known to the back office: pick the customer from the list"
                ),
            );
        }
        let due = facts.tally(&format!("due:{customer}")).value;
        if amount > due {
            fx.raise(
                "overpayment",
                format!("customer `{customer}` paid {amount} but owed {due}"),
                json!({ "customer": customer, "owed": due, "paid": amount }),
            );
        }
        fx.add(format!("due:{customer}"), -amount);
        RuleVerdict::Accept
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
        let Some(v) = facts.row("vouchers", code) else {
            return RuleVerdict::reject(
                "unknown_voucher",
                format!("there is no voucher `{code}`: check the code on the voucher"),
            );
        };
        let redeemed_at = w.int("redeemed_at");
        let expires_at = field_int(v, "expires_at").unwrap_or(i64::MAX);
        if redeemed_at > expires_at {
            return RuleVerdict::reject(
                "voucher_expired",
                format!(
                    "voucher `{code}` expired on {}; it cannot be redeemed on {}",
                    when(expires_at),
                    when(redeemed_at)
                ),
            );
        }
        let place = field_text(v, "redeem_at");
        let branch = w.text("branch");
        if place != branch {
            return RuleVerdict::reject(
                "voucher_not_redeemable_here",
                format!("voucher `{code}` may be redeemed only at {place}, not at branch {branch}"),
            );
        }
        if v.get("verified") == Some(&Value::Bool(false)) {
            return RuleVerdict::reject(
                "voucher_not_verified",
                format!(
                    "voucher `{code}`'s retailer has not been verified by the office yet: try again after verification"
                ),
            );
        }
        let tally = facts.tally(&format!("voucher:{code}"));
        if tally.value > 0 {
            return RuleVerdict::reject(
                "voucher_already_redeemed",
                format!(
                    "voucher `{code}` was already redeemed {}: take it back from the customer",
                    tally.note.as_deref().unwrap_or("elsewhere")
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
        && let Err(v) = check_lines(w.list("lines"), "the activity")
    {
        return v;
    }
    RuleVerdict::Accept
}

fn order_rule(w: &Write<'_>) -> RuleVerdict {
    let lines = w.list("lines");
    if let Err(v) = check_lines(lines, "the order") {
        return v;
    }
    let sum: i64 = lines.iter().map(|l| int(l, "qty") * int(l, "price")).sum();
    if w.int("total") != sum {
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
                let expected = facts.tally(&key).value;
                if counted != expected {
                    fx.raise(
                        "cash_discrepancy",
                        format!(
                            "terminal {} at branch {} closed with {counted} in the drawer, {} than the {expected} expected",
                            w.text("terminal"),
                            w.text("branch"),
                            if counted < expected { "less" } else { "more" }
                        ),
                        json!({ "expected": expected, "counted": counted, "difference": counted - expected }),
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
