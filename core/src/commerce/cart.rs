//! A cart and the bill it comes to.
//!
//! Each line has a quantity, the unit price in force and a discount typed on it; the bill may
//! have a discount of its own and a voucher's. The bill's discounts are apportioned over the
//! lines in proportion to what each line comes to after its own discount (largest remainders
//! get the leftover rupiah, earlier lines first on ties), so the recorded lines alone add up
//! to the total, as invoices must. Tax is per line: the line's rate (basis points) of what the
//! line comes to after every discount, rounded half up.

use super::bounds::{MAX_AMOUNT, MAX_QUANTITY, Refusal, check_amount};
use super::lines::Line;

/// One line of a cart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CartLine {
    /// The item.
    pub sku: String,
    /// Units, 1 to `MAX_QUANTITY`.
    pub qty: i64,
    /// Unit price in force.
    pub price: i64,
    /// Rupiah off this line, at most `qty × price`.
    pub discount: i64,
    /// The item's tax rate in basis points (1100 = 11 %), 0 to 10,000.
    pub tax_rate_bp: i64,
}

/// A cart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Cart {
    /// Its lines.
    pub lines: Vec<CartLine>,
    /// Rupiah off the whole bill, at most what the lines come to after their discounts.
    pub bill_discount: i64,
    /// A voucher's value; the bill takes at most what is left after the other discounts.
    pub voucher: i64,
}

/// What a cart comes to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bill {
    /// The lines to record: `discount` holds the line's own and its share of the bill's.
    pub lines: Vec<Line>,
    /// Sum of `qty × price`.
    pub subtotal: i64,
    /// Sum of the lines' own discounts.
    pub line_discounts: i64,
    /// The bill discount.
    pub bill_discount: i64,
    /// The part of the voucher taken.
    pub voucher_discount: i64,
    /// Sum of tax.
    pub tax: i64,
    /// What the customer pays: the sum of the recorded lines.
    pub total: i64,
}

fn invalid(message: String) -> Refusal {
    Refusal::new("invalid_line", message)
}

fn check_line(n: usize, l: &CartLine) -> Result<i128, Refusal> {
    if l.sku.is_empty() || !(1..=MAX_QUANTITY).contains(&l.qty) {
        return Err(invalid(format!(
            "line {n} needs an item and a quantity from 1 to {MAX_QUANTITY}"
        )));
    }
    if !(0..=MAX_AMOUNT).contains(&l.price) {
        return Err(invalid(format!(
            "line {n}'s price must be from 0 to {MAX_AMOUNT}"
        )));
    }
    if !(0..=10_000).contains(&l.tax_rate_bp) {
        return Err(invalid(format!(
            "line {n}'s tax rate must be from 0 to 10000 basis points"
        )));
    }
    let gross = i128::from(l.qty) * i128::from(l.price);
    if l.discount < 0 || i128::from(l.discount) > gross {
        return Err(Refusal::new(
            "invalid_discount",
            format!("line {n}'s discount must be from 0 to what the line comes to ({gross})"),
        ));
    }
    Ok(gross - i128::from(l.discount))
}

/// Splits `amount` over `weights` in proportion, exactly: floors, then one more to the largest
/// remainders (earlier first on ties). Needs `0 <= amount <= sum(weights)`.
fn apportion(amount: i128, weights: &[i128]) -> Vec<i128> {
    let total: i128 = weights.iter().sum();
    if total == 0 || amount == 0 {
        return vec![0; weights.len()];
    }
    let mut shares: Vec<i128> = weights.iter().map(|w| amount * w / total).collect();
    let mut left = amount - shares.iter().sum::<i128>();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by_key(|&i| (std::cmp::Reverse(amount * weights[i] % total), i));
    for i in order {
        if left == 0 {
            break;
        }
        if shares[i] < weights[i] {
            shares[i] += 1;
            left -= 1;
        }
    }
    shares
}

/// `value × rate / 10,000`, rounded half up (`value >= 0`).
fn tax_of(value: i128, rate_bp: i64) -> i128 {
    (value * i128::from(rate_bp) + 5_000) / 10_000
}

impl Cart {
    /// The bill this cart comes to.
    ///
    /// # Errors
    /// `invalid_line` or `invalid_discount` for a line or discount out of range (the message
    /// names it), `amount_out_of_range` when a sum passes `MAX_AMOUNT`.
    pub fn bill(&self) -> Result<Bill, Refusal> {
        let nets = self
            .lines
            .iter()
            .enumerate()
            .map(|(i, l)| check_line(i + 1, l))
            .collect::<Result<Vec<i128>, Refusal>>()?;
        let net: i128 = nets.iter().sum();
        if self.bill_discount < 0 || i128::from(self.bill_discount) > net {
            return Err(Refusal::new(
                "invalid_discount",
                format!("the bill discount must be from 0 to what the bill comes to ({net})"),
            ));
        }
        if self.voucher < 0 {
            return Err(Refusal::new(
                "invalid_discount",
                "a voucher's value cannot be negative",
            ));
        }
        let voucher = i128::from(self.voucher).min(net - i128::from(self.bill_discount));
        let shares = apportion(i128::from(self.bill_discount) + voucher, &nets);
        let mut lines = Vec::with_capacity(self.lines.len());
        for ((l, net), share) in self.lines.iter().zip(&nets).zip(&shares) {
            let n = lines.len() + 1;
            lines.push(Line {
                sku: l.sku.clone(),
                qty: l.qty,
                price: l.price,
                discount: check_amount(
                    &format!("line {n}'s discount"),
                    i128::from(l.discount) + share,
                )?,
                tax: check_amount(
                    &format!("line {n}'s tax"),
                    tax_of(net - share, l.tax_rate_bp),
                )?,
            });
        }
        let sum = |f: &dyn Fn(&Line) -> i128| lines.iter().map(f).sum::<i128>();
        Ok(Bill {
            subtotal: check_amount(
                "the subtotal",
                sum(&|l| i128::from(l.qty) * i128::from(l.price)),
            )?,
            line_discounts: check_amount(
                "the line discounts",
                self.lines.iter().map(|l| i128::from(l.discount)).sum(),
            )?,
            bill_discount: self.bill_discount,
            voucher_discount: check_amount("the voucher discount", voucher)?,
            tax: check_amount("the tax", sum(&|l| i128::from(l.tax)))?,
            total: check_amount("the total", sum(&Line::total))?,
            lines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(sku: &str, qty: i64, price: i64, discount: i64, rate: i64) -> CartLine {
        CartLine {
            sku: sku.into(),
            qty,
            price,
            discount,
            tax_rate_bp: rate,
        }
    }

    #[test]
    fn discounts_are_apportioned_exactly_and_tax_is_per_line() {
        let cart = Cart {
            lines: vec![line("A", 3, 5_000, 0, 1_100), line("B", 1, 2_500, 500, 0)],
            bill_discount: 1_000,
            voucher: 0,
        };
        let bill = cart.bill().unwrap();
        // Nets 15,000 and 2,000: the 1,000 splits 882.35 / 117.65 → 882 / 118.
        assert_eq!(bill.lines[0].discount, 882);
        assert_eq!(bill.lines[1].discount, 500 + 118);
        // 11 % of 14,118 = 1,552.98 → 1,553.
        assert_eq!(bill.lines[0].tax, 1_553);
        assert_eq!(bill.subtotal, 17_500);
        assert_eq!(bill.total, 15_000 - 882 + 1_553 + 2_000 - 118);
        assert_eq!(
            i128::from(bill.total),
            super::super::lines::sum(&bill.lines)
        );
    }

    #[test]
    fn a_voucher_takes_at_most_the_bill() {
        let cart = Cart {
            lines: vec![line("A", 1, 3_000, 0, 0)],
            bill_discount: 1_000,
            voucher: 5_000,
        };
        let bill = cart.bill().unwrap();
        assert_eq!(bill.voucher_discount, 2_000);
        assert_eq!(bill.total, 0);
    }

    #[test]
    fn out_of_range_lines_and_discounts_are_refused() {
        let refuse = |cart: Cart| cart.bill().unwrap_err().code;
        let one = |l| Cart {
            lines: vec![l],
            ..Cart::default()
        };
        assert_eq!(refuse(one(line("A", 0, 1, 0, 0))), "invalid_line");
        assert_eq!(refuse(one(line("A", 1, -1, 0, 0))), "invalid_line");
        assert_eq!(refuse(one(line("A", 1, 10, 11, 0))), "invalid_discount");
        assert_eq!(refuse(one(line("A", 1, 10, 0, 10_001))), "invalid_line");
        let mut over = one(line("A", 1, 10, 0, 0));
        over.bill_discount = 11;
        assert_eq!(refuse(over), "invalid_discount");
        let huge = one(line("A", MAX_QUANTITY, MAX_AMOUNT, 0, 0));
        assert_eq!(refuse(huge), "amount_out_of_range");
        assert_eq!(Cart::default().bill().unwrap().total, 0);
    }

    #[test]
    fn apportioning_never_exceeds_a_weight() {
        assert_eq!(apportion(3, &[1, 1, 1]), vec![1, 1, 1]);
        assert_eq!(apportion(2, &[1, 1, 1]), vec![1, 1, 0]);
        assert_eq!(apportion(5, &[0, 5]), vec![0, 5]);
        assert_eq!(apportion(0, &[0, 0]), vec![0, 0]);
    }
}
