//! At the outlet: check-in and check-out with the phone's position (pre-checked against the
//! territory with the server's own rule, so a check-in the server would refuse is refused at
//! once), activities with their lines (sell-in, sell-out, branch, program), survey answers,
//! and photos on each.

use lapak_core::commerce::Refusal;
use lapak_core::field::activity::{Activity, check_activity, check_attendance_kind};
use lapak_core::field::geo::{self, Fix, Reach};
use lapak_core::store::Verdict;
use lapak_core::{Edit, Item, Query, Record, Row, Scalar, Store, Value};

use crate::photos::{NewPhoto, PhotoRef, refs_of};
use crate::rows::{int, item, item_text, items, real, text};
use crate::types::{Position, Uuid, from_ms, now_ms, parse_id, to_ms};
use crate::{LapakClient, LapakError};

/// Check-in or check-out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum AttendanceKind {
    /// Arriving.
    CheckIn,
    /// Leaving.
    CheckOut,
}

impl AttendanceKind {
    fn code(self) -> &'static str {
        match self {
            AttendanceKind::CheckIn => "check_in",
            AttendanceKind::CheckOut => "check_out",
        }
    }
}

/// A check-in or check-out recorded on the device.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Attendance {
    /// Its id.
    pub id: Uuid,
    /// When.
    pub at: std::time::SystemTime,
    /// Why the back office will look at it: the position could not be trusted (no fix, poor
    /// accuracy, too fast from the last one). It is recorded and accepted all the same.
    pub warning: Option<String>,
}

/// The kinds of activity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, uniffi::Enum)]
pub enum ActivityKind {
    /// An order taken for the distributor (sell-in).
    SellIn,
    /// What the outlet sold on (sell-out).
    SellOut,
    /// A branch activity.
    Branch,
    /// A program activity (names its program).
    Program,
}

impl ActivityKind {
    fn code(self) -> &'static str {
        match self {
            ActivityKind::SellIn => "sell_in",
            ActivityKind::SellOut => "sell_out",
            ActivityKind::Branch => "branch",
            ActivityKind::Program => "program",
        }
    }
}

/// A line of an activity.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct ActivityLine {
    /// The item.
    pub sku: String,
    /// How many.
    pub qty: i64,
    /// The amount, minor units.
    pub amount: i64,
}

/// An activity to record.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct NewActivity {
    /// Its kind.
    pub kind: ActivityKind,
    /// The outlet, when at one.
    pub outlet: Option<String>,
    /// The program of a program activity.
    #[uniffi(default = "")]
    pub program: String,
    /// Notes.
    #[uniffi(default = "")]
    pub notes: String,
    /// Lines (required for sell-in and sell-out).
    pub lines: Vec<ActivityLine>,
    /// Where.
    pub position: Option<Position>,
    /// Photos (from `add_photo`).
    pub photos: Vec<NewPhoto>,
}

/// An activity recorded on the device.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct ActivityRecord {
    /// Its id.
    pub id: Uuid,
    /// Its kind, as stored (`sell_in`, ...).
    pub kind: String,
    /// The outlet.
    pub outlet: String,
    /// When.
    pub at: std::time::SystemTime,
    /// Its lines.
    pub lines: Vec<ActivityLine>,
    /// Its photos.
    pub photos: Vec<PhotoRef>,
    /// The server's verdict: `pending`, `accepted` or `rejected`.
    pub status: String,
}

/// A question answered.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SurveyAnswer {
    /// The question.
    pub question: String,
    /// The answer.
    pub answer: String,
}

/// A survey form's answers at an outlet on one day.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Survey {
    /// Its id, `<form>/<outlet>/<YYYY-MM-DD>`.
    pub id: String,
    /// The outlet.
    pub outlet: String,
    /// The form.
    pub form: String,
    /// The answers, in the order first given.
    pub answers: Vec<SurveyAnswer>,
}

/// The signed-in salesperson's territory, from their `staff` row.
fn my_territory(store: &Store, me: &str) -> Result<String, LapakError> {
    store
        .get("staff", me)?
        .map(|r| text(&r, "territory"))
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            LapakError::not_found(format!(
                "`{me}` has no territory on this device: sync, or ask your supervisor to assign one"
            ))
        })
}

/// The last trusted position of the signed-in user, remembered with the store generation it
/// is true at: a check-in judges its reading against it instead of replaying the user's
/// earlier check-ins, and remembers the fix it leaves. Anything else that changes the store
/// (a pull bringing a check-in of the user's other phone, a verdict rejecting one) moves the
/// generation, and the next check-in replays again.
#[derive(Debug, Default)]
pub(crate) struct LastFix(std::sync::Mutex<Option<KnownFix>>);

#[derive(Debug)]
struct KnownFix {
    user: String,
    generation: u64,
    fix: Option<Fix>,
}

impl LastFix {
    /// `me`'s last trusted fix in `store` now.
    fn of(&self, store: &Store, me: &str) -> lapak_core::Result<Option<Fix>> {
        if let Ok(known) = self.0.lock()
            && let Some(k) = known.as_ref()
            && k.user == me
            && k.generation == store.generation()
        {
            return Ok(k.fix);
        }
        last_fix(store, me)
    }

    /// Remembers `fix` as `me`'s last trusted one in `store` now.
    fn keep(&self, store: &Store, me: &str, fix: Option<Fix>) {
        if let Ok(mut known) = self.0.lock() {
            *known = Some(KnownFix {
                user: me.to_owned(),
                generation: store.generation(),
                fix,
            });
        }
    }
}

/// The last trusted position this device recorded for `me`, as the server's `lastpos:` keeps.
fn last_fix(store: &Store, me: &str) -> lapak_core::Result<Option<Fix>> {
    let rows = store.query(
        "attendance",
        &Query::new().eq("user", me).order_by("at", true).limit(50),
    )?;
    let mut older: Vec<&Row> = rows.iter().collect();
    older.reverse();
    // Replay oldest first, as the server does: each trusted reading becomes the last fix.
    let mut last = None;
    for r in older {
        if matches!(r.verdict, Some(Verdict::Rejected { .. })) {
            continue;
        }
        let (Some(lat), Some(lng)) = (real(r, "lat"), real(r, "lng")) else {
            continue;
        };
        let p = geo::Position {
            lat,
            lng,
            accuracy_m: real(r, "accuracy_m"),
        };
        let at = int(r, "at").unwrap_or(0);
        if geo::implausible(Some(p), at, last).is_none() {
            last = Some(Fix {
                lat,
                lng,
                at_ms: at,
            });
        }
    }
    Ok(last)
}

/// The server's attendance rule, on the device, against the user's `last` trusted fix:
/// `Ok(warning)` when it will be accepted.
fn judge_attendance(
    store: &Store,
    last: Option<Fix>,
    territory: &str,
    kind: &str,
    position: Option<Position>,
    at: i64,
) -> Result<Option<String>, LapakError> {
    check_attendance_kind(kind)?;
    let t = store.get("territories", territory)?.ok_or_else(|| Refusal::new(
        "unknown_territory",
        format!("territory `{territory}` is not known to the back office: sync the device, or ask your supervisor"),
    ))?;
    let position = position.map(geo::Position::from);
    if let Some(reason) = geo::implausible(position, at, last) {
        return Ok(Some(reason));
    }
    if let (Some(p), Some(lat), Some(lng), Some(radius_m)) = (
        position,
        real(&t, "lat"),
        real(&t, "lng"),
        int(&t, "radius_m"),
    ) {
        geo::within(p, territory, Reach { lat, lng, radius_m }, kind)?;
    }
    Ok(None)
}

fn photo_items(photos: Vec<NewPhoto>, at: i64) -> Vec<Item> {
    photos
        .into_iter()
        .map(|p| {
            item([
                ("ref", Scalar::Text(p.photo)),
                ("taken_at", Scalar::Int(at)),
                ("caption", Scalar::Text(p.caption)),
            ])
        })
        .collect()
}

fn put_position(r: &mut Record, position: Option<Position>) {
    if let Some(p) = position {
        r.insert("lat".into(), Value::Real(p.lat));
        r.insert("lng".into(), Value::Real(p.lng));
        if let Some(a) = p.accuracy_m {
            r.insert("accuracy_m".into(), Value::Real(a));
        }
    }
}

fn activity_of(r: &Row) -> Result<ActivityRecord, LapakError> {
    Ok(ActivityRecord {
        id: parse_id(&r.id)?,
        kind: text(r, "kind"),
        outlet: text(r, "outlet"),
        at: from_ms(int(r, "at").unwrap_or(0)),
        lines: items(r, "lines")
            .iter()
            .map(|l| ActivityLine {
                sku: item_text(l, "sku"),
                qty: crate::rows::item_int(l, "qty"),
                amount: crate::rows::item_int(l, "amount"),
            })
            .collect(),
        photos: refs_of(items(r, "photos")),
        status: match r.verdict {
            Some(Verdict::Accepted { .. }) => "accepted",
            Some(Verdict::Rejected { .. }) => "rejected",
            _ => "pending",
        }
        .to_owned(),
    })
}

/// What `record_attendance` is given.
struct Reading {
    kind: AttendanceKind,
    outlet: Option<String>,
    position: Option<Position>,
    photos: Vec<NewPhoto>,
}

fn record_attendance(
    s: &mut Store,
    me: &str,
    fixes: &LastFix,
    Reading {
        kind,
        outlet,
        position,
        photos,
    }: Reading,
) -> Result<Attendance, LapakError> {
    let territory = my_territory(s, me)?;
    let at = now_ms();
    let last = fixes.of(s, me)?;
    let warning = judge_attendance(s, last, &territory, kind.code(), position, at)?;
    let mut r = Record::new();
    r.insert("user".into(), Value::Text(me.to_owned()));
    r.insert("territory".into(), Value::Text(territory));
    r.insert("kind".into(), Value::Text(kind.code().into()));
    r.insert("at".into(), Value::Int(at));
    put_position(&mut r, position);
    if let Some(o) = outlet {
        r.insert("outlet".into(), Value::Text(o));
    }
    r.insert("photos".into(), Value::List(photo_items(photos, at)));
    let id = s.append("attendance", r)?;
    // A reading without a warning is trusted: it is the last fix now (as the replay finds
    // it, unless the clock went back past the last one).
    match position {
        Some(p) if warning.is_none() && last.is_none_or(|l| l.at_ms <= at) => {
            let fix = Fix {
                lat: p.lat,
                lng: p.lng,
                at_ms: at,
            };
            fixes.keep(s, me, Some(fix));
        }
        _ if warning.is_some() => fixes.keep(s, me, last),
        _ => {}
    }
    Ok(Attendance {
        id: parse_id(&id)?,
        at: from_ms(at),
        warning,
    })
}

fn record_activity(s: &mut Store, me: &str, a: NewActivity) -> Result<ActivityRecord, LapakError> {
    let territory = my_territory(s, me)?;
    let at = now_ms();
    let lines: Vec<Item> = a
        .lines
        .iter()
        .map(|l| {
            item([
                ("sku", Scalar::Text(l.sku.clone())),
                ("qty", Scalar::Int(l.qty)),
                ("amount", Scalar::Int(l.amount)),
            ])
        })
        .collect();
    check_activity(
        &Activity {
            kind: a.kind.code(),
            salesperson: me,
            program: &a.program,
            lines: &lines,
        },
        me,
    )?;
    let mut r = Record::new();
    r.insert("salesperson".into(), Value::Text(me.to_owned()));
    r.insert("territory".into(), Value::Text(territory));
    r.insert("kind".into(), Value::Text(a.kind.code().into()));
    if let Some(o) = a.outlet {
        r.insert("outlet".into(), Value::Text(o));
    }
    if !a.program.is_empty() {
        r.insert("program".into(), Value::Text(a.program));
    }
    if !a.notes.is_empty() {
        r.insert("notes".into(), Value::Text(a.notes));
    }
    r.insert("at".into(), Value::Int(at));
    put_position(&mut r, a.position);
    r.remove("accuracy_m");
    r.insert("lines".into(), Value::List(lines));
    r.insert("photos".into(), Value::List(photo_items(a.photos, at)));
    let id = s.append("activities", r)?;
    let row = s
        .get("activities", &id)?
        .ok_or_else(|| LapakError::not_found("the activity could not be read back"))?;
    activity_of(&row)
}

fn survey_id(form: &str, outlet: &str, at: i64) -> String {
    let day = chrono::DateTime::from_timestamp_millis(at)
        .map(|t| t.format("%Y-%m-%d").to_string())
        .unwrap_or_default();
    format!("{form}/{outlet}/{day}")
}

fn read_survey(s: &Store, id: &str) -> lapak_core::Result<Option<Survey>> {
    Ok(s.get("surveys", id)?.map(|r| Survey {
        id: r.id.clone(),
        outlet: text(&r, "outlet"),
        form: text(&r, "form"),
        answers: items(&r, "answers")
            .iter()
            .map(|a| SurveyAnswer {
                question: item_text(a, "question"),
                answer: item_text(a, "answer"),
            })
            .collect(),
    }))
}

fn answer(
    s: &mut Store,
    me: &str,
    outlet: &str,
    form: &str,
    answers: Vec<SurveyAnswer>,
) -> Result<Survey, LapakError> {
    let id = survey_id(form, outlet, now_ms());
    if s.get("surveys", &id)?.is_none() {
        let o = crate::catalog::outlet_row(s, outlet)?;
        let mut f = Record::new();
        f.insert("territory".into(), Value::Text(text(&o, "territory")));
        f.insert("outlet".into(), Value::Text(outlet.to_owned()));
        f.insert("form".into(), Value::Text(form.to_owned()));
        f.insert("salesperson".into(), Value::Text(me.to_owned()));
        s.create_with_id("surveys", &id, f)?;
    }
    let row = s
        .get("surveys", &id)?
        .ok_or_else(|| LapakError::not_found("the survey could not be read back"))?;
    let mut known: Vec<String> = items(&row, "answers")
        .iter()
        .map(|a| item_text(a, "question"))
        .collect();
    let mut edits = Vec::new();
    for a in answers {
        let value = item([("answer", Scalar::Text(a.answer.clone()))]);
        if let Some(index) = known.iter().position(|q| *q == a.question) {
            edits.push(Edit::UpdateItem {
                field: "answers".into(),
                index,
                values: value,
            });
        } else {
            edits.push(Edit::InsertItem {
                field: "answers".into(),
                index: known.len(),
                item: item([
                    ("question", Scalar::Text(a.question.clone())),
                    ("answer", Scalar::Text(a.answer)),
                ]),
            });
            known.push(a.question);
        }
    }
    if !edits.is_empty() {
        s.edit("surveys", &id, edits)?;
    }
    read_survey(s, &id)?.ok_or_else(|| LapakError::not_found("the survey could not be read back"))
}

#[uniffi::export(async_runtime = "tokio")]
impl LapakClient {
    /// Records a check-in or check-out now, at `position` (the phone's GPS reading, `null`
    /// without a fix), at `outlet` when at one, with photos. Judged first as the server will:
    /// a trusted position outside the user's territory is refused (`outside_territory`, naming
    /// both distances) and nothing is stored; an untrusted one is recorded with a `warning`.
    ///
    /// # Errors
    /// `Refused` (`outside_territory`, `unknown_territory`); `NotFound` when the user has no
    /// territory or a photo is not on this device.
    pub async fn check_in(
        &self,
        kind: AttendanceKind,
        outlet: Option<String>,
        position: Option<Position>,
        photos: Vec<NewPhoto>,
    ) -> Result<Attendance, LapakError> {
        let me = self.username().await?;
        for p in &photos {
            self.known_photo(&p.photo).await?;
        }
        let fixes = self.last_fix.clone();
        let reading = Reading {
            kind,
            outlet,
            position,
            photos,
        };
        self.client
            .write_with(move |s| Ok(record_attendance(s, &me, &fixes, reading)))
            .await?
    }

    /// Records an activity now, checked first with the server's rule (kind, own, program
    /// named, lines valid for sell-in and sell-out).
    ///
    /// # Errors
    /// `Refused` with the rule's code; `NotFound` for a photo not on this device.
    pub async fn record_activity(
        &self,
        activity: NewActivity,
    ) -> Result<ActivityRecord, LapakError> {
        let me = self.username().await?;
        for p in &activity.photos {
            self.known_photo(&p.photo).await?;
        }
        self.client
            .write_with(move |s| Ok(record_activity(s, &me, activity)))
            .await?
    }

    /// The activities recorded on this device since `since`, newest first, with the server's
    /// verdict on each.
    ///
    /// # Errors
    /// `Storage`.
    pub async fn activities(
        &self,
        since: std::time::SystemTime,
    ) -> Result<Vec<ActivityRecord>, LapakError> {
        let since = to_ms(since);
        let rows = self
            .client
            .query(
                "activities",
                Query::new()
                    .filter("at", lapak_core::Op::Ge, since)
                    .order_by("at", true),
            )
            .await?;
        rows.iter().map(activity_of).collect()
    }

    /// Answers questions of survey `form` at `outlet` today (answers given again replace
    /// the earlier ones, question by question).
    ///
    /// # Errors
    /// `NotFound` for an outlet not on this device.
    pub async fn answer_survey(
        &self,
        outlet: String,
        form: String,
        answers: Vec<SurveyAnswer>,
    ) -> Result<Survey, LapakError> {
        let me = self.username().await?;
        self.client
            .write_with(move |s| Ok(answer(s, &me, &outlet, &form, answers)))
            .await?
    }
}

#[cfg(test)]
mod tests {
    use lapak_core::testkit::{MemoryServer, sync_fully};
    use lapak_core::{Store, record};

    use super::{AttendanceKind, LastFix, Reading, last_fix, record_attendance};
    use crate::types::Position;

    const ME: &str = "s-1";

    /// A device holding `ME`'s staff row and territory (Jakarta, 20 km).
    fn phone(server: &mut MemoryServer) -> Store {
        server.put_reference(
            "territories",
            "T-1",
            record! {"name" => "T-1", "branch" => "JKT", "lat" => -6.2, "lng" => 106.8, "radius_m" => 20_000},
        );
        server.put_reference(
            "staff",
            ME,
            record! {"name" => "Sales", "role" => "salesperson", "territory" => "T-1"},
        );
        let mut s = Store::open_in_memory(lapak_core::catalog::business()).unwrap();
        s.set_scopes(&["org".to_owned(), "territory:T-1".to_owned()])
            .unwrap();
        sync_fully(&mut s, server).unwrap();
        s
    }

    fn at(lat: f64, lng: f64, accuracy_m: f64) -> Position {
        Position {
            lat,
            lng,
            accuracy_m: Some(accuracy_m),
        }
    }

    /// Readings near, far (too fast from the last), outside the territory, inaccurate and
    /// missing, in a fixed pseudo-random order.
    fn readings(n: usize) -> impl Iterator<Item = Option<Position>> {
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        (0..n).map(move |_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            #[allow(clippy::cast_precision_loss)]
            let off = ((x % 1000) as f64 - 500.0) / 1000.0 * 0.5;
            match x % 7 {
                0 => None,
                1 => Some(at(-6.2 + off, 106.8, 900.0)),
                2 | 3 => Some(at(-6.2 + off / 100.0, 106.8, 10.0)),
                _ => Some(at(-6.2 + off, 106.8 - off, 15.0)),
            }
        })
    }

    /// The remembered fix is the one the replay of the stored check-ins finds, after every
    /// check-in (accepted, warned or refused) and after syncs that reject some of them. (Fewer
    /// check-ins than the replay's window of 50: past it, the remembered chain goes further
    /// back than the replay, as the server's does.)
    #[test]
    fn the_remembered_fix_is_the_replayed_one() {
        let mut server = MemoryServer::new(lapak_core::catalog::business());
        server.set_rule(Box::new(|c, r| {
            (c == "attendance" && r.get("accuracy_m") == Some(&15.0.into()))
                .then(|| ("refused_here".into(), "a test refusal".into()))
        }));
        let mut s = phone(&mut server);
        let fixes = LastFix::default();
        let (mut refused, mut warned, mut trusted) = (0, 0, 0);
        for (i, position) in readings(48).enumerate() {
            let reading = Reading {
                kind: AttendanceKind::CheckIn,
                outlet: None,
                position,
                photos: Vec::new(),
            };
            match record_attendance(&mut s, ME, &fixes, reading) {
                Err(_) => refused += 1,
                Ok(a) if a.warning.is_some() => warned += 1,
                Ok(_) => trusted += 1,
            }
            assert_eq!(
                fixes.of(&s, ME).unwrap(),
                last_fix(&s, ME).unwrap(),
                "after {i}"
            );
            if i % 12 == 11 {
                sync_fully(&mut s, &mut server).unwrap();
                assert_eq!(
                    fixes.of(&s, ME).unwrap(),
                    last_fix(&s, ME).unwrap(),
                    "after sync {i}"
                );
            }
        }
        assert!(
            refused > 0 && warned > 0 && trusted > 0,
            "{refused} {warned} {trusted}"
        );
    }
}
