//! Writing records to SQLite: a document's stored bytes and its plain row, a ledger entry's row.
//! Shared by local writes, pulls and rebuilds, so every path writes rows the same way.

use automerge::{ActorId, AutoCommit};
use rusqlite::{Connection, OptionalExtension, params};

use super::tables::{self, Scopes, TableSql};
use crate::document;
use crate::error::Result;
use crate::schema::Collection;
use crate::value::Record;

/// A document as stored.
pub(crate) struct StoredDocument {
    pub(crate) doc: AutoCommit,
    pub(crate) deleted: bool,
    pub(crate) scopes: Scopes,
    /// Changes appended to the stored bytes since they were last written whole; `None` when
    /// unknown (loaded from the file), which makes the next write save it whole.
    pub(crate) appended: Option<u32>,
}

pub(crate) fn load_document(
    conn: &Connection,
    c: &Collection,
    id: &str,
    actor: &ActorId,
) -> Result<Option<StoredDocument>> {
    let row: Option<(Vec<u8>, bool, String)> = conn
        .prepare_cached(
            "SELECT doc, deleted, scopes FROM lapak_documents WHERE collection = ?1 AND id = ?2",
        )?
        .query_row(params![c.name(), id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .optional()?;
    match row {
        None => Ok(None),
        Some((bytes, deleted, scopes)) => Ok(Some(StoredDocument {
            appended: None,
            doc: document::load(&bytes, actor, c.name(), id)?,
            deleted,
            scopes: Scopes::parse(&scopes),
        })),
    }
}

pub(crate) fn save_document(
    conn: &Connection,
    c: &Collection,
    id: &str,
    doc: &mut AutoCommit,
    deleted: bool,
    scopes: &Scopes,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO lapak_documents (collection, id, doc, deleted, scopes) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (collection, id) DO UPDATE SET doc = excluded.doc, deleted = excluded.deleted, scopes = excluded.scopes",
    )?
    .execute(params![c.name(), id, doc.save(), deleted, scopes.join()])?;
    Ok(())
}

/// Writes a document's projection to its plain row (or removes the row of a deleted document).
pub(crate) fn write_document_row(
    conn: &Connection,
    c: &Collection,
    sql: &TableSql,
    id: &str,
    record: &Record,
    deleted: bool,
    scopes: &Scopes,
) -> Result<()> {
    if deleted {
        conn.prepare_cached(&sql.delete_row)?.execute(params![id])?;
        return Ok(());
    }
    let mut stmt = conn.prepare_cached(&sql.upsert_document_row)?;
    stmt.raw_bind_parameter(1, id)?;
    stmt.raw_bind_parameter(2, scopes.join())?;
    tables::bind_fields(&mut stmt, 3, c, record)?;
    stmt.raw_execute()?;
    Ok(())
}

/// Inserts a ledger row; `accepted_at` marks it accepted at a server position (pulled entries).
/// An entry already present keeps its fields; a pulled one marks it accepted and adds the scope.
pub(crate) fn insert_ledger_row(
    conn: &Connection,
    c: &Collection,
    sql: &TableSql,
    id: &str,
    entry: &Record,
    scopes: &str,
    accepted_at: Option<u64>,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(&sql.insert_ledger_row)?;
    stmt.raw_bind_parameter(1, id)?;
    stmt.raw_bind_parameter(2, scopes)?;
    stmt.raw_bind_parameter(
        3,
        if accepted_at.is_some() {
            "accepted"
        } else {
            "pending"
        },
    )?;
    stmt.raw_bind_parameter(4, accepted_at.map(|p| i64::try_from(p).unwrap_or(i64::MAX)))?;
    tables::bind_fields(&mut stmt, 5, c, entry)?;
    stmt.raw_execute()?;
    Ok(())
}
