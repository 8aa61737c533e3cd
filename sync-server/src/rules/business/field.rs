//! The field: attendance (position plausibility and territory), activities, order
//! submissions, and outlet profiles kept to their outlet's scopes.

use lapak_core::commerce::lines::{self, Line};
use serde_json::json;

use super::*;

/// The fastest a salesperson moves between two positions, in km/h; faster is implausible.
pub const MAX_PLAUSIBLE_KMH: f64 = 200.0;
/// The worst GPS accuracy, in metres, taken as a position.
pub const MAX_PLAUSIBLE_ACCURACY_M: f64 = 500.0;

/// Distance in metres between two positions (haversine).
#[must_use]
pub fn distance_m(lat1: f64, lng1: f64, lat2: f64, lng2: f64) -> f64 {
    let (p1, p2) = (lat1.to_radians(), lat2.to_radians());
    let dp = (lat2 - lat1).to_radians();
    let dl = (lng2 - lng1).to_radians();
    let a = (dp / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dl / 2.0).sin().powi(2);
    2.0 * 6_371_000.0 * a.sqrt().asin()
}

/// Attendance: one's own, within one's territory (its centre and radius), with a flag (an
/// exception) when the position is implausible.
pub(super) struct AttendanceRule;

impl AttendanceRule {
    /// Why the position cannot be trusted, if it cannot.
    fn implausible(w: &Write<'_>, facts: &Facts) -> Option<String> {
        let (Some(lat), Some(lng)) = (w.real("lat"), w.real("lng")) else {
            return Some("no GPS position was recorded".into());
        };
        if !(-90.0..=90.0).contains(&lat) || !(-180.0..=180.0).contains(&lng) {
            return Some(format!("({lat}, {lng}) is not a position on Earth"));
        }
        if lat == 0.0 && lng == 0.0 {
            return Some("the position is (0, 0), which a GPS reports when it has no fix".into());
        }
        if let Some(acc) = w.real("accuracy_m")
            && acc > MAX_PLAUSIBLE_ACCURACY_M
        {
            return Some(format!(
                "the GPS accuracy was {acc:.0} m (more than {MAX_PLAUSIBLE_ACCURACY_M:.0} m)"
            ));
        }
        let last = facts.tally(&format!("lastpos:{}", w.user)).note?;
        let mut parts = last.split(',').map(str::parse::<f64>);
        let (Some(Ok(plat)), Some(Ok(plng)), Some(Ok(pat))) =
            (parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        #[allow(clippy::cast_precision_loss)]
        let hours = (w.int("at") as f64 - pat) / 3_600_000.0;
        let km = distance_m(plat, plng, lat, lng) / 1000.0;
        if hours > 0.0 && km > 1.0 && km / hours > MAX_PLAUSIBLE_KMH {
            return Some(format!(
                "the position is {km:.1} km from the previous one {:.0} minutes earlier ({:.0} km/h)",
                hours * 60.0,
                km / hours
            ));
        }
        None
    }
}

/// The kinds of attendance entry.
pub const ATTENDANCE_KINDS: &[&str] = &["check_in", "check_out"];

impl Rule for AttendanceRule {
    fn reads(&self, w: &Write<'_>, _: &Facts, needs: &mut Needs<'_>) {
        needs.row("territories", w.text("territory"));
        needs.tally(&format!("lastpos:{}", w.user));
    }

    fn check(&self, w: &Write<'_>, facts: &Facts, fx: &mut Effects) -> RuleVerdict {
        if w.text("user") != w.user {
            return RuleVerdict::reject(
                "not_your_attendance",
                format!(
                    "user `{}` may record only their own attendance, not `{}`'s",
                    w.user,
                    w.text("user")
                ),
            );
        }
        let kind = w.text("kind");
        if !ATTENDANCE_KINDS.contains(&kind) {
            return RuleVerdict::reject(
                "invalid_kind",
                format!("`{kind}` is not a kind of attendance: use check_in or check_out"),
            );
        }
        let territory = w.text("territory");
        let Some(t) = facts.row("territories", territory) else {
            return RuleVerdict::reject(
                "unknown_territory",
                format!(
                    "territory `{territory}` is not known to the back office: sync the device, or ask your supervisor"
                ),
            );
        };
        if let Some(reason) = Self::implausible(w, facts) {
            fx.raise(
                "gps_implausible",
                format!("{}'s {kind} in territory {territory} was accepted, but its position is implausible: {reason}", w.user),
                json!({ "user": w.user, "reason": reason, "lat": w.real("lat"), "lng": w.real("lng"), "accuracy_m": w.real("accuracy_m") }),
            );
            return RuleVerdict::Accept;
        }
        let (lat, lng) = (w.real("lat").unwrap_or(0.0), w.real("lng").unwrap_or(0.0));
        if let (Some(clat), Some(clng), Some(radius)) = (
            real_of(t.get("lat")),
            real_of(t.get("lng")),
            field_int(t, "radius_m"),
        ) {
            let d = distance_m(clat, clng, lat, lng);
            #[allow(clippy::cast_precision_loss)]
            let allowed = radius as f64 + w.real("accuracy_m").unwrap_or(0.0);
            if d > allowed {
                return RuleVerdict::reject(
                    "outside_territory",
                    format!(
                        "this {kind} is {:.1} km from the centre of territory {territory}, which reaches {:.1} km: check in where you work, or ask your supervisor to change your territory",
                        d / 1000.0,
                        allowed / 1000.0
                    ),
                );
            }
        }
        fx.set(
            format!("lastpos:{}", w.user),
            0,
            Some(format!("{lat},{lng},{}", w.int("at"))),
        );
        RuleVerdict::Accept
    }
}

/// The kinds of field activity: sell-in orders, sell-out, branch and program activities.
pub const ACTIVITY_KINDS: &[&str] = &["sell_in", "sell_out", "branch", "program"];

pub(super) fn activity_rule(w: &Write<'_>) -> RuleVerdict {
    let kind = w.text("kind");
    if !ACTIVITY_KINDS.contains(&kind) {
        return RuleVerdict::reject(
            "invalid_kind",
            format!(
                "`{kind}` is not a kind of activity: use one of {}",
                ACTIVITY_KINDS.join(", ")
            ),
        );
    }
    if w.text("salesperson") != w.user {
        return RuleVerdict::reject(
            "not_your_activity",
            format!("user `{}` may submit only their own activities", w.user),
        );
    }
    if kind == "program" && w.text("program").is_empty() {
        return RuleVerdict::reject(
            "missing_program",
            "a program activity must name its program",
        );
    }
    if matches!(kind, "sell_in" | "sell_out")
        && let Err(v) = lines::check_lines(w.list("lines"), "the activity")
    {
        return v.into();
    }
    RuleVerdict::Accept
}

pub(super) fn order_rule(w: &Write<'_>) -> RuleVerdict {
    if let Err(v) = lines::check_lines(w.list("lines"), "the order") {
        return v.into();
    }
    let sum = lines::sum(&Line::from_items(w.list("lines")));
    if i128::from(w.int("total")) != sum {
        return RuleVerdict::reject(
            "total_mismatch",
            format!(
                "the order's total {} is not the sum of its lines {sum}",
                w.int("total")
            ),
        );
    }
    RuleVerdict::Accept
}

/// Outlet profiles are keyed by their outlet's code (the `customers` row): the record id is the
/// code, `outlet` repeats it, and the profile lives only in scopes of that row, so nobody keeps
/// (or squats) a profile for an outlet outside their branch or territory.
pub(super) struct OutletProfileRule;

impl Rule for OutletProfileRule {
    fn document_reads(&self, record_id: &str, needs: &mut Needs<'_>) {
        needs.row("customers", record_id);
    }

    fn check(&self, w: &Write<'_>, facts: &Facts, _: &mut Effects) -> RuleVerdict {
        let outlet = w.text("outlet");
        if outlet != w.record_id {
            return RuleVerdict::reject(
                "outlet_mismatch",
                format!(
                    "an outlet profile is keyed by its outlet's code, but this one has the id `{}` and the outlet `{outlet}`: create the profile with the outlet's code as its id",
                    w.record_id
                ),
            );
        }
        let scopes = w.collection.scopes_of(w.record);
        // Not there, or in no scope of the writer: the same answer, so nothing leaks.
        let Some(c) = w.row_in_scope(facts, "customers", outlet) else {
            return RuleVerdict::reject(
                "outlet_out_of_scope",
                format!(
                    "outlet `{outlet}` is not known in {}: a profile can be kept only for an outlet of your branch or territory; pick the outlet from the list",
                    scopes.join(" or ")
                ),
            );
        };
        let home = w.scopes_of("customers", c);
        if let Some(s) = scopes.iter().find(|s| !home.contains(s)) {
            return RuleVerdict::reject(
                "outlet_out_of_scope",
                format!(
                    "outlet `{outlet}` belongs to {}, so its profile cannot be kept in {s}: set the profile's branch and territory to the outlet's",
                    home.join(" and ")
                ),
            );
        }
        RuleVerdict::Accept
    }
}
