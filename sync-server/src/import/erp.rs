//! One run of an import from the ERP: read the source ([`super::source`]) through its
//! [`Mapping`], fingerprint each row's cells and compare with what this source wrote before
//! (`storage::import_state`): a row is written only when it is new, its fingerprint changed,
//! or someone else wrote it since (which forgets the source's record of it); only those rows
//! are turned into records and checked as the server will. A row this source wrote and no
//! longer has is deleted. A dry run stops before writing and says what would change.
//!
//! Writes go through the reference path (`ImportLedger::put_imported`) in transactions of
//! [`WRITE_CHUNK`] rows, so devices, the outbox and the Redis mirror see them like any other,
//! and each transaction records the fingerprints of its rows: a run cut short (a crash, the
//! database gone) is finished by the next, which writes nothing twice.

use std::collections::{HashMap, HashSet};

use lapak_core::Record;
use serde::Serialize;
use sha2::Digest as _;

use super::RowError;
use super::mapping::Mapping;
use super::source::{self, Cell, SourceRow};
use crate::storage::{Storage, StorageError, WriteContext};

/// Rows written per transaction.
pub const WRITE_CHUNK: usize = 5_000;
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
        "writing the import failed: {0}; run it again: it goes on from the rows already written"
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

/// What a fingerprint starts from: the collection, each field with its type and column, and
/// where the business is; a change to any of them changes every fingerprint, so every row is
/// compared again.
fn signature(mapping: &Mapping, options: &RunOptions) -> sha2::Sha256 {
    let mut hash = sha2::Sha256::new();
    hash.update(b"lapak-import-2\0");
    hash.update(mapping.collection.name().as_bytes());
    hash.update(format!("\0{}\0", mapping.id_column).as_bytes());
    for (field, column) in &mapping.fields {
        hash.update(format!("{field:?}\0{column}\0").as_bytes());
    }
    hash.update(options.utc_offset_seconds.to_le_bytes());
    hash
}

/// The fingerprint of a source row: the first 8 bytes of the SHA-256 of the run's
/// [`signature`] and the row's cells, id first. Taken from the cells as read, so a row that
/// did not change is known without turning it into a record.
#[must_use]
pub fn fingerprint(signature: &sha2::Sha256, cells: &[Cell]) -> i64 {
    let mut hash = signature.clone();
    for cell in cells {
        match cell {
            Cell::Null => hash.update([0]),
            Cell::Text(t) => {
                hash.update([1]);
                hash.update((t.len() as u64).to_le_bytes());
                hash.update(t.as_bytes());
            }
            Cell::Int(i) => {
                hash.update([2]);
                hash.update(i.to_le_bytes());
            }
            Cell::Real(r) => {
                hash.update([3]);
                hash.update(r.to_bits().to_le_bytes());
            }
            Cell::Bool(b) => hash.update([4, u8::from(*b)]),
            Cell::Date(d) => {
                hash.update([5]);
                hash.update(chrono::Datelike::num_days_from_ce(d).to_le_bytes());
            }
            Cell::LocalTime(t) => {
                hash.update([6]);
                hash.update(t.and_utc().timestamp_micros().to_le_bytes());
            }
            Cell::Moment(ms) => {
                hash.update([7]);
                hash.update(ms.to_le_bytes());
            }
        }
    }
    let digest = hash.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_le_bytes(first)
}

/// A row this source wrote before (its fingerprint), and whether this run has met it yet.
struct Prior {
    fingerprint: i64,
    seen: bool,
}

/// The state of a run as it reads the source.
struct Run<'a> {
    mapping: &'a Mapping,
    options: &'a RunOptions,
    signature: sha2::Sha256,
    before: HashMap<String, Prior>,
    /// Ids met that the source had not written before.
    seen_new: HashSet<String>,
    pending: Chunk,
    report: ImportReport,
    progress: Progress,
}

/// A row to write.
struct Pending {
    id: String,
    record: Record,
    fingerprint: i64,
    /// Whether this source wrote it before (it is a change; otherwise the writer finds out
    /// whether it is new).
    known: bool,
}

/// Rows for the writer.
type Chunk = Vec<Pending>;

/// What the writer found of the rows this source had not written: new, or already there.
#[derive(Default)]
struct Tally {
    new: u64,
    changed: u64,
    new_ids: Vec<String>,
    changed_ids: Vec<String>,
}

/// Runs the import of `mapping` once. `on_progress` hears where it stands now and then.
///
/// The source is read and compared while the previous chunk is written, so the database and
/// the source work at once.
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
    let before: HashMap<String, Prior> = storage
        .imported_rows(&mapping.name, collection)
        .await?
        .into_iter()
        .map(|(id, fingerprint)| {
            (
                id,
                Prior {
                    fingerprint,
                    seen: false,
                },
            )
        })
        .collect();
    let mut run = Run {
        mapping,
        options,
        signature: signature(mapping, options),
        before,
        seen_new: HashSet::new(),
        pending: Vec::new(),
        report: ImportReport {
            source: mapping.name.clone(),
            collection: collection.to_owned(),
            dry_run: options.dry_run,
            ..ImportReport::default()
        },
        progress: Progress::default(),
    };
    let written = std::sync::atomic::AtomicU64::new(0);
    let tally = std::sync::Mutex::new(Tally::default());
    let (chunks, queue) = tokio::sync::mpsc::channel::<Chunk>(2);
    let writer = Writer {
        storage,
        mapping,
        ctx: WriteContext {
            now_ms: chrono::Utc::now().timestamp_millis(),
            trace_id: format!("import-{}", mapping.name),
        },
        written: &written,
        tally: &tally,
        dry_run: options.dry_run,
    };
    let reading = async {
        let chunks = chunks;
        source::read(mapping, async |row| {
            if let Some(chunk) = run.row(row) {
                chunks
                    .send(chunk)
                    .await
                    .map_err(|_| "the writer stopped".to_owned())?;
            }
            // The reading and the writer share this task, and a source's rows arrive in
            // buffers that never make the reading wait: without yielding now and then it
            // would hold the task for thousands of rows while the writer's database answers
            // (a begun transaction, a finished statement) wait to be heard.
            if run.progress.read.is_multiple_of(64) {
                tokio::task::yield_now().await;
            }
            if run.progress.read.is_multiple_of(10_000) {
                run.progress.written = written.load(std::sync::atomic::Ordering::Relaxed);
                on_progress(run.progress);
            }
            Ok(())
        })
        .await?;
        if !run.pending.is_empty() {
            let last = std::mem::take(&mut run.pending);
            // A failed send means the writer failed: its error is the one reported.
            let _ = chunks.send(last).await;
        }
        Ok::<_, ImportError>(())
    };
    let (read, wrote) = tokio::join!(reading, writer.write_all(queue));
    // The writer's error first: a read stopped by it says only that it stopped.
    wrote?;
    read?;
    let tally = std::mem::take(
        &mut *tally
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    run.report.new = tally.new;
    run.report.changed += tally.changed;
    run.report.samples.new = tally.new_ids;
    for id in tally.changed_ids {
        sample(&mut run.report.samples.changed, &id);
    }
    writer.delete_gone(&mut run).await?;
    run.progress.written = written.load(std::sync::atomic::Ordering::Relaxed);
    on_progress(run.progress);
    Ok(run.report)
}

/// Writes the chunks the reading queues, one transaction each, and records them.
struct Writer<'a> {
    storage: &'a dyn Storage,
    mapping: &'a Mapping,
    ctx: WriteContext,
    written: &'a std::sync::atomic::AtomicU64,
    tally: &'a std::sync::Mutex<Tally>,
    dry_run: bool,
}

impl Writer<'_> {
    /// Writes every chunk until the reading is done.
    async fn write_all(
        &self,
        mut queue: tokio::sync::mpsc::Receiver<Chunk>,
    ) -> Result<(), ImportError> {
        while let Some(chunk) = queue.recv().await {
            self.write(chunk).await?;
        }
        Ok(())
    }

    /// Writes one chunk, and records what it wrote, in one transaction (in a dry run, only
    /// finds which rows are there already).
    async fn write(&self, chunk: Chunk) -> Result<(), ImportError> {
        let collection = self.mapping.collection.name();
        let mut prints = Vec::with_capacity(chunk.len());
        let mut known = Vec::with_capacity(chunk.len());
        let rows: Vec<(String, Option<Record>)> = chunk
            .into_iter()
            .map(|p| {
                prints.push(p.fingerprint);
                known.push(p.known);
                (p.id, Some(p.record))
            })
            .collect();
        let live: HashSet<String> = if self.dry_run {
            let unknown: Vec<String> = rows
                .iter()
                .zip(&known)
                .filter(|(_, known)| !**known)
                .map(|((id, _), _)| id.clone())
                .collect();
            if unknown.is_empty() {
                HashSet::new()
            } else {
                let live = self.storage.live_references(collection, &unknown).await?;
                live.into_iter().collect()
            }
        } else {
            let live = self
                .storage
                .put_imported(&self.ctx, &self.mapping.name, collection, &rows, &prints)
                .await?;
            self.written.fetch_add(
                u64::try_from(rows.len()).unwrap_or(0),
                std::sync::atomic::Ordering::Relaxed,
            );
            live.into_iter().collect()
        };
        let mut tally = self
            .tally
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for ((id, _), _) in rows.iter().zip(&known).filter(|(_, known)| !**known) {
            if live.contains(id) {
                tally.changed += 1;
                sample(&mut tally.changed_ids, id);
            } else {
                tally.new += 1;
                sample(&mut tally.new_ids, id);
            }
        }
        Ok(())
    }

    /// Deletes the rows this source wrote before and no longer has.
    async fn delete_gone(&self, run: &mut Run<'_>) -> Result<(), ImportError> {
        let mut gone: Vec<String> = run
            .before
            .iter()
            .filter(|(_, prior)| !prior.seen)
            .map(|(id, _)| id.clone())
            .collect();
        gone.sort();
        let would = u64::try_from(gone.len()).unwrap_or(u64::MAX);
        let before = u64::try_from(run.before.len()).unwrap_or(u64::MAX);
        let allowed = run.options.max_deletions.unwrap_or((before / 2).max(10));
        if would > allowed {
            return Err(ImportError::TooManyDeletions {
                would,
                before,
                allowed,
            });
        }
        run.report.deleted = would;
        for id in gone.iter().take(LISTED_IDS) {
            run.report.samples.deleted.push(id.clone());
        }
        if run.options.dry_run {
            return Ok(());
        }
        let collection = self.mapping.collection.name();
        for chunk in gone.chunks(WRITE_CHUNK) {
            let rows: Vec<(String, Option<Record>)> =
                chunk.iter().map(|id| (id.clone(), None)).collect();
            self.storage
                .put_imported(
                    &self.ctx,
                    &self.mapping.name,
                    collection,
                    &rows,
                    &[0; WRITE_CHUNK],
                )
                .await?;
            self.written.fetch_add(
                u64::try_from(chunk.len()).unwrap_or(0),
                std::sync::atomic::Ordering::Relaxed,
            );
        }
        Ok(())
    }
}

impl Run<'_> {
    /// Compares one source row with what the source wrote before; queues it when it changed,
    /// and hands the queue over when it is a chunk.
    fn row(&mut self, row: SourceRow) -> Option<Chunk> {
        self.progress.read += 1;
        self.report.read += 1;
        let id = row_id(&row);
        let print = fingerprint(&self.signature, &row.cells);
        let first_time = match self.before.get_mut(&id) {
            Some(prior) if prior.seen => false,
            Some(prior) => {
                prior.seen = true;
                if prior.fingerprint == print {
                    self.report.unchanged += 1;
                    return None;
                }
                true
            }
            None => id.is_empty() || self.seen_new.insert(id.clone()),
        };
        if !first_time {
            let message = format!(
                "id `{id}` appears in an earlier row too: the source must have one row per id"
            );
            self.error(row.at, id, message);
            return None;
        }
        let record = match self.record(&id, &row) {
            Ok(record) => record,
            // A row in error is neither written nor deleted: its id counts as seen.
            Err(message) => {
                self.error(row.at, id, message);
                return None;
            }
        };
        let known = self.before.contains_key(&id);
        if known {
            self.report.changed += 1;
            sample(&mut self.report.samples.changed, &id);
        }
        self.pending.push(Pending {
            id,
            record,
            fingerprint: print,
            known,
        });
        (self.pending.len() >= WRITE_CHUNK).then(|| std::mem::take(&mut self.pending))
    }

    /// The row as a record of the collection, checked; or what is wrong with it.
    fn record(&self, id: &str, row: &SourceRow) -> Result<Record, String> {
        if crate::engine::check_id(id).is_err() {
            return Err(format!(
                "the id (column `{}`) is empty, longer than 200 bytes or holds a control character: every row needs its id",
                self.mapping.id_column
            ));
        }
        let mut record = Record::new();
        for ((field, column), cell) in self.mapping.fields.iter().zip(row.cells.iter().skip(1)) {
            let value = source::cell_value(field.kind, cell, self.options.utc_offset_seconds)
                .map_err(|m| format!("column `{column}` (field `{}`): {m}", field.name))?;
            if value != lapak_core::Value::Null {
                record.insert(field.name.clone(), value);
            }
        }
        crate::engine::check_row(&self.mapping.collection, &record)?;
        Ok(record)
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
}

/// The row's id as the mapping's id column gives it, trimmed; empty when it has none.
fn row_id(row: &SourceRow) -> String {
    match row.cells.first() {
        Some(Cell::Text(t)) => t.trim().to_owned(),
        Some(Cell::Int(i)) => i.to_string(),
        _ => String::new(),
    }
}

fn sample(list: &mut Vec<String>, id: &str) {
    if list.len() < LISTED_IDS {
        list.push(id.to_owned());
    }
}

#[cfg(test)]
mod tests {

    use super::*;

    #[test]
    fn a_fingerprint_changes_with_any_cell_and_its_type() {
        let start = sha2::Sha256::new();
        let row = [
            Cell::Text("A".into()),
            Cell::Text("Kopi".into()),
            Cell::Null,
        ];
        let print = fingerprint(&start, &row);
        assert_eq!(print, fingerprint(&start, &row.clone()));
        for other in [
            [
                Cell::Text("B".into()),
                Cell::Text("Kopi".into()),
                Cell::Null,
            ],
            [
                Cell::Text("A".into()),
                Cell::Text("Kopi".into()),
                Cell::Text(String::new()),
            ],
            [
                Cell::Text("A".into()),
                Cell::Text("Kop".into()),
                Cell::Text("i".into()),
            ],
            [Cell::Text("A".into()), Cell::Int(1), Cell::Null],
        ] {
            assert_ne!(print, fingerprint(&start, &other), "{other:?}");
        }
        let mut other_mapping = sha2::Sha256::new();
        other_mapping.update(b"x");
        assert_ne!(print, fingerprint(&other_mapping, &row));
    }
}
