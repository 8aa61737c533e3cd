//! What imports from the ERP keep (migration 8): a reference row an import wrote carries, in
//! `lapak_reference`, the import's name and the fingerprint of what it read (`imported_by`,
//! `import_print`), set by the write itself. Every write of a reference row sets both columns
//! (`SqlStorage::write_plan`): to the import's mark when an import wrote it, to NULL for any
//! other write (the admin API, the admin web's CSV import, another import, a deletion), so no
//! path can forget to forget and the next import writes the row again. See `crate::import::erp`
//! for the diff.

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use lapak_core::Record;

use super::db::{Arg, ColType, Tx};
use super::pipeline::Stopped;
use super::sql::{SqlStorage, load_references};
use super::{Result, WriteContext};
use crate::engine::{self, StoredReference};

/// Rows an import plans at a time inside its transaction: each part is planned and its
/// statements built while the database writes the part before.
const PLAN_PART: usize = 500;

/// The import's half of the storage.
#[async_trait]
pub trait ImportLedger: Send + Sync {
    /// The fingerprint of every live row `source` wrote into `collection` and nobody wrote
    /// since, by id.
    async fn imported_rows(&self, source: &str, collection: &str) -> Result<HashMap<String, i64>>;

    /// Writes reference rows for `source` as `put_reference` does (`None`: delete), each
    /// written row marked with its fingerprint (`prints`, one per row; a deletion's is not
    /// used). Returns the ids of the rows that were live before.
    async fn put_imported(
        &self,
        ctx: &WriteContext,
        source: &str,
        collection: &str,
        rows: &[(String, Option<Record>)],
        prints: &[i64],
    ) -> Result<Vec<String>>;

    /// Which of `ids` are live rows of `collection` (what a dry run would change rather than
    /// add).
    async fn live_references(&self, collection: &str, ids: &[String]) -> Result<Vec<String>>;
}

/// The mark an import leaves on the rows it writes: its name and each row's fingerprint.
pub(super) struct ImportMark<'a> {
    source: &'a str,
    collection: &'a str,
    prints: HashMap<&'a str, i64>,
}

impl ImportMark<'_> {
    /// The `imported_by` and `import_print` columns of reference row `id` of `collection` as
    /// written by `mark`'s write (`None`: not an import): NULL unless the import wrote it live.
    pub(super) fn columns(
        mark: Option<&Self>,
        collection: &str,
        id: &str,
        deleted: bool,
    ) -> [Arg; 2] {
        let found = mark
            .filter(|m| !deleted && m.collection == collection)
            .and_then(|m| Some((m.source, *m.prints.get(id)?)));
        match found {
            Some((source, print)) => [Arg::Text(source.to_owned()), Arg::Int(print)],
            None => [Arg::Null(ColType::Text), Arg::Null(ColType::Int)],
        }
    }
}

#[async_trait]
impl ImportLedger for SqlStorage {
    async fn imported_rows(&self, source: &str, collection: &str) -> Result<HashMap<String, i64>> {
        let rows = self
            .pool
            .fetch_all(
                "SELECT record_id, import_print FROM lapak_reference \
                 WHERE imported_by = $1 AND collection = $2 AND NOT deleted",
                &[
                    Arg::Text(source.to_owned()),
                    Arg::Text(collection.to_owned()),
                ],
            )
            .await?;
        let mut out = HashMap::with_capacity(rows.len());
        for r in &rows {
            out.insert(r.text(0)?, r.int(1)?);
        }
        Ok(out)
    }

    async fn put_imported(
        &self,
        ctx: &WriteContext,
        source: &str,
        collection: &str,
        rows: &[(String, Option<Record>)],
        prints: &[i64],
    ) -> Result<Vec<String>> {
        let mark = ImportMark {
            source,
            collection,
            prints: rows
                .iter()
                .zip(prints)
                .map(|((id, _), print)| (id.as_str(), *print))
                .collect(),
        };
        let mut tx = self.pool.begin_write().await?;
        let live = self
            .write_imported(&mut tx, ctx, collection, rows, &mark)
            .await?;
        tx.commit().await?;
        Ok(live)
    }

    async fn live_references(&self, collection: &str, ids: &[String]) -> Result<Vec<String>> {
        let mut tx = self.pool.begin_read().await?;
        let current = load_references(&mut tx, collection, ids).await?;
        tx.commit().await?;
        Ok(live(current))
    }
}

impl SqlStorage {
    /// Writes an import's rows in `tx` as `write_reference` does, marked as `mark`'s, planned
    /// in parts of [`PLAN_PART`] rows inside the pipeline, so that the engine plans part k+1
    /// while the database writes part k. Everything the plan needs is read first; an id that
    /// appears twice in `rows` makes the whole of them one part, so no part depends on what
    /// an earlier one writes. Returns the ids of the rows that were live before.
    async fn write_imported(
        &self,
        tx: &mut Tx,
        ctx: &WriteContext,
        collection: &str,
        rows: &[(String, Option<Record>)],
        mark: &ImportMark<'_>,
    ) -> Result<Vec<String>> {
        let head = self.lock_head(tx).await?;
        let mut ids: Vec<String> = rows.iter().map(|(id, _)| id.clone()).collect();
        ids.sort();
        ids.dedup();
        let part = if ids.len() == rows.len() {
            PLAN_PART
        } else {
            rows.len().max(1)
        };
        let current = load_references(tx, collection, &ids).await?;
        let placing = self.load_placing(tx, collection, rows).await?;
        let mut refused = None;
        tx.pipelined(async |pipe| {
            let (mut head, mut heads) = (head, BTreeMap::new());
            for rows in rows.chunks(part) {
                let context = self.context(head, ctx.now_ms, &ctx.trace_id);
                let mut plan = match engine::plan_reference(&context, collection, rows, &current) {
                    Ok(plan) => plan,
                    Err(e) => {
                        refused = Some(e);
                        return Err(Stopped);
                    }
                };
                placing.follow(&context, collection, rows, &mut plan);
                head = plan.head;
                // Later parts write later positions.
                heads.extend(plan.heads());
                self.queue_plan(pipe, &plan, None, ctx.now_ms, Some(mark))
                    .await?;
            }
            self.queue_head(pipe, head, &heads).await
        })
        .await?;
        if let Some(refused) = refused {
            return Err(refused.into());
        }
        Ok(live(current))
    }
}

/// The ids of the rows among `states` that are live.
fn live(states: HashMap<String, StoredReference>) -> Vec<String> {
    states
        .into_iter()
        .filter(|(_, state)| !state.deleted)
        .map(|(id, _)| id)
        .collect()
}
