//! [`SqlStorage`]: the [`Storage`] of both backends, over the [`db`](super::db) dialect layer.
//!
//! Sequencing: every write transaction first locks the one row of `lapak_head` (Postgres:
//! `SELECT ... FOR UPDATE`; SQLite: `BEGIN IMMEDIATE` holds the database's write lock), takes
//! its positions after the head it read, and moves the head before committing. So positions
//! commit in order: a reader's snapshot always holds every position up to the head it sees,
//! and a pull can never pass over a change that commits later with a lower position.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use lapak_core::protocol::{
    Cursor, LogEntry, LogOp, MAX_PULL_ENTRIES, Outcome, PullResponse, PushRequest, ScopeBatch,
};
use lapak_core::schema::Kind;
use lapak_core::{Record, Schema};
use sqlx::postgres::PgPool;
use uuid::Uuid;

use super::db::{Arg, Dialect, Pool, Tx};
use super::{Result, Storage, StorageError, WriteContext, materialize, migrations};
use crate::auth::{Principal, Role};
use crate::engine::{
    self, Context, Event, Payload, Plan, StoredDoc, StoredReference, StoredVerdict,
};
use crate::rules::{Facts, Rules};

/// The most encoded bytes of log entries one pull answer carries (binary; the JSON form is at
/// most about three times larger, still below `MAX_MESSAGE_BYTES`). An answer always carries at
/// least one entry.
pub const PULL_BYTE_BUDGET: usize = 8 * 1024 * 1024;

/// The storage of both backends.
#[derive(Clone)]
pub struct SqlStorage {
    pub(super) pool: Pool,
    pub(super) schema: Arc<Schema>,
    pub(super) rules: Arc<Rules>,
    /// This process's id in the news it sends other processes (it ignores its own).
    pub(super) instance: String,
}

/// The Postgres channel on which server processes tell each other about writes.
pub(super) const NEWS_CHANNEL: &str = "lapak_news";

impl std::fmt::Debug for SqlStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStorage")
            .field("dialect", &self.pool.dialect())
            .finish_non_exhaustive()
    }
}

pub(super) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

pub(super) fn scopes_json(scopes: &[String]) -> String {
    serde_json::to_string(scopes).unwrap_or_else(|_| "[]".into())
}

fn parse_scopes(s: &str) -> Result<Vec<String>> {
    serde_json::from_str(s).map_err(|e| StorageError::Corrupt(format!("scope list `{s}`: {e}")))
}

pub(super) fn parse_role(s: &str) -> Result<Role> {
    Role::parse(s).map_err(StorageError::Corrupt)
}

impl SqlStorage {
    /// Connects to `url` (`postgres://…`, or `sqlite://path`), applies migrations and creates
    /// the materialized tables of `schema`.
    ///
    /// # Errors
    /// [`StorageError`]: unreachable database, a database of a newer server, a schema whose
    /// tables cannot be made.
    pub async fn open(url: &str, schema: Schema, rules: Rules) -> Result<Self> {
        let pool = Pool::connect(url, 16).await?;
        Self::init(pool, schema, rules).await
    }

    /// Uses an existing Postgres pool (tests use the pool `#[sqlx::test]` made).
    ///
    /// # Errors
    /// As [`SqlStorage::open`].
    pub async fn from_pg_pool(pool: PgPool, schema: Schema, rules: Rules) -> Result<Self> {
        Self::init(Pool::from_pg(pool), schema, rules).await
    }

    async fn init(pool: Pool, schema: Schema, rules: Rules) -> Result<Self> {
        migrations::run(&pool).await?;
        let stored = pool
            .fetch_optional(
                "SELECT value FROM lapak_meta WHERE key = 'collections'",
                &[],
            )
            .await?
            .map(|r| r.text(0))
            .transpose()?;
        if let Some(stored) = stored {
            let old: Schema = serde_json::from_str(&stored)
                .map_err(|e| StorageError::Corrupt(format!("stored schema: {e}")))?;
            if old.version() > schema.version() {
                return Err(StorageError::CollectionsTooNew {
                    found: old.version(),
                    supported: schema.version(),
                });
            }
        }
        let mut tx = pool.begin_write().await?;
        materialize::ensure_tables(&mut tx, &schema).await?;
        tx.execute(
            "INSERT INTO lapak_meta (key, value) VALUES ('collections', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[Arg::Text(serde_json::to_string(&schema).unwrap_or_default())],
        )
        .await?;
        tx.commit().await?;
        let storage = SqlStorage {
            pool,
            schema: Arc::new(schema),
            rules: Arc::new(rules),
            instance: Uuid::now_v7().simple().to_string(),
        };
        // Tallies of a database written before their derived rows existed get them now.
        storage
            .backfill_derived(chrono::Utc::now().timestamp_millis())
            .await?;
        Ok(storage)
    }

    /// Runs a read-only query whose columns are all text (cast them: `CAST(x AS TEXT)`), for
    /// tests, benchmarks and operators' checks of the plain tables.
    ///
    /// # Errors
    /// Database errors (including a column that is not text).
    pub async fn query_text(&self, sql: &str) -> Result<Vec<Vec<Option<String>>>> {
        let mut tx = self.pool.begin_read().await?;
        let rows = tx.fetch_all_dynamic(sql, &[]).await?;
        tx.commit().await?;
        rows.iter()
            .map(|r| {
                (0..r.len())
                    .map(|i| r.opt_text(i).map_err(Into::into))
                    .collect()
            })
            .collect()
    }

    /// Reads, under the head lock, each written scope's newest position before the plan.
    pub(super) async fn fill_previous_heads(tx: &mut Tx, plan: &mut Plan) -> Result<()> {
        let scopes: std::collections::BTreeSet<String> =
            plan.log.iter().map(|r| r.scope.clone()).collect();
        for scope in scopes {
            let row = tx
                .fetch_optional(
                    "SELECT MAX(position) FROM lapak_log WHERE scope = $1",
                    &[Arg::Text(scope.clone())],
                )
                .await?;
            if let Some(p) = row.map(|r| r.opt_int(0)).transpose()?.flatten() {
                plan.previous_heads.insert(scope, to_u64(p));
            }
        }
        Ok(())
    }

    /// Writes reference rows (`None`: delete) in `tx` for the back office, unmarked (imports
    /// write theirs with `write_imported`); returns the plan.
    pub(super) async fn write_reference(
        &self,
        tx: &mut Tx,
        ctx: &WriteContext,
        collection: &str,
        rows: &[(String, Option<Record>)],
    ) -> Result<Plan> {
        let head = self.lock_head(tx).await?;
        let mut ids: Vec<String> = rows.iter().map(|(id, _)| id.clone()).collect();
        ids.sort();
        ids.dedup();
        let current = load_references(tx, collection, &ids).await?;
        let context = self.context(head, ctx.now_ms, &ctx.trace_id);
        let mut plan = engine::plan_reference(&context, collection, rows, &current)?;
        self.follow_placing(tx, &context, collection, rows, &mut plan)
            .await?;
        Self::fill_previous_heads(tx, &mut plan).await?;
        self.write_plan(tx, &plan, None, ctx.now_ms, None).await?;
        Ok(plan)
    }

    /// What the engine judges a write with: this server's schema and rules, the head, the
    /// time and the trace.
    pub(super) fn context<'a>(&'a self, head: u64, now_ms: i64, trace_id: &'a str) -> Context<'a> {
        Context {
            schema: &self.schema,
            rules: &self.rules,
            head,
            now_ms,
            trace_id,
        }
    }

    pub(super) async fn lock_head(&self, tx: &mut Tx) -> Result<u64> {
        let sql = match tx.dialect() {
            Dialect::Postgres => "SELECT position FROM lapak_head WHERE id = 1 FOR UPDATE",
            Dialect::Sqlite => "SELECT position FROM lapak_head WHERE id = 1",
        };
        let row = tx
            .fetch_optional(sql, &[])
            .await?
            .ok_or_else(|| StorageError::Corrupt("lapak_head has no row".into()))?;
        Ok(to_u64(row.int(0)?))
    }

    async fn load_verdicts(
        &self,
        tx: &mut Tx,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, StoredVerdict>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let args: Vec<Arg> = chunk.iter().map(|id| Arg::Text(id.to_string())).collect();
            let rows = tx
                .fetch_all_dynamic(
                    &format!(
                        "SELECT change_id, status, position, code, message, device_id FROM lapak_changes WHERE change_id IN ({})",
                        placeholders.join(", ")
                    ),
                    &args,
                )
                .await?;
            for r in rows {
                let id = Uuid::parse_str(&r.text(0)?)
                    .map_err(|e| StorageError::Corrupt(format!("change id: {e}")))?;
                let outcome = if r.text(1)? == "accepted" {
                    Outcome::Accepted {
                        position: to_u64(r.opt_int(2)?.unwrap_or(0)),
                    }
                } else {
                    Outcome::Rejected {
                        code: r.opt_text(3)?.unwrap_or_default(),
                        message: r.opt_text(4)?.unwrap_or_default(),
                    }
                };
                let device_id = Uuid::parse_str(&r.text(5)?).ok();
                out.insert(id, StoredVerdict { outcome, device_id });
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl Storage for SqlStorage {
    fn dialect(&self) -> Dialect {
        self.pool.dialect()
    }

    fn schema(&self) -> Arc<Schema> {
        self.schema.clone()
    }

    async fn ready(&self) -> Result<()> {
        let found = migrations::applied(&self.pool).await?;
        if found != migrations::latest() {
            return Err(StorageError::SchemaTooNew {
                found,
                supported: migrations::latest(),
            });
        }
        Ok(())
    }

    async fn head(&self) -> Result<u64> {
        let row = self
            .pool
            .fetch_optional("SELECT position FROM lapak_head WHERE id = 1", &[])
            .await?
            .ok_or_else(|| StorageError::Corrupt("lapak_head has no row".into()))?;
        Ok(to_u64(row.int(0)?))
    }

    async fn push(
        &self,
        ctx: &WriteContext,
        principal: &Principal,
        request: &PushRequest,
    ) -> Result<Plan> {
        let mut tx = self.pool.begin_write().await?;
        let head = self.lock_head(&mut tx).await?;
        let ids: Vec<Uuid> = request.changes.iter().map(|c| c.change_id).collect();
        let known = self.load_verdicts(&mut tx, &ids).await?;
        let mut docs = HashMap::new();
        for ch in &request.changes {
            // A record id Postgres cannot even look up (NUL) is rejected by the judgement.
            if known.contains_key(&ch.change_id)
                || ch.record_id.contains('\0')
                || !self
                    .schema
                    .collection(&ch.collection)
                    .is_ok_and(|c| c.kind() == Kind::Document)
            {
                continue;
            }
            let key = (ch.collection.clone(), ch.record_id.clone());
            if docs.contains_key(&key) {
                continue;
            }
            if let Some(r) = tx
                .fetch_optional(
                    "SELECT data, scopes, deleted FROM lapak_documents WHERE collection = $1 AND record_id = $2",
                    &[Arg::Text(key.0.clone()), Arg::Text(key.1.clone())],
                )
                .await?
            {
                docs.insert(
                    key,
                    StoredDoc {
                        data: r.bytes(0)?,
                        scopes: parse_scopes(&r.text(1)?)?,
                        deleted: r.boolean(2)?,
                    },
                );
            }
        }
        let context = self.context(head, ctx.now_ms, &ctx.trace_id);
        let mut facts = Facts::new();
        // A read may depend on an earlier one (a branch's price list, then its prices).
        for _ in 0..4 {
            let lookups = engine::needs(&context, principal, request, &known, &facts);
            if lookups.is_empty() {
                break;
            }
            self.load_facts(&mut tx, &lookups, &mut facts).await?;
        }
        let mut plan = engine::plan_push(&context, principal, request, &known, &docs, facts);
        self.place_derived(&mut tx, &context, &mut plan).await?;
        Self::fill_previous_heads(&mut tx, &mut plan).await?;
        self.write_plan(&mut tx, &plan, Some(request.device_id), ctx.now_ms, None)
            .await?;
        tx.commit().await?;
        Ok(plan)
    }

    async fn put_reference(
        &self,
        ctx: &WriteContext,
        collection: &str,
        rows: &[(String, Option<Record>)],
    ) -> Result<Plan> {
        let mut tx = self.pool.begin_write().await?;
        // Unmarked: written by someone other than an import, each import writes them again.
        let plan = self.write_reference(&mut tx, ctx, collection, rows).await?;
        tx.commit().await?;
        Ok(plan)
    }

    async fn pull(&self, cursors: &[Cursor], limit: u32) -> Result<PullResponse> {
        let mut budget = (limit.max(1) as usize).min(MAX_PULL_ENTRIES);
        let (mut sent, mut sent_bytes) = (0usize, 0usize);
        let mut tx = self.pool.begin_read().await?;
        let head = to_u64(
            tx.fetch_optional("SELECT position FROM lapak_head WHERE id = 1", &[])
                .await?
                .ok_or_else(|| StorageError::Corrupt("lapak_head has no row".into()))?
                .int(0)?,
        );
        let mut batches = Vec::new();
        for cursor in cursors {
            if cursor.position > head {
                return Err(StorageError::CursorAhead {
                    scope: cursor.scope.clone(),
                    cursor: cursor.position,
                    head,
                });
            }
            if cursor.position == head {
                continue;
            }
            let rows = tx
                .fetch_all(
                    "SELECT position, collection, record_id, op FROM lapak_log WHERE scope = $1 AND position > $2 AND position <= $3 ORDER BY position LIMIT $4",
                    &[
                        Arg::Text(cursor.scope.clone()),
                        Arg::Int(to_i64(cursor.position)),
                        Arg::Int(to_i64(head)),
                        Arg::Int(i64::try_from(budget + 1).unwrap_or(i64::MAX)),
                    ],
                )
                .await?;
            let mut entries = Vec::with_capacity(rows.len().min(budget));
            let mut cut = false;
            for r in rows.iter().take(budget) {
                let bytes = r.bytes(3)?;
                let record_id = r.text(2)?;
                // Bound the answer's size too, so that it always decodes on the device (at least
                // one entry, however large, so that a pull always makes progress).
                let size = bytes.len() + record_id.len() + 48;
                if sent > 0 && sent_bytes + size > PULL_BYTE_BUDGET {
                    cut = true;
                    break;
                }
                sent += 1;
                sent_bytes += size;
                let op: LogOp = postcard::from_bytes(&bytes)
                    .map_err(|e| StorageError::Corrupt(format!("log entry: {e}")))?;
                entries.push(LogEntry {
                    position: to_u64(r.int(0)?),
                    collection: r.text(1)?,
                    record_id,
                    op,
                });
            }
            let has_more = cut || rows.len() > budget;
            budget = if cut { 0 } else { budget - entries.len() };
            let upto = if has_more {
                entries.last().map_or(cursor.position, |e| e.position)
            } else {
                head
            };
            batches.push(ScopeBatch {
                scope: cursor.scope.clone(),
                after: cursor.position,
                upto,
                entries,
                has_more,
            });
        }
        tx.commit().await?;
        Ok(PullResponse { batches })
    }

    async fn scope_heads(&self, scopes: &[String]) -> Result<Vec<Cursor>> {
        let mut out = Vec::new();
        for s in scopes {
            if let Some(r) = self
                .pool
                .fetch_optional(
                    "SELECT MAX(position) FROM lapak_log WHERE scope = $1",
                    &[Arg::Text(s.clone())],
                )
                .await?
                && let Some(p) = r.opt_int(0)?
            {
                out.push(Cursor {
                    scope: s.clone(),
                    position: to_u64(p),
                });
            }
        }
        Ok(out)
    }

    async fn outbox(&self, after: i64, limit: u32) -> Result<Vec<(i64, Event)>> {
        self.pool
            .fetch_all(
                "SELECT seq, event_id, event_type, version, timestamp, trace_id, source, payload, position FROM lapak_outbox WHERE seq > $1 ORDER BY seq LIMIT $2",
                &[Arg::Int(after), Arg::Int(i64::from(limit))],
            )
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.int(0)?,
                    Event {
                        event_id: Uuid::parse_str(&r.text(1)?)
                            .map_err(|e| StorageError::Corrupt(format!("event id: {e}")))?,
                        event_type: r.text(2)?,
                        version: r.text(3)?,
                        timestamp: r.text(4)?,
                        trace_id: r.text(5)?,
                        source: r.text(6)?,
                        payload: Payload::from_json(r.text(7)?)
                            .map_err(|e| StorageError::Corrupt(format!("event payload: {e}")))?,
                        position: to_u64(r.int(8)?),
                    },
                ))
            })
            .collect()
    }

    async fn listen_news(
        &self,
    ) -> Result<Option<tokio::sync::mpsc::Receiver<std::collections::BTreeMap<String, u64>>>> {
        let Some(pool) = self.pool.postgres() else {
            return Ok(None);
        };
        let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen(NEWS_CHANNEL).await?;
        let (tx, rx) = tokio::sync::mpsc::channel(1024);
        let me = self.instance.clone();
        tokio::spawn(async move {
            // `recv` reconnects by itself after a lost connection.
            while let Ok(n) = listener.recv().await {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(n.payload()) else {
                    continue;
                };
                if v["from"].as_str() == Some(me.as_str()) {
                    continue;
                }
                let heads: std::collections::BTreeMap<String, u64> =
                    serde_json::from_value(v["heads"].clone()).unwrap_or_default();
                if tx.send(heads).await.is_err() {
                    return;
                }
            }
        });
        Ok(Some(rx))
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

/// The stored state of reference rows `ids` of `collection` (absent: never written).
pub(super) async fn load_references(
    tx: &mut Tx,
    collection: &str,
    ids: &[String],
) -> Result<HashMap<String, StoredReference>> {
    let mut current = HashMap::new();
    for chunk in ids.chunks(5_000) {
        let found = tx
            .fetch_all_dynamic(
                &format!(
                    "SELECT record_id, scopes, deleted, version FROM lapak_reference WHERE collection = $1 AND {}",
                    tx.dialect().in_list("record_id", 2)
                ),
                &[
                    Arg::Text(collection.to_owned()),
                    Arg::TextList(chunk.to_vec()),
                ],
            )
            .await?;
        for r in &found {
            current.insert(
                r.text(0)?,
                StoredReference {
                    scopes: parse_scopes(&r.text(1)?)?,
                    deleted: r.boolean(2)?,
                    version: to_u64(r.int(3)?),
                },
            );
        }
    }
    Ok(current)
}
