//! Whether a voucher may be redeemed at a branch at a time: not expired, at the place it is for,
//! and its retailer verified. The server checks the same, and then that it was never redeemed
//! before, which a terminal can only know of redemptions it has seen.

use super::bounds::Refusal;
use super::when;

/// What of a `vouchers` row redemption depends on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoucherTerms<'a> {
    /// The code.
    pub code: &'a str,
    /// Its expiry (`expires_at`); redeemable up to and including it.
    pub expires_at: Option<i64>,
    /// The branch it may be redeemed at (`redeem_at`).
    pub redeem_at: &'a str,
    /// `verified`: only an explicit `false` blocks it.
    pub verified: Option<bool>,
}

/// The voucher may be redeemed at `branch` at `at`.
///
/// # Errors
/// `voucher_expired`, `voucher_not_redeemable_here` or `voucher_not_verified`.
pub fn check_redeemable(v: &VoucherTerms<'_>, branch: &str, at: i64) -> Result<(), Refusal> {
    let code = v.code;
    let expires_at = v.expires_at.unwrap_or(i64::MAX);
    if at > expires_at {
        return Err(Refusal::new(
            "voucher_expired",
            format!(
                "voucher `{code}` expired on {}; it cannot be redeemed on {}",
                when(expires_at),
                when(at)
            ),
        ));
    }
    if v.redeem_at != branch {
        return Err(Refusal::new(
            "voucher_not_redeemable_here",
            format!(
                "voucher `{code}` may be redeemed only at {}, not at branch {branch}",
                v.redeem_at
            ),
        ));
    }
    if v.verified == Some(false) {
        return Err(Refusal::new(
            "voucher_not_verified",
            format!(
                "voucher `{code}`'s retailer has not been verified by the office yet: try again after verification"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiry_place_and_verification_are_checked_in_order() {
        let v = VoucherTerms {
            code: "V1",
            expires_at: Some(1_000),
            redeem_at: "JKT-01",
            verified: None,
        };
        assert_eq!(check_redeemable(&v, "JKT-01", 1_000), Ok(()));
        let code = |v: &VoucherTerms<'_>, b, at| check_redeemable(v, b, at).unwrap_err().code;
        assert_eq!(code(&v, "JKT-01", 1_001), "voucher_expired");
        assert_eq!(code(&v, "BDG-01", 0), "voucher_not_redeemable_here");
        let unverified = VoucherTerms {
            verified: Some(false),
            ..v
        };
        assert_eq!(code(&unverified, "JKT-01", 0), "voucher_not_verified");
    }
}
