//! The plain tables: SQL generated from a collection's declaration, and conversion of values
//! between [`Value`]s and SQLite columns.
//!
//! Every collection `c` has a table `"c"` with `id TEXT PRIMARY KEY`, one column per declared
//! field, and system columns prefixed with `_`: `_scopes` (the scopes this device holds the row
//! through, `\n`-separated), and for ledgers `_status`, `_code`, `_message`, `_position`, for
//! reference data `_version`. Lists are stored as JSON arrays of objects, so SQLite's `json_each`
//! can query them.

use rusqlite::types::{Value as SqlValue, ValueRef};

use crate::error::{Error, Result};
use crate::schema::{Collection, Field, FieldType, Kind, ScalarType};
use crate::value::{Item, Record, Scalar, Value};

/// Quotes an identifier (declared names are already restricted to `[a-z0-9_]`).
pub(crate) fn quote(name: &str) -> String {
    format!("\"{name}\"")
}

pub(crate) fn column_sql(f: &Field) -> String {
    let ty = match &f.ty {
        FieldType::Scalar(ScalarType::Int | ScalarType::Timestamp | ScalarType::Bool) => "INTEGER",
        FieldType::Scalar(ScalarType::Real) => "REAL",
        FieldType::Scalar(ScalarType::Text) | FieldType::MergeText | FieldType::List(_) => "TEXT",
    };
    format!("{} {ty}", quote(&f.name))
}

pub(crate) fn create_table_sql(c: &Collection) -> String {
    let mut cols = vec!["id TEXT PRIMARY KEY NOT NULL".to_owned()];
    cols.extend(c.fields().iter().map(column_sql));
    cols.push("_scopes TEXT NOT NULL DEFAULT ''".to_owned());
    match c.kind() {
        Kind::Ledger => {
            cols.push("_status TEXT NOT NULL DEFAULT 'pending'".to_owned());
            cols.push("_code TEXT".to_owned());
            cols.push("_message TEXT".to_owned());
            cols.push("_position INTEGER".to_owned());
        }
        Kind::Reference => cols.push("_version INTEGER NOT NULL DEFAULT 0".to_owned()),
        Kind::Document => {}
    }
    format!(
        "CREATE TABLE IF NOT EXISTS {} (\n  {}\n) STRICT",
        quote(c.name()),
        cols.join(",\n  ")
    )
}

pub(crate) fn index_sql(c: &Collection, fields: &[String]) -> String {
    format!(
        "CREATE INDEX IF NOT EXISTS {} ON {} ({})",
        quote(&format!("{}({})", c.name(), fields.join(","))),
        quote(c.name()),
        fields
            .iter()
            .map(|f| quote(f))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// `"f1", "f2", ...` for all declared fields.
pub(crate) fn field_list(c: &Collection) -> String {
    c.fields()
        .iter()
        .map(|f| quote(&f.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The SQL value of a field.
pub(crate) fn to_sql(f: &Field, v: &Value) -> SqlValue {
    match (v, &f.ty) {
        (Value::Null, _) => SqlValue::Null,
        (Value::Bool(b), _) => SqlValue::Integer(i64::from(*b)),
        (Value::Int(i), _) => SqlValue::Integer(*i),
        (Value::Real(r), _) => SqlValue::Real(*r),
        (Value::Text(t), _) => SqlValue::Text(t.clone()),
        (Value::List(items), _) => SqlValue::Text(list_to_json(items)),
    }
}

fn list_to_json(items: &[Item]) -> String {
    let arr: Vec<serde_json::Value> = items
        .iter()
        .map(|item| {
            serde_json::Value::Object(
                item.iter()
                    .map(|(k, v)| {
                        let j = match v {
                            Scalar::Null => serde_json::Value::Null,
                            Scalar::Bool(b) => (*b).into(),
                            Scalar::Int(i) => (*i).into(),
                            Scalar::Real(r) => serde_json::Number::from_f64(*r)
                                .map_or(serde_json::Value::Null, serde_json::Value::Number),
                            Scalar::Text(t) => t.clone().into(),
                        };
                        (k.clone(), j)
                    })
                    .collect(),
            )
        })
        .collect();
    serde_json::Value::Array(arr).to_string()
}

fn json_to_list(
    collection: &str,
    f: &Field,
    keys: &[(String, ScalarType)],
    text: &str,
) -> Result<Value> {
    let bad = |detail: String| Error::InvalidValue {
        collection: collection.to_owned(),
        field: f.name.clone(),
        detail,
    };
    let parsed: Vec<serde_json::Map<String, serde_json::Value>> = serde_json::from_str(text)
        .map_err(|e| bad(format!("stored list is not valid JSON: {e}")))?;
    let mut items = Vec::with_capacity(parsed.len());
    for obj in parsed {
        let mut item = Item::new();
        for (k, t) in keys {
            let Some(j) = obj.get(k) else { continue };
            let s = match (t, j) {
                (_, serde_json::Value::Null) => continue,
                (ScalarType::Text, serde_json::Value::String(s)) => Scalar::Text(s.clone()),
                (ScalarType::Int | ScalarType::Timestamp, serde_json::Value::Number(n)) => {
                    Scalar::Int(
                        n.as_i64()
                            .ok_or_else(|| bad(format!("`{k}` is not an integer")))?,
                    )
                }
                (ScalarType::Real, serde_json::Value::Number(n)) => Scalar::Real(
                    n.as_f64()
                        .ok_or_else(|| bad(format!("`{k}` is not a number")))?,
                ),
                (ScalarType::Bool, serde_json::Value::Bool(b)) => Scalar::Bool(*b),
                _ => return Err(bad(format!("stored `{k}` has the wrong type"))),
            };
            item.insert(k.clone(), s);
        }
        items.push(item);
    }
    Ok(Value::List(items))
}

/// A field's value read from its column.
pub(crate) fn from_sql(collection: &str, f: &Field, v: ValueRef<'_>) -> Result<Value> {
    let wrong = || Error::InvalidValue {
        collection: collection.to_owned(),
        field: f.name.clone(),
        detail: "the stored column has an unexpected type".into(),
    };
    Ok(match (&f.ty, v) {
        (_, ValueRef::Null) => Value::Null,
        (FieldType::Scalar(ScalarType::Bool), ValueRef::Integer(i)) => Value::Bool(i != 0),
        (FieldType::Scalar(ScalarType::Int | ScalarType::Timestamp), ValueRef::Integer(i)) => {
            Value::Int(i)
        }
        (FieldType::Scalar(ScalarType::Real), ValueRef::Real(r)) => Value::Real(r),
        (FieldType::Scalar(ScalarType::Real), ValueRef::Integer(i)) => Value::Real(i as f64),
        (FieldType::Scalar(ScalarType::Text) | FieldType::MergeText, ValueRef::Text(t)) => {
            Value::Text(String::from_utf8_lossy(t).into_owned())
        }
        (FieldType::List(keys), ValueRef::Text(t)) => {
            json_to_list(collection, f, keys, &String::from_utf8_lossy(t))?
        }
        _ => return Err(wrong()),
    })
}

/// Reads the declared fields from `row`, starting at column `first`.
pub(crate) fn read_fields(c: &Collection, row: &rusqlite::Row<'_>, first: usize) -> Result<Record> {
    let mut record = Record::new();
    for (i, f) in c.fields().iter().enumerate() {
        record.insert(
            f.name.clone(),
            from_sql(c.name(), f, row.get_ref(first + i)?)?,
        );
    }
    Ok(record)
}

/// The separator of scope names inside `_scopes` columns.
pub(crate) const SCOPE_SEP: char = '\n';

/// SQL expression: `_scopes` of the existing row with the new scope `?new` (an expression) added.
pub(crate) fn scopes_union_sql(existing: &str, new: &str) -> String {
    format!(
        "CASE WHEN {existing} = '' THEN {new} \
         WHEN instr(char(10) || {existing} || char(10), char(10) || {new} || char(10)) > 0 THEN {existing} \
         ELSE {existing} || char(10) || {new} END"
    )
}

pub(crate) fn join_scopes(scopes: &[String]) -> String {
    scopes.join("\n")
}

pub(crate) fn split_scopes(s: &str) -> Vec<String> {
    s.split(SCOPE_SEP)
        .filter(|x| !x.is_empty())
        .map(str::to_owned)
        .collect()
}
