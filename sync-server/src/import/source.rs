//! Reading an import's source row by row: a CSV file (a header line first), a JSON-lines file
//! (one object per line), or an SQL query streamed from Postgres or MariaDB/MySQL. Each row
//! comes out as the [`Cell`]s of the mapped columns, the id's first; a value's type is kept
//! where the source has one, and turned into the field's type in [`cell_value`].

use std::path::Path;

use chrono::{NaiveDate, NaiveDateTime};
use futures_util::TryStreamExt as _;
use lapak_core::Value;
use sqlx::{Column as _, Connection as _, Row as _, TypeInfo as _, ValueRef as _};

use super::mapping::{Mapping, Source};
use crate::storage::master_data::FieldKind;

/// One value of a source row.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    /// Empty, missing or NULL.
    Null,
    /// Text (every CSV cell, JSON strings, SQL text and decimals).
    Text(String),
    /// A whole number.
    Int(i64),
    /// A number with decimals.
    Real(f64),
    /// Yes or no.
    Bool(bool),
    /// A date, midnight where the business is.
    Date(NaiveDate),
    /// A date and time where the business is.
    LocalTime(NaiveDateTime),
    /// A moment, ms since the epoch.
    Moment(i64),
}

/// A row of the source: where it is (a line of a file, a row of a query's answer, from 1)
/// and the cells of the id and the mapped fields, in the mapping's order.
#[derive(Clone, Debug, PartialEq)]
pub struct SourceRow {
    /// Its line or row number.
    pub at: u64,
    /// The id's cell, then each mapped field's.
    pub cells: Vec<Cell>,
}

/// Why the source cannot be read (as opposed to one row's problem).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {detail}")]
    File {
        /// The file.
        path: String,
        /// Why.
        detail: String,
    },
    /// The database could not be reached, or refused the query.
    #[error("the source database {address}: {detail}")]
    Database {
        /// Where (no credentials).
        address: String,
        /// What failed.
        detail: String,
    },
    /// A mapped column is not in the source.
    #[error(
        "column `{column}` is not in the source: its columns are {available}; fix `[fields]` in the mapping"
    )]
    MissingColumn {
        /// The column.
        column: String,
        /// The source's columns.
        available: String,
    },
    /// A column's SQL type cannot be read.
    #[error(
        "column `{column}` has the SQL type {ty}, which an import cannot read: CAST it in the query to a text, an integer or a timestamp"
    )]
    UnreadableType {
        /// The column.
        column: String,
        /// Its type.
        ty: String,
    },
    /// The callback asked to stop.
    #[error("{0}")]
    Stopped(String),
}

/// The columns to read: the id's, then each mapped field's.
fn wanted(mapping: &Mapping) -> Vec<&str> {
    std::iter::once(mapping.id_column.as_str())
        .chain(mapping.fields.iter().map(|(_, c)| c.as_str()))
        .collect()
}

/// Reads every row of `mapping`'s source into `on_row`, in source order.
///
/// # Errors
/// [`SourceError`] when the source cannot be read at all, or `on_row` failed.
pub async fn read(
    mapping: &Mapping,
    mut on_row: impl AsyncFnMut(SourceRow) -> Result<(), String>,
) -> Result<(), SourceError> {
    let columns = wanted(mapping);
    match &mapping.source {
        Source::Csv(path) => read_csv(path, &columns, &mut on_row).await,
        Source::JsonLines(path) => read_json_lines(path, &columns, &mut on_row).await,
        Source::Sql { url, query } => read_sql(&url.0, query, &columns, &mut on_row).await,
    }
}

fn file_error(path: &Path, e: impl std::fmt::Display) -> SourceError {
    SourceError::File {
        path: path.display().to_string(),
        detail: e.to_string(),
    }
}

/// Where each wanted column is among `available`: exactly, else ignoring case.
fn positions(wanted: &[&str], available: &[String]) -> Result<Vec<usize>, SourceError> {
    wanted
        .iter()
        .map(|w| {
            available
                .iter()
                .position(|a| a == w)
                .or_else(|| available.iter().position(|a| a.eq_ignore_ascii_case(w)))
                .ok_or_else(|| SourceError::MissingColumn {
                    column: (*w).to_owned(),
                    available: available.join(", "),
                })
        })
        .collect()
}

async fn read_csv(
    path: &Path,
    columns: &[&str],
    on_row: &mut impl AsyncFnMut(SourceRow) -> Result<(), String>,
) -> Result<(), SourceError> {
    let file = std::fs::File::open(path).map_err(|e| file_error(path, e))?;
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(std::io::BufReader::with_capacity(1 << 20, file));
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| file_error(path, e))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_owned())
        .collect();
    let at = positions(columns, &header)?;
    let mut record = csv::StringRecord::new();
    let mut line = 1;
    while reader
        .read_record(&mut record)
        .map_err(|e| file_error(path, e))?
    {
        line += 1;
        let cells = at
            .iter()
            .map(|i| match record.get(*i) {
                Some("") | None => Cell::Null,
                Some(t) => Cell::Text(t.to_owned()),
            })
            .collect();
        on_row(SourceRow { at: line, cells })
            .await
            .map_err(SourceError::Stopped)?;
    }
    Ok(())
}

async fn read_json_lines(
    path: &Path,
    columns: &[&str],
    on_row: &mut impl AsyncFnMut(SourceRow) -> Result<(), String>,
) -> Result<(), SourceError> {
    use std::io::BufRead as _;
    let file = std::fs::File::open(path).map_err(|e| file_error(path, e))?;
    let reader = std::io::BufReader::with_capacity(1 << 20, file);
    for (n, line) in reader.lines().enumerate() {
        let line = line.map_err(|e| file_error(path, e))?;
        let at = u64::try_from(n).unwrap_or(u64::MAX) + 1;
        if line.trim().is_empty() {
            continue;
        }
        let object: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&line)
            .map_err(|e| file_error(path, format!("line {at} is not a JSON object: {e}")))?;
        let cells = columns.iter().map(|c| json_cell(object.get(*c))).collect();
        on_row(SourceRow { at, cells })
            .await
            .map_err(SourceError::Stopped)?;
    }
    Ok(())
}

fn json_cell(v: Option<&serde_json::Value>) -> Cell {
    match v {
        None | Some(serde_json::Value::Null) => Cell::Null,
        Some(serde_json::Value::Bool(b)) => Cell::Bool(*b),
        Some(serde_json::Value::Number(n)) => n
            .as_i64()
            .map(Cell::Int)
            .or_else(|| n.as_f64().map(Cell::Real))
            .unwrap_or(Cell::Null),
        Some(serde_json::Value::String(s)) => Cell::Text(s.clone()),
        // Objects and arrays fit no field: kept as their JSON text, which the field refuses
        // with the row's line unless it is text.
        Some(other) => Cell::Text(other.to_string()),
    }
}

async fn read_sql(
    url: &str,
    query: &str,
    columns: &[&str],
    on_row: &mut impl AsyncFnMut(SourceRow) -> Result<(), String>,
) -> Result<(), SourceError> {
    let address = crate::relay::safe_address(url);
    let db = |e: sqlx::Error| SourceError::Database {
        address: address.clone(),
        detail: e.to_string(),
    };
    let query = sqlx::AssertSqlSafe(query.to_owned());
    if url.starts_with("postgres") {
        let mut conn = sqlx::PgConnection::connect(url).await.map_err(db)?;
        let rows = sqlx::query(query).fetch(&mut conn);
        each_row(rows, columns, pg_cell, db, on_row).await
    } else {
        let url = url.replacen("mariadb://", "mysql://", 1);
        let mut conn = sqlx::MySqlConnection::connect(&url).await.map_err(db)?;
        let rows = sqlx::query(query).fetch(&mut conn);
        each_row(rows, columns, mysql_cell, db, on_row).await
    }
}

/// Hands each row of a query's answer on as the [`Cell`]s of the wanted columns, read with
/// `cell`; rows are numbered from 1.
async fn each_row<R: sqlx::Row>(
    mut rows: impl futures_util::Stream<Item = Result<R, sqlx::Error>> + Unpin,
    columns: &[&str],
    cell: fn(&R, usize) -> Result<Cell, SourceError>,
    db: impl Fn(sqlx::Error) -> SourceError,
    on_row: &mut impl AsyncFnMut(SourceRow) -> Result<(), String>,
) -> Result<(), SourceError> {
    let mut at_columns: Option<Vec<usize>> = None;
    let mut n = 0;
    while let Some(row) = rows.try_next().await.map_err(&db)? {
        n += 1;
        if at_columns.is_none() {
            at_columns = Some(column_positions(columns, &row)?);
        }
        let cells = at_columns
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|i| cell(&row, *i))
            .collect::<Result<_, _>>()?;
        on_row(SourceRow { at: n, cells })
            .await
            .map_err(SourceError::Stopped)?;
    }
    Ok(())
}

/// The wanted columns' positions in the answer, found at its first row.
fn column_positions<R: sqlx::Row>(wanted: &[&str], row: &R) -> Result<Vec<usize>, SourceError> {
    let names: Vec<String> = row.columns().iter().map(|c| c.name().to_owned()).collect();
    positions(wanted, &names)
}

fn unreadable<R: sqlx::Row>(row: &R, i: usize) -> SourceError {
    let column = &row.columns()[i];
    SourceError::UnreadableType {
        column: column.name().to_owned(),
        ty: column.type_info().name().to_owned(),
    }
}

fn pg_cell(row: &sqlx::postgres::PgRow, i: usize) -> Result<Cell, SourceError> {
    let raw = row.try_get_raw(i).map_err(|_| unreadable(row, i))?;
    if raw.is_null() {
        return Ok(Cell::Null);
    }
    let ty = raw.type_info();
    let bad = |_| unreadable(row, i);
    Ok(match ty.name() {
        "INT2" => Cell::Int(i64::from(row.try_get::<i16, _>(i).map_err(bad)?)),
        "INT4" => Cell::Int(i64::from(row.try_get::<i32, _>(i).map_err(bad)?)),
        "INT8" => Cell::Int(row.try_get::<i64, _>(i).map_err(bad)?),
        "FLOAT4" => Cell::Real(f64::from(row.try_get::<f32, _>(i).map_err(bad)?)),
        "FLOAT8" => Cell::Real(row.try_get::<f64, _>(i).map_err(bad)?),
        "BOOL" => Cell::Bool(row.try_get::<bool, _>(i).map_err(bad)?),
        "DATE" => Cell::Date(row.try_get::<NaiveDate, _>(i).map_err(bad)?),
        "TIMESTAMP" => Cell::LocalTime(row.try_get::<NaiveDateTime, _>(i).map_err(bad)?),
        "TIMESTAMPTZ" => Cell::Moment(
            row.try_get::<chrono::DateTime<chrono::Utc>, _>(i)
                .map_err(bad)?
                .timestamp_millis(),
        ),
        _ => Cell::Text(row.try_get::<String, _>(i).map_err(bad)?),
    })
}

fn mysql_cell(row: &sqlx::mysql::MySqlRow, i: usize) -> Result<Cell, SourceError> {
    let raw = row.try_get_raw(i).map_err(|_| unreadable(row, i))?;
    if raw.is_null() {
        return Ok(Cell::Null);
    }
    let ty = raw.type_info();
    let bad = |_| unreadable(row, i);
    Ok(match ty.name() {
        "BOOLEAN" => Cell::Bool(row.try_get::<bool, _>(i).map_err(bad)?),
        "TINYINT" | "SMALLINT" | "MEDIUMINT" | "INT" | "BIGINT" | "YEAR" => {
            Cell::Int(row.try_get::<i64, _>(i).map_err(bad)?)
        }
        t if t.ends_with("UNSIGNED") => Cell::Int(
            i64::try_from(row.try_get::<u64, _>(i).map_err(bad)?)
                .map_err(|_| unreadable(row, i))?,
        ),
        "FLOAT" => Cell::Real(f64::from(row.try_get::<f32, _>(i).map_err(bad)?)),
        "DOUBLE" => Cell::Real(row.try_get::<f64, _>(i).map_err(bad)?),
        "DECIMAL" => Cell::Text(row.try_get_unchecked::<String, _>(i).map_err(bad)?),
        "DATE" => Cell::Date(row.try_get::<NaiveDate, _>(i).map_err(bad)?),
        "DATETIME" => Cell::LocalTime(row.try_get::<NaiveDateTime, _>(i).map_err(bad)?),
        "TIMESTAMP" => Cell::Moment(
            row.try_get::<chrono::DateTime<chrono::Utc>, _>(i)
                .map_err(bad)?
                .timestamp_millis(),
        ),
        _ => Cell::Text(row.try_get::<String, _>(i).map_err(bad)?),
    })
}

/// A cell as a value of a field of `kind`; dates and local times are where the business is,
/// `utc_offset_seconds` east of UTC.
///
/// # Errors
/// What is wrong with the cell, for the row's error.
pub fn cell_value(kind: FieldKind, cell: &Cell, utc_offset_seconds: i32) -> Result<Value, String> {
    let offset_ms = i64::from(utc_offset_seconds) * 1000;
    Ok(match (kind, cell) {
        (_, Cell::Null) => Value::Null,
        (_, Cell::Text(t)) => return super::text_value(kind, t, utc_offset_seconds),
        (FieldKind::Int, Cell::Int(i)) | (FieldKind::Timestamp, Cell::Int(i) | Cell::Moment(i)) => {
            Value::Int(*i)
        }
        #[allow(clippy::cast_precision_loss)]
        (FieldKind::Real, Cell::Int(i)) => Value::Real(*i as f64),
        (FieldKind::Real, Cell::Real(f)) => Value::Real(*f),
        #[allow(clippy::cast_possible_truncation)]
        (FieldKind::Int, Cell::Real(f)) if f.fract() == 0.0 && f.abs() < 9.0e15 => {
            Value::Int(*f as i64)
        }
        (FieldKind::Bool, Cell::Bool(b)) => Value::Bool(*b),
        (FieldKind::Bool, Cell::Int(i @ (0 | 1))) => Value::Bool(*i == 1),
        (FieldKind::Text, Cell::Int(i)) => Value::Text(i.to_string()),
        (FieldKind::Text, Cell::Real(f)) => Value::Text(f.to_string()),
        (FieldKind::Text, Cell::Bool(b)) => Value::Text(b.to_string()),
        (FieldKind::Text, Cell::Date(d)) => Value::Text(d.to_string()),
        (FieldKind::Timestamp, Cell::Date(d)) => Value::Int(
            d.and_hms_opt(0, 0, 0)
                .map_or(0, |t| t.and_utc().timestamp_millis())
                - offset_ms,
        ),
        (FieldKind::Timestamp, Cell::LocalTime(t)) => {
            Value::Int(t.and_utc().timestamp_millis() - offset_ms)
        }
        (kind, cell) => {
            return Err(format!("{cell:?} is not a {}", kind_name(kind)));
        }
    })
}

fn kind_name(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Text => "text",
        FieldKind::Int => "whole number",
        FieldKind::Real => "number",
        FieldKind::Bool => "yes or no",
        FieldKind::Timestamp => "date or time",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_cells_become_the_fields_types() {
        let jakarta = 7 * 3600;
        let date = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(
            cell_value(FieldKind::Timestamp, &Cell::Date(date), jakarta).unwrap(),
            Value::Int(1_796_058_000_000)
        );
        assert_eq!(
            cell_value(FieldKind::Int, &Cell::Text("15000".into()), 0).unwrap(),
            Value::Int(15_000)
        );
        assert_eq!(
            cell_value(FieldKind::Int, &Cell::Text("15000.00".into()), 0).unwrap(),
            Value::Int(15_000)
        );
        assert_eq!(
            cell_value(FieldKind::Text, &Cell::Int(7), 0).unwrap(),
            Value::Text("7".into())
        );
        assert_eq!(
            cell_value(FieldKind::Bool, &Cell::Int(1), 0).unwrap(),
            Value::Bool(true)
        );
        assert!(cell_value(FieldKind::Int, &Cell::Real(1.5), 0).is_err());
        assert!(cell_value(FieldKind::Bool, &Cell::Int(7), 0).is_err());
    }

    #[test]
    fn json_values_keep_their_types() {
        assert_eq!(json_cell(Some(&serde_json::json!(3))), Cell::Int(3));
        assert_eq!(json_cell(Some(&serde_json::json!(2.5))), Cell::Real(2.5));
        assert_eq!(json_cell(None), Cell::Null);
        assert_eq!(
            json_cell(Some(&serde_json::json!("x"))),
            Cell::Text("x".into())
        );
    }
}
