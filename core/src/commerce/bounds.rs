//! Bounds on quantities and amounts, and [`Refusal`]: why a bill or an entry is refused, with a
//! code for programs and a message for people.
//!
//! Sums and products are computed in `i128` (no product of two `i64` overflows it) and then
//! range-checked, so a number never wraps.

use std::fmt;

/// The largest quantity of one line or one stock movement, in units (`quantity_out_of_range`
/// past it).
pub const MAX_QUANTITY: i64 = 1_000_000;

/// The largest money amount of one field, line or entry, in minor units (Rp 10^15;
/// `amount_out_of_range` past it).
pub const MAX_AMOUNT: i64 = 1_000_000_000_000_000;

/// Why something is refused: a machine-readable code (the server's rejection code) and a
/// message saying what was wrong and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// Machine-readable (`total_mismatch`, `voucher_expired`, ...).
    pub code: &'static str,
    /// For people.
    pub message: String,
}

impl Refusal {
    /// A refusal with `code` and `message`.
    #[must_use]
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for Refusal {}

/// `value` as an `i64` when `0 <= value <= MAX_AMOUNT`; `amount_out_of_range` otherwise.
///
/// # Errors
/// `amount_out_of_range`, naming `what`.
pub fn check_amount(what: &str, value: i128) -> Result<i64, Refusal> {
    match i64::try_from(value) {
        Ok(v) if (0..=MAX_AMOUNT).contains(&v) => Ok(v),
        _ => Err(Refusal::new(
            "amount_out_of_range",
            format!(
                "{what} is {value}; an amount must be from 0 to {MAX_AMOUNT}: check the amounts and record the entry again"
            ),
        )),
    }
}

/// `value` as an `i64` when `|value| <= MAX_QUANTITY`; `quantity_out_of_range` otherwise.
///
/// # Errors
/// `quantity_out_of_range`, naming `what`.
pub fn check_quantity(what: &str, value: i128) -> Result<i64, Refusal> {
    match i64::try_from(value) {
        Ok(v) if v.unsigned_abs() <= MAX_QUANTITY.unsigned_abs() => Ok(v),
        _ => Err(Refusal::new(
            "quantity_out_of_range",
            format!(
                "{what} is {value}; a quantity may be at most {MAX_QUANTITY} units (either way for an adjustment): split it into several entries or check the number"
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive_and_never_wrap() {
        assert_eq!(check_amount("x", 0), Ok(0));
        assert_eq!(check_amount("x", i128::from(MAX_AMOUNT)), Ok(MAX_AMOUNT));
        assert_eq!(
            check_amount("x", i128::from(MAX_AMOUNT) + 1)
                .unwrap_err()
                .code,
            "amount_out_of_range"
        );
        assert!(check_amount("x", -1).is_err());
        assert!(check_amount("x", i128::MAX).is_err());
        assert_eq!(check_quantity("q", -1_000_000), Ok(-1_000_000));
        assert!(check_quantity("q", 1_000_001).is_err());
    }
}
