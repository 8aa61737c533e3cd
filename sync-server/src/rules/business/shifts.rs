//! Shifts and the cash drawer they open and close.

use lapak_core::Value;
use lapak_core::commerce::bounds::check_amount;
use serde_json::json;

use super::*;

/// Shifts: opening sets the drawer to the opening cash; closing compares the counted cash with
/// what the drawer should hold (opening cash, plus cash sales, minus refunds) and raises a
/// `cash_discrepancy` when they differ.
pub(super) struct ShiftRule;

impl Rule for ShiftRule {
    fn reads(&self, w: &Write<'_>, _: &Facts, needs: &mut Needs<'_>) {
        needs.tally(&format!(
            "drawer:{}/{}",
            w.text("branch"),
            w.text("terminal")
        ));
    }

    fn check(&self, w: &Write<'_>, facts: &Facts, fx: &mut Effects) -> RuleVerdict {
        let key = format!("drawer:{}/{}", w.text("branch"), w.text("terminal"));
        match w.text("kind") {
            "open" => {
                let opening = w.int("opening_cash");
                if opening < 0 {
                    return RuleVerdict::reject(
                        "invalid_amount",
                        "the opening cash cannot be negative",
                    );
                }
                if let Err(v) = check_amount("the opening cash", i128::from(opening)) {
                    return v.into();
                }
                fx.set(key, opening, Some(format!("shift {} opened", w.record_id)));
                RuleVerdict::Accept
            }
            "close" => {
                let Some(counted) = w.record.get("counted_cash").and_then(Value::as_int) else {
                    return RuleVerdict::reject(
                        "missing_count",
                        "closing a shift needs the counted cash",
                    );
                };
                if let Err(v) = check_amount("the counted cash", i128::from(counted)) {
                    return v.into();
                }
                let expected = facts.tally(&key).value;
                let Some(difference) = counted.checked_sub(expected) else {
                    return RuleVerdict::reject(
                        "tally_out_of_range",
                        format!(
                            "the drawer holds {expected}, too far from any count: ask the back office to look at the drawer's entries"
                        ),
                    );
                };
                if counted != expected {
                    fx.raise(
                        "cash_discrepancy",
                        format!(
                            "terminal {} at branch {} closed with {counted} in the drawer, {} than the {expected} expected",
                            w.text("terminal"),
                            w.text("branch"),
                            if counted < expected { "less" } else { "more" }
                        ),
                        json!({ "expected": expected, "counted": counted, "difference": difference }),
                    );
                }
                fx.set(key, 0, Some(format!("shift closed by {}", w.record_id)));
                fx.event_type = Some("shift.closed".into());
                RuleVerdict::Accept
            }
            other => RuleVerdict::reject(
                "invalid_kind",
                format!("`{other}` is not a kind of shift entry: use open or close"),
            ),
        }
    }
}
