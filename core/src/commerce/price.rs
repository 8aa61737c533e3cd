//! Prices: which list applies to a sale, and which price of that list is in force at a time.
//!
//! A sale is priced on its customer's list when the customer has one, or else on its branch's.
//! The price in force at a time is the row with the newest `effective_from` not after it whose
//! `effective_to`, if any, is after it; rows starting at the same time are told apart by id
//! (the greatest wins), so every reader picks the same row whatever order it read them in.

/// One row of `prices`, as far as choosing matters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriceRow<'a> {
    /// The row's id (ties between rows starting together).
    pub id: &'a str,
    /// The price.
    pub price: i64,
    /// In force from (inclusive).
    pub effective_from: i64,
    /// In force until (exclusive), if it ends.
    pub effective_to: Option<i64>,
}

/// The list a sale is priced on: the customer's when it has one, else the branch's.
#[must_use]
pub fn list_for<'a>(customer_list: Option<&'a str>, branch_list: &'a str) -> &'a str {
    match customer_list {
        Some(l) if !l.is_empty() => l,
        _ => branch_list,
    }
}

/// The price in force at `at` among `rows` (all of one list and item), if any.
#[must_use]
pub fn in_force<'a>(rows: impl IntoIterator<Item = PriceRow<'a>>, at: i64) -> Option<i64> {
    rows.into_iter()
        .filter(|p| p.effective_from <= at && p.effective_to.is_none_or(|t| at < t))
        .max_by(|a, b| (a.effective_from, a.id).cmp(&(b.effective_from, b.id)))
        .map(|p| p.price)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, price: i64, from: i64, to: Option<i64>) -> PriceRow<'_> {
        PriceRow {
            id,
            price,
            effective_from: from,
            effective_to: to,
        }
    }

    #[test]
    fn the_newest_row_in_force_wins_and_ties_go_by_id() {
        let rows = [
            row("a", 100, 0, None),
            row("b", 120, 50, Some(80)),
            row("c", 130, 50, Some(80)),
        ];
        assert_eq!(in_force(rows.clone(), -1), None);
        assert_eq!(in_force(rows.clone(), 10), Some(100));
        assert_eq!(in_force(rows.clone(), 50), Some(130));
        let mut reversed = rows.clone();
        reversed.reverse();
        assert_eq!(in_force(reversed, 50), Some(130));
        assert_eq!(in_force(rows, 80), Some(100));
        assert_eq!(list_for(Some("wholesale"), "retail"), "wholesale");
        assert_eq!(list_for(Some(""), "retail"), "retail");
        assert_eq!(list_for(None, "retail"), "retail");
    }
}
