//! Selling: invoices (lines, payments, credit, prices in force), returns against them, and
//! payments of dues.

use lapak_core::Value;
use lapak_core::commerce::bounds::{check_amount, check_quantity};
use lapak_core::commerce::lines::{self, Line, qty_by_sku};
use lapak_core::commerce::payment::{check_payments, payments_of};
use lapak_core::commerce::price::{self, PriceRow};
use lapak_core::commerce::when;
use serde_json::json;

use super::*;

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
pub(super) struct InvoiceRule;

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
pub(super) struct ReturnRule;

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
pub(super) struct CreditPaymentRule;

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
