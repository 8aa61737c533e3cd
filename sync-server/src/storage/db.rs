//! The two SQL backends behind one small interface: a pool, a transaction, bound arguments and
//! typed row access, for Postgres and SQLite alike.
//!
//! Every statement of the storage layer is written once, with `$1`-style placeholders that both
//! sqlx drivers accept; where the dialects differ (column types, row locks, bulk inserts) the
//! caller asks [`Dialect`]. Values cross this boundary as [`Arg`] and are read back through
//! [`DbRow`]'s typed getters, so no SQL value is converted twice.

use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Postgres, Row as _, SqlSafeStr, Sqlite, Transaction};

/// Which SQL dialect a connection speaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// PostgreSQL 13 or newer.
    Postgres,
    /// SQLite 3.38 or newer (bundled).
    Sqlite,
}

impl Dialect {
    /// The backend's name, for logs and `/readyz`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Postgres => "postgres",
            Dialect::Sqlite => "sqlite",
        }
    }

    pub(crate) fn bytes_type(self) -> &'static str {
        match self {
            Dialect::Postgres => "BYTEA",
            Dialect::Sqlite => "BLOB",
        }
    }

    /// `column` is one of the texts of [`Arg::TextList`] parameter `n` (Postgres can use a
    /// composite index for this, where a long `IN ($2, $3, ...)` list of a generic plan makes it
    /// filter every row of the index's first column).
    pub(crate) fn in_list(self, column: &str, n: usize) -> String {
        match self {
            Dialect::Postgres => format!("{column} = ANY(${n}::text[])"),
            Dialect::Sqlite => format!("{column} IN (SELECT value FROM json_each(${n}))"),
        }
    }

    /// `column` (an integer) is one of the integers written as texts in [`Arg::TextList`]
    /// parameter `n`.
    pub(crate) fn in_int_list(self, column: &str, n: usize) -> String {
        match self {
            Dialect::Postgres => format!("{column} = ANY(${n}::text[]::bigint[])"),
            Dialect::Sqlite => {
                format!("{column} IN (SELECT CAST(value AS INTEGER) FROM json_each(${n}))")
            }
        }
    }
}

/// A value bound to a statement. A null carries its column type, because Postgres checks it.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Arg {
    Text(String),
    Int(i64),
    Real(f64),
    Bool(bool),
    Bytes(Vec<u8>),
    Null(ColType),
    /// A list of texts, used with [`Dialect::in_list`]: a `text[]` on Postgres, a JSON array on
    /// SQLite.
    TextList(Vec<String>),
}

/// The types a column can hold, as the storage layer sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ColType {
    Text,
    Int,
    Real,
    Bool,
    Bytes,
}

impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Arg::Text(v.to_owned())
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Arg::Text(v)
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Arg::Text(v.clone())
    }
}
impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Arg::Int(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Self {
        Arg::Bool(v)
    }
}
impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Self {
        Arg::Bytes(v)
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        v.map_or(Arg::Null(ColType::Text), Arg::Text)
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        v.map_or(Arg::Null(ColType::Int), Arg::Int)
    }
}

/// A text list as Postgres binds it.
pub(crate) fn pg_list(v: &[String]) -> Vec<String> {
    v.to_vec()
}

/// A text list as SQLite binds it (read back with `json_each`).
pub(crate) fn sqlite_list(v: &[String]) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// Binds `args` to a query of either driver (`$list` binds an [`Arg::TextList`]).
macro_rules! bind_all {
    ($q:expr, $args:expr, $list:expr) => {{
        let mut q = $q;
        for a in $args {
            q = match a {
                Arg::Text(v) => q.bind(v.as_str()),
                Arg::Int(v) => q.bind(*v),
                Arg::Real(v) => q.bind(*v),
                Arg::Bool(v) => q.bind(*v),
                Arg::Bytes(v) => q.bind(v.as_slice()),
                Arg::Null(ColType::Text) => q.bind(None::<String>),
                Arg::Null(ColType::Int) => q.bind(None::<i64>),
                Arg::Null(ColType::Real) => q.bind(None::<f64>),
                Arg::Null(ColType::Bool) => q.bind(None::<bool>),
                Arg::Null(ColType::Bytes) => q.bind(None::<Vec<u8>>),
                Arg::TextList(v) => q.bind($list(v)),
            };
        }
        q
    }};
}
pub(crate) use bind_all;

/// Binds `args`, moved, to a SQLite query: texts and bytes become the driver's arguments
/// without a copy (binding a `&str` copies it).
pub(crate) fn bind_owned_sqlite(
    mut q: sqlx::query::Query<'static, Sqlite, sqlx::sqlite::SqliteArguments>,
    args: impl IntoIterator<Item = Arg>,
) -> sqlx::query::Query<'static, Sqlite, sqlx::sqlite::SqliteArguments> {
    for a in args {
        q = match a {
            Arg::Text(v) => q.bind(v),
            Arg::Int(v) => q.bind(v),
            Arg::Real(v) => q.bind(v),
            Arg::Bool(v) => q.bind(v),
            Arg::Bytes(v) => q.bind(v),
            Arg::Null(ColType::Text) => q.bind(None::<String>),
            Arg::Null(ColType::Int) => q.bind(None::<i64>),
            Arg::Null(ColType::Real) => q.bind(None::<f64>),
            Arg::Null(ColType::Bool) => q.bind(None::<bool>),
            Arg::Null(ColType::Bytes) => q.bind(None::<Vec<u8>>),
            Arg::TextList(v) => q.bind(sqlite_list(&v)),
        };
    }
    q
}

/// A connection pool of either backend.
#[derive(Clone, Debug)]
pub(crate) enum Pool {
    Postgres(PgPool),
    /// SQLite: one writer connection (SQLite has one writer at a time; queueing in the pool is
    /// fairer than spinning on `SQLITE_BUSY`) and several readers.
    Sqlite {
        write: SqlitePool,
        read: SqlitePool,
    },
}

/// A transaction of either backend.
pub(crate) enum Tx {
    Postgres(Transaction<'static, Postgres>),
    Sqlite(Transaction<'static, Sqlite>),
}

/// A row of either backend.
pub(crate) enum DbRow {
    Postgres(PgRow),
    Sqlite(SqliteRow),
}

impl Pool {
    /// Connects to `url`: `postgres://…` or `sqlite://path` / `sqlite:path`.
    pub(crate) async fn connect(url: &str, max_connections: u32) -> Result<Self, sqlx::Error> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let opts = PgConnectOptions::from_str(url)?.application_name("lapak-server");
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts)
                .await?;
            Ok(Pool::Postgres(pool))
        } else {
            let opts = SqliteConnectOptions::from_str(url)?;
            // Password and refresh-token hashes and business data: the owner's only.
            lapak_core::store::owner_only_files(opts.get_filename()).map_err(sqlx::Error::Io)?;
            let opts = opts
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            // The writer commits with `synchronous=FULL`: a verdict the device has received must
            // survive a power cut, or positions would be handed out twice. Its page cache is
            // 64 MiB rather than SQLite's 2 MiB: a write touches the log, the reference and
            // plain tables and their indexes, and with large tables the small cache re-reads
            // their inner pages from the file on every batch.
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(Duration::from_secs(30))
                .connect_with(
                    opts.clone()
                        .synchronous(SqliteSynchronous::Full)
                        .pragma("cache_size", "-65536"),
                )
                .await?;
            let read = SqlitePoolOptions::new()
                .max_connections(max_connections.clamp(1, 8))
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(opts.clone().read_only(true))
                .await?;
            // The -wal and -shm files take the database's mode when SQLite makes them; ones
            // left by an older server are narrowed here.
            lapak_core::store::owner_only_files(opts.get_filename()).map_err(sqlx::Error::Io)?;
            Ok(Pool::Sqlite { write, read })
        }
    }

    /// The Postgres pool, if this is Postgres.
    pub(crate) fn postgres(&self) -> Option<&PgPool> {
        match self {
            Pool::Postgres(p) => Some(p),
            Pool::Sqlite { .. } => None,
        }
    }

    pub(crate) fn from_pg(pool: PgPool) -> Self {
        Pool::Postgres(pool)
    }

    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Pool::Postgres(_) => Dialect::Postgres,
            Pool::Sqlite { .. } => Dialect::Sqlite,
        }
    }

    /// Begins a transaction that writes. On SQLite it takes the write lock at once (`BEGIN
    /// IMMEDIATE`), so two writers never deadlock upgrading their locks.
    pub(crate) async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        let pool = self.clone();
        to_completion(async move {
            Ok(match pool {
                Pool::Postgres(p) => Tx::Postgres(p.begin().await?),
                Pool::Sqlite { write, .. } => {
                    Tx::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?)
                }
            })
        })
        .await
    }

    /// Begins a read-only transaction that sees one snapshot for all its statements.
    pub(crate) async fn begin_read(&self) -> Result<Tx, sqlx::Error> {
        let pool = self.clone();
        to_completion(async move {
            Ok(match pool {
                Pool::Postgres(p) => Tx::Postgres(
                    p.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                        .await?,
                ),
                Pool::Sqlite { read, .. } => Tx::Sqlite(read.begin().await?),
            })
        })
        .await
    }

    /// Runs a statement outside any transaction (it commits by itself).
    pub(crate) async fn execute(
        &self,
        sql: &'static str,
        args: &[Arg],
    ) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Pool::Postgres(p) => bind_all!(sqlx::query(sql), args, pg_list)
                .execute(p)
                .await?
                .rows_affected(),
            Pool::Sqlite { write, .. } => bind_all!(sqlx::query(sql), args, sqlite_list)
                .execute(write)
                .await?
                .rows_affected(),
        })
    }

    /// Runs a query outside any transaction.
    pub(crate) async fn fetch_all(
        &self,
        sql: &'static str,
        args: &[Arg],
    ) -> Result<Vec<DbRow>, sqlx::Error> {
        Ok(match self {
            Pool::Postgres(p) => bind_all!(sqlx::query(sql), args, pg_list)
                .fetch_all(p)
                .await?
                .into_iter()
                .map(DbRow::Postgres)
                .collect(),
            Pool::Sqlite { read, .. } => bind_all!(sqlx::query(sql), args, sqlite_list)
                .fetch_all(read)
                .await?
                .into_iter()
                .map(DbRow::Sqlite)
                .collect(),
        })
    }

    /// The first row of a query, if any.
    pub(crate) async fn fetch_optional(
        &self,
        sql: &'static str,
        args: &[Arg],
    ) -> Result<Option<DbRow>, sqlx::Error> {
        Ok(self.fetch_all(sql, args).await?.into_iter().next())
    }

    pub(crate) async fn close(&self) {
        match self {
            Pool::Postgres(p) => p.close().await,
            Pool::Sqlite { write, read } => {
                read.close().await;
                write.close().await;
            }
        }
    }
}

/// Splits a migration script into statements: comment lines are dropped, then the text is
/// cut at semicolons (our scripts have none inside literals or bodies).
pub(crate) fn split_statements(script: &str) -> Vec<String> {
    let code: String = script
        .lines()
        .filter(|l| !l.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n");
    code.split(';')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

impl Tx {
    pub(crate) fn dialect(&self) -> Dialect {
        match self {
            Tx::Postgres(_) => Dialect::Postgres,
            Tx::Sqlite(_) => Dialect::Sqlite,
        }
    }

    /// Runs a statement: a `&'static str`, or SQL built at run time from the schema's names
    /// wrapped in `AssertSqlSafe`.
    pub(crate) async fn execute(
        &mut self,
        sql: impl SqlSafeStr,
        args: &[Arg],
    ) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Tx::Postgres(t) => bind_all!(sqlx::query(sql), args, pg_list)
                .execute(&mut **t)
                .await?
                .rows_affected(),
            Tx::Sqlite(t) => bind_all!(sqlx::query(sql), args, sqlite_list)
                .execute(&mut **t)
                .await?
                .rows_affected(),
        })
    }

    /// Runs a query (same SQL forms as [`Tx::execute`]).
    pub(crate) async fn fetch_all(
        &mut self,
        sql: impl SqlSafeStr,
        args: &[Arg],
    ) -> Result<Vec<DbRow>, sqlx::Error> {
        Ok(match self {
            Tx::Postgres(t) => bind_all!(sqlx::query(sql), args, pg_list)
                .fetch_all(&mut **t)
                .await?
                .into_iter()
                .map(DbRow::Postgres)
                .collect(),
            Tx::Sqlite(t) => bind_all!(sqlx::query(sql), args, sqlite_list)
                .fetch_all(&mut **t)
                .await?
                .into_iter()
                .map(DbRow::Sqlite)
                .collect(),
        })
    }

    /// Runs SQL built at run time (materialized tables, whose names come from the schema).
    pub(crate) async fn execute_dynamic(
        &mut self,
        sql: &str,
        args: &[Arg],
    ) -> Result<u64, sqlx::Error> {
        self.execute(AssertSqlSafe(sql.to_owned()), args).await
    }

    /// Runs a query built at run time.
    pub(crate) async fn fetch_all_dynamic(
        &mut self,
        sql: &str,
        args: &[Arg],
    ) -> Result<Vec<DbRow>, sqlx::Error> {
        self.fetch_all(AssertSqlSafe(sql.to_owned()), args).await
    }

    pub(crate) async fn fetch_optional(
        &mut self,
        sql: &'static str,
        args: &[Arg],
    ) -> Result<Option<DbRow>, sqlx::Error> {
        Ok(self.fetch_all(sql, args).await?.into_iter().next())
    }

    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Postgres(t) => t.commit().await,
            Tx::Sqlite(t) => t.commit().await,
        }
    }
}

/// Runs a `BEGIN` in a task of its own, so that it completes even when its caller is dropped
/// half-way (a client that hung up, a timeout). sqlx 0.9 undoes a begin only once it has
/// counted it: a caller dropped between sending `BEGIN` and reading its answer would send the
/// connection back to the pool inside the transaction, and the next user would inherit it
/// (read-only, an old snapshot, or SQLite's write lock held for good). Completed here, an
/// abandoned transaction is dropped like any other and rolled back.
async fn to_completion(
    begin: impl Future<Output = Result<Tx, sqlx::Error>> + Send + 'static,
) -> Result<Tx, sqlx::Error> {
    tokio::spawn(begin)
        .await
        .map_err(|e| sqlx::Error::Protocol(format!("beginning a transaction failed: {e}")))?
}

/// Quotes an identifier for both dialects.
pub(crate) fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

macro_rules! getter {
    ($name:ident, $t:ty) => {
        pub(crate) fn $name(&self, i: usize) -> Result<$t, sqlx::Error> {
            match self {
                DbRow::Postgres(r) => r.try_get(i),
                DbRow::Sqlite(r) => r.try_get(i),
            }
        }
    };
}

impl DbRow {
    pub(crate) fn len(&self) -> usize {
        match self {
            DbRow::Postgres(r) => r.len(),
            DbRow::Sqlite(r) => r.len(),
        }
    }

    getter!(text, String);
    getter!(opt_text, Option<String>);
    getter!(int, i64);
    getter!(opt_int, Option<i64>);
    getter!(boolean, bool);
    getter!(opt_bool, Option<bool>);
    getter!(opt_real, Option<f64>);
    getter!(bytes, Vec<u8>);
}

#[cfg(test)]
mod tests {
    use std::pin::pin;
    use std::task::Poll;

    use super::*;

    /// Polls `begin` `polls` times, letting the runtime read the socket in between, then
    /// drops it (a caller that went away); `true` when it had finished first.
    async fn abandon_after(
        begin: impl Future<Output = Result<Tx, sqlx::Error>>,
        polls: usize,
    ) -> bool {
        let mut begin = pin!(begin);
        for _ in 0..polls {
            if let Poll::Ready(tx) = futures_util::poll!(&mut begin) {
                drop(tx);
                return true;
            }
            tokio::task::yield_now().await;
        }
        false
    }

    /// Whether the pool's one connection is outside any transaction: there, two statements
    /// apart in time see two different `now()`; inside one, both see its start.
    async fn outside_transactions(pool: &Pool) -> bool {
        let now = async || {
            let rows = pool
                .fetch_all("SELECT CAST(now() AS TEXT)", &[])
                .await
                .unwrap();
            rows[0].text(0).unwrap()
        };
        let first = now().await;
        tokio::time::sleep(Duration::from_millis(2)).await;
        first != now().await
    }

    /// Fails before `to_completion`: a begin dropped between its `BEGIN` and the answer left
    /// the connection inside the transaction, and the next user ran in it.
    #[sqlx::test]
    async fn a_begin_dropped_half_way_leaves_no_transaction_behind(pg: PgPool) {
        let one = PgPoolOptions::new()
            .max_connections(1)
            .connect_with((*pg.connect_options()).clone())
            .await
            .unwrap();
        let pool = Pool::Postgres(one);
        for polls in 0..40 {
            abandon_after(pool.begin_read(), polls).await;
            assert!(
                outside_transactions(&pool).await,
                "left in a read transaction after {polls} polls"
            );
            abandon_after(pool.begin_write(), polls).await;
            assert!(
                outside_transactions(&pool).await,
                "left in a write transaction after {polls} polls"
            );
        }
    }

    /// The same on SQLite, where a write transaction left behind would hold the write lock.
    #[tokio::test]
    async fn an_abandoned_sqlite_write_begin_releases_the_write_lock() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("db.sqlite").display());
        let pool = Pool::connect(&url, 2).await.unwrap();
        for polls in 0..40 {
            abandon_after(pool.begin_write(), polls).await;
            let tx = tokio::time::timeout(Duration::from_secs(5), pool.begin_write())
                .await
                .unwrap_or_else(|_| panic!("the write lock was kept after {polls} polls"))
                .unwrap();
            tx.commit().await.unwrap();
        }
    }
}
