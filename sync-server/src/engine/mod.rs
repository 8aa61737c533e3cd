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
mod reference;
mod rules;

pub use bounds::Spent;
pub use derived::{DerivedRow, place as place_derived};

pub use reference::{ReferenceError, plan_reference};
pub use rules::needs;
use rules::{apply_effects, run_rules};

/// A stored verdict (rejections and acceptances are final; deferrals are never stored).
#[derive(Clone, Debug, PartialEq)]
pub struct StoredVerdict {
    /// The stored outcome.
    pub outcome: Outcome,
    /// The device that sent the change.
    pub device_id: Option<Uuid>,
}

/// A document as stored: its whole Automerge save and the scopes its fields put it in.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredDoc {
    /// `AutoCommit::save` bytes.
    pub data: Vec<u8>,
    /// Scopes of its current fields.
    pub scopes: Vec<String>,
    /// Whether it is deleted.
    pub deleted: bool,
}

/// The current state of a reference row (for scope moves and supersession).
#[derive(Clone, Debug, PartialEq)]
pub struct StoredReference {
    /// Scopes it is delivered to.
    pub scopes: Vec<String>,
    /// Whether it is deleted.
    pub deleted: bool,
    /// Its version: the position of its last write, where its log entries sit.
    pub version: u64,
}

/// A verdict to store.
#[derive(Clone, Debug, PartialEq)]
pub struct NewVerdict {
    /// The change.
    pub change_id: Uuid,
    /// Its collection.
    pub collection: String,
    /// Its record.
    pub record_id: String,
    /// Accepted (with position) or rejected.
    pub outcome: Outcome,
}

/// One entry of one scope's log.
#[derive(Clone, Debug, PartialEq)]
pub struct LogRow {
    /// The scope.
    pub scope: String,
    /// The global position.
    pub position: u64,
    /// The record's collection.
    pub collection: String,
    /// The record.
    pub record_id: String,
    /// What devices of this scope apply.
    pub op: LogOp,
}

/// A row of a materialized table to write (`None`: delete the row).
#[derive(Clone, Debug, PartialEq)]
pub struct RowWrite {
    /// The collection (and table).
    pub collection: String,
    /// The record id (the table's key).
    pub id: String,
    /// The new row, or `None` to delete it.
    pub row: Option<MaterialRow>,
}

/// The content of a materialized row.
#[derive(Clone, Debug, PartialEq)]
pub struct MaterialRow {
    /// The record's fields.
    pub record: Record,
    /// The scopes it is in.
    pub scopes: Vec<String>,
    /// The position of the change that wrote it.
    pub position: u64,
    /// The device that wrote it (ledgers and documents).
    pub device_id: Option<Uuid>,
}

/// An outbox event.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Unique id.
    pub event_id: Uuid,
    /// `invoice.issued`, `outlets.updated`, ...
    pub event_type: String,
    /// Envelope version (`v1`).
    pub version: String,
    /// RFC 3339 time the change was accepted.
    pub timestamp: String,
    /// The trace of the request that carried the change.
    pub trace_id: String,
    /// The emitting service.
    pub source: String,
    /// The event's data (JSON).
    pub payload: serde_json::Value,
    /// The position of the change.
    pub position: u64,
}

/// A stale log entry to delete: a reference row's previous entry in one scope (at the position
/// of its previous write, which is its previous version).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Superseded {
    /// The scope.
    pub scope: String,
    /// The entry's position.
    pub position: u64,
}

/// An exception raised by an accepted record, for the back office to resolve.
#[derive(Clone, Debug, PartialEq)]
pub struct NewException {
    /// Its id.
    pub id: Uuid,
    /// `price_mismatch`, `negative_stock`, ...
    pub kind: String,
    /// The record's collection.
    pub collection: String,
    /// The record.
    pub record_id: String,
    /// The record's scopes (who it concerns).
    pub scopes: Vec<String>,
    /// What happened.
    pub message: String,
    /// Particulars (JSON).
    pub details: serde_json::Value,
    /// The position of the record's change.
    pub position: u64,
}

/// Everything a push or back-office write stores, in one transaction.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// Answers to the device, in request order.
    pub results: Vec<ChangeResult>,
    /// The log head after the plan (unchanged when nothing was accepted).
    pub head: u64,
    /// Verdicts to store.
    pub verdicts: Vec<NewVerdict>,
    /// Log entries to append.
    pub log: Vec<LogRow>,
    /// Log entries made stale by this plan (older versions of reference rows).
    pub superseded: Vec<Superseded>,
    /// Documents to store.
    pub docs: Vec<((String, String), StoredDoc)>,
    /// Reference rows' new state.
    pub references: Vec<((String, String), StoredReference)>,
    /// Materialized rows to write.
    pub rows: Vec<RowWrite>,
    /// Outbox events.
    pub events: Vec<Event>,
    /// Tallies the accepted changes moved, with their new state.
    pub tallies: BTreeMap<String, Tally>,
    /// The derived reference rows those tallies feed (`engine::derived`), one per tally:
    /// storage loads their stored state and writes them with [`place_derived`].
    pub derived: Vec<DerivedRow>,
    /// Exceptions the accepted changes raised.
    pub exceptions: Vec<NewException>,
    /// The newest position of each scope this plan writes, before it (filled by storage under
    /// the head lock; absent: the scope had no entry). Makes [`Plan::live_batches`] exact.
    pub previous_heads: BTreeMap<String, u64>,
    /// What the push's document changes cost so far (bounded before Automerge parses them).
    pub spent: Spent,
}

impl Plan {
    /// The plan's log entries as one batch per scope, each complete for `(previous head of the
    /// scope, new head]` (positions commit in order, so no other entry of the scope lies in
    /// between): what a live device applies without pulling.
    #[must_use]
    pub fn live_batches(&self) -> Vec<lapak_core::protocol::ScopeBatch> {
        let stale: HashSet<(&str, u64)> = self
            .superseded
            .iter()
            .map(|s| (s.scope.as_str(), s.position))
            .collect();
        let mut by_scope: BTreeMap<&str, Vec<lapak_core::protocol::LogEntry>> = BTreeMap::new();
        for r in &self.log {
            if stale.contains(&(r.scope.as_str(), r.position)) {
                continue;
            }
            by_scope
                .entry(r.scope.as_str())
                .or_default()
                .push(lapak_core::protocol::LogEntry {
                    position: r.position,
                    collection: r.collection.clone(),
                    record_id: r.record_id.clone(),
                    op: r.op.clone(),
                });
        }
        by_scope
            .into_iter()
            .map(|(scope, entries)| lapak_core::protocol::ScopeBatch {
                scope: scope.to_owned(),
                after: self.previous_heads.get(scope).copied().unwrap_or(0),
                upto: self.head,
                entries,
                has_more: false,
            })
            .collect()
    }

    /// The push answer.
    #[must_use]
    pub fn response(&self) -> PushResponse {
        PushResponse {
            results: self.results.clone(),
        }
    }

    /// The newest position per scope this plan writes (for live notifications).
    #[must_use]
    pub fn heads(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for r in &self.log {
            let e = out.entry(r.scope.clone()).or_insert(0);
            *e = (*e).max(r.position);
        }
        out
    }

    /// How many changes were accepted and rejected.
    #[must_use]
    pub fn counts(&self) -> (u64, u64) {
        let accepted = self
            .verdicts
            .iter()
            .filter(|v| matches!(v.outcome, Outcome::Accepted { .. }))
            .count() as u64;
        (accepted, self.verdicts.len() as u64 - accepted)
    }
}

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
    if ch.record_id.is_empty()
        || ch.record_id.len() > 200
        || ch.record_id.chars().any(char::is_control)
    {
        return reject(
            "invalid",
            "a record id must be 1 to 200 bytes long, without control characters".to_owned(),
        );
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

/// One Automerge change of a document: the stored copy's scopes, duplicates, dependencies,
/// the state after the change (schema, storable text, scopes, rules); then one position and,
/// per scope, the change, the whole document (scopes it enters) or an eviction (scopes it
/// leaves).
#[allow(clippy::too_many_arguments)]
fn judge_document(
    ctx: &Context<'_>,
    principal: &Principal,
    c: &lapak_core::Collection,
    ch: &lapak_core::protocol::Change,
    change: &[u8],
    device: Uuid,
    docs: &HashMap<(String, String), StoredDoc>,
    loaded: &mut HashMap<(String, String), LoadedDoc>,
    facts: &mut Facts,
    plan: &mut Plan,
) -> Outcome {
    if change.len() > MAX_CHANGE_BYTES {
        return reject(
            "too_large",
            format!(
                "the change is {} bytes; at most {MAX_CHANGE_BYTES} are allowed: save smaller edits",
                change.len()
            ),
        );
    }
    let key = (ch.collection.clone(), ch.record_id.clone());
    // The scope check first, from the scopes alone: a change to a record the writer may not
    // touch costs no parsing (and reveals nothing of the record).
    let held = match loaded.get(&key) {
        Some(d) => (d.existed || d.dirty).then(|| d.scopes.clone()),
        None => docs.get(&key).map(|s| s.scopes.clone()),
    };
    if let Some(scopes) = held
        && let Some(o) = forbidden(principal, true, &scopes, &scopes)
    {
        return o;
    }
    let stored = docs.get(&key).map_or(0, |d| d.data.len());
    if let Some(o) = bounds::admit(
        (&ch.collection, &ch.record_id),
        change,
        stored,
        &mut plan.spent,
    ) {
        return o;
    }
    let Ok(am) = AmChange::from_bytes(change.to_vec()) else {
        return reject("malformed", "the change is not an Automerge change");
    };
    if let Some(o) = bounds::admit_ops(&am, bounds::MAX_CHANGE_OPS) {
        return o;
    }
    if let Err(r) = document::genesis::check_root_change(c, &am) {
        return reject(r.code, r.message);
    }
    if !loaded.contains_key(&key) {
        let d = match docs.get(&key) {
            Some(stored) => {
                match document::load(&stored.data, &server_actor(), c.name(), &ch.record_id) {
                    Ok(doc) => LoadedDoc {
                        doc,
                        scopes: stored.scopes.clone(),
                        existed: true,
                        dirty: false,
                    },
                    Err(_) => {
                        return reject(
                            "server_document_unreadable",
                            "the server cannot read its copy of this document; an administrator must repair it",
                        );
                    }
                }
            }
            None => LoadedDoc {
                doc: document::genesis::new_doc(c, &server_actor()),
                scopes: Vec::new(),
                existed: false,
                dirty: false,
            },
        };
        loaded.insert(key.clone(), d);
    }
    let Some(d) = loaded.get_mut(&key) else {
        return reject("internal", "document not loaded");
    };
    if d.doc.get_change_by_hash(&am.hash()).is_some() {
        // Already merged under another change id (a device restored from a backup):
        // accept without a new log entry.
        let position = next_position(plan);
        return Outcome::Accepted { position };
    }
    let missing: Vec<_> = am
        .deps()
        .iter()
        .filter(|h| d.doc.get_change_by_hash(h).is_none())
        .collect();
    if missing.iter().any(|h| document::genesis::is_genesis(c, h)) {
        // The stored document was created before genesis existed (its objects are its
        // creator's), and this change builds on the genesis: the two cannot merge.
        return reject(
            "created_elsewhere",
            format!(
                "record `{}` was created by an app older than this server's document format; \
                 your copy began separately and cannot merge with it: sync to receive it, then \
                 make your edits again",
                ch.record_id
            ),
        );
    }
    if !missing.is_empty() {
        return Outcome::Deferred {
                    reason: "the change depends on changes the server does not have yet; send it again after them".into(),
                };
    }
    let mut trial = d.doc.fork();
    if !bounds::apply_guarded(&mut trial, am.clone()) {
        return reject("malformed", "the change cannot be applied to the document");
    }
    if let Err(e) = document::shape::check(&trial, c, &ch.record_id) {
        return reject("invalid", e.to_string());
    }
    let Ok((record, deleted)) = document::project(&trial, c, &ch.record_id) else {
        return reject("malformed", "the document cannot be read after the change");
    };
    if !deleted && let Err(e) = c.check_record(&record) {
        return reject("invalid", e.to_string());
    }
    let new_scopes = c.scopes_of(&record);
    let mut touched: Vec<String> = d.scopes.clone();
    touched.extend(new_scopes.iter().cloned());
    // Scopes only the writer saw the record in (a creation of the same id elsewhere moved it):
    // evicted there, so the devices following them drop the version nobody else holds.
    // Guarded like the trial's apply: the change is replayed on an older state of the document.
    let seen = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        document::scopes_as_written(&mut d.doc, &am, c, &ch.record_id)
    }));
    if let Ok(Ok(Some(seen))) = seen {
        touched.extend(seen);
    }
    touched.sort();
    touched.dedup();
    if let Err(m) = check_storable(c, &record, &new_scopes) {
        return reject("invalid", m);
    }
    if let Some(o) = forbidden(principal, d.existed || d.dirty, &d.scopes, &new_scopes) {
        return o;
    }
    let effects = if deleted {
        Effects::default()
    } else {
        match run_rules(ctx, principal, c, &ch.record_id, &record, device, facts) {
            Ok(e) => e,
            Err(o) => return o,
        }
    };
    let position = next_position(plan);
    let old: BTreeSet<&String> = d.scopes.iter().collect();
    let new: BTreeSet<&String> = new_scopes.iter().collect();
    let full = if new.difference(&old).next().is_some() {
        Some(trial.save())
    } else {
        None
    };
    for s in &touched {
        let op = match (old.contains(s), new.contains(s)) {
            (true, true) => LogOp::Document {
                data: change.to_vec(),
            },
            (false, true) => LogOp::Document {
                data: full.clone().unwrap_or_default(),
            },
            _ => LogOp::Evict,
        };
        plan.log.push(LogRow {
            scope: s.clone(),
            position,
            collection: c.name().to_owned(),
            record_id: ch.record_id.clone(),
            op,
        });
    }
    let kind = if deleted {
        WriteKind::Deleted
    } else if d.existed || d.dirty {
        WriteKind::Updated
    } else {
        WriteKind::Created
    };
    plan.rows.push(RowWrite {
        collection: c.name().to_owned(),
        id: ch.record_id.clone(),
        row: (!deleted).then(|| MaterialRow {
            record: record.clone(),
            scopes: new_scopes.clone(),
            position,
            device_id: Some(device),
        }),
    });
    plan.events.push(event(
        ctx,
        effects
            .event_type
            .clone()
            .unwrap_or_else(|| ctx.rules.event_type(c.name(), kind)),
        c.name(),
        &ch.record_id,
        &record,
        &new_scopes,
        position,
        Some(device),
    ));
    apply_effects(
        ctx,
        &effects,
        facts,
        c.name(),
        &ch.record_id,
        &new_scopes,
        position,
        plan,
    );
    d.doc = trial;
    d.scopes = new_scopes;
    d.dirty = true;
    Outcome::Accepted { position }
}

/// The actor id the server loads documents with (it never writes changes of its own).
fn server_actor() -> automerge::ActorId {
    automerge::ActorId::from(&[0u8; 16][..])
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
        payload: serde_json::json!({
            "collection": collection,
            "id": id,
            "position": position,
            "scopes": scopes,
            "device_id": device,
            "record": lapak_core::value::record_to_json(record),
        }),
        position,
    }
}
