//! One run of an import from the ERP: read the source ([`super::source`]) through its
//! [`Mapping`], turn each row into a record and check it as the server will, and compare it
//! with what this source wrote before (`storage::import_state`): a row is written only when it
//! is new, its fingerprint changed, or someone else wrote it since; a row this source wrote and
//! no longer has is deleted. A dry run stops before writing and says what would change.
//!
//! Writes go through [`Storage::put_reference`] in transactions of [`WRITE_CHUNK`] rows, so
//! devices, the outbox and the Redis mirror see them like any other. A run cut short (a crash,
//! the database gone) is finished by the next: rows whose write committed are recorded with
//! their versions; the others are compared again.

use std::collections::{HashMap, HashSet};

use lapak_core::Record;
use serde::Serialize;
use sha2::Digest as _;

use super::RowError;
use super::mapping::Mapping;
use super::source::{self, Cell, SourceRow};
use crate::storage::{Storage, StorageError, WriteContext};

/// Rows written per transaction.
pub const WRITE_CHUNK: usize = 2_000;
/// Row errors kept in the report (the count says how many there were).
const LISTED_ERRORS: usize = 100;
/// Ids of each kind of change kept in the report.
const LISTED_IDS: usize = 10;

/// How a run goes.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Compare only; write nothing.
    pub dry_run: bool,
    /// The most rows a run may delete; `None`: half of what the source wrote before, at least
    /// 10 (an ERP view that answers nothing by mistake must not empty the collection).
    pub max_deletions: Option<u64>,
    /// Where the business is (dates without a time are its midnight).
    pub utc_offset_seconds: i32,
}

/// What a run found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// The source's name.
    pub source: String,
    /// The collection.
    pub collection: String,
    /// Whether nothing was written.
    pub dry_run: bool,
    /// Rows read from the source.
    pub read: u64,
    /// Rows that were not there before.
    pub new: u64,
    /// Rows that changed.
    pub changed: u64,
    /// Rows as they were.
    pub unchanged: u64,
    /// Rows the source no longer has.
    pub deleted: u64,
    /// Rows that could not be imported, in all.
    pub error_count: u64,
    /// The first of them.
    pub errors: Vec<RowError>,
    /// The first ids of new, changed and deleted rows.
    pub samples: Samples,
}

/// A few ids of each kind of change, for the report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Samples {
    /// New rows.
    pub new: Vec<String>,
    /// Changed rows.
    pub changed: Vec<String>,
    /// Deleted rows.
    pub deleted: Vec<String>,
}

/// Why a run stopped.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The source could not be read.
    #[error(transparent)]
    Source(#[from] source::SourceError),
    /// The database failed.
    #[error(
        "writing the import failed: {0}; run it again: rows already written are not written twice"
    )]
    Storage(#[from] StorageError),
    /// More deletions than allowed.
    #[error(
        "the source no longer has {would} of the {before} rows it wrote before, more than the {allowed} a run may delete: check the source (an empty view, a wrong query); if it is right, run again with --max-deletions {would}"
    )]
    TooManyDeletions {
        /// Rows the run would delete.
        would: u64,
        /// Rows the source wrote before.
        before: u64,
        /// The most allowed.
        allowed: u64,
    },
}

/// Where a run stands, for a progress bar.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Rows read.
    pub read: u64,
    /// Rows written or deleted.
    pub written: u64,
}

/// The fingerprint of a row: the first 8 bytes of the SHA-256 of its id and fields.
#[must_use]
pub fn fingerprint(id: &str, record: &Record) -> i64 {
    let mut hash = sha2::Sha256::new();
    hash.update(id.as_bytes());
    hash.update([0]);
    hash.update(
        lapak_core::value::record_to_json(record)
            .to_string()
            .as_bytes(),
    );
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_le_bytes(first)
}

/// The state of a run as it reads the source.
struct Run<'a> {
    storage: &'a dyn Storage,
    mapping: &'a Mapping,
    options: &'a RunOptions,
    ctx: WriteContext,
    before: HashMap<String, crate::storage::ImportedRow>,
    seen: HashSet<String>,
    pending: Vec<(String, Record, i64)>,
    report: ImportReport,
    progress: Progress,
}

/// Runs the import of `mapping` once. `on_progress` hears where it stands now and then.
///
/// # Errors
/// [`ImportError`]; rows written before it are recorded, and the next run goes on.
pub async fn run(
    storage: &dyn Storage,
    mapping: &Mapping,
    options: &RunOptions,
    mut on_progress: impl FnMut(Progress),
) -> Result<ImportReport, ImportError> {
    let collection = mapping.collection.name();
    let before = storage.imported_rows(&mapping.name, collection).await?;
    let mut run = Run {
        storage,
        mapping,
        options,
        ctx: WriteContext {
            now_ms: chrono::Utc::now().timestamp_millis(),
            trace_id: format!("import-{}", mapping.name),
        },
        seen: HashSet::with_capacity(before.len()),
        before,
        pending: Vec::new(),
        report: ImportReport {
            source: mapping.name.clone(),
            collection: collection.to_owned(),
            dry_run: options.dry_run,
            ..ImportReport::default()
        },
        progress: Progress::default(),
    };
    source::read(mapping, async |row| {
        run.row(row).await.map_err(|e| e.to_string())?;
        if run.progress.read.is_multiple_of(10_000) {
            on_progress(run.progress);
        }
        Ok(())
    })
    .await?;
    run.flush().await?;
    run.delete_gone().await?;
    on_progress(run.progress);
    Ok(run.report)
}

impl Run<'_> {
    /// Compares one source row with what the source wrote before; queues it when it changed.
    async fn row(&mut self, row: SourceRow) -> Result<(), ImportError> {
        self.progress.read += 1;
        self.report.read += 1;
        let (id, record) = match self.record(&row) {
            Ok(r) => r,
            Err((id, message)) => {
                // A row in error is neither written nor deleted: its id counts as seen.
                if !id.is_empty() {
                    self.seen.insert(id.clone());
                }
                self.error(row.at, id, message);
                return Ok(());
            }
        };
        if !self.seen.insert(id.clone()) {
            self.error(
                row.at,
                id.clone(),
                format!(
                    "id `{id}` appears in an earlier row too: the source must have one row per id"
                ),
            );
            return Ok(());
        }
        let print = fingerprint(&id, &record);
        match self.before.get(&id) {
            Some(b) if b.fingerprint == print && b.untouched => {
                self.report.unchanged += 1;
                return Ok(());
            }
            Some(_) => {
                self.report.changed += 1;
                sample(&mut self.report.samples.changed, &id);
            }
            None => {
                self.report.new += 1;
                sample(&mut self.report.samples.new, &id);
            }
        }
        self.pending.push((id, record, print));
        if self.pending.len() >= WRITE_CHUNK {
            self.flush().await?;
        }
        Ok(())
    }

    /// The row as a record of the collection, checked; or its id and what is wrong.
    fn record(&self, row: &SourceRow) -> Result<(String, Record), (String, String)> {
        let id = match row.cells.first() {
            Some(Cell::Text(t)) => t.trim().to_owned(),
            Some(Cell::Int(i)) => i.to_string(),
            _ => String::new(),
        };
        let fail = |message: String| (id.clone(), message);
        if id.is_empty() || id.len() > 200 || id.chars().any(char::is_control) {
            return Err(fail(format!(
                "the id (column `{}`) is empty or longer than 200 characters: every row needs its id",
                self.mapping.id_column
            )));
        }
        let mut record = Record::new();
        for ((field, column), cell) in self.mapping.fields.iter().zip(row.cells.iter().skip(1)) {
            let value = source::cell_value(field.kind, cell, self.options.utc_offset_seconds)
                .map_err(|m| fail(format!("column `{column}` (field `{}`): {m}", field.name)))?;
            if value != lapak_core::Value::Null {
                record.insert(field.name.clone(), value);
            }
        }
        self.mapping
            .collection
            .check_record(&record)
            .map_err(|e| fail(e.to_string()))?;
        Ok((id, record))
    }

    fn error(&mut self, at: u64, id: String, message: String) {
        self.report.error_count += 1;
        if self.report.errors.len() < LISTED_ERRORS {
            self.report.errors.push(RowError {
                line: at,
                id,
                message,
            });
        }
    }

    /// Writes the queued rows in one transaction and records them (not in a dry run).
    async fn flush(&mut self) -> Result<(), ImportError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let pending = std::mem::take(&mut self.pending);
        if self.options.dry_run {
            return Ok(());
        }
        let collection = self.mapping.collection.name();
        let rows: Vec<(String, Option<Record>)> = pending
            .iter()
            .map(|(id, record, _)| (id.clone(), Some(record.clone())))
            .collect();
        let plan = self
            .storage
            .put_reference(&self.ctx, collection, &rows)
            .await?;
        let versions: HashMap<&str, u64> = plan
            .references
            .iter()
            .map(|((_, id), state)| (id.as_str(), state.version))
            .collect();
        let written: Vec<(String, i64, i64)> = pending
            .into_iter()
            .map(|(id, _, print)| {
                let version = versions.get(id.as_str()).copied().unwrap_or(0);
                (id, print, i64::try_from(version).unwrap_or(i64::MAX))
            })
            .collect();
        self.storage
            .record_imported(&self.mapping.name, collection, &written, &[])
            .await?;
        self.progress.written += u64::try_from(written.len()).unwrap_or(0);
        Ok(())
    }

    /// Deletes the rows this source wrote before and no longer has.
    async fn delete_gone(&mut self) -> Result<(), ImportError> {
        let mut gone: Vec<String> = self
            .before
            .keys()
            .filter(|id| !self.seen.contains(*id))
            .cloned()
            .collect();
        gone.sort();
        let would = u64::try_from(gone.len()).unwrap_or(u64::MAX);
        let before = u64::try_from(self.before.len()).unwrap_or(u64::MAX);
        let allowed = self.options.max_deletions.unwrap_or((before / 2).max(10));
        if would > allowed {
            return Err(ImportError::TooManyDeletions {
                would,
                before,
                allowed,
            });
        }
        self.report.deleted = would;
        for id in gone.iter().take(LISTED_IDS) {
            self.report.samples.deleted.push(id.clone());
        }
        if self.options.dry_run {
            return Ok(());
        }
        let collection = self.mapping.collection.name();
        for chunk in gone.chunks(WRITE_CHUNK) {
            let rows: Vec<(String, Option<Record>)> =
                chunk.iter().map(|id| (id.clone(), None)).collect();
            self.storage
                .put_reference(&self.ctx, collection, &rows)
                .await?;
            self.storage
                .record_imported(&self.mapping.name, collection, &[], chunk)
                .await?;
            self.progress.written += u64::try_from(chunk.len()).unwrap_or(0);
        }
        Ok(())
    }
}

fn sample(list: &mut Vec<String>, id: &str) {
    if list.len() < LISTED_IDS {
        list.push(id.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use lapak_core::Value;

    use super::*;

    #[test]
    fn a_fingerprint_changes_with_any_field_and_the_id() {
        let mut a = Record::new();
        a.insert("name".into(), Value::Text("Kopi".into()));
        let mut b = a.clone();
        b.insert("unit".into(), Value::Text("pcs".into()));
        assert_eq!(fingerprint("A", &a), fingerprint("A", &a.clone()));
        assert_ne!(fingerprint("A", &a), fingerprint("A", &b));
        assert_ne!(fingerprint("A", &a), fingerprint("B", &a));
    }
}
