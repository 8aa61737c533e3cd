//! Statements built while the one before runs. A large write (a push, a chunk of an import)
//! is many statements whose arguments cost as much to build as the database takes to run them;
//! run one after the other, this task and the database take turns and each waits half the time.
//! [`Tx::pipelined`] runs the statements a producer sends into its [`Pipe`], in order, while the
//! producer builds the next: on SQLite the statement runs on the driver's worker thread, on
//! Postgres in the server, and this task builds meanwhile.

use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::sqlite::SqliteArguments;
use sqlx::{AssertSqlSafe, Postgres, SqlSafeStr, Sqlite};

use super::db::{
    Arg, ColType, Dialect, Tx, bind_all, bind_owned_sqlite, pg_list, quote_ident, sqlite_list,
};

/// A statement with its arguments bound, ready to run in a transaction of its dialect.
pub(crate) enum Statement {
    Postgres(Query<'static, Postgres, PgArguments>),
    Sqlite(Query<'static, Sqlite, SqliteArguments>),
}

impl Statement {
    /// `sql` with `args`, for `dialect`.
    fn new(dialect: Dialect, sql: impl SqlSafeStr, args: &[Arg]) -> Self {
        match dialect {
            Dialect::Postgres => Statement::Postgres(bind_all!(sqlx::query(sql), args, pg_list)),
            Dialect::Sqlite => Statement::Sqlite(bind_all!(sqlx::query(sql), args, sqlite_list)),
        }
    }
}

/// The pipeline stopped taking statements: one of them failed, and its error is the one
/// [`Tx::pipelined`] returns.
#[derive(Debug)]
pub(crate) struct Stopped;

/// Where a producer sends the statements [`Tx::pipelined`] runs.
pub(crate) struct Pipe {
    dialect: Dialect,
    queue: tokio::sync::mpsc::Sender<Statement>,
}

impl Pipe {
    pub(crate) fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Queues a statement: a `&'static str`, or SQL built at run time from the schema's names
    /// wrapped in `AssertSqlSafe`.
    pub(crate) async fn execute(&self, sql: impl SqlSafeStr, args: &[Arg]) -> Result<(), Stopped> {
        self.send(Statement::new(self.dialect, sql, args)).await
    }

    /// Queues SQL built at run time.
    pub(crate) async fn execute_dynamic(&self, sql: &str, args: &[Arg]) -> Result<(), Stopped> {
        self.execute(AssertSqlSafe(sql.to_owned()), args).await
    }

    async fn send(&self, statement: Statement) -> Result<(), Stopped> {
        self.queue.send(statement).await.map_err(|_| Stopped)
    }

    /// Inserts many rows into one table: Postgres binds one array per column and inserts them
    /// with `UNNEST`, SQLite a multi-row `VALUES`, both in bounded chunks, each chunk queued as
    /// soon as it is built. `suffix` follows the insert (`ON CONFLICT ...`). The rows are
    /// taken, so SQLite binds their texts and bytes without copying them.
    pub(crate) async fn insert_rows(
        &self,
        table: &str,
        columns: &[(&str, ColType)],
        rows: Vec<Vec<Arg>>,
        suffix: &str,
    ) -> Result<(), Stopped> {
        if rows.is_empty() {
            return Ok(());
        }
        let names: Vec<String> = columns.iter().map(|(n, _)| quote_ident(n)).collect();
        let head = format!("INSERT INTO {} ({})", quote_ident(table), names.join(", "));
        match self.dialect {
            Dialect::Postgres => {
                // One UNNEST statement per chunk: Postgres arrays can be large, but a bounded
                // chunk keeps each statement's memory modest.
                for chunk in rows.chunks(5_000) {
                    self.send(Statement::Postgres(unnest_insert(
                        &head, columns, chunk, suffix,
                    )))
                    .await?;
                }
            }
            Dialect::Sqlite => {
                // Multi-row VALUES (SQLite allows 32,766 parameters); full chunks share one
                // statement text, so it is prepared once. Anonymous `?` parameters, because
                // sqlx looks up each numbered `$N` by name, which SQLite answers by a linear
                // search: quadratic in the parameters of a statement, and 70% of the time of a
                // large insert.
                let per_chunk = (30_000 / columns.len()).clamp(1, 500);
                let tuple = format!("({})", vec!["?"; columns.len()].join(", "));
                let mut rows = rows.into_iter().peekable();
                while rows.peek().is_some() {
                    let chunk: Vec<Vec<Arg>> = rows.by_ref().take(per_chunk).collect();
                    let tuples = vec![tuple.as_str(); chunk.len()];
                    let sql = format!("{head} VALUES {} {suffix}", tuples.join(", "));
                    let query = bind_owned_sqlite(
                        sqlx::query(AssertSqlSafe(sql)),
                        chunk.into_iter().flatten(),
                    );
                    self.send(Statement::Sqlite(query)).await?;
                }
            }
        }
        Ok(())
    }
}

/// `INSERT ... SELECT * FROM UNNEST(...)` of `rows`, one array per column.
fn unnest_insert(
    head: &str,
    columns: &[(&str, ColType)],
    rows: &[Vec<Arg>],
    suffix: &str,
) -> Query<'static, Postgres, PgArguments> {
    let selects: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, (_, ty))| {
            let array = match ty {
                ColType::Text => "text[]",
                ColType::Int => "int8[]",
                ColType::Real => "float8[]",
                ColType::Bool => "bool[]",
                ColType::Bytes => "bytea[]",
            };
            format!("${}::{array}", i + 1)
        })
        .collect();
    let sql = format!(
        "{head} SELECT * FROM UNNEST({}) {suffix}",
        selects.join(", ")
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for (i, (_, ty)) in columns.iter().enumerate() {
        let col = rows.iter().map(|r| &r[i]);
        q = match ty {
            ColType::Text => q.bind(
                col.map(|a| match a {
                    Arg::Text(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect::<Vec<_>>(),
            ),
            ColType::Int => q.bind(
                col.map(|a| match a {
                    Arg::Int(v) => Some(*v),
                    _ => None,
                })
                .collect::<Vec<_>>(),
            ),
            ColType::Real => q.bind(
                col.map(|a| match a {
                    Arg::Real(v) => Some(*v),
                    _ => None,
                })
                .collect::<Vec<_>>(),
            ),
            ColType::Bool => q.bind(
                col.map(|a| match a {
                    Arg::Bool(v) => Some(*v),
                    _ => None,
                })
                .collect::<Vec<_>>(),
            ),
            ColType::Bytes => q.bind(
                col.map(|a| match a {
                    Arg::Bytes(v) => Some(v.as_slice()),
                    _ => None,
                })
                .collect::<Vec<_>>(),
            ),
        };
    }
    q
}

impl Tx {
    /// Runs one built statement.
    async fn run(&mut self, statement: Statement) -> Result<(), sqlx::Error> {
        match (self, statement) {
            (Tx::Postgres(t), Statement::Postgres(q)) => {
                q.execute(&mut **t).await?;
            }
            (Tx::Sqlite(t), Statement::Sqlite(q)) => {
                q.execute(&mut **t).await?;
            }
            _ => {
                return Err(sqlx::Error::Protocol(
                    "a statement was built for the other database".into(),
                ));
            }
        }
        Ok(())
    }

    /// Runs the statements `produce` queues in its [`Pipe`], in order, each while `produce`
    /// builds the next. The first statement that fails stops the pipeline (`produce` then
    /// meets [`Stopped`]) and its error is returned.
    pub(crate) async fn pipelined(
        &mut self,
        produce: impl AsyncFnOnce(&Pipe) -> Result<(), Stopped>,
    ) -> Result<(), sqlx::Error> {
        // One statement waits while one runs and the next is built.
        let (queue, mut queued) = tokio::sync::mpsc::channel(1);
        let pipe = Pipe {
            dialect: self.dialect(),
            queue,
        };
        let producing = async move {
            // Stopped means a statement failed: the runner returns its error.
            let _ = produce(&pipe).await;
            // The pipe goes here, closing the queue: the runner ends once it is empty.
        };
        let tx = self;
        let running = async move {
            while let Some(statement) = queued.recv().await {
                tx.run(statement).await?;
            }
            Ok(())
        };
        let ((), ran) = tokio::join!(producing, running);
        ran
    }
}
