//! The cash drawer of a terminal over a shift: what it should hold, and how far the counted
//! cash is from that. The server's drawer tally moves the same way: opening a shift sets it to
//! the opening cash, cash payments of invoices add to it, refunds of returns take from it.

/// A drawer's movements since its shift opened.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Drawer {
    /// Cash put in when the shift opened.
    pub opening_cash: i64,
    /// Cash payments of invoices (net of change).
    pub cash_sales: i64,
    /// Cash refunded for returns.
    pub refunds: i64,
}

impl Drawer {
    /// What the drawer should hold: opening + cash sales − refunds (saturating: the server
    /// bounds every amount, so this only matters for nonsense input).
    #[must_use]
    pub fn expected(&self) -> i64 {
        self.opening_cash
            .saturating_add(self.cash_sales)
            .saturating_sub(self.refunds)
    }

    /// Counted − expected: above zero the drawer holds more than it should.
    #[must_use]
    pub fn difference(&self, counted: i64) -> i64 {
        counted.saturating_sub(self.expected())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_cash_and_difference() {
        let d = Drawer {
            opening_cash: 500_000,
            cash_sales: 120_000,
            refunds: 20_000,
        };
        assert_eq!(d.expected(), 600_000);
        assert_eq!(d.difference(590_000), -10_000);
        assert_eq!(d.difference(600_000), 0);
    }
}
