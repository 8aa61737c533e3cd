//! Stock movements other than sales and returns: receipts, transfers and adjustments.

use lapak_core::commerce::bounds::check_quantity;

use super::*;

/// Stock movements other than sales and returns: receipts, transfers between branches and
/// adjustments (the only kind with a signed quantity).
pub(super) struct StockMovementRule;

/// The kinds of stock movement.
pub const MOVEMENT_KINDS: &[&str] = &["receipt", "adjustment", "transfer_out", "transfer_in"];

impl Rule for StockMovementRule {
    fn reads(&self, w: &Write<'_>, _: &Facts, needs: &mut Needs<'_>) {
        needs.row("items", w.text("sku"));
        needs.tally(&stock_key(w.text("branch"), w.text("sku")));
    }

    fn check(&self, w: &Write<'_>, facts: &Facts, fx: &mut Effects) -> RuleVerdict {
        let kind = w.text("kind");
        let qty = w.int("qty");
        if let Err(v) = check_quantity(&format!("the quantity of the {kind}"), i128::from(qty)) {
            return v.into();
        }
        let delta = match kind {
            "receipt" | "transfer_in" if qty > 0 => qty,
            "transfer_out" if qty > 0 => -qty,
            "adjustment" if qty != 0 => qty,
            _ if MOVEMENT_KINDS.contains(&kind) => {
                return RuleVerdict::reject(
                    "invalid_quantity",
                    format!(
                        "a {kind} needs a quantity {} (it was {qty})",
                        if kind == "adjustment" {
                            "other than zero"
                        } else {
                            "above zero"
                        }
                    ),
                );
            }
            _ => {
                return RuleVerdict::reject(
                    "invalid_kind",
                    format!(
                        "`{kind}` is not a kind of stock movement: use one of {}",
                        MOVEMENT_KINDS.join(", ")
                    ),
                );
            }
        };
        if kind.starts_with("transfer")
            && (w.text("transfer").is_empty() || w.text("counterpart").is_empty())
        {
            return RuleVerdict::reject(
                "invalid_transfer",
                "a transfer needs its transfer number and the other branch (counterpart)",
            );
        }
        match move_stock(w, facts, fx, w.text("branch"), w.text("sku"), delta) {
            Ok(()) => RuleVerdict::Accept,
            Err(v) => v,
        }
    }
}
