//! Where the server keeps everything: one [`Storage`] trait, implemented for Postgres
//! (production; many server replicas may share it) and for an embedded SQLite file (the
//! default: nothing to install). Both backends run the same statements through a small dialect
//! layer ([`db`]) and judge writes with the same [`engine`](crate::engine), and one conformance
//! suite (`sync-server/tests/conformance.rs`) runs against both.
//!
//! - [`db`]: pools, transactions, arguments and rows of either backend.
//! - [`accounts`]: users, grants, devices, sessions and refresh tokens ([`Accounts`]).
//! - [`back_office`]: what the admin web reads, cut to what the caller may see ([`BackOffice`]).
//! - [`master_data`]: the reference collections paged and searched for the admin web.
//! - [`fleet`]: devices (app version, how far behind) and the changes rejected from them.
//! - [`exceptions`]: exceptions raised by the business rules, and their tallies ([`Exceptions`]).
//! - [`reports`]: the admin web's reports, SQL aggregations over the plain tables, and
//!   [`rollups`]: the sales rollups a year's reports read.
//! - [`relay`]: where each outbox sink stands and who relays to it ([`RelayLedger`]).
//! - [`migrations`]: the engine tables' migrations, applied at start; a newer database is refused.
//! - `facts`: loading what the business rules read, inside a push's transaction.
//! - [`derived`]: the rows the server derives from tallies: their stored state, a customer's
//!   dues following the customer, the backfill at start.
//! - [`materialize`]: the plain tables named after the collections.
//! - [`sql`]: [`SqlStorage`]: sequencing, pushes, pulls, reference writes, the outbox.

use async_trait::async_trait;
use lapak_core::protocol::{Cursor, PullResponse, PushRequest};
use std::collections::BTreeMap;
use std::sync::Arc;

use lapak_core::{Record, Schema};

use crate::auth::Principal;
use crate::engine::{Event, Plan, ReferenceError};

pub mod accounts;
pub mod back_office;
pub mod db;
pub mod derived;
pub mod exceptions;
mod facts;
pub mod fleet;
pub mod import_state;
pub mod master_data;
pub mod materialize;
pub mod migrations;
pub mod mirror;
pub mod photos;
mod pipeline;
pub mod relay;
pub mod reports;
pub mod rollups;
pub mod sql;
mod write_plan;

pub use accounts::{Accounts, REFRESH_RETRY_GRACE_MS, Refresh, Session, StoredUser, UserInfo};
pub use back_office::{BackOffice, Visibility};
pub use db::Dialect;
pub use exceptions::{ExceptionFilter, ExceptionRecord, Exceptions};
pub use fleet::{DeviceFilter, DeviceRow, Page, Rejection, RejectionFilter};
pub use import_state::ImportLedger;
pub use mirror::{ReferenceBatch, ReferenceChange, ReferenceFeed};
pub use photos::{PhotoRefs, RecordPhoto, Referrer};
pub use relay::{RelayLedger, SinkState};
pub use sql::SqlStorage;

/// What went wrong in storage. Messages are for operators (logs); HTTP clients get a generic
/// message for [`StorageError::Database`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// The database failed or could not be reached.
    #[error("database error: {0}")]
    Database(sqlx::Error),
    /// The database's schema is newer than this binary.
    #[error(
        "the database's schema is at migration {found}, newer than this server's {supported}: \
         run the newer lapak-server, or restore a backup made for this version"
    )]
    SchemaTooNew {
        /// The newest migration applied to the database.
        found: i64,
        /// The newest migration this binary knows.
        supported: i64,
    },
    /// The collections stored by a newer server.
    #[error(
        "the database holds collections of schema v{found}, newer than this server's schema v{supported}: \
         run the newer lapak-server"
    )]
    CollectionsTooNew {
        /// Stored schema version.
        found: u32,
        /// This server's schema version.
        supported: u32,
    },
    /// The materialized tables cannot follow the schema.
    #[error(transparent)]
    Materialize(#[from] materialize::MaterializeError),
    /// A uniqueness conflict: the thing exists already.
    #[error("{0}")]
    Conflict(String),
    /// The thing asked for does not exist.
    #[error("{0}")]
    NotFound(String),
    /// The request is refused.
    #[error("{0}")]
    Forbidden(String),
    /// A back-office write does not fit the schema.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// A device's cursor is past the server's log.
    #[error(
        "the cursor of scope `{scope}` is at {cursor}, past this server's newest position {head}: \
         the server's database was replaced; reset the device's store and sync again"
    )]
    CursorAhead {
        /// The scope.
        scope: String,
        /// The device's cursor.
        cursor: u64,
        /// The server's head.
        head: u64,
    },
    /// Stored data cannot be read back.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for StorageError {
    fn from(e: sqlx::Error) -> Self {
        StorageError::Database(e)
    }
}

/// Result of storage calls.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// The context of a write.
#[derive(Clone, Debug)]
pub struct WriteContext {
    /// Now, ms since the epoch.
    pub now_ms: i64,
    /// The request's trace id.
    pub trace_id: String,
}

/// The server's storage. Every write is one transaction; pushes and back-office writes are
/// sequenced one at a time so that log positions commit in order (see `docs/protocol.md`,
/// "Sequencing").
#[async_trait]
pub trait Storage:
    Accounts
    + Exceptions
    + PhotoRefs
    + BackOffice
    + RelayLedger
    + ReferenceFeed
    + ImportLedger
    + 'static
{
    /// The backend.
    fn dialect(&self) -> Dialect;
    /// The schema served.
    fn schema(&self) -> Arc<Schema>;
    /// Checks the database answers and its schema is current.
    async fn ready(&self) -> Result<()>;
    /// The newest log position.
    async fn head(&self) -> Result<u64>;

    /// Judges and stores a push; the plan holds the answer and what was stored.
    async fn push(
        &self,
        ctx: &WriteContext,
        principal: &Principal,
        request: &PushRequest,
    ) -> Result<Plan>;
    /// Writes reference rows (`None`: delete) as the back office.
    async fn put_reference(
        &self,
        ctx: &WriteContext,
        collection: &str,
        rows: &[(String, Option<Record>)],
    ) -> Result<Plan>;
    /// What is past `cursors`, at most `limit` entries in all, from one consistent snapshot.
    async fn pull(&self, cursors: &[Cursor], limit: u32) -> Result<PullResponse>;
    /// The newest position of each scope (scopes with no entries are left out).
    async fn scope_heads(&self, scopes: &[String]) -> Result<Vec<Cursor>>;
    /// Outbox events after sequence number `after`, oldest first.
    async fn outbox(&self, after: i64, limit: u32) -> Result<Vec<(i64, Event)>>;
    /// News of writes made by *other* server processes sharing this database (Postgres
    /// LISTEN/NOTIFY): each item is the newest position of each scope a write touched. `None`
    /// when the backend has no other writers (SQLite).
    async fn listen_news(
        &self,
    ) -> Result<Option<tokio::sync::mpsc::Receiver<BTreeMap<String, u64>>>>;
    /// Closes the connections.
    async fn close(&self);
}
