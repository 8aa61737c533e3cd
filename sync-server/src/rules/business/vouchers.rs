//! Voucher redemptions: once, before expiry, at their branch, once verified.

use lapak_core::commerce::voucher::{self, VoucherTerms};
use lapak_core::commerce::when;
use lapak_core::{Record, Value};

use super::*;

/// What redemption depends on of a `vouchers` row.
fn voucher_terms<'a>(code: &'a str, v: &'a Record) -> VoucherTerms<'a> {
    VoucherTerms {
        code,
        expires_at: field_int(v, "expires_at"),
        redeem_at: field_text(v, "redeem_at"),
        verified: match v.get("verified") {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        },
    }
}

/// Voucher redemptions: once, before expiry, where the voucher may be redeemed, and only when
/// its retailer was verified.
pub(super) struct VoucherRule;

impl Rule for VoucherRule {
    fn reads(&self, w: &Write<'_>, _: &Facts, needs: &mut Needs<'_>) {
        let code = w.text("voucher");
        needs.row("vouchers", code);
        needs.tally(&format!("voucher:{code}"));
    }

    fn check(&self, w: &Write<'_>, facts: &Facts, fx: &mut Effects) -> RuleVerdict {
        let code = w.text("voucher");
        let branch = w.text("branch");
        // A voucher of a branch the writer may not act in is, to them, no voucher: nothing of
        // it (where, until when, whether redeemed) is told.
        let Some(v) = w.row_in_scope(facts, "vouchers", code) else {
            return RuleVerdict::reject(
                "unknown_voucher",
                format!(
                    "there is no voucher `{code}` for branch {branch}: check the code on the voucher (a voucher is redeemed only at the branch it was issued for)"
                ),
            );
        };
        let redeemed_at = w.int("redeemed_at");
        if let Err(refusal) =
            voucher::check_redeemable(&voucher_terms(code, v), branch, redeemed_at)
        {
            return refusal.into();
        }
        let tally = facts.tally(&format!("voucher:{code}"));
        if tally.value > 0 {
            // The note names the redeeming branch first; it is told only to its own writers
            // (the voucher may have moved branch since).
            let note = tally.note.as_deref().filter(|n| {
                n.strip_prefix("at branch ")
                    .and_then(|r| r.split([',', ' ']).next())
                    .is_some_and(|b| w.principal.can_write(&format!("branch:{b}")))
            });
            return RuleVerdict::reject(
                "voucher_already_redeemed",
                format!(
                    "voucher `{code}` was already redeemed {}: take it back from the customer",
                    note.unwrap_or("at another branch")
                ),
            );
        }
        let terminal = w.text("terminal");
        fx.set(
            format!("voucher:{code}"),
            1,
            Some(format!(
                "at branch {branch}{} on {} (redemption {}, by {})",
                if terminal.is_empty() {
                    String::new()
                } else {
                    format!(", terminal {terminal}")
                },
                when(redeemed_at),
                w.record_id,
                w.user
            )),
        );
        RuleVerdict::Accept
    }
}
