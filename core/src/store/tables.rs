//! The plain tables: SQL generated from a collection's declaration, and conversion of values
//! between [`Value`]s and SQLite columns.
//!
//! Every collection `c` has a table `"c"` with `id TEXT PRIMARY KEY`, one column per declared
//! field, and system columns prefixed with `_`: `_scopes` (the scopes this device holds the row
//! through, `\n`-separated), and for ledgers `_status`, `_code`, `_message`, `_position`, for
//! reference data `_version`. Lists are stored as JSON arrays of objects, so SQLite's `json_each`
//! can query them.

use rusqlite::types::ValueRef;

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

/// The statements that write a collection's plain table, built once when the store opens.
#[derive(Debug)]
pub(crate) struct TableSql {
    /// `?1` id, `?2` scopes, `?3..` fields: insert or replace a document's projection.
    pub(crate) upsert_document_row: String,
    /// `?1` id.
    pub(crate) delete_row: String,
    /// `?1` id, `?2` scopes, `?3` status, `?4` position, `?5..` fields.
    pub(crate) insert_ledger_row: String,
    /// `?1` id, `?2` version, `?3` scope, `?4..` fields; changes nothing for an older version.
    pub(crate) upsert_reference: String,
    /// `?1` id, `?2` scope: adds the scope to the row's scopes.
    pub(crate) add_scope: String,
}

impl TableSql {
    pub(crate) fn new(c: &Collection) -> Self {
        let t = quote(c.name());
        let cols: String = c
            .fields()
            .iter()
            .map(|f| format!(", {}", quote(&f.name)))
            .collect();
        let params_from = |first: usize| -> String {
            (0..c.fields().len())
                .map(|i| format!(", ?{}", i + first))
                .collect()
        };
        let updates: String = c
            .fields()
            .iter()
            .map(|f| format!(", {q} = excluded.{q}", q = quote(&f.name)))
            .collect();
        let union = scopes_union_sql("_scopes", "excluded._scopes");
        // An entry is immutable, but a pulled copy may carry fields this device's older rows
        // lack (added by a schema upgrade): fill those in.
        let fill_from_server: String = c
            .fields()
            .iter()
            .map(|f| format!(", {q} = coalesce({q}, excluded.{q})", q = quote(&f.name)))
            .collect();
        TableSql {
            upsert_document_row: format!(
                "INSERT INTO {t} (id, _scopes{cols}) VALUES (?1, ?2{p})
                 ON CONFLICT (id) DO UPDATE SET _scopes = excluded._scopes{updates}",
                p = params_from(3)
            ),
            delete_row: format!("DELETE FROM {t} WHERE id = ?1"),
            insert_ledger_row: format!(
                "INSERT INTO {t} (id, _scopes, _status, _position{cols}) VALUES (?1, ?2, ?3, ?4{p})
                 ON CONFLICT (id) DO UPDATE SET
                   _status = CASE WHEN excluded._status = 'accepted' THEN 'accepted' ELSE _status END,
                   _position = coalesce(excluded._position, _position),
                   _code = CASE WHEN excluded._status = 'accepted' THEN NULL ELSE _code END,
                   _message = CASE WHEN excluded._status = 'accepted' THEN NULL ELSE _message END,
                   _scopes = {union}{fill}",
                p = params_from(5),
                fill = fill_from_server
            ),
            upsert_reference: format!(
                "INSERT INTO {t} (id, _version, _scopes{cols}) VALUES (?1, ?2, ?3{p})
                 ON CONFLICT (id) DO UPDATE SET _version = excluded._version, _scopes = {union}{updates}
                 WHERE excluded._version >= {t}._version",
                p = params_from(4)
            ),
            add_scope: format!(
                "UPDATE {t} SET _scopes = {} WHERE id = ?1",
                scopes_union_sql("_scopes", "?2")
            ),
        }
    }
}

/// Binds every declared field of `record` (null when absent) from parameter `first` on, without
/// copying text.
pub(crate) fn bind_fields(
    stmt: &mut rusqlite::Statement<'_>,
    first: usize,
    c: &Collection,
    record: &Record,
) -> rusqlite::Result<()> {
    for (i, f) in c.fields().iter().enumerate() {
        let idx = first + i;
        match record.get(&f.name) {
            None | Some(Value::Null) => stmt.raw_bind_parameter(idx, rusqlite::types::Null)?,
            Some(Value::Text(t)) => stmt.raw_bind_parameter(idx, t.as_str())?,
            Some(Value::Int(n)) => stmt.raw_bind_parameter(idx, n)?,
            Some(Value::Real(r)) => stmt.raw_bind_parameter(idx, r)?,
            Some(Value::Bool(b)) => stmt.raw_bind_parameter(idx, i64::from(*b))?,
            Some(Value::List(items)) => stmt.raw_bind_parameter(idx, list_to_json(items))?,
        }
    }
    Ok(())
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

/// Marks a scope a local write put the record in, not yet confirmed by the server: `~branch:A`.
/// A pull through the scope confirms it (`branch:A`); a rebuild after a rejection forgets it.
pub(crate) const TENTATIVE: char = '~';

/// SQL expression: the scope list `existing` with the scope `new` (an expression) confirmed:
/// its tentative mark removed, the scope added once.
pub(crate) fn scopes_union_sql(existing: &str, new: &str) -> String {
    let rest = format!(
        "trim(replace(char(10) || {existing} || char(10), char(10) || '~' || {new} || char(10), char(10)), char(10))"
    );
    format!(
        "CASE WHEN instr(char(10) || {rest} || char(10), char(10) || {new} || char(10)) > 0 THEN {rest} \
         WHEN {rest} = '' THEN {new} \
         ELSE {rest} || char(10) || {new} END"
    )
}

/// The scope tokens a record is held through (confirmed or tentative), as stored.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Scopes(Vec<String>);

impl Scopes {
    pub(crate) fn parse(s: &str) -> Self {
        Scopes(
            s.split(SCOPE_SEP)
                .filter(|x| !x.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    pub(crate) fn join(&self) -> String {
        self.0.join("\n")
    }

    /// The server delivered the record through `scope`.
    pub(crate) fn confirm(&mut self, scope: &str) {
        self.0.retain(|t| t.strip_prefix(TENTATIVE) != Some(scope));
        if !self.0.iter().any(|t| t == scope) {
            self.0.push(scope.to_owned());
        }
    }

    /// A local write put the record in `scope`.
    pub(crate) fn add_tentative(&mut self, scope: &str) {
        if !self
            .0
            .iter()
            .any(|t| t.trim_start_matches(TENTATIVE) == scope)
        {
            self.0.push(format!("{TENTATIVE}{scope}"));
        }
    }

    /// Forgets `scope`, confirmed or tentative.
    pub(crate) fn remove(&mut self, scope: &str) {
        self.0.retain(|t| t.trim_start_matches(TENTATIVE) != scope);
    }

    /// Forgets the tentative scopes not in `keep`.
    pub(crate) fn retain_tentative(&mut self, keep: &[String]) {
        self.0.retain(|t| {
            t.strip_prefix(TENTATIVE)
                .is_none_or(|s| keep.iter().any(|k| k == s))
        });
    }

    /// Marks as tentative the followed scopes a write moved the record into: those in `after`
    /// but not in `before`. A write that leaves the scope fields alone adds nothing, so a record
    /// the server evicted is not kept alive by an edit made from stale fields.
    pub(crate) fn add_moved_into(
        &mut self,
        before: &[String],
        after: &[String],
        followed: &std::collections::BTreeSet<String>,
    ) {
        for s in after {
            if !before.contains(s) && followed.contains(s) {
                self.add_tentative(s);
            }
        }
    }

    /// Whether any of the scopes, confirmed or tentative, is followed.
    pub(crate) fn held(&self, followed: &std::collections::BTreeSet<String>) -> bool {
        self.0
            .iter()
            .any(|t| followed.contains(t.trim_start_matches(TENTATIVE)))
    }
}
