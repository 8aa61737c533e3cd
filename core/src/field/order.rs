//! A submitted order: valid lines and a total equal to the sum of `qty × price`.

use crate::commerce::Refusal;
use crate::commerce::lines::{self, Line};
use crate::value::Item;

/// Whether an order's `items` and `total` agree.
///
/// # Errors
/// A line's refusal, or `total_mismatch`.
pub fn check_order(items: &[Item], total: i64) -> Result<(), Refusal> {
    lines::check_lines(items, "the order")?;
    let sum = lines::sum(&Line::from_items(items));
    if i128::from(total) != sum {
        return Err(Refusal::new(
            "total_mismatch",
            format!("the order's total {total} is not the sum of its lines {sum}"),
        ));
    }
    Ok(())
}

/// The total of an order's lines, when it is an amount.
///
/// # Errors
/// `amount_out_of_range`.
pub fn total_of(items: &[Item]) -> Result<i64, Refusal> {
    crate::commerce::bounds::check_amount("the order's total", lines::sum(&Line::from_items(items)))
}
