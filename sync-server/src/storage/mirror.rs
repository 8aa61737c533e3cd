//! What the Redis mirror of the master data (`crate::mirror`) reads: reference rows in the
//! order of their versions, deletions included, with their fields, from one snapshot
//! (`lapak_reference` and the plain tables; migration 7 indexes the versions).

use std::collections::{BTreeMap, HashMap};

use async_trait::async_trait;
use lapak_core::Record;

use super::Result;
use super::db::Arg;
use super::materialize;
use super::sql::SqlStorage;

/// One reference row as it stands after its newest write.
#[derive(Clone, Debug, PartialEq)]
pub struct ReferenceChange {
    /// Its collection.
    pub collection: String,
    /// Its id.
    pub id: String,
    /// Its version: the log position of its newest write.
    pub version: i64,
    /// Its fields; `None` when that write deleted it.
    pub record: Option<Record>,
}

/// A batch of [`ReferenceChange`]s.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReferenceBatch {
    /// The rows, oldest version first.
    pub changes: Vec<ReferenceChange>,
    /// Every row up to this version has been read (the cursor for the next batch).
    pub upto: i64,
    /// The newest version of any row now (0 when there is none).
    pub head: i64,
}

/// The reference rows, in the order of their versions.
#[async_trait]
pub trait ReferenceFeed: Send + Sync {
    /// The rows whose newest write is after version `after`, oldest first, at most `limit` of
    /// them.
    async fn reference_changes(&self, after: i64, limit: u32) -> Result<ReferenceBatch>;
}

#[async_trait]
impl ReferenceFeed for SqlStorage {
    async fn reference_changes(&self, after: i64, limit: u32) -> Result<ReferenceBatch> {
        let mut tx = self.pool.begin_read().await?;
        let head = tx
            .fetch_optional("SELECT COALESCE(MAX(version), 0) FROM lapak_reference", &[])
            .await?
            .map_or(Ok(0), |r| r.int(0))?;
        let rows = tx
            .fetch_all(
                "SELECT collection, record_id, version, deleted FROM lapak_reference \
                 WHERE version > $1 ORDER BY version LIMIT $2",
                &[Arg::Int(after), Arg::Int(i64::from(limit))],
            )
            .await?;
        let mut upto = after;
        let mut changes = Vec::with_capacity(rows.len());
        let mut live: BTreeMap<String, Vec<Vec<String>>> = BTreeMap::new();
        for r in &rows {
            let deleted = r.boolean(3)?;
            let change = ReferenceChange {
                collection: r.text(0)?,
                id: r.text(1)?,
                version: r.int(2)?,
                record: None,
            };
            upto = change.version;
            if !deleted {
                live.entry(change.collection.clone())
                    .or_default()
                    .push(vec![change.id.clone()]);
            }
            changes.push((change, deleted));
        }
        let mut records = HashMap::new();
        for (name, ids) in &live {
            // A collection the schema no longer has: its rows are left as they were.
            let Ok(c) = self.schema.collection(name) else {
                continue;
            };
            for (id, record) in materialize::read_rows(&mut tx, c, &["id"], ids).await? {
                records.insert((name.clone(), id), record);
            }
        }
        tx.commit().await?;
        let changes = changes
            .into_iter()
            .filter_map(|(mut change, deleted)| {
                change.record = records.remove(&(change.collection.clone(), change.id.clone()));
                // A live row that could not be read (its collection left the schema) is
                // skipped, never passed on as a deletion.
                (deleted || change.record.is_some()).then_some(change)
            })
            .collect();
        Ok(ReferenceBatch {
            changes,
            upto,
            head,
        })
    }
}
