//! The device's local store: one SQLite file (WAL) holding the plain collection tables, the
//! Automerge bytes of documents, the pending-change queue, per-scope cursors and the server's
//! verdicts.
//!
//! Every local write is one SQLite transaction that writes the plain row, the document bytes and
//! the queue entry together: a crash leaves all of it or none of it. [`Store::write_batch`] makes
//! several writes (documents and ledger entries) in one such transaction; `store::batch` stages
//! every write, single or batched. Documents are loaded from SQLite for the write that needs them
//! and kept only in a small cache of the last written (`store::cache`); the store never holds
//! every document in memory. Listeners registered with [`Store::subscribe`] learn which records
//! changed after each commit.

mod batch;
mod cache;
pub mod checkpoint;
pub(crate) mod migrate;
mod query;
mod rows;
pub(crate) mod tables;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::time::{SystemTime, UNIX_EPOCH};

use automerge::ActorId;
use rusqlite::{Connection, OptionalExtension, params};
use uuid::Uuid;

pub use batch::Write;
pub use migrate::FORMAT_VERSION;
pub use query::{Op, Query, Row, STATUS, Verdict};
pub(crate) use rows::{
    StoredDocument, insert_ledger_row, load_document, save_document, write_document_row,
};

use crate::document::{self, Edit};
use crate::error::{Error, Result};
use crate::schema::{Collection, FieldType, Kind, Schema};
use crate::value::{Record, Value};
use tables::TableSql;

/// How hard a commit tries to reach the disk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Durability {
    /// `synchronous=NORMAL` in WAL mode: a commit survives the app being killed; a power cut may
    /// lose the last commits but never corrupts the file. The default.
    #[default]
    Normal,
    /// `synchronous=FULL`: every commit is on disk before the write returns, at the cost of an
    /// fsync per write.
    Full,
}

/// A change the server refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// The refused change.
    pub change_id: Uuid,
    /// Its collection.
    pub collection: String,
    /// Its record.
    pub record_id: String,
    /// Machine-readable code.
    pub code: String,
    /// Message for the user.
    pub message: String,
    /// When the verdict arrived (ms since the epoch).
    pub rejected_at: i64,
}

/// Where a change came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A write on this device.
    Local,
    /// Data pulled from the server.
    Remote,
    /// A server verdict on this device's own changes.
    Verdict,
}

/// Records of one collection that changed in one commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChangeSet {
    /// The collection.
    pub collection: String,
    /// The changed records' ids.
    pub ids: Vec<String>,
    /// Where the change came from.
    pub origin: Origin,
}

/// Changes appended to a document's stored bytes before the next write saves it whole again.
/// Appending costs the size of one change; a whole save grows with the document's history, and
/// loading replays the appended changes, so the tail is kept short.
const COMPACT_AFTER: u32 = 32;

/// The local store of one device.
pub struct Store {
    pub(crate) conn: Connection,
    /// Shared, so a write can hold its collection while it changes the store.
    pub(crate) schema: Arc<Schema>,
    pub(crate) device_id: Uuid,
    pub(crate) actor: ActorId,
    /// The plain tables' write statements, per collection.
    pub(crate) sql: HashMap<String, TableSql>,
    /// Documents written last, kept loaded (see `store::cache`).
    pub(crate) cache: cache::DocCache,
    /// The scopes this device follows (the keys of `lapak_cursors`).
    pub(crate) followed: BTreeSet<String>,
    listeners: Vec<Sender<ChangeSet>>,
    /// Commits that changed records so far (see [`Store::generation`]).
    generation: u64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("device_id", &self.device_id)
            .field("schema_version", &self.schema.version())
            .finish_non_exhaustive()
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Collects which records changed in a transaction, for the listeners.
pub(crate) struct Changed {
    enabled: bool,
    map: BTreeMap<String, Vec<String>>,
}

impl Changed {
    pub(crate) fn new(enabled: bool) -> Self {
        Changed {
            enabled,
            map: BTreeMap::new(),
        }
    }

    pub(crate) fn add(&mut self, collection: &str, id: &str) {
        if self.enabled {
            self.map
                .entry(collection.to_owned())
                .or_default()
                .push(id.to_owned());
        }
    }
}

/// Creates the SQLite database file `path` (when missing) readable and writable by its owner
/// only (0600), and narrows it and its `-wal` and `-shm` files to that when they exist. SQLite
/// gives the `-wal` and `-shm` files it creates the database's mode, so they follow whatever the
/// umask. In-memory databases (empty path, `:memory:`) have no files. Shared by the device store
/// and the server's SQLite backend: both hold business data and, on the server, credentials.
///
/// # Errors
/// The file cannot be created or its mode changed (other than missing files, or another user's
/// files, which only their owner can narrow).
pub fn owner_only_files(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
        if path.as_os_str().is_empty() || path.to_str().is_some_and(|p| p.contains(":memory:")) {
            return Ok(());
        }
        // Only a missing file is opened (to create it). Opening and closing an existing one
        // would drop every POSIX lock this process holds on it, SQLite's included (closing any
        // descriptor of a file does that), and another process could then take the running
        // database for unused and delete its write-ahead log.
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
        {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            other => drop(other?),
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            match std::fs::set_permissions(&name, std::fs::Permissions::from_mode(0o600)) {
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::PermissionDenied
                    ) => {}
                other => other?,
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// [`owner_only_files`] for the store, failing as an open would.
fn owner_only(path: &Path) -> Result<()> {
    owner_only_files(path).map_err(|e| {
        Error::Sqlite(rusqlite::Error::SqliteFailure(
            rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
            Some(format!(
                "cannot make {} private to its owner: {e}",
                path.display()
            )),
        ))
    })
}

impl Store {
    /// Opens (or creates) the store at `path`, upgrading an older database in place.
    ///
    /// # Errors
    /// [`Error::DatabaseTooNew`] or [`Error::SchemaTooNew`] for a file written by a newer app
    /// (the file is left untouched), [`Error::SchemaChangedWithoutVersion`] when the declaration
    /// changed but its version did not, [`Error::IncompatibleSchemaChange`] for a declaration that
    /// cannot upgrade in place, or [`Error::Sqlite`] when the file cannot be opened.
    pub fn open(path: impl AsRef<Path>, schema: Schema) -> Result<Store> {
        Self::open_with(path, schema, Durability::default())
    }

    /// [`Store::open`] with a chosen [`Durability`].
    ///
    /// # Errors
    /// As [`Store::open`].
    pub fn open_with(
        path: impl AsRef<Path>,
        schema: Schema,
        durability: Durability,
    ) -> Result<Store> {
        let path = path.as_ref();
        owner_only(path)?;
        let conn = Connection::open(path)?;
        let store = Self::init(conn, schema, durability)?;
        // WAL mode is on now: narrow -wal and -shm files an older app left behind.
        owner_only(path)?;
        Ok(store)
    }

    /// A store in memory, for tests.
    ///
    /// # Errors
    /// As [`Store::open`].
    pub fn open_in_memory(schema: Schema) -> Result<Store> {
        Self::init(Connection::open_in_memory()?, schema, Durability::Normal)
    }

    fn init(mut conn: Connection, schema: Schema, durability: Durability) -> Result<Store> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // Refuse a newer file before anything is written to it.
        migrate::check_not_newer(&conn, &schema)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(
            None,
            "synchronous",
            match durability {
                Durability::Normal => "NORMAL",
                Durability::Full => "FULL",
            },
        )?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.set_prepared_statement_cache_capacity(64);
        migrate::migrate_format(&mut conn)?;
        migrate::sync_schema(&mut conn, &schema)?;
        let device_id = match conn
            .query_row(
                "SELECT value FROM lapak_meta WHERE key = 'device_id'",
                [],
                |r| r.get::<_, String>(0),
            )
            .optional()?
        {
            Some(s) => Uuid::parse_str(&s).map_err(|e| {
                Error::Corrupt(format!("the stored device id `{s}` is invalid ({e})"))
            })?,
            None => {
                let id = Uuid::now_v7();
                conn.execute(
                    "INSERT INTO lapak_meta (key, value) VALUES ('device_id', ?1)",
                    params![id.to_string()],
                )?;
                id
            }
        };
        let actor = ActorId::from(device_id.as_bytes().as_slice());
        migrate::regenesis_pending_documents(&mut conn, &schema, &actor)?;
        let followed = conn
            .prepare("SELECT scope FROM lapak_cursors")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<BTreeSet<String>>>()?;
        Ok(Store {
            conn,
            device_id,
            actor,
            sql: schema
                .collections()
                .iter()
                .map(|c| (c.name().to_owned(), TableSql::new(c)))
                .collect(),
            cache: cache::DocCache::default(),
            followed,
            listeners: Vec::new(),
            generation: 0,
            schema: Arc::new(schema),
        })
    }

    /// This device's id (made when the store was created).
    #[must_use]
    pub fn device_id(&self) -> Uuid {
        self.device_id
    }

    /// The schema the store was opened with.
    #[must_use]
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Receives a [`ChangeSet`] per collection after every commit that changed records.
    /// Dropping the receiver unsubscribes.
    pub fn subscribe(&mut self) -> Receiver<ChangeSet> {
        let (tx, rx) = channel();
        self.listeners.push(tx);
        rx
    }

    pub(crate) fn listening(&self) -> bool {
        !self.listeners.is_empty()
    }

    /// How many transactions that may have changed records this store has committed since it
    /// was opened: local writes, pulled changes, the server's verdicts. Two equal readings mean
    /// no record changed in between through this store, so a value derived from the records
    /// (a cache of a query's answer) is still true.
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// After every commit that may have changed records: counts it and tells the listeners.
    pub(crate) fn notify(&mut self, changed: Changed, origin: Origin) {
        self.generation += 1;
        for (collection, ids) in changed.map {
            let set = ChangeSet {
                collection,
                ids,
                origin,
            };
            self.listeners.retain(|l| l.send(set.clone()).is_ok());
        }
    }

    /// The schema (shared) and the index of the collection `name`, which must be of `kind`.
    fn collection_of(
        &self,
        name: &str,
        kind: Kind,
        operation: &'static str,
    ) -> Result<(Arc<Schema>, usize)> {
        let at = self
            .schema
            .collections()
            .iter()
            .position(|c| c.name() == name)
            .ok_or_else(|| Error::UnknownCollection(name.to_owned()))?;
        let c = &self.schema.collections()[at];
        if c.kind() != kind {
            return Err(Error::WrongKind {
                collection: name.to_owned(),
                kind: c.kind(),
                operation,
            });
        }
        Ok((Arc::clone(&self.schema), at))
    }

    // ----- local writes -------------------------------------------------------------------

    /// Creates a document record with a new id, returned.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] or [`Error::UnknownField`] for fields that do not fit the schema;
    /// [`Error::WrongKind`] when the collection is not a document collection.
    pub fn create(&mut self, collection: &str, fields: Record) -> Result<String> {
        self.write_one(Write::create(collection, fields))
    }

    /// Creates a document record with the given id.
    ///
    /// # Errors
    /// As [`Store::create`], and [`Error::AlreadyExists`].
    pub fn create_with_id(&mut self, collection: &str, id: &str, fields: Record) -> Result<()> {
        self.write_one(Write::create_with_id(collection, id, fields))
            .map(drop)
    }

    /// Applies edits to a document record, as one change.
    ///
    /// # Errors
    /// [`Error::NotFound`] for a missing or deleted record, [`Error::InvalidValue`] for values or
    /// positions that do not fit.
    pub fn edit(&mut self, collection: &str, id: &str, edits: Vec<Edit>) -> Result<()> {
        self.write_one(Write::edit(collection, id, edits)).map(drop)
    }

    /// Sets one field of a document record.
    ///
    /// # Errors
    /// As [`Store::edit`].
    pub fn set(
        &mut self,
        collection: &str,
        id: &str,
        field: &str,
        value: impl Into<Value>,
    ) -> Result<()> {
        self.write_one(Write::set(collection, id, field, value))
            .map(drop)
    }

    /// Deletes a document record (concurrent edits elsewhere do not bring it back).
    ///
    /// # Errors
    /// [`Error::NotFound`] for a missing or already deleted record.
    pub fn delete(&mut self, collection: &str, id: &str) -> Result<()> {
        self.write_one(Write::delete(collection, id)).map(drop)
    }

    /// Appends a ledger entry with a new id (a UUIDv7, also its change id), returned.
    ///
    /// # Errors
    /// [`Error::InvalidValue`] or [`Error::UnknownField`] for fields that do not fit;
    /// [`Error::WrongKind`] when the collection is not a ledger.
    pub fn append(&mut self, collection: &str, entry: Record) -> Result<String> {
        self.write_one(Write::append(collection, entry))
    }

    // ----- reads --------------------------------------------------------------------------

    /// The saved Automerge bytes of a document record (also of a deleted one), or `None`.
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn document_bytes(&self, collection: &str, id: &str) -> Result<Option<Vec<u8>>> {
        Ok(self
            .conn
            .query_row(
                "SELECT doc FROM lapak_documents WHERE collection = ?1 AND id = ?2",
                params![collection, id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// The fields an Automerge document holds, read from the document itself (not the plain
    /// table), and whether it is deleted. `None` when the store has no such document.
    ///
    /// # Errors
    /// [`Error::Document`] when the stored bytes cannot be loaded.
    pub fn document_fields(&self, collection: &str, id: &str) -> Result<Option<(Record, bool)>> {
        let c = self.schema.collection(collection)?;
        match load_document(&self.conn, c, id, &self.actor)? {
            Some(s) => Ok(Some(document::project(&s.doc, c, id)?)),
            None => Ok(None),
        }
    }

    /// Ids of every document of a collection that the store holds, deleted ones included.
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn document_ids(&self, collection: &str) -> Result<Vec<String>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id FROM lapak_documents WHERE collection = ?1 ORDER BY id")?;
        let ids = stmt
            .query_map(params![collection], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(ids)
    }

    /// How many local changes wait for the server.
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn pending_count(&self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM lapak_queue", [], |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// Changes the server refused, newest first.
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn rejections(&self) -> Result<Vec<Rejection>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT change_id, collection, record_id, code, message, rejected_at
             FROM lapak_rejections ORDER BY rejected_at DESC, change_id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            let id: Vec<u8> = r.get(0)?;
            Ok(Rejection {
                change_id: Uuid::from_slice(&id).unwrap_or_default(),
                collection: r.get(1)?,
                record_id: r.get(2)?,
                code: r.get(3)?,
                message: r.get(4)?,
                rejected_at: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The scopes this device follows, with their cursors.
    ///
    /// # Errors
    /// [`Error::Sqlite`].
    pub fn cursors(&self) -> Result<Vec<crate::protocol::Cursor>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT scope, position FROM lapak_cursors ORDER BY scope")?;
        let rows = stmt.query_map([], |r| {
            Ok(crate::protocol::Cursor {
                scope: r.get(0)?,
                position: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

fn check_id(c: &Collection, id: &str) -> Result<()> {
    if id.is_empty() || id.len() > 128 || id.chars().any(char::is_control) {
        return Err(Error::InvalidValue {
            collection: c.name().to_owned(),
            field: "id".into(),
            detail: "an id must be 1 to 128 characters without control characters".into(),
        });
    }
    Ok(())
}

fn check_size(c: &Collection, id: &str, bytes: usize) -> Result<()> {
    let max = crate::protocol::MAX_CHANGE_BYTES;
    if bytes > max {
        return Err(Error::TooLarge {
            collection: c.name().to_owned(),
            id: id.to_owned(),
            bytes,
            max,
        });
    }
    Ok(())
}

/// Whether a scope name can be stored in a scope list.
pub(crate) fn valid_scope(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 200
        && !s.contains(tables::SCOPE_SEP)
        && !s.starts_with(tables::TENTATIVE)
}

fn check_scopes(c: &Collection, record: &Record) -> Result<()> {
    for s in c.scopes_of(record) {
        if !valid_scope(&s) {
            return Err(Error::InvalidValue {
                collection: c.name().to_owned(),
                field: "scope".into(),
                detail: format!(
                    "scope `{s}` must be 1 to 200 characters, without line breaks, not starting with `~`"
                ),
            });
        }
    }
    Ok(())
}

fn check_edit(c: &Collection, e: &Edit) -> Result<()> {
    let (field, want) = match e {
        Edit::Set { field, value } => {
            c.check_value(field, value)?;
            return Ok(());
        }
        Edit::SpliceText { field, .. } => (field, "merge_text"),
        Edit::InsertItem { field, .. }
        | Edit::RemoveItem { field, .. }
        | Edit::UpdateItem { field, .. } => (field, "list"),
    };
    let f = c.field_named(field)?;
    let bad = |detail: String| Error::InvalidValue {
        collection: c.name().to_owned(),
        field: field.clone(),
        detail,
    };
    match (&f.ty, e) {
        (FieldType::MergeText, Edit::SpliceText { .. }) => Ok(()),
        (
            FieldType::List(keys),
            Edit::InsertItem { item, .. } | Edit::UpdateItem { values: item, .. },
        ) => c.check_item(keys, item).map_err(bad),
        (FieldType::List(_), Edit::RemoveItem { .. }) => Ok(()),
        _ => Err(bad(format!("this edit needs a {want} field"))),
    }
}
