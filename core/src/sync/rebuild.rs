//! After the server refuses a document change: drop it and the pending changes built on it,
//! keep what the server confirmed, and replay the pending writes' intents as new changes; or,
//! when the record's creation itself was refused, abandon every pending change of it.

use std::collections::{BTreeSet, HashSet};

use automerge::{AutoCommit, Change as AmChange, ChangeHash};
use rusqlite::{Connection, params};
use uuid::Uuid;

use crate::document::{self, DocOp, Mode};
use crate::error::Result;
use crate::schema::Collection;
use crate::store::tables::{Scopes, TableSql};
use crate::store::{load_document, now_ms, save_document, write_document_row};
use crate::value::Record;

/// The server's refusal of a document change, shared by the writes that build on it.
pub(super) struct Refusal {
    pub(super) kind: String,
    pub(super) code: String,
    pub(super) message: String,
    /// The refused changes' hashes.
    pub(super) hashes: Vec<ChangeHash>,
}

/// Removes every queued change of a record, recording each as rejected with `verdict`: they
/// built on a change the server refused.
pub(super) fn abandon_pending(
    tx: &Connection,
    collection: &str,
    id: &str,
    verdict: &Refusal,
) -> Result<()> {
    let Refusal {
        kind,
        code,
        message,
        ..
    } = verdict;
    tx.prepare_cached(
        "INSERT OR REPLACE INTO lapak_rejections
         (change_id, collection, record_id, kind, code, message, rejected_at)
         SELECT change_id, collection, record_id, ?3, ?4, ?5, ?6 FROM lapak_queue
         WHERE collection = ?1 AND record_id = ?2",
    )?
    .execute(params![collection, id, kind, code, message, now_ms()])?;
    tx.prepare_cached("DELETE FROM lapak_queue WHERE collection = ?1 AND record_id = ?2")?
        .execute(params![collection, id])?;
    Ok(())
}

/// Drops the refused changes (`verdict.hashes`) and every still-pending change of the document, then
/// replays the pending writes' intents onto what is left (the server-confirmed state), re-queueing
/// their new changes.
pub(super) fn rebuild_document(
    tx: &Connection,
    c: &Collection,
    sql: &TableSql,
    id: &str,
    verdict: &Refusal,
    actor: &automerge::ActorId,
    followed: &BTreeSet<String>,
) -> Result<()> {
    let Some(mut stored) = load_document(tx, c, id, actor)? else {
        return Ok(());
    };
    let pending = pending_writes(tx, c, id)?;
    let mut excluded: HashSet<ChangeHash> = verdict.hashes.iter().copied().collect();
    excluded.extend(
        pending
            .iter()
            .filter_map(|(_, h, _)| h.as_deref().and_then(|h| ChangeHash::try_from(h).ok())),
    );
    let confirmed: Vec<AmChange> = stored
        .doc
        .get_changes(&[])
        .into_iter()
        .filter(|ch| !excluded.contains(&ch.hash()))
        .collect();
    let genesis = document::genesis::hashes(c);
    if confirmed.iter().all(|ch| genesis.contains(&ch.hash())) {
        // The server never accepted this record's creation: the writes that build on it cannot
        // stand either. They share the creation's verdict; the record goes.
        abandon_pending(tx, c.name(), id, verdict)?;
        tx.prepare_cached("DELETE FROM lapak_documents WHERE collection = ?1 AND id = ?2")?
            .execute(params![c.name(), id])?;
        return write_document_row(tx, c, sql, id, &Record::new(), true, &Scopes::default());
    }
    let mut doc = document::new_doc(actor);
    doc.apply_changes(confirmed)
        .map_err(|e| document::doc_error(c.name(), id, &e))?;
    if !doc.get_missing_deps(&[]).is_empty() {
        return Err(document::doc_error(
            c.name(),
            id,
            &"server-confirmed changes depend on a rejected change",
        ));
    }
    let confirmed_scopes = document::scopes(&doc, c, id)?;
    replay(tx, c, id, &mut doc, pending)?;
    let (record, deleted) = document::project(&doc, c, id)?;
    // The scopes the refused change moved the record into were only this device's guess: keep
    // the tentative scopes the rebuilt record still has, and those its pending writes move it to.
    let scopes_now = c.scopes_of(&record);
    stored.scopes.retain_tentative(&scopes_now);
    stored
        .scopes
        .add_moved_into(&confirmed_scopes, &scopes_now, followed);
    stored.doc = doc;
    save_document(tx, c, id, &mut stored.doc, deleted, &stored.scopes)?;
    write_document_row(tx, c, sql, id, &record, deleted, &stored.scopes)
}

/// A queued write of a document: its queue sequence, its change's hash, its intent (JSON).
type PendingWrite = (i64, Option<Vec<u8>>, Option<String>);

/// The queued writes of a record, oldest first.
fn pending_writes(tx: &Connection, c: &Collection, id: &str) -> Result<Vec<PendingWrite>> {
    Ok(tx
        .prepare_cached(
            "SELECT seq, change_hash, op FROM lapak_queue WHERE collection = ?1 AND record_id = ?2 ORDER BY seq",
        )?
        .query_map(params![c.name(), id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

/// Replays queued writes' intents onto `doc`, one new change each, and re-queues them under
/// new change ids (a write that changes nothing any more leaves the queue).
fn replay(
    tx: &Connection,
    c: &Collection,
    id: &str,
    doc: &mut AutoCommit,
    pending: Vec<PendingWrite>,
) -> Result<()> {
    for (seq, _, op) in pending {
        let op: DocOp = serde_json::from_str(op.as_deref().unwrap_or("null")).map_err(|e| {
            document::doc_error(c.name(), id, &format!("queued write unreadable: {e}"))
        })?;
        document::apply(doc, c, id, &op, Mode::Replay)?;
        match doc.commit() {
            Some(hash) => {
                let change = doc.get_change_by_hash(&hash).ok_or_else(|| {
                    document::doc_error(c.name(), id, &"replayed change vanished")
                })?;
                // New content, so a new identity: no verdict about the old bytes can apply to it.
                tx.prepare_cached(
                    "UPDATE lapak_queue SET change_id = ?2, payload = ?3, change_hash = ?4 WHERE seq = ?1",
                )?
                .execute(params![
                    seq,
                    Uuid::now_v7().as_bytes().as_slice(),
                    change.raw_bytes(),
                    hash.0.as_slice()
                ])?;
            }
            None => {
                tx.prepare_cached("DELETE FROM lapak_queue WHERE seq = ?1")?
                    .execute(params![seq])?;
            }
        }
    }
    Ok(())
}

/// Rebuilds on its collection's genesis a document made before genesis existed, when the server
/// has confirmed none of it (every change of it still waits in the queue): its queued writes are
/// replayed onto the genesis, so its first push can merge with a creation of the same id
/// elsewhere. A document the server already holds keeps its history: the server built on it.
/// Returns whether the document was rebuilt.
pub(crate) fn regenesis_document(
    tx: &Connection,
    c: &Collection,
    sql: &TableSql,
    id: &str,
    actor: &automerge::ActorId,
) -> Result<bool> {
    let Some(mut stored) = load_document(tx, c, id, actor)? else {
        return Ok(false);
    };
    if document::genesis::holds_genesis(&mut stored.doc, c) {
        return Ok(false);
    }
    let pending = pending_writes(tx, c, id)?;
    let queued: HashSet<ChangeHash> = pending
        .iter()
        .filter_map(|(_, h, _)| h.as_deref().and_then(|h| ChangeHash::try_from(h).ok()))
        .collect();
    let changes = stored.doc.get_changes(&[]);
    if changes.is_empty() || changes.iter().any(|ch| !queued.contains(&ch.hash())) {
        return Ok(false);
    }
    let mut doc = document::genesis::new_doc(c, actor);
    replay(tx, c, id, &mut doc, pending)?;
    let (record, deleted) = document::project(&doc, c, id)?;
    save_document(tx, c, id, &mut doc, deleted, &stored.scopes)?;
    write_document_row(tx, c, sql, id, &record, deleted, &stored.scopes)?;
    Ok(true)
}
