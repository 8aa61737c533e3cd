//! The `sales_invoices` entry a terminal records for a bill, and the check the server makes of
//! it ([`check`]), so the terminal runs the server's own check before it commits.

use super::bounds::Refusal;
use super::cart::Bill;
use super::lines::{self, Line};
use super::payment::{Payment, Split, check_payments, payments_of};
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

/// The entry to append to `sales_invoices`.
#[must_use]
pub fn record(header: &InvoiceHeader, bill: &Bill, payments: &[Payment]) -> Record {
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
        Value::List(payments.iter().map(Payment::to_item).collect()),
    );
    r
}

/// The server's checks of an invoice's lines, total and payments (its rule then checks the
/// customer, stock and prices against what it holds): what was paid on credit and in cash.
///
/// # Errors
/// The refusal the server would answer: `no_lines`, `invalid_line`, `total_mismatch`,
/// `payment_mismatch`, `invalid_payment`, `quantity_out_of_range`, `amount_out_of_range`.
pub fn check(record: &Record) -> Result<Split, Refusal> {
    let list = |k: &str| record.get(k).and_then(Value::as_list).unwrap_or(&[]);
    lines::check_lines(list("lines"), "the invoice")?;
    let total = record.get("total").and_then(Value::as_int).unwrap_or(0);
    lines::check_total(&Line::from_items(list("lines")), total, "the invoice")?;
    check_payments(&payments_of(list("payments")), total)
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
        let r = record(&header, &bill, &s.payments);
        assert!(!r.contains_key("customer"));
        assert_eq!(check(&r).unwrap().cash, bill.total);
        let mut wrong = r.clone();
        wrong.insert("total".into(), Value::Int(bill.total + 1));
        assert_eq!(check(&wrong).unwrap_err().code, "total_mismatch");
    }
}
