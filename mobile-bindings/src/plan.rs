//! Today's call plan: the outlets a salesperson visits, in order. A plan is a `call_plans`
//! document keyed `<salesperson>/<YYYY-MM-DD>`, so a plan made by the supervisor and one made
//! on the phone for the same day are the same record and merge. Visits are list items: the
//! supervisor reorders them (each visit's `seq`) while the salesperson ticks them done and adds
//! notes (`done`, `note`), and both survive because each edit touches its own keys.

use lapak_core::{Edit, Record, Scalar, Store, Value};

use crate::rows::{item, item_bool, item_int, item_text, items, text};
use crate::types::{day_ms, from_ms};
use crate::{LapakClient, LapakError};

/// One outlet to visit.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct Visit {
    /// The outlet's code.
    pub outlet: String,
    /// Its name, when the device holds the outlet.
    pub outlet_name: String,
    /// Its place in the day (1 first).
    pub seq: i64,
    /// Ticked done.
    pub done: bool,
    /// The salesperson's note.
    pub note: String,
}

/// A salesperson's plan for one day, visits in order.
#[derive(Clone, Debug, PartialEq, uniffi::Record)]
pub struct CallPlan {
    /// The plan's id, `<salesperson>/<YYYY-MM-DD>`.
    pub id: String,
    /// Whose plan.
    pub salesperson: String,
    /// Their territory.
    pub territory: String,
    /// The day (its midnight, UTC).
    pub day: std::time::SystemTime,
    /// The visits, by `seq`.
    pub visits: Vec<Visit>,
}

fn plan_id(salesperson: &str, day: &str) -> String {
    format!("{salesperson}/{day}")
}

fn read_plan(store: &Store, id: &str) -> lapak_core::Result<Option<CallPlan>> {
    let Some(row) = store.get("call_plans", id)? else {
        return Ok(None);
    };
    let mut visits = Vec::new();
    for v in items(&row, "visits") {
        let outlet = item_text(v, "outlet");
        let outlet_name = store
            .get("customers", &outlet)?
            .map(|c| text(&c, "name"))
            .unwrap_or_default();
        visits.push(Visit {
            outlet_name,
            outlet,
            seq: item_int(v, "seq"),
            done: item_bool(v, "done"),
            note: item_text(v, "note"),
        });
    }
    visits.sort_by_key(|v| v.seq);
    Ok(Some(CallPlan {
        id: row.id.clone(),
        salesperson: text(&row, "salesperson"),
        territory: text(&row, "territory"),
        day: from_ms(crate::rows::int(&row, "day").unwrap_or(0)),
        visits,
    }))
}

/// The list index of `outlet`'s visit in plan `id`.
fn visit_index(store: &Store, id: &str, outlet: &str) -> Result<usize, LapakError> {
    let row = store
        .get("call_plans", id)?
        .ok_or_else(|| LapakError::not_found(format!("there is no call plan `{id}` on this device: sync, or ask your supervisor for today's plan")))?;
    items(&row, "visits")
        .iter()
        .position(|v| item_text(v, "outlet") == outlet)
        .ok_or_else(|| {
            LapakError::not_found(format!(
                "outlet `{outlet}` is not in call plan `{id}`: pick a visit of the plan"
            ))
        })
}

#[uniffi::export(async_runtime = "tokio")]
impl LapakClient {
    /// The signed-in salesperson's plan for `day` (`YYYY-MM-DD`), or `null` when none was made.
    ///
    /// # Errors
    /// `NotSignedIn`; `Invalid` for a day not written `YYYY-MM-DD`.
    pub async fn call_plan(&self, day: String) -> Result<Option<CallPlan>, LapakError> {
        let me = self.username().await?;
        day_ms(&day)?;
        let id = plan_id(&me, &day);
        Ok(self.client.with_store(move |s| read_plan(s, &id)).await?)
    }

    /// `salesperson`'s plan for `day` (a supervisor looking at their salespeople's days), or
    /// `null`.
    ///
    /// # Errors
    /// `Invalid` for a day not written `YYYY-MM-DD`.
    pub async fn call_plan_of(
        &self,
        salesperson: String,
        day: String,
    ) -> Result<Option<CallPlan>, LapakError> {
        day_ms(&day)?;
        let id = plan_id(&salesperson, &day);
        Ok(self.client.with_store(move |s| read_plan(s, &id)).await?)
    }

    /// Makes `salesperson`'s plan for `day`: the outlets in the order given (a supervisor plans
    /// for their salespeople; a salesperson may plan their own day). Returns the plan.
    ///
    /// # Errors
    /// `Invalid` for a bad day or no outlets; `Refused` (`already_planned`) when the plan
    /// exists (reorder it instead); `NotFound` for an unknown salesperson.
    pub async fn plan_day(
        &self,
        salesperson: String,
        day: String,
        outlets: Vec<String>,
    ) -> Result<CallPlan, LapakError> {
        let day_start = day_ms(&day)?;
        if outlets.is_empty() {
            return Err(LapakError::invalid("a plan needs at least one outlet"));
        }
        let id = plan_id(&salesperson, &day);
        self.client
            .write_with(move |s| {
                if s.get("call_plans", &id)?.is_some() {
                    return Ok(Err(LapakError::Refused {
                        code: "already_planned".into(),
                        reason: format!(
                            "{salesperson} already has a plan for {day}: reorder its visits instead"
                        ),
                    }));
                }
                let territory = s
                    .get("staff", &salesperson)?
                    .map(|r| text(&r, "territory"))
                    .unwrap_or_default();
                let mut fields = Record::new();
                fields.insert("salesperson".into(), Value::Text(salesperson));
                fields.insert("territory".into(), Value::Text(territory));
                fields.insert("day".into(), Value::Int(day_start));
                let visits = outlets.into_iter().zip(1..).map(|(o, seq)| {
                    item([
                        ("outlet", Scalar::Text(o)),
                        ("seq", Scalar::Int(seq)),
                        ("done", Scalar::Bool(false)),
                        ("note", Scalar::Text(String::new())),
                    ])
                });
                fields.insert("visits".into(), Value::List(visits.collect()));
                s.create_with_id("call_plans", &id, fields)?;
                Ok(read_plan(s, &id)?
                    .ok_or_else(|| LapakError::not_found("the plan could not be read back")))
            })
            .await?
    }

    /// Puts the visits of plan `plan_id` in the order of `outlets` (each visit's `seq`),
    /// leaving done marks and notes alone; visits not named keep their places after those
    /// named.
    ///
    /// # Errors
    /// `NotFound` for an unknown plan or an outlet not in it.
    pub async fn reorder_visits(
        &self,
        plan_id: String,
        outlets: Vec<String>,
    ) -> Result<(), LapakError> {
        self.client
            .write_with(move |s| Ok(reorder(s, &plan_id, &outlets)))
            .await?
    }

    /// Ticks `outlet`'s visit done (or not) in plan `plan_id`.
    ///
    /// # Errors
    /// `NotFound` for an unknown plan or an outlet not in it.
    pub async fn mark_visit_done(
        &self,
        plan_id: String,
        outlet: String,
        done: bool,
    ) -> Result<(), LapakError> {
        self.edit_visit(plan_id, outlet, "done", Scalar::Bool(done))
            .await
    }

    /// Sets the note of `outlet`'s visit in plan `plan_id`.
    ///
    /// # Errors
    /// `NotFound` for an unknown plan or an outlet not in it.
    pub async fn note_visit(
        &self,
        plan_id: String,
        outlet: String,
        note: String,
    ) -> Result<(), LapakError> {
        self.edit_visit(plan_id, outlet, "note", Scalar::Text(note))
            .await
    }
}

fn reorder(s: &mut Store, plan_id: &str, outlets: &[String]) -> Result<(), LapakError> {
    let mut edits = Vec::new();
    let indexes = outlets
        .iter()
        .map(|o| visit_index(s, plan_id, o))
        .collect::<Result<Vec<_>, _>>()?;
    let row = s
        .get("call_plans", plan_id)?
        .ok_or_else(|| LapakError::not_found(format!("there is no call plan `{plan_id}`")))?;
    let mut rest: Vec<(i64, usize)> = items(&row, "visits")
        .iter()
        .enumerate()
        .filter(|(i, _)| !indexes.contains(i))
        .map(|(i, v)| (item_int(v, "seq"), i))
        .collect();
    rest.sort_unstable();
    let order = indexes.into_iter().chain(rest.into_iter().map(|(_, i)| i));
    for (index, seq) in order.zip(1..) {
        edits.push(Edit::UpdateItem {
            field: "visits".into(),
            index,
            values: item([("seq", Scalar::Int(seq))]),
        });
    }
    s.edit("call_plans", plan_id, edits)?;
    Ok(())
}

impl LapakClient {
    async fn edit_visit(
        &self,
        plan_id: String,
        outlet: String,
        key: &'static str,
        value: Scalar,
    ) -> Result<(), LapakError> {
        self.client
            .write_with(move |s| {
                Ok((|| {
                    let index = visit_index(s, &plan_id, &outlet)?;
                    let edit = Edit::UpdateItem {
                        field: "visits".into(),
                        index,
                        values: item([(key, value)]),
                    };
                    s.edit("call_plans", &plan_id, vec![edit])?;
                    Ok(())
                })())
            })
            .await?
    }
}
