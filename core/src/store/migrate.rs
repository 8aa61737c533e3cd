//! Opening a device database: the engine's storage format (migrations under
//! `migrations/device/`, tracked by `PRAGMA user_version`) and the app's collection schema
//! (stored as JSON in `lapak_meta`, upgraded in place by additions).

use rusqlite::{Connection, OptionalExtension, params};

use super::tables;
use crate::document;
use crate::error::{Error, Result};
use crate::schema::{Collection, FieldType, Kind, Schema};

/// Storage-format migrations, in order. The index + 1 is the format version it brings.
const MIGRATIONS: &[&str] = &[
    include_str!("../../../migrations/device/0001_initial.sql"),
    include_str!("../../../migrations/device/0002_genesis.sql"),
];

/// The newest storage format this build writes.
pub const FORMAT_VERSION: u32 = MIGRATIONS.len() as u32;

/// Refuses a database written by a newer build (format) or a newer app (schema), reading only.
pub(crate) fn check_not_newer(conn: &Connection, schema: &Schema) -> Result<()> {
    let found: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > FORMAT_VERSION {
        return Err(Error::DatabaseTooNew {
            found,
            supported: FORMAT_VERSION,
        });
    }
    if found > 0
        && let Some(old) = stored_schema(conn)?
        && old.version() > schema.version()
    {
        return Err(Error::SchemaTooNew {
            found: old.version(),
            supported: schema.version(),
        });
    }
    Ok(())
}

fn stored_schema(conn: &Connection) -> Result<Option<Schema>> {
    let stored: Option<String> = conn
        .query_row(
            "SELECT value FROM lapak_meta WHERE key = 'schema'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    match stored {
        Some(json) => Ok(Some(serde_json::from_str(&json).map_err(|e| {
            Error::InvalidSchema(format!(
                "the schema stored in this database cannot be read: {e}"
            ))
        })?)),
        None => Ok(None),
    }
}

/// Brings the engine's own tables to [`FORMAT_VERSION`], in one transaction.
pub(crate) fn migrate_format(conn: &mut Connection) -> Result<()> {
    let found: u32 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if found > FORMAT_VERSION {
        return Err(Error::DatabaseTooNew {
            found,
            supported: FORMAT_VERSION,
        });
    }
    if found == FORMAT_VERSION {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(
            None,
            "user_version",
            i64::try_from(i + 1).unwrap_or(i64::MAX),
        )?;
    }
    tx.commit()?;
    Ok(())
}

/// Creates or upgrades the collection tables for `schema`, in one transaction.
pub(crate) fn sync_schema(conn: &mut Connection, schema: &Schema) -> Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let stored = stored_schema(&tx)?;
    match &stored {
        Some(old) if old.version() > schema.version() => {
            return Err(Error::SchemaTooNew {
                found: old.version(),
                supported: schema.version(),
            });
        }
        Some(old) if old.version() == schema.version() => {
            if old != schema {
                return Err(Error::SchemaChangedWithoutVersion {
                    version: schema.version(),
                    detail: describe_difference(old, schema),
                });
            }
            return Ok(());
        }
        _ => {}
    }
    for c in schema.collections() {
        let old = stored.as_ref().and_then(|s| s.collection(c.name()).ok());
        match old {
            None => {
                tx.execute_batch(&tables::create_table_sql(c))?;
            }
            Some(old) => {
                let mut grew = false;
                if old.kind() != c.kind() {
                    return Err(Error::IncompatibleSchemaChange {
                        collection: c.name().to_owned(),
                        detail: format!("its kind changed from {} to {}", old.kind(), c.kind()),
                    });
                }
                for f in c.fields() {
                    match old.fields().iter().find(|o| o.name == f.name) {
                        Some(o) if !type_extends(&o.ty, &f.ty) => {
                            return Err(Error::IncompatibleSchemaChange {
                                collection: c.name().to_owned(),
                                detail: format!("field `{}` changed type", f.name),
                            });
                        }
                        Some(o) => grew |= o.ty != f.ty,
                        None => {
                            grew = true;
                            tx.execute_batch(&format!(
                                "ALTER TABLE {} ADD COLUMN {}",
                                tables::quote(c.name()),
                                tables::column_sql(f)
                            ))?;
                        }
                    }
                }
                if grew && c.kind() == Kind::Document {
                    // Documents written by newer apps may already hold the new fields.
                    reproject_documents(&tx, c)?;
                }
            }
        }
        for idx in c.indexes() {
            tx.execute_batch(&tables::index_sql(c, &idx.fields))?;
        }
    }
    if stored.is_some() {
        // Entries of collections or fields this app did not know were skipped when pulled:
        // pull everything again (applying is idempotent) so the new columns fill in.
        tx.execute("UPDATE lapak_cursors SET position = 0", [])?;
    }
    let json = serde_json::to_string(schema).map_err(|e| Error::InvalidSchema(e.to_string()))?;
    tx.execute(
        "INSERT INTO lapak_meta (key, value) VALUES ('schema', ?1)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![json],
    )?;
    tx.commit()?;
    Ok(())
}

/// Rebuilds on their genesis the documents made before format 2 that the server has not
/// confirmed yet, once after the upgrade to format 2 (flagged by its migration), in one
/// transaction. Documents the server holds keep their history (docs/protocol.md section 5.3.1).
pub(crate) fn regenesis_pending_documents(
    conn: &mut Connection,
    schema: &Schema,
    actor: &automerge::ActorId,
) -> Result<()> {
    let flagged: Option<String> = conn
        .query_row(
            "SELECT value FROM lapak_meta WHERE key = 'regenesis_pending'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    if flagged.is_none() {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for c in schema.collections() {
        if c.kind() != Kind::Document || document::genesis::hashes(c).is_empty() {
            continue;
        }
        let sql = tables::TableSql::new(c);
        let ids: Vec<String> = tx
            .prepare("SELECT DISTINCT record_id FROM lapak_queue WHERE collection = ?1")?
            .query_map(params![c.name()], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for id in ids {
            crate::sync::rebuild::regenesis_document(&tx, c, &sql, &id, actor)?;
        }
    }
    tx.execute("DELETE FROM lapak_meta WHERE key = 'regenesis_pending'", [])?;
    tx.commit()?;
    Ok(())
}

/// Writes every document's projection to its plain row again, one document in memory at a time.
fn reproject_documents(tx: &Connection, c: &Collection) -> Result<()> {
    let sql = tables::TableSql::new(c);
    let actor = automerge::ActorId::random();
    let mut stmt = tx.prepare(
        "SELECT id, doc, scopes FROM lapak_documents WHERE collection = ?1 AND deleted = 0",
    )?;
    let mut rows = stmt.query(params![c.name()])?;
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        let bytes: Vec<u8> = row.get(1)?;
        let scopes: String = row.get(2)?;
        let doc = document::load(&bytes, &actor, c.name(), &id)?;
        let (record, deleted) = document::project(&doc, c, &id)?;
        let scopes = tables::Scopes::parse(&scopes);
        super::write_document_row(tx, c, &sql, &id, &record, deleted, &scopes)?;
    }
    Ok(())
}

/// Whether a field of type `old` can become `new` in place: the same type, or a list that only
/// gained item keys.
fn type_extends(old: &FieldType, new: &FieldType) -> bool {
    match (old, new) {
        (FieldType::List(old_keys), FieldType::List(new_keys)) => {
            old_keys.iter().all(|k| new_keys.contains(k))
        }
        _ => old == new,
    }
}

fn describe_difference(old: &Schema, new: &Schema) -> String {
    for c in new.collections() {
        match old.collection(c.name()) {
            Err(_) => return format!("collection `{}` is new", c.name()),
            Ok(o) if o != c => return format!("collection `{}` differs", c.name()),
            Ok(_) => {}
        }
    }
    if old.collections().len() > new.collections().len() {
        "a collection was removed".to_owned()
    } else {
        "the order of the collections changed".to_owned()
    }
}
