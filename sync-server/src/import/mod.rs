//! Bulk import of master data. From the admin web, CSV: every row is read and checked against the collection
//! before anything is written ([`check`]: per-row errors with their line, and a preview), then
//! the rows are written in transactions of [`CHUNK_ROWS`] by a background job whose progress
//! the admin web polls ([`Imports`]). Rows are upserts by id, so an import cut short (a
//! restart) is finished by importing the same file again. From the ERP (`lapak-server import`):
//! a [`mapping`] file names the collection, the [`source`] (CSV, JSON lines, or an SQL query
//! against Postgres or MariaDB) and its columns, and [`erp`] writes only the rows that changed
//! and deletes the rows the source no longer has.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, NaiveDate};
use lapak_core::{Collection, Record, Value};
use serde::Serialize;
use ts_rs::TS;
use uuid::Uuid;

use crate::storage::master_data::{DataField, DataRow, FieldKind, data_fields};

pub mod erp;
pub mod mapping;
pub mod source;

/// The most rows one file may hold.
pub const MAX_ROWS: usize = 200_000;
/// The largest file accepted, bytes.
pub const MAX_BYTES: usize = 32 * 1024 * 1024;
/// Rows written per transaction.
pub const CHUNK_ROWS: usize = 1_000;
/// Rows shown in a check's preview.
const PREVIEW_ROWS: usize = 20;
/// Row errors listed in a check (the count says how many there are in all).
const LISTED_ERRORS: usize = 100;

/// What is wrong with one row of the file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct RowError {
    /// The line of the file (the header is line 1).
    #[ts(type = "number")]
    pub line: u64,
    /// The row's id, when it has one.
    pub id: String,
    /// What is wrong, and what to write instead.
    pub message: String,
}

/// The outcome of reading and checking a file, before anything is written.
#[derive(Clone, Debug, PartialEq, Serialize, TS)]
pub struct ImportCheck {
    /// The collection.
    pub collection: String,
    /// The file's columns, in order.
    pub columns: Vec<String>,
    /// Its rows (not counting the header).
    #[ts(type = "number")]
    pub rows: u64,
    /// Rows with errors, in all.
    #[ts(type = "number")]
    pub error_count: u64,
    /// The first of them.
    pub errors: Vec<RowError>,
    /// The first rows as they would be written.
    pub preview: Vec<DataRow>,
}

/// A file read and checked: its report, and the rows to write when it has no errors.
pub struct Checked {
    /// What the admin web shows.
    pub report: ImportCheck,
    /// The rows, in file order.
    pub rows: Vec<(String, Option<Record>)>,
}

/// Why a file cannot be read at all (as opposed to a row's error).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Not CSV, or not UTF-8.
    #[error("the file is not CSV text (UTF-8, comma-separated, a header line first): {0}")]
    Unreadable(String),
    /// The header names a column the collection does not have.
    #[error("column `{column}` is not a field of `{collection}`: its fields are id, {fields}")]
    UnknownColumn {
        /// The column.
        column: String,
        /// The collection.
        collection: String,
        /// Its fields, comma-separated.
        fields: String,
    },
    /// A column is missing or repeated.
    #[error("{0}")]
    Header(String),
    /// Too many rows.
    #[error("the file has more than {MAX_ROWS} rows: split it into smaller files")]
    TooManyRows,
}

/// Reads `text` as CSV rows of `c` and checks each, as the server will when writing them. A
/// date without a time is the business's midnight, `utc_offset_seconds` east of UTC.
///
/// # Errors
/// [`FileError`] when the file as a whole cannot be imported (the header is wrong, it is not
/// CSV, it is too long); a row's problem is a [`RowError`] in the report instead.
pub fn check(c: &Collection, text: &str, utc_offset_seconds: i32) -> Result<Checked, FileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| FileError::Unreadable(e.to_string()))?
        .clone();
    let fields = data_fields(c);
    let columns = header_columns(c, &header, &fields)?;
    let mut report = ImportCheck {
        collection: c.name().to_owned(),
        columns: header.iter().map(str::to_owned).collect(),
        rows: 0,
        error_count: 0,
        errors: Vec::new(),
        preview: Vec::new(),
    };
    let mut rows = Vec::new();
    let mut seen = HashSet::new();
    for record in reader.records() {
        let record = record.map_err(|e| FileError::Unreadable(e.to_string()))?;
        report.rows += 1;
        if rows.len() >= MAX_ROWS {
            return Err(FileError::TooManyRows);
        }
        let line = record
            .position()
            .map_or(report.rows + 1, csv::Position::line);
        match read_row(c, &columns, &record, &mut seen, utc_offset_seconds) {
            Ok((id, row)) => {
                if report.preview.len() < PREVIEW_ROWS {
                    report.preview.push(preview(&id, &row, &fields));
                }
                rows.push((id, Some(row)));
            }
            Err((id, message)) => {
                report.error_count += 1;
                if report.errors.len() < LISTED_ERRORS {
                    report.errors.push(RowError { line, id, message });
                }
            }
        }
    }
    Ok(Checked { report, rows })
}

/// Each column's field (`None` for `id`), checking that `id` and every required field are there.
fn header_columns(
    c: &Collection,
    header: &csv::StringRecord,
    fields: &[DataField],
) -> Result<Vec<Option<DataField>>, FileError> {
    let mut columns = Vec::with_capacity(header.len());
    let mut named = HashSet::new();
    for name in header {
        if !named.insert(name.to_owned()) {
            return Err(FileError::Header(format!(
                "column `{name}` appears twice in the header: keep one"
            )));
        }
        if name == "id" {
            columns.push(None);
            continue;
        }
        let field =
            fields
                .iter()
                .find(|f| f.name == name)
                .ok_or_else(|| FileError::UnknownColumn {
                    column: name.to_owned(),
                    collection: c.name().to_owned(),
                    fields: fields
                        .iter()
                        .map(|f| f.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                })?;
        columns.push(Some(field.clone()));
    }
    if !named.contains("id") {
        return Err(FileError::Header(
            "the header has no `id` column: every row needs its id (the SKU, the customer code)"
                .into(),
        ));
    }
    if let Some(missing) = fields
        .iter()
        .find(|f| f.required && !named.contains(&f.name))
    {
        return Err(FileError::Header(format!(
            "the header has no `{}` column, which every row of `{}` needs",
            missing.name,
            c.name()
        )));
    }
    Ok(columns)
}

/// One row as a record, or its id and what is wrong with it.
fn read_row(
    c: &Collection,
    columns: &[Option<DataField>],
    record: &csv::StringRecord,
    seen: &mut HashSet<String>,
    utc_offset_seconds: i32,
) -> Result<(String, Record), (String, String)> {
    let id = columns
        .iter()
        .position(Option::is_none)
        .and_then(|i| record.get(i))
        .unwrap_or("")
        .to_owned();
    let fail = |message: String| (id.clone(), message);
    if record.len() != columns.len() {
        return Err(fail(format!(
            "the row has {} cells, the header {}: check for a missing or extra comma",
            record.len(),
            columns.len()
        )));
    }
    if crate::engine::check_id(&id).is_err() {
        return Err(fail(
            "the id is empty, longer than 200 bytes or holds a control character: give every row its id".into(),
        ));
    }
    if !seen.insert(id.clone()) {
        return Err(fail(format!(
            "id `{id}` appears on an earlier line too: keep one row per id"
        )));
    }
    let mut row = Record::new();
    for (field, cell) in columns.iter().zip(record.iter()) {
        let Some(field) = field else { continue };
        let value = text_value(field.kind, cell, utc_offset_seconds)
            .map_err(|m| fail(format!("column `{}`: {m}", field.name)))?;
        row.insert(field.name.clone(), value);
    }
    crate::engine::check_row(c, &row).map_err(fail)?;
    Ok((id, row))
}

/// A text cell as a value of `kind`; an empty cell is null. A whole number may carry zero
/// decimals (`15000.00`, as databases print decimals).
pub(crate) fn text_value(
    kind: FieldKind,
    cell: &str,
    utc_offset_seconds: i32,
) -> Result<Value, String> {
    if cell.is_empty() {
        return Ok(Value::Null);
    }
    Ok(match kind {
        FieldKind::Text => Value::Text(cell.to_owned()),
        FieldKind::Int => Value::Int(whole_number(cell).ok_or_else(|| {
            format!("`{cell}` is not a whole number (write 15000, without dots or commas)")
        })?),
        FieldKind::Real => Value::Real(
            cell.parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .ok_or_else(|| format!("`{cell}` is not a number (write -6.1754 with a dot)"))?,
        ),
        FieldKind::Bool => Value::Bool(match cell.to_ascii_lowercase().as_str() {
            "true" | "yes" | "ya" | "1" => true,
            "false" | "no" | "tidak" | "0" => false,
            _ => return Err(format!("`{cell}` is not true or false")),
        }),
        FieldKind::Timestamp => Value::Int(timestamp(cell, utc_offset_seconds)?),
    })
}

/// `15000`, or `15000.00` with only zeros after the point.
fn whole_number(cell: &str) -> Option<i64> {
    let (whole, decimals) = cell.split_once('.').unwrap_or((cell, ""));
    decimals
        .bytes()
        .all(|b| b == b'0')
        .then(|| whole.parse().ok())
        .flatten()
}

/// `2026-12-01` (midnight where the business is), `2026-12-01T08:00:00+07:00`, or ms since
/// the epoch.
fn timestamp(cell: &str, utc_offset_seconds: i32) -> Result<i64, String> {
    if let Ok(ms) = cell.parse::<i64>() {
        return Ok(ms);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(cell) {
        return Ok(t.timestamp_millis());
    }
    if let Ok(d) = NaiveDate::parse_from_str(cell, "%Y-%m-%d")
        && let Some(t) = d.and_hms_opt(0, 0, 0)
    {
        return Ok(t.and_utc().timestamp_millis() - i64::from(utc_offset_seconds) * 1000);
    }
    Err(format!(
        "`{cell}` is not a date: write 2026-12-01, 2026-12-01T08:00:00+07:00, or ms since 1970"
    ))
}

fn preview(id: &str, row: &Record, fields: &[DataField]) -> DataRow {
    let mut out = serde_json::Map::new();
    for f in fields {
        let v = match row.get(&f.name) {
            Some(Value::Text(t)) => serde_json::Value::String(t.clone()),
            Some(Value::Int(i)) => (*i).into(),
            Some(Value::Real(r)) => (*r).into(),
            Some(Value::Bool(b)) => (*b).into(),
            _ => serde_json::Value::Null,
        };
        out.insert(f.name.clone(), v);
    }
    DataRow {
        id: id.to_owned(),
        fields: out,
    }
}

/// Where an import job stands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, TS)]
pub struct ImportProgress {
    /// The job's id.
    pub id: String,
    /// The collection.
    pub collection: String,
    /// Rows to write.
    #[ts(type = "number")]
    pub total: u64,
    /// Rows written so far.
    #[ts(type = "number")]
    pub written: u64,
    /// Whether the job has ended (written everything, or failed).
    pub done: bool,
    /// Why it stopped early: the rows before `written` are in; import the file again.
    pub error: Option<String>,
    /// When it started (ms).
    #[ts(type = "number")]
    pub started_at: i64,
}

/// Import jobs of this server process: running, and ended within the last hour.
#[derive(Default)]
pub struct Imports {
    jobs: Mutex<HashMap<Uuid, ImportProgress>>,
}

/// How long an ended job's progress is kept, ms.
const KEEP_MS: i64 = 60 * 60 * 1000;

impl Imports {
    /// Registers a job of `total` rows of `collection`; its id.
    pub fn start(&self, collection: &str, total: u64, now_ms: i64) -> Uuid {
        let id = Uuid::now_v7();
        let mut jobs = self.lock();
        jobs.retain(|_, j| !j.done || now_ms - j.started_at < KEEP_MS);
        jobs.insert(
            id,
            ImportProgress {
                id: id.to_string(),
                collection: collection.to_owned(),
                total,
                written: 0,
                done: false,
                error: None,
                started_at: now_ms,
            },
        );
        id
    }

    /// Records progress of job `id`.
    pub fn update(&self, id: Uuid, written: u64, done: bool, error: Option<String>) {
        if let Some(j) = self.lock().get_mut(&id) {
            j.written = written;
            j.done = done;
            j.error = error;
        }
    }

    /// Where job `id` stands.
    #[must_use]
    pub fn progress(&self, id: Uuid) -> Option<ImportProgress> {
        self.lock().get(&id).cloned()
    }

    /// Whether a job is still writing to `collection` (one at a time per collection).
    #[must_use]
    pub fn running(&self, collection: &str) -> bool {
        self.lock()
            .values()
            .any(|j| !j.done && j.collection == collection)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, ImportProgress>> {
        self.jobs
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl std::fmt::Debug for Imports {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Imports")
            .field("jobs", &self.lock().len())
            .finish()
    }
}

/// Shared between the routes and the jobs they start.
pub type SharedImports = Arc<Imports>;

#[cfg(test)]
mod tests {
    use super::*;

    fn items() -> Collection {
        lapak_core::catalog::business()
            .collection("items")
            .unwrap()
            .clone()
    }

    #[test]
    fn a_good_file_is_read_with_typed_values_and_a_preview() {
        let checked = check(
            &items(),
            "\u{feff}id,name,tax_rate_bp,unit\nSKU-1,\"Teh, botol\",1100,pcs\nSKU-2,Kopi,,\n",
            0,
        )
        .unwrap();
        assert_eq!(checked.report.rows, 2);
        assert_eq!(checked.report.error_count, 0);
        assert_eq!(checked.rows.len(), 2);
        assert_eq!(checked.report.preview[0].fields["name"], "Teh, botol");
        assert_eq!(checked.report.preview[0].fields["tax_rate_bp"], 1100);
        assert_eq!(
            checked.report.preview[1].fields["unit"],
            serde_json::Value::Null
        );
    }

    #[test]
    fn bad_rows_are_listed_with_their_lines_and_nothing_else_is_lost() {
        let checked = check(
            &items(),
            "id,name,tax_rate_bp\nSKU-1,Teh,11a\nSKU-2,,0\nSKU-3,Kopi,0\nSKU-3,Kopi lagi,0\n,Tanpa id,0\n",
            0,
        )
        .unwrap();
        let r = &checked.report;
        assert_eq!((r.rows, r.error_count), (5, 4));
        let lines: Vec<u64> = r.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [2, 3, 5, 6]);
        assert!(
            r.errors[0].message.contains("tax_rate_bp"),
            "{:?}",
            r.errors[0]
        );
        assert!(r.errors[1].message.contains("name"), "{:?}", r.errors[1]);
        assert!(r.errors[2].message.contains("earlier line"));
        assert_eq!(checked.rows.len(), 1);
    }

    /// A row the databases cannot store (a NUL character, an indexed text too long) is a row
    /// error before anything is written, not a failed write half-way through the import.
    #[test]
    fn a_row_the_database_cannot_store_is_a_row_error() {
        let long = "8".repeat(crate::engine::MAX_INDEXED_TEXT + 1);
        let text = format!("id,name,barcode\nSKU-1,Te\u{0}h,1\nSKU-2,Kopi,{long}\nSKU-3,Susu,3\n");
        let checked = check(&items(), &text, 0).unwrap();
        let r = &checked.report;
        assert_eq!((r.rows, r.error_count), (3, 2), "{:?}", r.errors);
        assert!(r.errors[0].message.contains("NUL"), "{:?}", r.errors[0]);
        assert!(r.errors[1].message.contains("barcode"), "{:?}", r.errors[1]);
        assert_eq!(checked.rows.len(), 1);
    }

    #[test]
    fn a_wrong_header_refuses_the_whole_file() {
        assert!(matches!(
            check(&items(), "id,nama\nSKU-1,Teh\n", 0),
            Err(FileError::UnknownColumn { .. })
        ));
        assert!(matches!(
            check(&items(), "name\nTeh\n", 0),
            Err(FileError::Header(_))
        ));
        assert!(matches!(
            check(&items(), "id,unit\nSKU-1,pcs\n", 0),
            Err(FileError::Header(m)) if m.contains("`name`")
        ));
    }

    #[test]
    fn dates_are_read_in_three_forms() {
        let jakarta = 7 * 3600;
        // Midnight in Jakarta is 17:00 UTC the day before.
        assert_eq!(timestamp("2026-12-01", jakarta).unwrap(), 1_796_058_000_000);
        assert_eq!(timestamp("2026-12-01", 0).unwrap(), 1_796_083_200_000);
        assert_eq!(
            timestamp("2026-12-01T07:00:00+07:00", jakarta).unwrap(),
            1_796_083_200_000
        );
        assert_eq!(
            timestamp("1796083200000", jakarta).unwrap(),
            1_796_083_200_000
        );
        assert!(timestamp("1/12/2026", jakarta).is_err());
    }
}
