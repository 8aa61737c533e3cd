//! What imports from the ERP keep (`lapak_import_state`, migration 8): per source and
//! collection, each row the source last wrote, its fingerprint and the version it got. See
//! `crate::import::erp` for the diff that uses them.

use std::collections::HashMap;

use async_trait::async_trait;

use super::Result;
use super::db::{Arg, ColType};
use super::sql::SqlStorage;

/// A row a source wrote: its fingerprint and the version it got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImportedRow {
    /// The fingerprint of the row as the source gave it.
    pub fingerprint: i64,
    /// Whether the row is still as the source left it: it exists, at the version the import
    /// wrote (another write, from the admin web say, changes it).
    pub untouched: bool,
}

/// The import's half of the storage.
#[async_trait]
pub trait ImportLedger: Send + Sync {
    /// Every row `source` wrote into `collection`, by id.
    async fn imported_rows(
        &self,
        source: &str,
        collection: &str,
    ) -> Result<HashMap<String, ImportedRow>>;

    /// Records rows `source` wrote (`(id, fingerprint, version)`) and forgets those it deleted.
    async fn record_imported(
        &self,
        source: &str,
        collection: &str,
        written: &[(String, i64, i64)],
        deleted: &[String],
    ) -> Result<()>;
}

#[async_trait]
impl ImportLedger for SqlStorage {
    async fn imported_rows(
        &self,
        source: &str,
        collection: &str,
    ) -> Result<HashMap<String, ImportedRow>> {
        let rows = self
            .pool
            .fetch_all(
                "SELECT s.record_id, s.fingerprint, \
                 CAST(CASE WHEN r.version = s.version AND NOT r.deleted THEN 1 ELSE 0 END AS BIGINT) \
                 FROM lapak_import_state s LEFT JOIN lapak_reference r \
                 ON r.collection = s.collection AND r.record_id = s.record_id \
                 WHERE s.source = $1 AND s.collection = $2",
                &[
                    Arg::Text(source.to_owned()),
                    Arg::Text(collection.to_owned()),
                ],
            )
            .await?;
        let mut out = HashMap::with_capacity(rows.len());
        for r in &rows {
            out.insert(
                r.text(0)?,
                ImportedRow {
                    fingerprint: r.int(1)?,
                    untouched: r.int(2)? == 1,
                },
            );
        }
        Ok(out)
    }

    async fn record_imported(
        &self,
        source: &str,
        collection: &str,
        written: &[(String, i64, i64)],
        deleted: &[String],
    ) -> Result<()> {
        let mut tx = self.pool.begin_write().await?;
        let rows: Vec<Vec<Arg>> = written
            .iter()
            .map(|(id, fingerprint, version)| {
                vec![
                    Arg::Text(source.to_owned()),
                    Arg::Text(collection.to_owned()),
                    Arg::Text(id.clone()),
                    Arg::Int(*fingerprint),
                    Arg::Int(*version),
                ]
            })
            .collect();
        tx.insert_rows(
            "lapak_import_state",
            &[
                ("source", ColType::Text),
                ("collection", ColType::Text),
                ("record_id", ColType::Text),
                ("fingerprint", ColType::Int),
                ("version", ColType::Int),
            ],
            &rows,
            "ON CONFLICT (source, collection, record_id) DO UPDATE SET \
             fingerprint = excluded.fingerprint, version = excluded.version",
        )
        .await?;
        for chunk in deleted.chunks(500) {
            let args = vec![
                Arg::Text(source.to_owned()),
                Arg::Text(collection.to_owned()),
                Arg::TextList(chunk.to_vec()),
            ];
            let within = tx.dialect().in_list("record_id", 3);
            tx.execute_dynamic(
                &format!(
                    "DELETE FROM lapak_import_state WHERE source = $1 AND collection = $2 AND {within}"
                ),
                &args,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
