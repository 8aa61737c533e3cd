//! The engine's error type. Every message says what went wrong and, where the caller can act,
//! what to do about it.

use crate::schema::Kind;

/// Everything that can go wrong inside the engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// SQLite failed (disk full, file locked by another process, I/O error, ...).
    #[error("{}", sqlite_message(.0))]
    Sqlite(#[from] rusqlite::Error),

    /// A scope name the store cannot follow.
    #[error(
        "scope `{0}` cannot be followed: a scope name is 1 to 200 characters without line breaks"
    )]
    InvalidScope(String),

    /// The database file was written by a newer version of Lapak.
    #[error(
        "this database uses storage format v{found}, but this build of Lapak only knows up to v{supported}. \
         Update the app; the file was left untouched."
    )]
    DatabaseTooNew {
        /// Format version found in the file.
        found: u32,
        /// Newest format version this build understands.
        supported: u32,
    },

    /// The database holds data of a newer application schema.
    #[error(
        "this database holds collections of schema v{found}, newer than this app's schema v{supported}. \
         Update the app; the file was left untouched."
    )]
    SchemaTooNew {
        /// Schema version stored in the file.
        found: u32,
        /// Schema version declared by the app.
        supported: u32,
    },

    /// The declared schema differs from the stored one under the same version number.
    #[error(
        "the app's schema v{version} differs from the schema v{version} stored in this database \
         ({detail}). Bump the schema version when collections change."
    )]
    SchemaChangedWithoutVersion {
        /// The shared version number.
        version: u32,
        /// What differs.
        detail: String,
    },

    /// A schema upgrade that cannot be applied in place.
    #[error(
        "cannot upgrade collection `{collection}` in place: {detail}. Only additions (collections, \
         fields, indexes) upgrade in place; add a new field instead of changing one."
    )]
    IncompatibleSchemaChange {
        /// The collection concerned.
        collection: String,
        /// What changed.
        detail: String,
    },

    /// The schema declaration itself is wrong.
    #[error("invalid schema: {0}")]
    InvalidSchema(String),

    /// A collection that the schema does not declare.
    #[error("unknown collection `{0}`: it is not declared in the schema")]
    UnknownCollection(String),

    /// A field that the collection does not declare.
    #[error("collection `{collection}` has no field `{field}`")]
    UnknownField {
        /// The collection.
        collection: String,
        /// The field named by the caller.
        field: String,
    },

    /// An operation that does not fit the collection's kind.
    #[error("`{operation}` is not allowed on `{collection}`, a {kind} collection")]
    WrongKind {
        /// The collection.
        collection: String,
        /// Its kind.
        kind: Kind,
        /// What was attempted.
        operation: &'static str,
    },

    /// A value that does not fit its field.
    #[error("invalid value for `{collection}.{field}`: {detail}")]
    InvalidValue {
        /// The collection.
        collection: String,
        /// The field.
        field: String,
        /// What is wrong with it.
        detail: String,
    },

    /// No such record (or it was deleted).
    #[error("no record `{id}` in `{collection}`")]
    NotFound {
        /// The collection.
        collection: String,
        /// The record id.
        id: String,
    },

    /// A record with this id already exists.
    #[error("a record `{id}` already exists in `{collection}`")]
    AlreadyExists {
        /// The collection.
        collection: String,
        /// The record id.
        id: String,
    },

    /// One write is larger than a change may be.
    #[error(
        "a write to `{collection}/{id}` makes a change of {bytes} bytes, more than the limit of {max}: \
         split it into smaller writes"
    )]
    TooLarge {
        /// The collection.
        collection: String,
        /// The record id.
        id: String,
        /// The change's size.
        bytes: usize,
        /// The limit.
        max: usize,
    },

    /// One write of a [`Store::write_batch`](crate::Store::write_batch) failed; nothing of the
    /// batch was stored.
    #[error(
        "write {index} of the batch (counting from 0, on `{collection}`) failed, so nothing of the batch was stored: {source}. \
         Fix that write and make the whole batch again."
    )]
    BatchWrite {
        /// The failed write's position in the batch, from 0.
        index: usize,
        /// Its collection.
        collection: String,
        /// Its error, as its single write would fail.
        source: Box<Error>,
    },

    /// Stored or received Automerge data could not be used.
    #[error("document `{collection}/{id}` could not be read or merged: {detail}")]
    Document {
        /// The collection.
        collection: String,
        /// The record id.
        id: String,
        /// Automerge's explanation.
        detail: String,
    },

    /// The local database holds something the engine cannot read (a damaged file).
    #[error(
        "the local database is damaged: {0}. Restore it from a backup, or reinstall and sync again."
    )]
    Corrupt(String),

    /// The server sent something this store cannot apply; nothing of it was stored.
    #[error(
        "the server's message cannot be applied: {0}. Nothing of it was stored; sync again, and report it if it repeats."
    )]
    Protocol(String),

    /// Protocol bytes could not be decoded.
    #[error(transparent)]
    Decode(#[from] crate::protocol::DecodeError),
}

fn sqlite_message(e: &rusqlite::Error) -> String {
    use rusqlite::ErrorCode;
    match e.sqlite_error_code() {
        Some(ErrorCode::DiskFull) => {
            format!(
                "the local database cannot grow: the disk is full ({e}). Free some space and try again."
            )
        }
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => format!(
            "the local database is locked by another program ({e}). Close other copies of the app and try again."
        ),
        Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen) => format!(
            "the local database file cannot be written ({e}). Check the file's location and permissions."
        ),
        Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => format!(
            "the local database file is damaged ({e}). Restore it from a backup, or reinstall and sync again."
        ),
        _ => format!("the local database failed: {e}"),
    }
}

/// Shorthand for results of the engine.
pub type Result<T, E = Error> = std::result::Result<T, E>;
