//! Field activities (sell-in, sell-out, branch and program visits) and attendance kinds: what
//! a phone may record and the server accepts.

use crate::commerce::Refusal;
use crate::commerce::lines;
use crate::value::Item;

/// The kinds of attendance entry.
pub const ATTENDANCE_KINDS: &[&str] = &["check_in", "check_out"];

/// The kinds of field activity: sell-in orders, sell-out, branch and program activities.
pub const ACTIVITY_KINDS: &[&str] = &["sell_in", "sell_out", "branch", "program"];

/// An attendance kind, or `invalid_kind`.
///
/// # Errors
/// `invalid_kind`.
pub fn check_attendance_kind(kind: &str) -> Result<(), Refusal> {
    if ATTENDANCE_KINDS.contains(&kind) {
        return Ok(());
    }
    Err(Refusal::new(
        "invalid_kind",
        format!("`{kind}` is not a kind of attendance: use check_in or check_out"),
    ))
}

/// What an activity is, as its entry holds it.
#[derive(Clone, Copy, Debug)]
pub struct Activity<'a> {
    /// One of [`ACTIVITY_KINDS`].
    pub kind: &'a str,
    /// Who recorded it.
    pub salesperson: &'a str,
    /// The program of a program activity.
    pub program: &'a str,
    /// Its lines (`sku`, `qty`, `amount`).
    pub lines: &'a [Item],
}

/// Whether `user` may record `activity`: a known kind, their own, a program named for a
/// program activity, valid lines for sell-in and sell-out.
///
/// # Errors
/// `invalid_kind`, `not_your_activity`, `missing_program`, or a line's refusal.
pub fn check_activity(activity: &Activity<'_>, user: &str) -> Result<(), Refusal> {
    let kind = activity.kind;
    if !ACTIVITY_KINDS.contains(&kind) {
        return Err(Refusal::new(
            "invalid_kind",
            format!(
                "`{kind}` is not a kind of activity: use one of {}",
                ACTIVITY_KINDS.join(", ")
            ),
        ));
    }
    if activity.salesperson != user {
        return Err(Refusal::new(
            "not_your_activity",
            format!("user `{user}` may submit only their own activities"),
        ));
    }
    if kind == "program" && activity.program.is_empty() {
        return Err(Refusal::new(
            "missing_program",
            "a program activity must name its program",
        ));
    }
    if matches!(kind, "sell_in" | "sell_out") {
        lines::check_lines(activity.lines, "the activity")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_activity_is_checked_as_the_server_checks_it() {
        let a = |kind, program| Activity {
            kind,
            salesperson: "s-1",
            program,
            lines: &[],
        };
        assert_eq!(
            check_activity(&a("visit", ""), "s-1").unwrap_err().code,
            "invalid_kind"
        );
        assert_eq!(
            check_activity(&a("branch", ""), "s-2").unwrap_err().code,
            "not_your_activity"
        );
        assert_eq!(
            check_activity(&a("program", ""), "s-1").unwrap_err().code,
            "missing_program"
        );
        assert_eq!(
            check_activity(&a("sell_in", ""), "s-1").unwrap_err().code,
            "no_lines"
        );
        assert!(check_activity(&a("program", "P-1"), "s-1").is_ok());
        assert!(check_attendance_kind("check_in").is_ok());
        assert_eq!(
            check_attendance_kind("lunch").unwrap_err().code,
            "invalid_kind"
        );
    }
}
