//! The field: attendance (position plausibility and territory), activities, order
//! submissions, and outlet profiles kept to their outlet's scopes.

use lapak_core::field::activity::{Activity, check_activity, check_attendance_kind};
use lapak_core::field::geo::{self, Fix, Position, Reach};
use lapak_core::field::order::check_order;
use serde_json::json;

use super::*;

/// Attendance: one's own, within one's territory (its centre and radius), with a flag (an
/// exception) when the position is implausible. The checks are `lapak_core::field`'s, the
/// phones' pre-check.
pub(super) struct AttendanceRule;

impl AttendanceRule {
    fn position(w: &Write<'_>) -> Option<Position> {
        Some(Position {
            lat: w.real("lat")?,
            lng: w.real("lng")?,
            accuracy_m: w.real("accuracy_m"),
        })
    }

    fn reach(t: &Record) -> Option<Reach> {
        Some(Reach {
            lat: real_of(t.get("lat"))?,
            lng: real_of(t.get("lng"))?,
            radius_m: field_int(t, "radius_m")?,
        })
    }
}

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
        if let Err(refusal) = check_attendance_kind(kind) {
            return refusal.into();
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
        let last = facts
            .tally(&format!("lastpos:{}", w.user))
            .note
            .as_deref()
            .and_then(Fix::parse);
        let position = Self::position(w);
        if let Some(reason) = geo::implausible(position, w.int("at"), last) {
            fx.raise(
                "gps_implausible",
                format!("{}'s {kind} in territory {territory} was accepted, but its position is implausible: {reason}", w.user),
                json!({ "user": w.user, "reason": reason, "lat": w.real("lat"), "lng": w.real("lng"), "accuracy_m": w.real("accuracy_m") }),
            );
            return RuleVerdict::Accept;
        }
        let Some(position) = position else {
            return RuleVerdict::Accept;
        };
        if let Some(reach) = Self::reach(t)
            && let Err(refusal) = geo::within(position, territory, reach, kind)
        {
            return refusal.into();
        }
        let fix = Fix {
            lat: position.lat,
            lng: position.lng,
            at_ms: w.int("at"),
        };
        fx.set(format!("lastpos:{}", w.user), 0, Some(fix.note()));
        RuleVerdict::Accept
    }
}

pub(super) fn activity_rule(w: &Write<'_>) -> RuleVerdict {
    let activity = Activity {
        kind: w.text("kind"),
        salesperson: w.text("salesperson"),
        program: w.text("program"),
        lines: w.list("lines"),
    };
    match check_activity(&activity, w.user) {
        Ok(()) => RuleVerdict::Accept,
        Err(refusal) => refusal.into(),
    }
}

pub(super) fn order_rule(w: &Write<'_>) -> RuleVerdict {
    match check_order(w.list("lines"), w.int("total")) {
        Ok(()) => RuleVerdict::Accept,
        Err(refusal) => refusal.into(),
    }
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
