//! The sync model, without I/O: what to push next, how to apply the server's answer to a push,
//! what to ask in a pull, and how to apply a pull. Each step reads and writes the [`Store`] in one
//! SQLite transaction and returns protocol messages; carrying them is the client SDK's job.
//!
//! Rules this module keeps:
//! - a push answer is applied idempotently: a change already judged is not in the queue any
//!   more and its repeated verdict is ignored;
//! - a rejected document change is dropped and the document rebuilt from the server-confirmed
//!   state plus the writes still pending (replayed from their recorded intent);
//! - a pull is applied whole or not at all, its cursors advancing in the same transaction;
//!   entries at or below a cursor are skipped, so redelivered batches change nothing, and a batch
//!   that starts past a cursor (a gap) is refused.

mod membership;
pub(crate) mod rebuild;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use automerge::{ChangeHash, ReadDoc};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use uuid::Uuid;

use crate::document;
use crate::error::{Error, Result};
use crate::protocol::{
    Change, ChangeBody, LogEntry, LogOp, Outcome, PullRequest, PullResponse, PushRequest,
    PushResponse,
};
use crate::schema::{Collection, Kind};
use crate::store::tables::{Scopes, TableSql};
use crate::store::{
    Changed, Origin, Store, insert_ledger_row, now_ms, save_document, tables, write_document_row,
};
use crate::value::Record;
use membership::{drop_if_unheld, evict, holds_scope_sql, record_scopes};
use rebuild::{Refusal, abandon_pending, rebuild_document};

/// The most payload bytes [`Store::next_push`] puts in one push.
pub const MAX_PUSH_PAYLOAD_BYTES: usize = 8 * 1024 * 1024;

/// What applying a push answer did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PushReport {
    /// Changes the server accepted.
    pub accepted: usize,
    /// Changes the server rejected.
    pub rejected: usize,
    /// Changes to send again.
    pub deferred: usize,
    /// Verdicts for changes no longer pending (a repeated answer).
    pub already_applied: usize,
    /// Documents rebuilt after a rejection.
    pub rebuilt_documents: usize,
}

/// What applying a pull did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PullReport {
    /// Entries applied.
    pub applied: usize,
    /// Entries at or below a cursor (already applied before), skipped.
    pub skipped: usize,
    /// Entries of collections this app does not declare, skipped.
    pub unknown_collection: usize,
    /// Whether the server has more: pull again.
    pub has_more: bool,
}

impl Store {
    /// Follows exactly these scopes: new ones start at cursor 0; records held only through a
    /// dropped scope are removed (pending local changes stay queued).
    ///
    /// # Errors
    /// [`Error::InvalidScope`] for an empty name, one over 200 characters or with a line break;
    /// [`Error::Sqlite`].
    pub fn set_scopes(&mut self, scopes: &[String]) -> Result<()> {
        self.cache.clear();
        if let Some(bad) = scopes.iter().find(|s| !crate::store::valid_scope(s)) {
            return Err(Error::InvalidScope(bad.clone()));
        }
        let listening = self.listening();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let wanted: BTreeSet<String> = scopes.iter().cloned().collect();
        let mut changed = Changed::new(listening);
        for s in wanted.difference(&self.followed) {
            tx.execute(
                "INSERT INTO lapak_cursors (scope, position) VALUES (?1, 0)",
                params![s],
            )?;
        }
        for s in self.followed.difference(&wanted) {
            tx.execute("DELETE FROM lapak_cursors WHERE scope = ?1", params![s])?;
            for c in self.schema.collections() {
                let ids: Vec<String> = if c.kind() == Kind::Document {
                    tx.prepare_cached(&format!(
                        "SELECT id FROM lapak_documents WHERE collection = ?1 AND {}",
                        holds_scope_sql("scopes", "?2")
                    ))?
                    .query_map(params![c.name(), s], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?
                } else {
                    tx.prepare_cached(&format!(
                        "SELECT id FROM {} WHERE {}",
                        tables::quote(c.name()),
                        holds_scope_sql("_scopes", "?1")
                    ))?
                    .query_map(params![s], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?
                };
                for id in ids {
                    evict(&tx, c, &self.sql[c.name()], &id, s, &wanted)?;
                    changed.add(c.name(), &id);
                }
            }
        }
        tx.commit()?;
        self.followed = wanted;
        self.notify(changed, Origin::Remote);
        Ok(())
    }

    /// The oldest pending changes, at most `max_changes` of them and about
    /// [`MAX_PUSH_PAYLOAD_BYTES`], or `None` when nothing is pending. Send one push at a time
    /// and apply its answer before asking for the next.
    ///
    /// # Errors
    /// [`Error::Sqlite`], or [`Error::Corrupt`] for an unreadable queue entry.
    pub fn next_push(&self, max_changes: usize) -> Result<Option<PushRequest>> {
        let max_changes = max_changes.clamp(1, crate::protocol::MAX_PUSH_CHANGES);
        let mut stmt = self.conn.prepare_cached(
            "SELECT change_id, collection, record_id, kind, payload FROM lapak_queue ORDER BY seq LIMIT ?1",
        )?;
        let mut rows = stmt.query(params![i64::try_from(max_changes).unwrap_or(i64::MAX)])?;
        let mut changes = Vec::new();
        let mut bytes = 0usize;
        while let Some(r) = rows.next()? {
            let id: Vec<u8> = r.get(0)?;
            let kind: String = r.get(3)?;
            let payload: Vec<u8> = r.get(4)?;
            if !changes.is_empty() && bytes + payload.len() > MAX_PUSH_PAYLOAD_BYTES {
                break;
            }
            bytes += payload.len();
            let body = if kind == "ledger" {
                let entry: Record = postcard::from_bytes(&payload).map_err(|e| {
                    Error::Corrupt(format!("a queued ledger entry is unreadable: {e}"))
                })?;
                ChangeBody::Ledger { entry }
            } else {
                ChangeBody::Document { change: payload }
            };
            changes.push(Change {
                change_id: Uuid::from_slice(&id)
                    .map_err(|e| Error::Corrupt(format!("a queued change id is invalid: {e}")))?,
                collection: r.get(1)?,
                record_id: r.get(2)?,
                body,
            });
        }
        if changes.is_empty() {
            return Ok(None);
        }
        Ok(Some(PushRequest {
            device_id: self.device_id,
            changes,
        }))
    }

    /// Applies the server's answer to a push, in one transaction. Safe to call twice with the
    /// same answer.
    ///
    /// # Errors
    /// [`Error::Sqlite`], or [`Error::Document`] when a rejected document cannot be rebuilt
    /// (nothing is changed then).
    pub fn apply_push_response(&mut self, response: &PushResponse) -> Result<PushReport> {
        self.cache.clear();
        let listening = self.listening();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut report = PushReport::default();
        let mut changed = Changed::new(listening);
        // Records whose changes were judged (some may now leave the device).
        let mut settled: BTreeSet<(String, String)> = BTreeSet::new();
        // Rejected documents to rebuild: their rejected change hashes, and the first verdict.
        let mut rebuild: BTreeMap<(String, String), Refusal> = BTreeMap::new();
        for result in &response.results {
            let queued: Option<(String, String, String, Option<Vec<u8>>)> = tx
                .prepare_cached(
                    "SELECT collection, record_id, kind, change_hash FROM lapak_queue WHERE change_id = ?1",
                )?
                .query_row(params![result.change_id.as_bytes().as_slice()], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()?;
            let Some((collection, record_id, kind, hash)) = queued else {
                report.already_applied += 1;
                continue;
            };
            if !matches!(result.outcome, Outcome::Deferred { .. }) {
                settled.insert((collection.clone(), record_id.clone()));
            }
            let remove = |tx: &Connection| -> Result<()> {
                tx.prepare_cached("DELETE FROM lapak_queue WHERE change_id = ?1")?
                    .execute(params![result.change_id.as_bytes().as_slice()])?;
                Ok(())
            };
            match &result.outcome {
                Outcome::Accepted { position } => {
                    remove(&tx)?;
                    report.accepted += 1;
                    if kind == "ledger" {
                        tx.prepare_cached(&format!(
                            "UPDATE {} SET _status = 'accepted', _position = ?2, _code = NULL, _message = NULL WHERE id = ?1",
                            tables::quote(&collection)
                        ))?
                        .execute(params![record_id, i64::try_from(*position).unwrap_or(i64::MAX)])?;
                        changed.add(&collection, &record_id);
                    }
                }
                Outcome::Rejected { code, message } => {
                    remove(&tx)?;
                    report.rejected += 1;
                    tx.prepare_cached(
                        "INSERT OR REPLACE INTO lapak_rejections
                         (change_id, collection, record_id, kind, code, message, rejected_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    )?
                    .execute(params![
                        result.change_id.as_bytes().as_slice(),
                        collection,
                        record_id,
                        kind,
                        code,
                        message,
                        now_ms()
                    ])?;
                    if kind == "ledger" {
                        tx.prepare_cached(&format!(
                            "UPDATE {} SET _status = 'rejected', _code = ?2, _message = ?3 WHERE id = ?1",
                            tables::quote(&collection)
                        ))?
                        .execute(params![record_id, code, message])?;
                    } else {
                        let refusal = rebuild
                            .entry((collection.clone(), record_id.clone()))
                            .or_insert_with(|| Refusal {
                                kind: kind.clone(),
                                code: code.clone(),
                                message: message.clone(),
                                hashes: Vec::new(),
                            });
                        if let Some(h) = hash.as_deref().and_then(|h| ChangeHash::try_from(h).ok())
                        {
                            refusal.hashes.push(h);
                        }
                    }
                    changed.add(&collection, &record_id);
                }
                Outcome::Deferred { .. } => report.deferred += 1,
            }
        }
        for ((collection, id), verdict) in &rebuild {
            match self.schema.collection(collection) {
                Ok(c) => {
                    let sql = &self.sql[c.name()];
                    rebuild_document(&tx, c, sql, id, verdict, &self.actor, &self.followed)?;
                }
                // The app no longer declares the collection: nothing can be rebuilt or sent.
                Err(_) => abandon_pending(&tx, collection, id, verdict)?,
            }
            report.rebuilt_documents += 1;
        }
        // A record kept only because its changes were pending (evicted meanwhile, or written
        // into a scope this device does not follow) goes once they are all judged.
        for (collection, id) in &settled {
            if let Ok(c) = self.schema.collection(collection)
                && let Some(scopes) = record_scopes(&tx, c, id)?
                && drop_if_unheld(&tx, c, &self.sql[c.name()], id, &scopes, &self.followed)?
            {
                changed.add(c.name(), id);
            }
        }
        tx.commit()?;
        self.notify(changed, Origin::Verdict);
        Ok(report)
    }

    /// A pull request from the current cursors, for at most `limit` entries.
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn pull_request(&self, limit: u32) -> Result<PullRequest> {
        Ok(PullRequest {
            cursors: self.cursors()?,
            limit,
        })
    }

    /// Applies a pull response: every batch, or nothing, in one transaction, with the cursors.
    ///
    /// # Errors
    /// [`Error::Protocol`] for a batch this store cannot apply (a scope it does not follow, a gap
    /// past its cursor, positions out of order, a document change before its dependencies, an
    /// entry that does not fit its collection); nothing is stored then.
    pub fn apply_pull(&mut self, response: &PullResponse) -> Result<PullReport> {
        self.cache.clear();
        let listening = self.listening();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut report = PullReport::default();
        let mut changed = Changed::new(listening);
        let mut tombstones: HashMap<String, bool> = HashMap::new();
        for batch in &response.batches {
            let cursor: Option<i64> = tx
                .prepare_cached("SELECT position FROM lapak_cursors WHERE scope = ?1")?
                .query_row(params![batch.scope], |r| r.get(0))
                .optional()?;
            let Some(cursor) = cursor else {
                return Err(Error::Protocol(format!(
                    "a batch for scope `{}`, which this device does not follow",
                    batch.scope
                )));
            };
            let cursor = u64::try_from(cursor).unwrap_or(0);
            if batch.after > cursor {
                return Err(Error::Protocol(format!(
                    "scope `{}` batch starts after position {} but this device is at {cursor}: entries in between would be skipped",
                    batch.scope, batch.after
                )));
            }
            if batch.upto < batch.after {
                return Err(Error::Protocol(format!(
                    "scope `{}` batch ends before it starts",
                    batch.scope
                )));
            }
            let mut last = batch.after;
            let mut todo = Vec::with_capacity(batch.entries.len());
            for entry in &batch.entries {
                if entry.position <= last || entry.position > batch.upto {
                    return Err(Error::Protocol(format!(
                        "scope `{}` entry at position {} is out of order or outside ({}, {}]",
                        batch.scope, entry.position, batch.after, batch.upto
                    )));
                }
                last = entry.position;
                if entry.position <= cursor {
                    report.skipped += 1;
                } else if let Ok(c) = self.schema.collection(&entry.collection) {
                    todo.push((c, entry));
                } else {
                    report.unknown_collection += 1;
                }
            }
            let mut i = 0;
            while i < todo.len() {
                let (c, entry) = todo[i];
                let sql = &self.sql[c.name()];
                if let (LogOp::Document { .. }, Kind::Document) = (&entry.op, c.kind()) {
                    // Consecutive changes of one document: load and save it once.
                    let run: Vec<&[u8]> = todo[i..]
                        .iter()
                        .map_while(|(c2, e)| match &e.op {
                            LogOp::Document { data }
                                if c2.name() == c.name() && e.record_id == entry.record_id =>
                            {
                                Some(data.as_slice())
                            }
                            _ => None,
                        })
                        .collect();
                    let id = entry.record_id.as_str();
                    apply_documents(&tx, c, sql, &batch.scope, id, &run, &self.actor)?;
                    i += run.len();
                    report.applied += run.len();
                } else {
                    let followed = &self.followed;
                    apply_entry(&tx, c, sql, &batch.scope, entry, &mut tombstones, followed)?;
                    i += 1;
                    report.applied += 1;
                }
                changed.add(c.name(), &entry.record_id);
            }
            let new_cursor = cursor.max(batch.upto);
            tx.prepare_cached("UPDATE lapak_cursors SET position = ?2 WHERE scope = ?1")?
                .execute(params![
                    batch.scope,
                    i64::try_from(new_cursor).unwrap_or(i64::MAX)
                ])?;
            report.has_more |= batch.has_more;
        }
        tx.commit()?;
        self.notify(changed, Origin::Remote);
        Ok(report)
    }
}

/// Checks the types of the fields this app declares; fields it does not know (sent by a newer
/// server) are ignored, and pulled again after the app's schema upgrade.
fn check_known_fields(c: &Collection, fields: &Record) -> Result<()> {
    for (k, v) in fields {
        if c.field_named(k).is_ok() {
            c.check_pulled_value(k, v)
                .map_err(|e| Error::Protocol(e.to_string()))?;
        }
    }
    Ok(())
}

fn wrong_kind(c: &Collection, entry: &LogEntry) -> Error {
    Error::Protocol(format!(
        "entry {} for `{}/{}` does not fit a {} collection",
        entry.position,
        c.name(),
        entry.record_id,
        c.kind()
    ))
}

fn missing_deps(c: &Collection, id: &str) -> Error {
    Error::Protocol(format!(
        "document `{}/{id}` received a change before the changes it depends on",
        c.name()
    ))
}

/// Merges document data (Automerge changes or whole saves) into one document, then saves it and
/// re-projects its row once.
fn apply_documents(
    tx: &Connection,
    c: &Collection,
    sql: &TableSql,
    scope: &str,
    id: &str,
    data: &[&[u8]],
    actor: &automerge::ActorId,
) -> Result<()> {
    let stored: Option<(Vec<u8>, String)> = tx
        .prepare_cached(
            "SELECT doc, scopes FROM lapak_documents WHERE collection = ?1 AND id = ?2",
        )?
        .query_row(params![c.name(), id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (mut bytes, scopes) = stored.unwrap_or_default();
    let mut scopes = Scopes::parse(&scopes);
    let known = !bytes.is_empty();
    for d in data {
        bytes.extend_from_slice(d);
    }
    // One strict load of the stored document followed by the new chunks: a damaged or
    // truncated chunk refuses the whole pull instead of being skipped with the cursor moving on.
    let options = || {
        automerge::LoadOptions::new()
            .text_encoding(automerge::TextEncoding::UnicodeCodePoint)
            .on_partial_load(automerge::OnPartialLoad::Error)
    };
    let mut loaded = automerge::AutoCommit::load_with_options(&bytes, options());
    if !known && matches!(loaded, Err(automerge::AutomergeError::MissingDeps)) {
        // Changes of a document this device does not hold yet build on the genesis every
        // document of the collection begins with (never added to data that loads without it:
        // a document made before genesis has objects of its own).
        let mut with_genesis: Vec<u8> = document::genesis::changes(c)
            .iter()
            .flat_map(|g| g.raw_bytes().to_vec())
            .collect();
        with_genesis.extend_from_slice(&bytes);
        loaded = automerge::AutoCommit::load_with_options(&with_genesis, options());
    }
    let mut doc = loaded
        .map_err(|e| match e {
            automerge::AutomergeError::MissingDeps => missing_deps(c, id),
            e => Error::Protocol(format!("document `{}/{id}`: {e}", c.name())),
        })?
        .with_actor(actor.clone());
    if !doc.get_missing_deps(&[]).is_empty() {
        return Err(missing_deps(c, id));
    }
    if !known && doc.get_heads().is_empty() {
        return Err(Error::Protocol(format!(
            "document `{}/{id}` arrived without any change",
            c.name()
        )));
    }
    scopes.confirm(scope);
    let (record, deleted) = document::project(&doc, c, id)?;
    save_document(tx, c, id, &mut doc, deleted, &scopes)?;
    write_document_row(tx, c, sql, id, &record, deleted, &scopes)
}

fn apply_entry(
    tx: &Connection,
    c: &Collection,
    sql: &TableSql,
    scope: &str,
    entry: &LogEntry,
    tombstones: &mut HashMap<String, bool>,
    followed: &BTreeSet<String>,
) -> Result<()> {
    let id = entry.record_id.as_str();
    match (&entry.op, c.kind()) {
        (LogOp::Ledger { entry: fields }, Kind::Ledger) => {
            check_known_fields(c, fields)?;
            insert_ledger_row(tx, c, sql, id, fields, scope, Some(entry.position))?;
            if let Ok(change_id) = Uuid::parse_str(id) {
                // Our own entry, accepted but its push answer lost: no need to send it again.
                tx.prepare_cached("DELETE FROM lapak_queue WHERE change_id = ?1")?
                    .execute(params![change_id.as_bytes().as_slice()])?;
            }
        }
        (LogOp::Upsert { version, fields }, Kind::Reference) => {
            check_known_fields(c, fields)?;
            let version = i64::try_from(*version).unwrap_or(i64::MAX);
            if has_tombstones(tx, c, tombstones)? {
                let dead: Option<i64> = tx
                    .prepare_cached(
                        "SELECT version FROM lapak_tombstones WHERE collection = ?1 AND id = ?2",
                    )?
                    .query_row(params![c.name(), id], |r| r.get(0))
                    .optional()?;
                match dead {
                    Some(v) if v >= version => return Ok(()),
                    Some(_) => {
                        tx.prepare_cached(
                            "DELETE FROM lapak_tombstones WHERE collection = ?1 AND id = ?2",
                        )?
                        .execute(params![c.name(), id])?;
                    }
                    None => {}
                }
            }
            upsert_reference(tx, c, sql, id, version, scope, fields)?;
        }
        (LogOp::Delete { version }, Kind::Reference) => {
            let version = i64::try_from(*version).unwrap_or(i64::MAX);
            tx.prepare_cached(&format!(
                "DELETE FROM {} WHERE id = ?1 AND _version <= ?2",
                tables::quote(c.name())
            ))?
            .execute(params![id, version])?;
            tx.prepare_cached(
                "INSERT INTO lapak_tombstones (collection, id, version) VALUES (?1, ?2, ?3)
                 ON CONFLICT (collection, id) DO UPDATE SET version = max(version, excluded.version)",
            )?
            .execute(params![c.name(), id, version])?;
            tombstones.insert(c.name().to_owned(), true);
        }
        (LogOp::Evict, _) => evict(tx, c, sql, id, scope, followed)?,
        _ => return Err(wrong_kind(c, entry)),
    }
    Ok(())
}

fn has_tombstones(
    tx: &Connection,
    c: &Collection,
    cache: &mut HashMap<String, bool>,
) -> Result<bool> {
    if let Some(b) = cache.get(c.name()) {
        return Ok(*b);
    }
    let b: bool = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM lapak_tombstones WHERE collection = ?1)")?
        .query_row(params![c.name()], |r| r.get(0))?;
    cache.insert(c.name().to_owned(), b);
    Ok(b)
}

fn upsert_reference(
    tx: &Connection,
    c: &Collection,
    sql: &TableSql,
    id: &str,
    version: i64,
    scope: &str,
    fields: &Record,
) -> Result<()> {
    let mut stmt = tx.prepare_cached(&sql.upsert_reference)?;
    stmt.raw_bind_parameter(1, id)?;
    stmt.raw_bind_parameter(2, version)?;
    stmt.raw_bind_parameter(3, scope)?;
    tables::bind_fields(&mut stmt, 4, c, fields)?;
    if stmt.raw_execute()? == 0 {
        // An older version than the stored one: its fields lose, but the row is still held
        // through this scope, so a later eviction from another scope must not drop it.
        tx.prepare_cached(&sql.add_scope)?
            .execute(params![id, scope])?;
    }
    Ok(())
}
