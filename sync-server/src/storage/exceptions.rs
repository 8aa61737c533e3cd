//! Exceptions and tallies: the [`Exceptions`] half of the storage, with its implementation for
//! [`SqlStorage`]. Exceptions are raised by the business rules when they accept a record that
//! the back office should look at (a price off the price list, stock below zero, an
//! implausible GPS position); the back office lists and resolves them. Tallies are the running
//! numbers the rules keep (stock per branch and item), readable for reports.

use async_trait::async_trait;

use super::Result;
use super::StorageError;
use super::db::Arg;
use super::sql::SqlStorage;
use crate::rules::Tally;

/// Which exceptions to list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExceptionFilter {
    /// `Some(true)`: open only; `Some(false)`: resolved only; `None`: all.
    pub open: Option<bool>,
    /// Only this kind.
    pub kind: Option<String>,
    /// Only exceptions of this record collection.
    pub collection: Option<String>,
    /// Only those raised before this time (ms; for paging, newest first).
    pub before: Option<i64>,
    /// Only exceptions about records in one of these scopes (`None`: all): a supervisor's.
    pub scopes: Option<Vec<String>>,
    /// At most this many.
    pub limit: u32,
}

/// A stored exception.
#[derive(Clone, Debug, PartialEq, serde::Serialize, ts_rs::TS)]
pub struct ExceptionRecord {
    /// Its id.
    pub id: String,
    /// `price_mismatch`, `negative_stock`, ...
    pub kind: String,
    /// The record's collection.
    pub collection: String,
    /// The record.
    pub record_id: String,
    /// The record's scopes.
    pub scopes: Vec<String>,
    /// What happened.
    pub message: String,
    /// Particulars.
    #[ts(type = "unknown")]
    pub details: serde_json::Value,
    /// The position of the record's change.
    #[ts(type = "number")]
    pub position: i64,
    /// When it was raised (ms).
    #[ts(type = "number")]
    pub raised_at: i64,
    /// When it was resolved (ms), if it was.
    #[ts(type = "number | null")]
    pub resolved_at: Option<i64>,
    /// Who resolved it.
    pub resolved_by: Option<String>,
    /// What they noted.
    pub resolution: Option<String>,
}

/// Exceptions raised by the rules, and the tallies they keep.
#[async_trait]
pub trait Exceptions: Send + Sync {
    /// Exceptions matching `filter`, newest first.
    async fn exceptions(&self, filter: &ExceptionFilter) -> Result<Vec<ExceptionRecord>>;
    /// Marks exception `id` resolved by `by` with `note`, when it is about a record in one of
    /// `visible` scopes (`None`: any).
    ///
    /// # Errors
    /// [`StorageError::NotFound`] (also when it is not visible); [`StorageError::Conflict`]
    /// when it was already resolved.
    async fn resolve_exception(
        &self,
        id: &str,
        visible: Option<&[String]>,
        by: &str,
        note: &str,
        now_ms: i64,
    ) -> Result<ExceptionRecord>;
    /// Tallies whose key starts with `prefix` (`stock:JKT-01/`), in key order, at most `limit`.
    async fn tallies(&self, prefix: &str, limit: u32) -> Result<Vec<(String, Tally)>>;
}

const COLUMNS: &str = "id, kind, collection, record_id, scopes, message, details, position, raised_at, resolved_at, resolved_by, resolution";

fn parse(r: &super::db::DbRow) -> Result<ExceptionRecord> {
    Ok(ExceptionRecord {
        id: r.text(0)?,
        kind: r.text(1)?,
        collection: r.text(2)?,
        record_id: r.text(3)?,
        scopes: serde_json::from_str(&r.text(4)?)
            .map_err(|e| StorageError::Corrupt(format!("exception scopes: {e}")))?,
        message: r.text(5)?,
        details: serde_json::from_str(&r.text(6)?).unwrap_or(serde_json::Value::Null),
        position: r.int(7)?,
        raised_at: r.int(8)?,
        resolved_at: r.opt_int(9)?,
        resolved_by: r.opt_text(10)?,
        resolution: r.opt_text(11)?,
    })
}

#[async_trait]
impl Exceptions for SqlStorage {
    async fn exceptions(&self, filter: &ExceptionFilter) -> Result<Vec<ExceptionRecord>> {
        let mut conds = Vec::new();
        let mut args = Vec::new();
        match filter.open {
            Some(true) => conds.push("resolved_at IS NULL".to_owned()),
            Some(false) => conds.push("resolved_at IS NOT NULL".to_owned()),
            None => {}
        }
        for (col, v) in [("kind", &filter.kind), ("collection", &filter.collection)] {
            if let Some(v) = v {
                args.push(Arg::Text(v.clone()));
                conds.push(format!("{col} = ${}", args.len()));
            }
        }
        if let Some(b) = filter.before {
            args.push(Arg::Int(b));
            conds.push(format!("raised_at < ${}", args.len()));
        }
        if let Some(scopes) = &filter.scopes {
            let visible = super::back_office::scopes_condition("scopes", scopes, &mut args);
            conds.push(format!("({visible})"));
        }
        args.push(Arg::Int(i64::from(filter.limit.clamp(1, 1_000))));
        let sql = format!(
            "SELECT {COLUMNS} FROM lapak_exceptions {} ORDER BY raised_at DESC, id DESC LIMIT ${}",
            if conds.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", conds.join(" AND "))
            },
            args.len()
        );
        let mut tx = self.pool.begin_read().await?;
        let rows = tx.fetch_all_dynamic(&sql, &args).await?;
        tx.commit().await?;
        rows.iter().map(parse).collect()
    }

    async fn resolve_exception(
        &self,
        id: &str,
        visible: Option<&[String]>,
        by: &str,
        note: &str,
        now_ms: i64,
    ) -> Result<ExceptionRecord> {
        let mut tx = self.pool.begin_write().await?;
        let row = tx
            .fetch_all_dynamic(
                &format!("SELECT {COLUMNS} FROM lapak_exceptions WHERE id = $1"),
                &[Arg::Text(id.to_owned())],
            )
            .await?;
        let record = match row.first().map(parse).transpose()? {
            Some(r) if visible.is_none_or(|v| r.scopes.iter().any(|s| v.contains(s))) => r,
            _ => {
                return Err(StorageError::NotFound(format!(
                    "there is no exception `{id}` you may see: list the open ones with GET /v1/admin/exceptions"
                )));
            }
        };
        if record.resolved_at.is_some() {
            return Err(StorageError::Conflict(format!(
                "exception `{id}` was already resolved by {}: nothing was changed",
                record.resolved_by.as_deref().unwrap_or("someone")
            )));
        }
        let changed = tx
            .execute(
                "UPDATE lapak_exceptions SET resolved_at = $1, resolved_by = $2, resolution = $3 WHERE id = $4 AND resolved_at IS NULL",
                &[
                    Arg::Int(now_ms),
                    Arg::Text(by.to_owned()),
                    Arg::Text(note.to_owned()),
                    Arg::Text(id.to_owned()),
                ],
            )
            .await?;
        if changed == 0 {
            return Err(StorageError::Conflict(format!(
                "exception `{id}` was resolved by someone else just now: nothing was changed"
            )));
        }
        tx.commit().await?;
        Ok(ExceptionRecord {
            resolved_at: Some(now_ms),
            resolved_by: Some(by.to_owned()),
            resolution: Some(note.to_owned()),
            ..record
        })
    }

    async fn tallies(&self, prefix: &str, limit: u32) -> Result<Vec<(String, Tally)>> {
        let mut tx = self.pool.begin_read().await?;
        let rows = tx
            .fetch_all(
                "SELECT key, value, note FROM lapak_tallies WHERE substr(key, 1, length($1)) = $1 ORDER BY key LIMIT $2",
                &[
                    Arg::Text(prefix.to_owned()),
                    Arg::Int(i64::from(limit.clamp(1, 10_000))),
                ],
            )
            .await?;
        tx.commit().await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.text(0)?,
                    Tally {
                        value: r.int(1)?,
                        note: r.opt_text(2)?,
                    },
                ))
            })
            .collect()
    }
}
