//! Lines of invoices, returns and orders: `sku`, `qty`, `price`, `discount`, `tax` (a return or
//! an order line has no discount or tax; they read as 0). A line comes to
//! `qty × price − discount + tax`.

use std::collections::BTreeMap;

use super::bounds::{Refusal, check_amount, check_quantity};
use crate::value::{Item, Scalar};

/// One line as recorded.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Line {
    /// The item.
    pub sku: String,
    /// Units.
    pub qty: i64,
    /// Unit price.
    pub price: i64,
    /// All discounts on the line (its own and its share of the bill's).
    pub discount: i64,
    /// Tax on the line.
    pub tax: i64,
}

fn int(item: &Item, key: &str) -> i64 {
    match item.get(key) {
        Some(Scalar::Int(v)) => *v,
        _ => 0,
    }
}

impl Line {
    /// The line of a recorded list item (missing numbers read as 0).
    #[must_use]
    pub fn from_item(item: &Item) -> Line {
        Line {
            sku: match item.get("sku") {
                Some(Scalar::Text(s)) => s.clone(),
                _ => String::new(),
            },
            qty: int(item, "qty"),
            price: int(item, "price"),
            discount: int(item, "discount"),
            tax: int(item, "tax"),
        }
    }

    /// The lines of a recorded list.
    #[must_use]
    pub fn from_items(items: &[Item]) -> Vec<Line> {
        items.iter().map(Line::from_item).collect()
    }

    /// The list item to record (`discount` and `tax` included, as invoices have them).
    #[must_use]
    pub fn to_invoice_item(&self) -> Item {
        let mut item = Item::new();
        item.insert("sku".into(), Scalar::Text(self.sku.clone()));
        item.insert("qty".into(), Scalar::Int(self.qty));
        item.insert("price".into(), Scalar::Int(self.price));
        item.insert("discount".into(), Scalar::Int(self.discount));
        item.insert("tax".into(), Scalar::Int(self.tax));
        item
    }

    /// `qty × price − discount + tax`, in `i128` (it cannot overflow).
    #[must_use]
    pub fn total(&self) -> i128 {
        i128::from(self.qty) * i128::from(self.price) - i128::from(self.discount)
            + i128::from(self.tax)
    }
}

/// The sum of the lines' totals.
#[must_use]
pub fn sum(lines: &[Line]) -> i128 {
    lines.iter().map(Line::total).sum()
}

/// Quantity per SKU, in SKU order (`i128`: a sum of as many `i64` as an entry can hold does not
/// overflow it).
#[must_use]
pub fn qty_by_sku(lines: &[Line]) -> BTreeMap<&str, i128> {
    let mut out = BTreeMap::new();
    for l in lines {
        *out.entry(l.sku.as_str()).or_insert(0) += i128::from(l.qty);
    }
    out
}

/// At least one line; each has a SKU, a quantity from 1 to `MAX_QUANTITY`, and money amounts
/// (`price`, `discount`, `tax`, and `amount` where `extra` holds it) from 0 to `MAX_AMOUNT`.
/// `what` names the entry in messages (`the invoice`).
///
/// # Errors
/// `no_lines`, `invalid_line`, `quantity_out_of_range` or `amount_out_of_range`.
pub fn check_lines(items: &[Item], what: &str) -> Result<(), Refusal> {
    if items.is_empty() {
        return Err(Refusal::new(
            "no_lines",
            format!("{what} has no lines: add at least one item"),
        ));
    }
    for (i, l) in items.iter().enumerate() {
        let n = i + 1;
        let sku_missing = !matches!(l.get("sku"), Some(Scalar::Text(s)) if !s.is_empty());
        if sku_missing || int(l, "qty") <= 0 {
            return Err(Refusal::new(
                "invalid_line",
                format!("line {n} of {what} needs an item and a quantity above zero"),
            ));
        }
        check_quantity(
            &format!("the quantity of line {n} of {what}"),
            i128::from(int(l, "qty")),
        )?;
        for k in ["price", "discount", "tax", "amount"] {
            if int(l, k) < 0 {
                return Err(Refusal::new(
                    "invalid_line",
                    format!("line {n} of {what} has a negative {k}"),
                ));
            }
            check_amount(
                &format!("the {k} of line {n} of {what}"),
                i128::from(int(l, k)),
            )?;
        }
    }
    Ok(())
}

/// `total` is the sum of the lines (`qty × price − discount + tax`) and within bounds.
///
/// # Errors
/// `amount_out_of_range` or `total_mismatch`.
pub fn check_total(lines: &[Line], total: i64, what: &str) -> Result<(), Refusal> {
    let sum = sum(lines);
    check_amount(&format!("{what}'s total"), i128::from(total.max(0)))?;
    if total < 0 || i128::from(total) != sum {
        return Err(Refusal::new(
            "total_mismatch",
            format!(
                "{what}'s total {total} is not the sum of its lines (quantity × price − discount + tax = {sum}): ring the sale up again"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item;

    #[test]
    fn lines_are_checked_and_summed() {
        let items = vec![
            item! {"sku" => "A", "qty" => 2, "price" => 1_000, "discount" => 100, "tax" => 209},
            item! {"sku" => "A", "qty" => 1, "price" => 500},
        ];
        assert_eq!(check_lines(&items, "the invoice"), Ok(()));
        let lines = Line::from_items(&items);
        assert_eq!(sum(&lines), 2_109 + 500);
        assert_eq!(qty_by_sku(&lines)["A"], 3);
        assert_eq!(check_total(&lines, 2_609, "the invoice"), Ok(()));
        assert_eq!(
            check_total(&lines, 2_600, "the invoice").unwrap_err().code,
            "total_mismatch"
        );
        assert_eq!(
            check_lines(&[], "the invoice").unwrap_err().code,
            "no_lines"
        );
        let bad = vec![item! {"sku" => "A", "qty" => 1, "price" => -1}];
        assert_eq!(
            check_lines(&bad, "the invoice").unwrap_err().code,
            "invalid_line"
        );
        assert_eq!(Line::from_item(&lines[0].to_invoice_item()), lines[0]);
    }
}
