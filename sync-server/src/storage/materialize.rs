//! The plain relational tables that the back office, reports and other services read: one
//! table per collection, named after it (`outlets`, `sales`, `items`), one row per record with
//! one column per field, and one child table per list field (`sales_lines`: `parent_id`,
//! `idx` and the item's keys). Written in the same transaction as the change that caused them.
//!
//! Columns added by the engine start with `_`: `_scopes` (JSON array), `_position` (the change's
//! log position), `_device_id` (the device that wrote it; documents and ledgers) and
//! `_version` (reference data). Timestamps are milliseconds since the epoch, as on devices.
//! Child tables carry no foreign key (a per-row check would halve ledger ingest); the server
//! writes and deletes child rows with their parent, in the same transaction.

use std::collections::HashMap;

use lapak_core::schema::{FieldType, Kind, ScalarType};
use lapak_core::{Collection, Item, Record, Scalar, Schema, Value};

use super::db::{Arg, ColType, DbRow, Dialect, Tx, quote_ident};
use super::pipeline::{Pipe, Stopped};
use crate::engine::RowWrite;

fn col_type(t: ScalarType) -> ColType {
    match t {
        ScalarType::Text => ColType::Text,
        ScalarType::Int | ScalarType::Timestamp => ColType::Int,
        ScalarType::Real => ColType::Real,
        ScalarType::Bool => ColType::Bool,
    }
}

fn sql_type(d: Dialect, t: ColType) -> &'static str {
    match (d, t) {
        (_, ColType::Text) => "TEXT",
        (Dialect::Postgres, ColType::Int) => "BIGINT",
        (Dialect::Sqlite, ColType::Int) => "INTEGER",
        (Dialect::Postgres, ColType::Real) => "DOUBLE PRECISION",
        (Dialect::Sqlite, ColType::Real) => "REAL",
        (Dialect::Postgres, ColType::Bool) => "BOOLEAN",
        (Dialect::Sqlite, ColType::Bool) => "INTEGER",
        (d, ColType::Bytes) => d.bytes_type(),
    }
}

/// The name of the child table of a list field.
#[must_use]
pub fn child_table(collection: &str, field: &str) -> String {
    format!("{collection}_{field}")
}

/// The columns of a collection's table, in order, with their types.
fn columns(c: &Collection) -> Vec<(String, ColType)> {
    let mut cols = vec![("id".to_owned(), ColType::Text)];
    for f in c.fields() {
        match &f.ty {
            FieldType::Scalar(t) => cols.push((f.name.clone(), col_type(*t))),
            FieldType::MergeText => cols.push((f.name.clone(), ColType::Text)),
            FieldType::List(_) => {}
        }
    }
    cols.push(("_scopes".into(), ColType::Text));
    cols.push(("_position".into(), ColType::Int));
    match c.kind() {
        Kind::Reference => cols.push(("_version".into(), ColType::Int)),
        Kind::Document | Kind::Ledger => cols.push(("_device_id".into(), ColType::Text)),
    }
    cols
}

fn child_columns(keys: &[(String, ScalarType)]) -> Vec<(String, ColType)> {
    let mut cols = vec![
        ("parent_id".to_owned(), ColType::Text),
        ("idx".to_owned(), ColType::Int),
    ];
    cols.extend(keys.iter().map(|(k, t)| (k.clone(), col_type(*t))));
    cols
}

/// Every table name the schema materializes, for clash checks.
fn table_names(schema: &Schema) -> Vec<String> {
    let mut names = Vec::new();
    for c in schema.collections() {
        names.push(c.name().to_owned());
        for f in c.fields() {
            if matches!(f.ty, FieldType::List(_)) {
                names.push(child_table(c.name(), &f.name));
            }
        }
    }
    names
}

/// Why the materialized tables cannot follow the schema.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MaterializeError {
    /// Two tables would get the same name.
    #[error(
        "the schema needs two tables named `{0}` (a collection and a list field's child table): rename one"
    )]
    Clash(String),
    /// A table name Postgres would truncate.
    #[error(
        "table `{0}` would be longer than 63 bytes, which Postgres truncates: shorten the collection or list field name"
    )]
    TooLong(String),
    /// A name the engine reserves.
    #[error(
        "collection `{0}` uses a name reserved for the engine's own tables (`lapak_...`): rename it"
    )]
    Reserved(String),
    /// The database failed.
    #[error("database error: {0}")]
    Database(sqlx::Error),
}

impl From<sqlx::Error> for MaterializeError {
    fn from(e: sqlx::Error) -> Self {
        MaterializeError::Database(e)
    }
}

/// Creates the tables, columns and indexes the schema needs that do not exist yet. Only
/// additions happen: a field removed from the schema keeps its column (nullable), so nothing
/// stored is lost.
///
/// # Errors
/// [`MaterializeError`].
pub(crate) async fn ensure_tables(tx: &mut Tx, schema: &Schema) -> Result<(), MaterializeError> {
    let d = tx.dialect();
    let names = table_names(schema);
    for (i, n) in names.iter().enumerate() {
        if n.starts_with("lapak_") {
            return Err(MaterializeError::Reserved(n.clone()));
        }
        if names[..i].contains(n) {
            return Err(MaterializeError::Clash(n.clone()));
        }
        if n.len() > 63 {
            return Err(MaterializeError::TooLong(n.clone()));
        }
    }
    for c in schema.collections() {
        ensure_table(tx, d, c.name(), &columns(c), "id").await?;
        for idx in c.indexes() {
            let name = index_name(c.name(), &idx.fields);
            let cols: Vec<String> = idx.fields.iter().map(|f| quote_ident(f)).collect();
            tx.execute_dynamic(
                &format!(
                    "CREATE INDEX IF NOT EXISTS {} ON {} ({})",
                    quote_ident(&name),
                    quote_ident(c.name()),
                    cols.join(", ")
                ),
                &[],
            )
            .await?;
        }
        for f in c.fields() {
            if let FieldType::List(keys) = &f.ty {
                let child = child_table(c.name(), &f.name);
                ensure_table(tx, d, &child, &child_columns(keys), "parent_id, idx").await?;
                if c.attachments().contains(&f.name) {
                    // Who references a photo is asked on every upload and download.
                    tx.execute_dynamic(
                        &format!(
                            "CREATE INDEX IF NOT EXISTS {} ON {} ({})",
                            quote_ident(&index_name(&child, &["ref".to_owned()])),
                            quote_ident(&child),
                            quote_ident("ref")
                        ),
                        &[],
                    )
                    .await?;
                }
            }
        }
    }
    for (table, fields) in super::reports::REPORT_INDEXES {
        if schema.collection(table).is_err() {
            continue;
        }
        let fields: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
        let cols: Vec<String> = fields.iter().map(|f| quote_ident(f)).collect();
        tx.execute_dynamic(
            &format!(
                "CREATE INDEX IF NOT EXISTS {} ON {} ({})",
                quote_ident(&index_name(table, &fields)),
                quote_ident(table),
                cols.join(", ")
            ),
            &[],
        )
        .await?;
    }
    Ok(())
}

async fn ensure_table(
    tx: &mut Tx,
    d: Dialect,
    table: &str,
    cols: &[(String, ColType)],
    key: &str,
) -> Result<(), sqlx::Error> {
    let defs: Vec<String> = cols
        .iter()
        .map(|(n, t)| format!("{} {}", quote_ident(n), sql_type(d, *t)))
        .collect();
    tx.execute_dynamic(
        &format!(
            "CREATE TABLE IF NOT EXISTS {} ({}, PRIMARY KEY ({key}))",
            quote_ident(table),
            defs.join(", ")
        ),
        &[],
    )
    .await?;
    let existing: Vec<String> = match d {
        Dialect::Postgres => tx
            .fetch_all_dynamic(
                "SELECT column_name::text FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1",
                &[Arg::Text(table.to_owned())],
            )
            .await?,
        Dialect::Sqlite => tx
            .fetch_all_dynamic(
                "SELECT name FROM pragma_table_info($1)",
                &[Arg::Text(table.to_owned())],
            )
            .await?,
    }
    .iter()
    .filter_map(|r| r.text(0).ok())
    .collect();
    for (n, t) in cols {
        if !existing.contains(n) {
            tx.execute_dynamic(
                &format!(
                    "ALTER TABLE {} ADD COLUMN {} {}",
                    quote_ident(table),
                    quote_ident(n),
                    sql_type(d, *t)
                ),
                &[],
            )
            .await?;
        }
    }
    Ok(())
}

/// `<table>_<fields>_idx`, shortened with a hash when Postgres would truncate it (63 bytes).
fn index_name(table: &str, fields: &[String]) -> String {
    let name = format!("{table}_{}_idx", fields.join("_"));
    if name.len() <= 63 {
        return name;
    }
    let hash = crate::auth::token_hash(&name);
    let mut short: String = name.chars().take(50).collect();
    while short.len() > 50 {
        short.pop();
    }
    format!("{short}_{}", &hash[..12])
}

fn scalar_arg(t: ColType, v: Option<&Scalar>) -> Arg {
    match (t, v) {
        (ColType::Text, Some(Scalar::Text(s))) => Arg::Text(s.clone()),
        (ColType::Int, Some(Scalar::Int(i))) => Arg::Int(*i),
        (ColType::Real, Some(Scalar::Real(f))) => Arg::Real(*f),
        (ColType::Real, Some(Scalar::Int(i))) => Arg::Real(*i as f64),
        (ColType::Bool, Some(Scalar::Bool(b))) => Arg::Bool(*b),
        (t, _) => Arg::Null(t),
    }
}

fn value_arg(t: ColType, v: Option<&Value>) -> Arg {
    let s = match v {
        Some(Value::Text(s)) => Some(Scalar::Text(s.clone())),
        Some(Value::Int(i)) => Some(Scalar::Int(*i)),
        Some(Value::Real(f)) => Some(Scalar::Real(*f)),
        Some(Value::Bool(b)) => Some(Scalar::Bool(*b)),
        _ => None,
    };
    scalar_arg(t, s.as_ref())
}

/// Queues the writes of materialized rows: deletions, then upserts (ledger rows only insert), with their
/// child rows replaced. When a record appears twice, its last write wins.
pub(crate) async fn write_rows(
    pipe: &Pipe,
    schema: &Schema,
    rows: &[RowWrite],
) -> Result<(), Stopped> {
    let mut last: HashMap<(&str, &str), &RowWrite> = HashMap::new();
    let mut order: Vec<(&str, &str)> = Vec::new();
    for r in rows {
        let k = (r.collection.as_str(), r.id.as_str());
        if last.insert(k, r).is_none() {
            order.push(k);
        }
    }
    for c in schema.collections() {
        let writes: Vec<&RowWrite> = order
            .iter()
            .filter(|(coll, _)| *coll == c.name())
            .filter_map(|k| last.get(k).copied())
            .collect();
        if writes.is_empty() {
            continue;
        }
        let table = quote_ident(c.name());
        let lists: Vec<(&str, &[(String, ScalarType)])> = c
            .fields()
            .iter()
            .filter_map(|f| match &f.ty {
                FieldType::List(keys) => Some((f.name.as_str(), keys.as_slice())),
                _ => None,
            })
            .collect();
        // The child rows of rows about to be replaced or deleted, and the deleted rows.
        if c.kind() != Kind::Ledger {
            for w in &writes {
                for (field, _) in &lists {
                    pipe.execute_dynamic(
                        &format!(
                            "DELETE FROM {} WHERE parent_id = $1",
                            quote_ident(&child_table(c.name(), field))
                        ),
                        &[Arg::Text(w.id.clone())],
                    )
                    .await?;
                }
                if w.row.is_none() {
                    pipe.execute_dynamic(
                        &format!("DELETE FROM {table} WHERE id = $1"),
                        &[Arg::Text(w.id.clone())],
                    )
                    .await?;
                }
            }
        }
        let cols = columns(c);
        let mut parent_rows = Vec::new();
        let mut child_rows: Vec<Vec<Vec<Arg>>> = vec![Vec::new(); lists.len()];
        for w in &writes {
            let Some(row) = &w.row else { continue };
            let mut args = Vec::with_capacity(cols.len());
            for (name, t) in &cols {
                args.push(match name.as_str() {
                    "id" => Arg::Text(w.id.clone()),
                    "_scopes" => Arg::Text(serde_json::to_string(&row.scopes).unwrap_or_default()),
                    "_position" => Arg::Int(i64::try_from(row.position).unwrap_or(i64::MAX)),
                    "_version" => Arg::Int(i64::try_from(row.position).unwrap_or(i64::MAX)),
                    "_device_id" => row
                        .device_id
                        .map_or(Arg::Null(ColType::Text), |d| Arg::Text(d.to_string())),
                    field => value_arg(*t, row.record.get(field)),
                });
            }
            parent_rows.push(args);
            for (li, (field, keys)) in lists.iter().enumerate() {
                if let Some(Value::List(items)) = row.record.get(*field) {
                    for (i, item) in items.iter().enumerate() {
                        let mut args = vec![
                            Arg::Text(w.id.clone()),
                            Arg::Int(i64::try_from(i).unwrap_or(i64::MAX)),
                        ];
                        for (k, t) in *keys {
                            args.push(scalar_arg(col_type(*t), item.get(k)));
                        }
                        child_rows[li].push(args);
                    }
                }
            }
        }
        let col_refs: Vec<(&str, ColType)> = cols.iter().map(|(n, t)| (n.as_str(), *t)).collect();
        let suffix = if c.kind() == Kind::Ledger {
            "ON CONFLICT (id) DO NOTHING".to_owned()
        } else {
            let sets: Vec<String> = cols[1..]
                .iter()
                .map(|(n, _)| format!("{0} = excluded.{0}", quote_ident(n)))
                .collect();
            format!("ON CONFLICT (id) DO UPDATE SET {}", sets.join(", "))
        };
        pipe.insert_rows(c.name(), &col_refs, parent_rows, &suffix)
            .await?;
        for ((field, keys), rows) in lists.iter().zip(child_rows) {
            let ccols: Vec<(String, ColType)> = child_columns(keys);
            let refs: Vec<(&str, ColType)> = ccols.iter().map(|(n, t)| (n.as_str(), *t)).collect();
            pipe.insert_rows(
                &child_table(c.name(), field),
                &refs,
                rows,
                "ON CONFLICT DO NOTHING",
            )
            .await?;
        }
    }
    Ok(())
}

fn read_scalar(row: &DbRow, i: usize, t: ColType) -> Result<Scalar, sqlx::Error> {
    Ok(match t {
        ColType::Text => row.opt_text(i)?.map_or(Scalar::Null, Scalar::Text),
        ColType::Int => row.opt_int(i)?.map_or(Scalar::Null, Scalar::Int),
        ColType::Real => row.opt_real(i)?.map_or(Scalar::Null, Scalar::Real),
        ColType::Bool => row.opt_bool(i)?.map_or(Scalar::Null, Scalar::Bool),
        ColType::Bytes => Scalar::Null,
    })
}

/// Reads records back from a collection's plain table (with their list fields from the child
/// tables): those whose text columns equal the given values, for example `[("id", "INV-1")]`
/// or `[("price_list", "retail"), ("sku", "A-1")]`. Several filters are read in one query.
///
/// # Errors
/// Database errors.
pub(crate) async fn read_rows(
    tx: &mut Tx,
    c: &Collection,
    fields: &[&str],
    filters: &[Vec<String>],
) -> Result<Vec<(String, Record)>, sqlx::Error> {
    let cols: Vec<(String, ColType)> = columns(c)
        .into_iter()
        .filter(|(n, _)| !n.starts_with('_'))
        .collect();
    let select: Vec<String> = cols.iter().map(|(n, _)| quote_ident(n)).collect();
    let mut out: Vec<(String, Record)> = Vec::new();
    let per_chunk = match tx.dialect() {
        Dialect::Postgres => 5_000,
        Dialect::Sqlite => (400 / fields.len().max(1)).max(1),
    };
    for chunk in filters.chunks(per_chunk) {
        let mut args = Vec::new();
        let condition = match tx.dialect() {
            // One array per field: a generic plan of a long chain of ORs scans the table.
            Dialect::Postgres => {
                let names: Vec<String> = fields.iter().map(|n| quote_ident(n)).collect();
                let arrays: Vec<String> = (1..=fields.len())
                    .map(|i| format!("${i}::text[]"))
                    .collect();
                for i in 0..fields.len() {
                    args.push(Arg::TextList(
                        chunk
                            .iter()
                            .map(|f| f.get(i).cloned().unwrap_or_default())
                            .collect(),
                    ));
                }
                format!(
                    "({}) IN (SELECT * FROM UNNEST({}))",
                    names.join(", "),
                    arrays.join(", ")
                )
            }
            Dialect::Sqlite => {
                let mut ors = Vec::new();
                for f in chunk {
                    let ands: Vec<String> = fields
                        .iter()
                        .zip(f)
                        .map(|(name, v)| {
                            args.push(Arg::Text(v.clone()));
                            format!("{} = ${}", quote_ident(name), args.len())
                        })
                        .collect();
                    ors.push(format!("({})", ands.join(" AND ")));
                }
                ors.join(" OR ")
            }
        };
        let rows = tx
            .fetch_all_dynamic(
                &format!(
                    "SELECT {} FROM {} WHERE {condition}",
                    select.join(", "),
                    quote_ident(c.name()),
                ),
                &args,
            )
            .await?;
        for r in &rows {
            let mut record = Record::new();
            let mut id = String::new();
            for (i, (n, t)) in cols.iter().enumerate() {
                if n == "id" {
                    id = r.text(i)?;
                    continue;
                }
                let v: Value = read_scalar(r, i, *t)?.into();
                if v != Value::Null {
                    record.insert(n.clone(), v);
                }
            }
            out.push((id, record));
        }
    }
    for f in c.fields() {
        let FieldType::List(keys) = &f.ty else {
            continue;
        };
        if out.is_empty() {
            break;
        }
        let ccols = child_columns(keys);
        let select: Vec<String> = ccols.iter().map(|(n, _)| quote_ident(n)).collect();
        let mut items: HashMap<String, Vec<Item>> = HashMap::new();
        for chunk in out.chunks(400) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let args: Vec<Arg> = chunk.iter().map(|(id, _)| Arg::Text(id.clone())).collect();
            let rows = tx
                .fetch_all_dynamic(
                    &format!(
                        "SELECT {} FROM {} WHERE parent_id IN ({}) ORDER BY parent_id, idx",
                        select.join(", "),
                        quote_ident(&child_table(c.name(), &f.name)),
                        marks.join(", ")
                    ),
                    &args,
                )
                .await?;
            for r in &rows {
                let mut item = Item::new();
                for (i, (n, t)) in ccols.iter().enumerate().skip(2) {
                    let s = read_scalar(r, i, *t)?;
                    if s != Scalar::Null {
                        item.insert(n.clone(), s);
                    }
                }
                items.entry(r.text(0)?).or_default().push(item);
            }
        }
        for (id, record) in &mut out {
            if let Some(list) = items.remove(id.as_str()) {
                record.insert(f.name.clone(), Value::List(list));
            }
        }
    }
    Ok(out)
}
