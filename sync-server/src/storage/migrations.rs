//! The engine tables' migrations (`migrations/server-postgres`, `migrations/server-sqlite`),
//! embedded in the binary and applied at start, each in its own transaction, recorded in
//! `lapak_schema_migrations`. A database that has a migration this binary does not know was
//! written by a newer server: start is refused, and nothing is changed.

use super::db::{Arg, Dialect, Pool, split_statements};
use super::{Result, StorageError};

/// A migration: its number, name and SQL for each dialect.
struct Migration {
    version: i64,
    name: &'static str,
    postgres: &'static str,
    sqlite: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        postgres: include_str!("../../../migrations/server-postgres/0001_initial.sql"),
        sqlite: include_str!("../../../migrations/server-sqlite/0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "refresh_successor",
        postgres: include_str!("../../../migrations/server-postgres/0002_refresh_successor.sql"),
        sqlite: include_str!("../../../migrations/server-sqlite/0002_refresh_successor.sql"),
    },
    Migration {
        version: 3,
        name: "rules_state",
        postgres: include_str!("../../../migrations/server-postgres/0003_rules_state.sql"),
        sqlite: include_str!("../../../migrations/server-sqlite/0003_rules_state.sql"),
    },
    Migration {
        version: 4,
        name: "admin_web",
        postgres: include_str!("../../../migrations/server-postgres/0004_admin_web.sql"),
        sqlite: include_str!("../../../migrations/server-sqlite/0004_admin_web.sql"),
    },
    Migration {
        version: 5,
        name: "report_rollups",
        postgres: include_str!("../../../migrations/server-postgres/0005_report_rollups.sql"),
        sqlite: include_str!("../../../migrations/server-sqlite/0005_report_rollups.sql"),
    },
    Migration {
        version: 6,
        name: "outbox_relay",
        postgres: include_str!("../../../migrations/server-postgres/0006_outbox_relay.sql"),
        sqlite: include_str!("../../../migrations/server-sqlite/0006_outbox_relay.sql"),
    },
    Migration {
        version: 7,
        name: "reference_feed",
        postgres: include_str!("../../../migrations/server-postgres/0007_reference_feed.sql"),
        sqlite: include_str!("../../../migrations/server-sqlite/0007_reference_feed.sql"),
    },
    Migration {
        version: 8,
        name: "import_marks",
        postgres: include_str!("../../../migrations/server-postgres/0008_import_marks.sql"),
        sqlite: include_str!("../../../migrations/server-sqlite/0008_import_marks.sql"),
    },
];

/// The newest migration this binary knows.
#[must_use]
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The newest migration applied to the database (0 when none).
pub(crate) async fn applied(pool: &Pool) -> Result<i64> {
    let row = pool
        .fetch_optional(
            "SELECT COALESCE(MAX(version), 0) FROM lapak_schema_migrations",
            &[],
        )
        .await?;
    Ok(row.map_or(Ok(0), |r| r.int(0))?)
}

/// Applies the migrations the database lacks.
///
/// # Errors
/// [`StorageError::SchemaTooNew`] for a database of a newer server; database errors.
pub(crate) async fn run(pool: &Pool) -> Result<()> {
    pool.execute(
        "CREATE TABLE IF NOT EXISTS lapak_schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)",
        &[],
    )
    .await?;
    let current = applied(pool).await?;
    if current > latest() {
        return Err(StorageError::SchemaTooNew {
            found: current,
            supported: latest(),
        });
    }
    for m in MIGRATIONS.iter().filter(|m| m.version > current) {
        let sql = match pool.dialect() {
            Dialect::Postgres => m.postgres,
            Dialect::Sqlite => m.sqlite,
        };
        let mut tx = pool.begin_write().await?;
        // Postgres: another replica starting at the same time waits here, then finds the
        // migration applied.
        if pool.dialect() == Dialect::Postgres {
            tx.execute("LOCK TABLE lapak_schema_migrations IN EXCLUSIVE MODE", &[])
                .await?;
            let done = tx
                .fetch_optional(
                    "SELECT 1 FROM lapak_schema_migrations WHERE version = $1",
                    &[Arg::Int(m.version)],
                )
                .await?;
            if done.is_some() {
                tx.commit().await?;
                continue;
            }
        }
        for stmt in split_statements(sql) {
            tx.execute_dynamic(&stmt, &[]).await?;
        }
        tx.execute(
            "INSERT INTO lapak_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            &[
                Arg::Int(m.version),
                Arg::Text(m.name.to_owned()),
                Arg::Int(chrono::Utc::now().timestamp_millis()),
            ],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(version = m.version, name = m.name, "applied migration");
    }
    Ok(())
}
