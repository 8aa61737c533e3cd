//! Payments: how an invoice was paid, as the server checks it, and how a terminal turns the
//! tenders a cashier takes (cash handed over, a card charged) into those payments and change.

use super::bounds::{Refusal, check_amount};
use crate::value::{Item, Scalar};

/// Payment methods an invoice may use.
pub const PAYMENT_METHODS: &[&str] = &["cash", "card", "qris", "transfer", "ewallet", "credit"];

/// One payment (or tender).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    /// One of [`PAYMENT_METHODS`].
    pub method: String,
    /// Amount, above zero.
    pub amount: i64,
}

impl Payment {
    /// A payment of `amount` by `method`.
    #[must_use]
    pub fn new(method: &str, amount: i64) -> Payment {
        Payment {
            method: method.to_owned(),
            amount,
        }
    }

    /// The payment of a recorded `payments` item (missing keys read as empty and 0).
    #[must_use]
    pub fn from_item(item: &Item) -> Payment {
        Payment {
            method: match item.get("method") {
                Some(Scalar::Text(m)) => m.clone(),
                _ => String::new(),
            },
            amount: match item.get("amount") {
                Some(Scalar::Int(a)) => *a,
                _ => 0,
            },
        }
    }

    /// The `payments` item to record.
    #[must_use]
    pub fn to_item(&self) -> Item {
        let mut item = Item::new();
        item.insert("method".into(), Scalar::Text(self.method.clone()));
        item.insert("amount".into(), Scalar::Int(self.amount));
        item
    }
}

/// The payments of a recorded `payments` list.
#[must_use]
pub fn payments_of(items: &[Item]) -> Vec<Payment> {
    items.iter().map(Payment::from_item).collect()
}

/// What of an invoice was paid on credit and in cash.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Split {
    /// On the customer's account.
    pub credit: i64,
    /// Into the drawer.
    pub cash: i64,
}

/// The payments of an invoice add up to `total`, each with a known method and an amount above
/// zero.
///
/// # Errors
/// `payment_mismatch`, `invalid_payment` or `amount_out_of_range`.
pub fn check_payments(payments: &[Payment], total: i64) -> Result<Split, Refusal> {
    let paid: i128 = payments.iter().map(|p| i128::from(p.amount)).sum();
    if paid != i128::from(total) {
        return Err(Refusal::new(
            "payment_mismatch",
            format!(
                "the payments add up to {paid} but the invoice's total is {total}: record how the whole invoice was paid"
            ),
        ));
    }
    let (mut credit, mut cash) = (0_i128, 0_i128);
    for p in payments {
        if !PAYMENT_METHODS.contains(&p.method.as_str()) || p.amount <= 0 {
            return Err(Refusal::new(
                "invalid_payment",
                format!(
                    "a payment must have an amount above zero and one of the methods {}; got `{}` for {}",
                    PAYMENT_METHODS.join(", "),
                    p.method,
                    p.amount
                ),
            ));
        }
        match p.method.as_str() {
            "credit" => credit += i128::from(p.amount),
            "cash" => cash += i128::from(p.amount),
            _ => {}
        }
    }
    Ok(Split {
        credit: check_amount("the credit paid", credit)?,
        cash: check_amount("the cash paid", cash)?,
    })
}

/// Tenders turned into an invoice's payments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settlement {
    /// The payments to record: they add up to the total (cash net of change).
    pub payments: Vec<Payment>,
    /// Cash handed over.
    pub cash_tendered: i64,
    /// Cash given back.
    pub change: i64,
}

/// Settles `total` with `tenders`, in the order taken: only cash may go past what is due (the
/// rest comes back as change); every other method at most what is still due.
///
/// # Errors
/// `invalid_payment` for an unknown method or an amount not above zero, `overpaid` for a
/// non-cash tender past what is due, `underpaid` when the tenders do not cover the total.
pub fn settle(total: i64, tenders: &[Payment]) -> Result<Settlement, Refusal> {
    let total = i128::from(check_amount("the total", i128::from(total))?);
    let mut due = total;
    let mut cash_tendered = 0_i128;
    for t in tenders {
        check_payments(std::slice::from_ref(t), t.amount)?;
        let amount = i128::from(t.amount);
        if t.method == "cash" {
            cash_tendered += amount;
        } else if amount > due.max(0) {
            return Err(Refusal::new(
                "overpaid",
                format!(
                    "{} of {} is more than the {} still due: only cash can be more than what is due",
                    t.method,
                    t.amount,
                    due.max(0)
                ),
            ));
        }
        due -= amount;
    }
    if due > 0 {
        return Err(Refusal::new(
            "underpaid",
            format!("{due} is still due: take another payment"),
        ));
    }
    let change = -due;
    let mut payments: Vec<Payment> = tenders.to_vec();
    let mut to_give = change;
    for p in payments.iter_mut().rev().filter(|p| p.method == "cash") {
        let back = to_give.min(i128::from(p.amount));
        p.amount -= i64::try_from(back).unwrap_or(0);
        to_give -= back;
    }
    payments.retain(|p| p.amount > 0);
    check_payments(&payments, i64::try_from(total).unwrap_or(0))?;
    Ok(Settlement {
        payments,
        cash_tendered: check_amount("the cash handed over", cash_tendered)?,
        change: check_amount("the change", change)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cash_gives_change_and_other_methods_may_not_overpay() {
        let s = settle(17_500, &[Payment::new("cash", 20_000)]).unwrap();
        assert_eq!(s.payments, vec![Payment::new("cash", 17_500)]);
        assert_eq!((s.cash_tendered, s.change), (20_000, 2_500));
        let split = settle(
            17_500,
            &[Payment::new("card", 10_000), Payment::new("cash", 10_000)],
        )
        .unwrap();
        assert_eq!(
            split.payments,
            vec![Payment::new("card", 10_000), Payment::new("cash", 7_500)]
        );
        assert_eq!(
            settle(17_500, &[Payment::new("card", 20_000)])
                .unwrap_err()
                .code,
            "overpaid"
        );
        assert_eq!(
            settle(17_500, &[Payment::new("qris", 7_500)])
                .unwrap_err()
                .code,
            "underpaid"
        );
        assert_eq!(
            settle(1, &[Payment::new("gold", 1)]).unwrap_err().code,
            "invalid_payment"
        );
        assert_eq!(settle(0, &[]).unwrap().payments, vec![]);
    }

    #[test]
    fn payments_round_trip_through_their_items() {
        let p = Payment::new("qris", 12_500);
        assert_eq!(Payment::from_item(&p.to_item()), p);
        assert_eq!(payments_of(&[Item::new()]), vec![Payment::new("", 0)]);
    }

    #[test]
    fn recorded_payments_pass_the_servers_check() {
        let s = settle(
            10_000,
            &[
                Payment::new("cash", 2_000),
                Payment::new("credit", 5_000),
                Payment::new("cash", 5_000),
            ],
        )
        .unwrap();
        assert_eq!(s.change, 2_000);
        assert_eq!(
            check_payments(&s.payments, 10_000),
            Ok(Split {
                credit: 5_000,
                cash: 5_000
            })
        );
        assert_eq!(
            check_payments(&[Payment::new("cash", 1)], 2)
                .unwrap_err()
                .code,
            "payment_mismatch"
        );
    }
}
