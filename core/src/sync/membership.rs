//! Which records a device holds, by scope: confirmed scopes (the server delivered the record
//! through them) and tentative ones (a local write moved it there). Evicting a scope, and
//! dropping a record once it is held through no followed scope and has nothing pending.

use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;
use crate::schema::{Collection, Kind};
use crate::store::tables::{self, Scopes, TableSql};

/// SQL condition: the scope list `column` holds `scope` (a parameter), confirmed or tentative.
pub(super) fn holds_scope_sql(column: &str, scope: &str) -> String {
    format!(
        "(instr(char(10) || {column} || char(10), char(10) || {scope} || char(10)) > 0 \
         OR instr(char(10) || {column} || char(10), char(10) || '~' || {scope} || char(10)) > 0)"
    )
}

/// Removes `scope` from the record's scopes, then drops the record if it is settled and
/// unheld (see [`drop_if_unheld`]).
pub(super) fn evict(
    tx: &Connection,
    c: &Collection,
    sql: &TableSql,
    id: &str,
    scope: &str,
    followed: &BTreeSet<String>,
) -> Result<()> {
    let Some(mut scopes) = record_scopes(tx, c, id)? else {
        return Ok(());
    };
    scopes.remove(scope);
    if !drop_if_unheld(tx, c, sql, id, &scopes, followed)? {
        let joined = scopes.join();
        if c.kind() == Kind::Document {
            tx.prepare_cached(
                "UPDATE lapak_documents SET scopes = ?3 WHERE collection = ?1 AND id = ?2",
            )?
            .execute(params![c.name(), id, joined])?;
        }
        tx.prepare_cached(&format!(
            "UPDATE {} SET _scopes = ?2 WHERE id = ?1",
            tables::quote(c.name())
        ))?
        .execute(params![id, joined])?;
    }
    Ok(())
}

/// The scopes a record is held through, or `None` when the device does not hold it.
pub(super) fn record_scopes(tx: &Connection, c: &Collection, id: &str) -> Result<Option<Scopes>> {
    let scopes: Option<String> = if c.kind() == Kind::Document {
        tx.prepare_cached("SELECT scopes FROM lapak_documents WHERE collection = ?1 AND id = ?2")?
            .query_row(params![c.name(), id], |r| r.get(0))
            .optional()?
    } else {
        tx.prepare_cached(&format!(
            "SELECT _scopes FROM {} WHERE id = ?1",
            tables::quote(c.name())
        ))?
        .query_row(params![id], |r| r.get(0))
        .optional()?
    };
    Ok(scopes.map(|s| Scopes::parse(&s)))
}

/// Drops a record (row, and for a document its bytes) when none of its scopes is followed and
/// none of its changes waits in the queue; a record with pending changes stays until their
/// verdicts land. Returns whether it was dropped.
pub(super) fn drop_if_unheld(
    tx: &Connection,
    c: &Collection,
    sql: &TableSql,
    id: &str,
    scopes: &Scopes,
    followed: &BTreeSet<String>,
) -> Result<bool> {
    if scopes.held(followed) {
        return Ok(false);
    }
    let pending: bool = tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM lapak_queue WHERE collection = ?1 AND record_id = ?2)",
        )?
        .query_row(params![c.name(), id], |r| r.get(0))?;
    if pending {
        return Ok(false);
    }
    if c.kind() == Kind::Document {
        tx.prepare_cached("DELETE FROM lapak_documents WHERE collection = ?1 AND id = ?2")?
            .execute(params![c.name(), id])?;
    }
    tx.prepare_cached(&sql.delete_row)?.execute(params![id])?;
    Ok(true)
}
