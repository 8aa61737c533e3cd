//! The `sales_invoices` entry a terminal records for a bill, and the check the server makes of
//! it ([`check`]), so the terminal runs the server's own check before it commits.

use super::bounds::{Refusal, check_amount};
use super::cart::Bill;
use super::lines::{self, Line};
use super::payment::{Payment, Settlement, Split, check_payments, payments_of};
use crate::value::{Record, Value};

/// Who sold, where and when.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct InvoiceHeader {
    /// The invoice number ([`super::numbering::InvoiceNumber`]).
    pub number: String,
    /// Branch code.
    pub branch: String,
    /// Terminal code.
    pub terminal: String,
    /// The `shifts` entry of the open shift.
    pub shift: String,
    /// The cashier's login.
    pub cashier: String,
    /// The customer's code, if any.
    pub customer: Option<String>,
    /// When, in ms since the epoch.
    pub sold_at: i64,
}

/// The entry to append to `sales_invoices`: the bill, its payments, and the cash handed over
/// (so a reprint shows the change given).
#[must_use]
pub fn record(header: &InvoiceHeader, bill: &Bill, settled: &Settlement) -> Record {
    let mut r = Record::new();
    let mut text = |k: &str, v: &str| {
        if !v.is_empty() {
            r.insert(k.into(), Value::Text(v.to_owned()));
        }
    };
    text("number", &header.number);
    text("branch", &header.branch);
    text("terminal", &header.terminal);
    text("shift", &header.shift);
    text("cashier", &header.cashier);
    text("customer", header.customer.as_deref().unwrap_or(""));
    r.insert("sold_at".into(), Value::Int(header.sold_at));
    r.insert("total".into(), Value::Int(bill.total));
    r.insert(
        "lines".into(),
        Value::List(bill.lines.iter().map(Line::to_invoice_item).collect()),
    );
    r.insert(
        "payments".into(),
        Value::List(settled.payments.iter().map(Payment::to_item).collect()),
    );
    if settled.cash_tendered > 0 {
        r.insert("cash_tendered".into(), Value::Int(settled.cash_tendered));
    }
    r
}

/// The server's checks of an invoice's lines, total and payments (its rule then checks the
/// customer, stock and prices against what it holds): what was paid on credit and in cash.
///
/// # Errors
/// The refusal the server would answer: `no_lines`, `invalid_line`, `total_mismatch`,
/// `payment_mismatch`, `invalid_payment` (also for less cash handed over than paid in cash),
/// `quantity_out_of_range`, `amount_out_of_range`.
pub fn check(record: &Record) -> Result<Split, Refusal> {
    let list = |k: &str| record.get(k).and_then(Value::as_list).unwrap_or(&[]);
    lines::check_lines(list("lines"), "the invoice")?;
    let total = record.get("total").and_then(Value::as_int).unwrap_or(0);
    lines::check_total(&Line::from_items(list("lines")), total, "the invoice")?;
    let split = check_payments(&payments_of(list("payments")), total)?;
    if let Some(tendered) = record.get("cash_tendered").and_then(Value::as_int) {
        let tendered = check_amount("the cash handed over", i128::from(tendered))?;
        if tendered < split.cash {
            return Err(Refusal::new(
                "invalid_payment",
                format!(
                    "the cash handed over ({tendered}) is less than the cash paid ({}): record what the customer gave",
                    split.cash
                ),
            ));
        }
    }
    Ok(split)
}

/// The change given on an invoice: the cash handed over less the cash paid (0 when the
/// invoice does not say what was handed over).
#[must_use]
pub fn change_given(record: &Record) -> i64 {
    let cash: i64 = payments_of(
        record
            .get("payments")
            .and_then(Value::as_list)
            .unwrap_or(&[]),
    )
    .iter()
    .filter(|p| p.method == "cash")
    .map(|p| p.amount)
    .sum();
    record
        .get("cash_tendered")
        .and_then(Value::as_int)
        .map_or(0, |t| t.saturating_sub(cash).max(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commerce::cart::{Cart, CartLine};
    use crate::commerce::payment::settle;

    #[test]
    fn a_settled_bill_makes_an_invoice_the_server_checks_pass() {
        let bill = Cart {
            lines: vec![CartLine {
                sku: "A".into(),
                qty: 2,
                price: 7_500,
                discount: 0,
                tax_rate_bp: 1_100,
            }],
            bill_discount: 500,
            voucher: 0,
        }
        .bill()
        .unwrap();
        let s = settle(bill.total, &[Payment::new("cash", 20_000)]).unwrap();
        let header = InvoiceHeader {
            number: "JKT-01/POS-1/261201/0001".into(),
            branch: "JKT-01".into(),
            sold_at: 1,
            ..InvoiceHeader::default()
        };
        let r = record(&header, &bill, &s);
        assert!(!r.contains_key("customer"));
        assert_eq!(check(&r).unwrap().cash, bill.total);
        let mut wrong = r.clone();
        wrong.insert("total".into(), Value::Int(bill.total + 1));
        assert_eq!(check(&wrong).unwrap_err().code, "total_mismatch");
    }

    #[test]
    fn the_cash_handed_over_is_recorded_gives_the_change_and_is_never_below_the_cash_paid() {
        let bill = Cart {
            lines: vec![CartLine {
                sku: "A".into(),
                qty: 1,
                price: 17_500,
                discount: 0,
                tax_rate_bp: 0,
            }],
            bill_discount: 0,
            voucher: 0,
        }
        .bill()
        .unwrap();
        let s = settle(bill.total, &[Payment::new("cash", 20_000)]).unwrap();
        let r = record(&InvoiceHeader::default(), &bill, &s);
        assert_eq!(r.get("cash_tendered"), Some(&Value::Int(20_000)));
        assert_eq!(change_given(&r), 2_500);
        let mut short = r.clone();
        short.insert("cash_tendered".into(), Value::Int(17_499));
        assert_eq!(check(&short).unwrap_err().code, "invalid_payment");
        let mut huge = r.clone();
        huge.insert("cash_tendered".into(), Value::Int(i64::MAX));
        assert_eq!(check(&huge).unwrap_err().code, "amount_out_of_range");
        // An invoice that does not say (a card sale, or an older terminal) gives no change.
        let card = settle(bill.total, &[Payment::new("card", bill.total)]).unwrap();
        let r = record(&InvoiceHeader::default(), &bill, &card);
        assert!(!r.contains_key("cash_tendered"));
        assert_eq!(change_given(&r), 0);
    }
}
