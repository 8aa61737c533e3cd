//! The server's judgement of writes, without I/O: given a push (or a back-office write of
//! reference rows) and the stored state it touches, decide each change's verdict and return a
//! [`Plan`] of everything to store in one transaction: verdicts, log entries per scope,
//! document bytes, materialized rows and outbox events.
//!
//! Storage backends load the inputs (stored verdicts, documents, the log head) under the
//! sequencer lock, call [`plan_push`] or [`plan_reference`], and write the plan. Because the
//! rules live here once, both backends judge identically. The rows the server derives from
//! tallies (`derived`) are placed into a plan once storage has loaded their stored state.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use automerge::{AutoCommit, Change as AmChange, ReadDoc as _};
use lapak_core::protocol::{
    ChangeBody, ChangeResult, LogOp, MAX_CHANGE_BYTES, Outcome, PushRequest, PushResponse,
};
use lapak_core::schema::Kind;
use lapak_core::{Record, Scalar, Schema, Value, document};
use uuid::Uuid;

use crate::auth::Principal;
use crate::rules::{Effects, Facts, Rules, Tally, WriteKind};

mod bounds;
pub mod derived;
mod doc_change;
mod plan;
mod reference;
mod rules;

pub use bounds::Spent;
pub use derived::{DerivedRow, place as place_derived};
use doc_change::judge_document;
pub use plan::*;

pub use reference::{ReferenceError, plan_reference};
pub use rules::needs;
use rules::{apply_effects, run_rules};

/// The context of a write that is not part of its content.
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    /// The schema served.
    pub schema: &'a Schema,
    /// Its rules and event names.
    pub rules: &'a Rules,
    /// The log head before this write.
    pub head: u64,
    /// Now, in milliseconds since the epoch.
    pub now_ms: i64,
    /// The request's trace id.
    pub trace_id: &'a str,
}

struct LoadedDoc {
    doc: AutoCommit,
    scopes: Vec<String>,
    existed: bool,
    dirty: bool,
}

fn reject(code: &str, message: impl Into<String>) -> Outcome {
    Outcome::Rejected {
        code: code.to_owned(),
        message: message.into(),
    }
}

/// Judges a push: each change once (a change id with a stored verdict gets that verdict
/// again and changes nothing), in order, assigning consecutive positions after `ctx.head`.
///
/// `known` holds the stored verdicts of the request's change ids; `docs` the stored documents
/// the request touches (absent: new); `facts` what the rules asked for in [`needs`].
#[must_use]
pub fn plan_push(
    ctx: &Context<'_>,
    principal: &Principal,
    request: &PushRequest,
    known: &HashMap<Uuid, StoredVerdict>,
    docs: &HashMap<(String, String), StoredDoc>,
    mut facts: Facts,
) -> Plan {
    let mut plan = Plan {
        head: ctx.head,
        ..Plan::default()
    };
    let mut seen: HashMap<Uuid, Outcome> = HashMap::new();
    let mut loaded: HashMap<(String, String), LoadedDoc> = HashMap::new();
    let mut held_back: HashSet<(String, String)> = HashSet::new();
    for ch in &request.changes {
        let outcome = if let Some(v) = known.get(&ch.change_id) {
            if v.device_id.is_some_and(|d| d != request.device_id) {
                // Another device's change id: its verdict is not this device's to learn.
                reject(
                    "change_id_taken",
                    "another device already sent a change with this id, so this one was not stored: the app must make a new id for every change",
                )
            } else {
                v.outcome.clone()
            }
        } else if let Some(o) = seen.get(&ch.change_id) {
            o.clone()
        } else {
            let key = (ch.collection.clone(), ch.record_id.clone());
            let outcome = if held_back.contains(&key) {
                Outcome::Deferred {
                    reason: "an earlier change of this record in the same push was not accepted; send it again after that one is settled".into(),
                }
            } else {
                judge(
                    ctx,
                    principal,
                    ch,
                    request.device_id,
                    docs,
                    &mut loaded,
                    &mut facts,
                    &mut plan,
                )
            };
            if !matches!(outcome, Outcome::Deferred { .. }) {
                plan.verdicts.push(NewVerdict {
                    change_id: ch.change_id,
                    collection: ch.collection.clone(),
                    record_id: ch.record_id.clone(),
                    outcome: outcome.clone(),
                });
            }
            seen.insert(ch.change_id, outcome.clone());
            outcome
        };
        if !matches!(outcome, Outcome::Accepted { .. }) {
            held_back.insert((ch.collection.clone(), ch.record_id.clone()));
        }
        plan.results.push(ChangeResult {
            change_id: ch.change_id,
            outcome,
        });
    }
    plan.tallies = facts.changed_tallies();
    plan.derived = derived::rows(ctx.schema, &plan.tallies, &facts);
    for (key, d) in loaded {
        if d.dirty {
            let deleted = is_deleted(&d.doc);
            let mut doc = d.doc;
            plan.docs.push((
                key,
                StoredDoc {
                    data: doc.save(),
                    scopes: d.scopes,
                    deleted,
                },
            ));
        }
    }
    plan
}

fn is_deleted(doc: &AutoCommit) -> bool {
    matches!(
        doc.get(automerge::ROOT, "_deleted"),
        Ok(Some((automerge::Value::Scalar(s), _))) if *s == automerge::ScalarValue::Boolean(true)
    )
}

/// Whether `principal` may write a record that is in `before` (empty for a new record) and
/// will be in `after`. Non-administrators may not write a record in no scope, nor one whose
/// stored copy is in no scope (only an administrator could reach it). Scopes the record was in
/// are not named in the refusal: the user may not know them.
fn forbidden(
    principal: &Principal,
    existed: bool,
    before: &[String],
    after: &[String],
) -> Option<Outcome> {
    if principal.is_admin() {
        return None;
    }
    if existed && (before.is_empty() || before.iter().any(|s| !principal.can_write(s))) {
        return Some(reject(
            "forbidden_scope",
            format!(
                "user `{}` may not change this record: it belongs to scopes outside your grants",
                principal.username
            ),
        ));
    }
    if after.is_empty() {
        return Some(reject(
            "no_scope",
            "the record would belong to no scope (its scope field is empty), so nobody could receive it: fill in its branch or territory",
        ));
    }
    let denied: Vec<&str> = after
        .iter()
        .filter(|s| !principal.can_write(s))
        .map(String::as_str)
        .collect();
    if denied.is_empty() {
        None
    } else {
        Some(reject(
            "forbidden_scope",
            format!(
                "user `{}` may not write records of {}: ask an administrator for a grant, or write within your own scopes",
                principal.username,
                denied.join(", ")
            ),
        ))
    }
}

/// The longest text an indexed field may hold (Postgres refuses index entries past ~2.7 KB).
pub const MAX_INDEXED_TEXT: usize = 1_000;

/// Checks a record id as every write does: 1 to 200 bytes, no control characters.
///
/// # Errors
/// What is wrong with the id.
pub(crate) fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.len() > 200 || id.chars().any(char::is_control) {
        return Err("a record id must be 1 to 200 bytes long, without control characters".into());
    }
    Ok(())
}

/// Checks a reference row as its write will (the back office's, an import's, a derived
/// row's): the collection's schema, then what both databases must store alike
/// ([`check_storable`]), so an import reports a refused row on its own before anything is
/// written. Returns the scopes the row is in.
///
/// # Errors
/// What is wrong with the row, for the person who supplied it.
pub(crate) fn check_row(
    c: &lapak_core::Collection,
    record: &Record,
) -> Result<Vec<String>, String> {
    c.check_record(record).map_err(|e| e.to_string())?;
    let scopes = c.scopes_of(record);
    check_storable(c, record, &scopes)?;
    Ok(scopes)
}

/// Checks what Postgres and SQLite must both store the same: no NUL character in any text, no
/// control character in ids, indexed text and scope names of bounded length.
fn check_storable(
    c: &lapak_core::Collection,
    record: &Record,
    scopes: &[String],
) -> Result<(), String> {
    let nul = |t: &str| t.contains('\0');
    for (k, v) in record {
        let bad = match v {
            Value::Text(t) => nul(t),
            Value::List(items) => items
                .iter()
                .any(|i| i.values().any(|s| matches!(s, Scalar::Text(t) if nul(t)))),
            _ => false,
        };
        if bad {
            return Err(format!(
                "field `{k}` contains a NUL character, which cannot be stored"
            ));
        }
    }
    for idx in c.indexes() {
        for f in &idx.fields {
            if let Some(Value::Text(t)) = record.get(f)
                && t.len() > MAX_INDEXED_TEXT
            {
                return Err(format!(
                    "field `{f}` is indexed and may hold at most {MAX_INDEXED_TEXT} bytes (it has {})",
                    t.len()
                ));
            }
        }
    }
    if let Some(s) = scopes
        .iter()
        .find(|s| s.len() > 200 || s.chars().any(char::is_control))
    {
        return Err(format!(
            "scope `{}` is not a valid scope name (at most 200 characters, no control characters)",
            s.escape_debug()
        ));
    }
    Ok(())
}

fn next_position(plan: &mut Plan) -> u64 {
    plan.head += 1;
    plan.head
}

#[allow(clippy::too_many_arguments)]
fn judge(
    ctx: &Context<'_>,
    principal: &Principal,
    ch: &lapak_core::protocol::Change,
    device: Uuid,
    docs: &HashMap<(String, String), StoredDoc>,
    loaded: &mut HashMap<(String, String), LoadedDoc>,
    facts: &mut Facts,
    plan: &mut Plan,
) -> Outcome {
    let Ok(c) = ctx.schema.collection(&ch.collection) else {
        return reject(
            "unknown_collection",
            format!(
                "the server has no collection `{}`: update the app, or check the collection name",
                ch.collection
                    .chars()
                    .take(64)
                    .collect::<String>()
                    .escape_debug()
            ),
        );
    };
    if let Err(message) = check_id(&ch.record_id) {
        return reject("invalid", message);
    }
    match (&ch.body, c.kind()) {
        (ChangeBody::Ledger { entry }, Kind::Ledger) => {
            judge_ledger(ctx, principal, c, ch, entry, device, facts, plan)
        }
        (ChangeBody::Document { change }, Kind::Document) => judge_document(
            ctx, principal, c, ch, change, device, docs, loaded, facts, plan,
        ),
        (_, kind) => reject(
            "wrong_kind",
            format!(
                "`{}` is a {kind} collection and does not take this kind of change{}",
                c.name(),
                if kind == Kind::Reference {
                    ": reference data is written by the back office only"
                } else {
                    ""
                }
            ),
        ),
    }
}

/// A new ledger entry: id, size, schema, storable text, scopes, rules; then one position, its
/// log entries, its plain row, its event and its rules' effects.
#[allow(clippy::too_many_arguments)]
fn judge_ledger(
    ctx: &Context<'_>,
    principal: &Principal,
    c: &lapak_core::Collection,
    ch: &lapak_core::protocol::Change,
    entry: &Record,
    device: Uuid,
    facts: &mut Facts,
    plan: &mut Plan,
) -> Outcome {
    if ch.record_id != ch.change_id.to_string() {
        return reject(
            "invalid",
            "a ledger entry's id must be its change id".to_owned(),
        );
    }
    let size = postcard::experimental::serialized_size(entry).unwrap_or(usize::MAX);
    if size > MAX_CHANGE_BYTES {
        return reject(
            "too_large",
            format!("the entry is {size} bytes; at most {MAX_CHANGE_BYTES} are allowed"),
        );
    }
    if let Err(e) = c.check_record(entry) {
        return reject("invalid", e.to_string());
    }
    let scopes = c.scopes_of(entry);
    if let Err(m) = check_storable(c, entry, &scopes) {
        return reject("invalid", m);
    }
    if let Some(o) = forbidden(principal, false, &[], &scopes) {
        return o;
    }
    let effects = match run_rules(ctx, principal, c, &ch.record_id, entry, device, facts) {
        Ok(e) => e,
        Err(o) => return o,
    };
    let position = next_position(plan);
    for s in &scopes {
        plan.log.push(LogRow {
            scope: s.clone(),
            position,
            collection: c.name().to_owned(),
            record_id: ch.record_id.clone(),
            op: LogOp::Ledger {
                entry: entry.clone(),
            },
        });
    }
    plan.rows.push(RowWrite {
        collection: c.name().to_owned(),
        id: ch.record_id.clone(),
        row: Some(MaterialRow {
            record: entry.clone(),
            scopes: scopes.clone(),
            position,
            device_id: Some(device),
        }),
    });
    plan.events.push(event(
        ctx,
        effects
            .event_type
            .clone()
            .unwrap_or_else(|| ctx.rules.event_type(c.name(), WriteKind::Recorded)),
        c.name(),
        &ch.record_id,
        entry,
        &scopes,
        position,
        Some(device),
    ));
    facts.remember(c.name(), &ch.record_id, entry);
    apply_effects(
        ctx,
        &effects,
        facts,
        c.name(),
        &ch.record_id,
        &scopes,
        position,
        plan,
    );
    Outcome::Accepted { position }
}

/// The actor id the server loads documents with (it never writes changes of its own).
fn server_actor() -> automerge::ActorId {
    automerge::ActorId::from(&[0u8; 16][..])
}

/// The data of an event of a write: its fields in name order, as the JSON object they were
/// first written as.
#[derive(serde::Serialize)]
struct WritePayload<'a> {
    collection: &'a str,
    device_id: Option<Uuid>,
    id: &'a str,
    position: u64,
    record: lapak_core::value::RecordJson<'a>,
    scopes: &'a [String],
}

#[allow(clippy::too_many_arguments)]
fn event(
    ctx: &Context<'_>,
    event_type: String,
    collection: &str,
    id: &str,
    record: &Record,
    scopes: &[String],
    position: u64,
    device: Option<Uuid>,
) -> Event {
    let timestamp = chrono::DateTime::from_timestamp_millis(ctx.now_ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    Event {
        event_id: Uuid::now_v7(),
        event_type,
        version: "v1".into(),
        timestamp,
        trace_id: ctx.trace_id.to_owned(),
        source: "lapak-server".into(),
        payload: Payload::of(&WritePayload {
            collection,
            device_id: device,
            id,
            position,
            record: lapak_core::value::RecordJson(record),
            scopes,
        }),
        position,
    }
}
