//! Where the server keeps everything: one [`Storage`] trait, implemented for Postgres
//! (production; many server replicas may share it) and for an embedded SQLite file (the
//! default: nothing to install). Both backends run the same statements through a small dialect
//! layer ([`db`]) and judge writes with the same [`engine`](crate::engine), and one conformance
//! suite (`sync-server/tests/conformance.rs`) runs against both.
//!
//! - [`db`]: pools, transactions, arguments and rows of either backend.
//! - [`migrations`]: the engine tables' migrations, applied at start; a newer database is refused.
//! - [`materialize`]: the plain tables named after the collections.
//! - [`sql`]: [`SqlStorage`], the implementation.

use async_trait::async_trait;
use lapak_core::protocol::{Cursor, PullResponse, PushRequest};
use std::collections::BTreeMap;
use std::sync::Arc;

use lapak_core::{Record, Schema};
use uuid::Uuid;

use crate::auth::{Grant, Principal, Role};
use crate::engine::{Event, Plan, ReferenceError};

pub mod db;
pub mod materialize;
pub mod migrations;
pub mod sql;

pub use db::Dialect;
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

/// How long after a refresh its token may be presented again, as a retry, while the token it
/// was exchanged for has not been used.
pub const REFRESH_RETRY_GRACE_MS: i64 = 30_000;

/// Result of storage calls.
pub type Result<T, E = StorageError> = std::result::Result<T, E>;

/// A user as stored, for logging in.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredUser {
    /// Id.
    pub id: String,
    /// Login name.
    pub username: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// Disabled users cannot log in or sync.
    pub disabled: bool,
}

impl std::fmt::Debug for StoredUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredUser")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("password_hash", &"<redacted>")
            .field("role", &self.role)
            .field("disabled", &self.disabled)
            .finish()
    }
}

/// A user as the admin API shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct UserInfo {
    /// Id.
    pub id: String,
    /// Login name.
    pub username: String,
    /// Role.
    pub role: Role,
    /// Grants.
    pub grants: Vec<Grant>,
    /// Whether the user is disabled.
    pub disabled: bool,
}

/// A device's session state, checked on every request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    /// Who, with current grants.
    pub principal: Principal,
    /// The device's current session generation.
    pub generation: i64,
    /// Whether the device or its user is revoked or disabled.
    pub blocked: bool,
}

/// What presenting a refresh token led to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refresh {
    /// The token was current; it is now rotated.
    Rotated {
        /// The user.
        user_id: String,
        /// The device.
        device_id: Uuid,
        /// The device's session generation.
        generation: i64,
    },
    /// The token had already been rotated: someone replayed it. The device's sessions are
    /// revoked.
    Reused {
        /// The device whose sessions were revoked.
        device_id: Uuid,
    },
    /// Unknown, expired or revoked.
    Invalid,
}

/// A device as the admin API shows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DeviceInfo {
    /// Device id.
    pub id: String,
    /// Owner's login name.
    pub username: String,
    /// Name given at login.
    pub name: String,
    /// Last request, ms since the epoch.
    pub last_seen_at: Option<i64>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<i64>,
}

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
pub trait Storage: Send + Sync + 'static {
    /// The backend.
    fn dialect(&self) -> Dialect;
    /// The schema served.
    fn schema(&self) -> Arc<Schema>;
    /// Checks the database answers and its schema is current.
    async fn ready(&self) -> Result<()>;
    /// The newest log position.
    async fn head(&self) -> Result<u64>;

    /// How many users exist.
    async fn user_count(&self) -> Result<u64>;
    /// Creates a user. Fails with [`StorageError::Conflict`] when the name is taken.
    async fn create_user(
        &self,
        username: &str,
        password_hash: &str,
        role: Role,
        grants: &[Grant],
        now_ms: i64,
    ) -> Result<UserInfo>;
    /// Replaces a user's grants.
    async fn set_grants(&self, username: &str, grants: &[Grant]) -> Result<UserInfo>;
    /// Replaces a user's password hash.
    async fn set_password(&self, user_id: &str, password_hash: &str) -> Result<()>;
    /// A user by login name.
    async fn find_user(&self, username: &str) -> Result<Option<StoredUser>>;
    /// Every user with grants.
    async fn list_users(&self) -> Result<Vec<UserInfo>>;

    /// Registers `device_id` for `user_id` (or finds it). Fails with
    /// [`StorageError::Conflict`] when it belongs to another user and
    /// [`StorageError::Forbidden`] when it was revoked. Returns its session generation.
    async fn register_device(
        &self,
        device_id: Uuid,
        user_id: &str,
        name: &str,
        now_ms: i64,
    ) -> Result<i64>;
    /// The session of `device_id` of `user_id`, with current grants, if both exist.
    async fn session(&self, user_id: &str, device_id: Uuid) -> Result<Option<Session>>;
    /// Records a request of the device.
    async fn touch_device(&self, device_id: Uuid, now_ms: i64) -> Result<()>;
    /// Stores a new refresh token (by hash).
    async fn store_refresh(
        &self,
        token_hash: &str,
        device_id: Uuid,
        generation: i64,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<()>;
    /// Exchanges a refresh token for `successor_hash` (stored, in the same transaction, expiring
    /// at `expires_ms`). A token used before is a retry when it was exchanged less than
    /// [`REFRESH_RETRY_GRACE_MS`] ago and its successor was never used (the client lost the
    /// answer): the unused successor is revoked and the exchange happens again. Otherwise a
    /// reused token means a copy exists: every session of the device is revoked.
    async fn rotate_refresh(
        &self,
        token_hash: &str,
        successor_hash: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<Refresh>;
    /// Revokes every session of a device (its refresh tokens, and its access tokens through
    /// the session generation).
    async fn revoke_sessions(&self, device_id: Uuid, now_ms: i64) -> Result<()>;
    /// Revokes the sessions of every device of a user, but `except`.
    async fn revoke_user_sessions(
        &self,
        user_id: &str,
        except: Option<Uuid>,
        now_ms: i64,
    ) -> Result<()>;
    /// Revokes a device for good: it can no longer log in or sync.
    async fn revoke_device(&self, device_id: Uuid, now_ms: i64) -> Result<()>;
    /// Every device.
    async fn list_devices(&self) -> Result<Vec<DeviceInfo>>;

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
