//! What imports from the ERP keep (`lapak_import_state`, migration 8): per source and
//! collection, the fingerprint of each row the source wrote, as long as nobody else has written
//! the row since. A row an import writes is recorded in the same transaction as its write; any
//! other write of the row (the admin API, the admin web's CSV import, another source) forgets
//! it there, so the next import writes it again. See `crate::import::erp` for the diff.

use std::collections::HashMap;

use async_trait::async_trait;
use lapak_core::Record;

use super::db::{Arg, ColType, Tx};
use super::sql::SqlStorage;
use super::{Result, WriteContext};

/// The import's half of the storage.
#[async_trait]
pub trait ImportLedger: Send + Sync {
    /// The fingerprint of every row `source` wrote into `collection` and nobody wrote since, by
    /// id.
    async fn imported_rows(&self, source: &str, collection: &str) -> Result<HashMap<String, i64>>;

    /// Writes reference rows for `source` as `put_reference` does (`None`: delete) and, in the
    /// same transaction, records each written row's fingerprint (`prints`, one per row; a
    /// deletion's is not used). Returns the ids of the rows that were live before.
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

#[async_trait]
impl ImportLedger for SqlStorage {
    async fn imported_rows(&self, source: &str, collection: &str) -> Result<HashMap<String, i64>> {
        let rows = self
            .pool
            .fetch_all(
                "SELECT record_id, fingerprint FROM lapak_import_state \
                 WHERE source = $1 AND collection = $2",
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
        let mut tx = self.pool.begin_write().await?;
        let (plan, live) = self.write_reference(&mut tx, ctx, collection, rows).await?;
        // Only rows that were live can have been imported by another source. Reference writes
        // are one at a time (the head is locked), so no other source writes between the check
        // and the commit.
        if another_source(&mut tx, source, collection).await? {
            forget(&mut tx, collection, &live, Some(source)).await?;
        }
        let versions: HashMap<&str, u64> = plan
            .references
            .iter()
            .filter(|((c, _), _)| c == collection)
            .map(|((_, id), state)| (id.as_str(), state.version))
            .collect();
        let mut written = Vec::new();
        let mut deleted = Vec::new();
        for ((id, record), print) in rows.iter().zip(prints) {
            match (record, versions.get(id.as_str())) {
                (Some(_), Some(version)) => written.push(vec![
                    Arg::Text(source.to_owned()),
                    Arg::Text(collection.to_owned()),
                    Arg::Text(id.clone()),
                    Arg::Int(*print),
                    Arg::Int(i64::try_from(*version).unwrap_or(i64::MAX)),
                ]),
                (Some(_), None) => {}
                (None, _) => deleted.push(id.clone()),
            }
        }
        record(&mut tx, &written).await?;
        for chunk in deleted.chunks(500) {
            let within = tx.dialect().in_list("record_id", 3);
            tx.execute_dynamic(
                &format!(
                    "DELETE FROM lapak_import_state WHERE source = $1 AND collection = $2 AND {within}"
                ),
                &[
                    Arg::Text(source.to_owned()),
                    Arg::Text(collection.to_owned()),
                    Arg::TextList(chunk.to_vec()),
                ],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(live)
    }

    async fn live_references(&self, collection: &str, ids: &[String]) -> Result<Vec<String>> {
        let mut tx = self.pool.begin_read().await?;
        let current = super::sql::load_references(&mut tx, collection, ids).await?;
        tx.commit().await?;
        Ok(current
            .into_iter()
            .filter(|(_, state)| !state.deleted)
            .map(|(id, _)| id)
            .collect())
    }
}

/// Whether a source other than `source` has imported rows into `collection`: a walk over the
/// distinct sources, one index probe each, rather than a scan of the rows.
async fn another_source(tx: &mut Tx, source: &str, collection: &str) -> Result<bool> {
    let found = tx
        .fetch_optional(
            "WITH RECURSIVE s(source) AS ( \
                 SELECT MIN(source) FROM lapak_import_state \
                 UNION ALL \
                 SELECT (SELECT MIN(t.source) FROM lapak_import_state t WHERE t.source > s.source) \
                 FROM s WHERE s.source IS NOT NULL) \
             SELECT 1 FROM s WHERE s.source IS NOT NULL AND s.source <> $1 AND EXISTS ( \
                 SELECT 1 FROM lapak_import_state t WHERE t.source = s.source AND t.collection = $2) \
             LIMIT 1",
            &[Arg::Text(source.to_owned()), Arg::Text(collection.to_owned())],
        )
        .await?;
    Ok(found.is_some())
}

/// Upserts `(source, collection, record_id, fingerprint, version)` rows.
async fn record(tx: &mut Tx, rows: &[Vec<Arg>]) -> Result<()> {
    tx.insert_rows(
        "lapak_import_state",
        &[
            ("source", ColType::Text),
            ("collection", ColType::Text),
            ("record_id", ColType::Text),
            ("fingerprint", ColType::Int),
            ("version", ColType::Int),
        ],
        rows,
        "ON CONFLICT (source, collection, record_id) DO UPDATE SET \
         fingerprint = excluded.fingerprint, version = excluded.version",
    )
    .await?;
    Ok(())
}

/// Forgets what imports (but `except`) recorded of rows `ids` of `collection`: someone else
/// wrote them.
pub(super) async fn forget(
    tx: &mut Tx,
    collection: &str,
    ids: &[String],
    except: Option<&str>,
) -> Result<()> {
    for chunk in ids.chunks(500) {
        let within = tx.dialect().in_list("record_id", 2);
        let mut args = vec![
            Arg::Text(collection.to_owned()),
            Arg::TextList(chunk.to_vec()),
        ];
        let sql = match except {
            Some(source) => {
                args.push(Arg::Text(source.to_owned()));
                format!(
                    "DELETE FROM lapak_import_state WHERE collection = $1 AND {within} AND source <> $3"
                )
            }
            None => format!("DELETE FROM lapak_import_state WHERE collection = $1 AND {within}"),
        };
        tx.execute_dynamic(&sql, &args).await?;
    }
    Ok(())
}
