//! Collections declared once, in Rust: name, kind, typed fields, indexes and scope rules.
//!
//! The same [`Schema`] value creates the device's plain tables (see `store`) and, on the server,
//! the materialized tables. It is stored in each device database so that opening the database
//! with a newer declaration upgrades it in place and an older one is refused.
//!
//! ```
//! use lapak_core::schema::{Collection, Schema, ScalarType};
//! let schema = Schema::builder(1)
//!     .collection(
//!         Collection::document("outlets")
//!             .text("name")
//!             .text("territory")
//!             .merge_text("notes")
//!             .index(&["territory"])
//!             .scope_from_field("territory", "territory"),
//!     )
//!     .collection(
//!         Collection::ledger("sales")
//!             .text("branch")
//!             .int("total")
//!             .list("lines", &[("sku", ScalarType::Text), ("qty", ScalarType::Int)])
//!             .scope_from_field("branch", "branch"),
//!     )
//!     .build()
//!     .unwrap();
//! assert_eq!(schema.collection("outlets").unwrap().fields().len(), 3);
//! ```

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::value::{Item, Record, Scalar, Value};

/// The three kinds of collection; each has its own merge rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Records people edit concurrently; one Automerge document each, merged field by field.
    Document,
    /// Append-only facts, written once on a device and judged by the server.
    Ledger,
    /// Master data owned by the back office; read-only on devices.
    Reference,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Document => "document",
            Kind::Ledger => "ledger",
            Kind::Reference => "reference",
        })
    }
}

/// Type of a scalar: a plain field, or one key of a list item.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScalarType {
    /// UTF-8 text.
    Text,
    /// 64-bit integer (money in minor units, quantities).
    Int,
    /// Finite 64-bit float (GPS coordinates).
    Real,
    /// Boolean.
    Bool,
    /// Milliseconds since the Unix epoch, UTC.
    Timestamp,
}

/// Type of a field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldType {
    /// A scalar; concurrent sets resolve to one winner.
    Scalar(ScalarType),
    /// Text that merges by character (notes, addresses). Documents only.
    MergeText,
    /// A list of flat items that merges by element (order lines).
    List(Vec<(String, ScalarType)>),
}

/// One declared field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    /// Column name.
    pub name: String,
    /// Its type.
    pub ty: FieldType,
    /// Whether creating or appending a record must give it a non-null value.
    pub required: bool,
}

/// A secondary index on the plain table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Index {
    /// Indexed fields, in order.
    pub fields: Vec<String>,
}

/// How a record's scopes are derived from its fields.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeRule {
    /// The whole organisation: `org`.
    Org,
    /// `<prefix>:<value of field>`, for example `branch:JKT-01` from the `branch` field.
    Field {
        /// The text field read.
        field: String,
        /// The scope prefix (`branch`, `territory`, `user`, ...).
        prefix: String,
    },
}

/// A declared collection.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    name: String,
    kind: Kind,
    fields: Vec<Field>,
    indexes: Vec<Index>,
    scopes: Vec<ScopeRule>,
    /// Reference rows the server derives from accepted facts (stock levels, dues): nobody
    /// writes them, not even the back office. Absent from older stored declarations.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    derived: bool,
    /// List fields whose items reference photos (attachments) by their `ref`, the blob's
    /// content address. Absent from older stored declarations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<String>,
}

/// A whole declaration: a version number and its collections.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    version: u32,
    collections: Vec<Collection>,
}

/// Builds a [`Schema`]; [`SchemaBuilder::build`] checks it.
#[derive(Debug)]
pub struct SchemaBuilder {
    version: u32,
    collections: Vec<Collection>,
}

/// Names the engine keeps for itself.
pub const RESERVED_FIELDS: &[&str] = &["id"];

impl Schema {
    /// Starts a declaration with its version number (bump it whenever collections change).
    #[must_use]
    pub fn builder(version: u32) -> SchemaBuilder {
        SchemaBuilder {
            version,
            collections: Vec::new(),
        }
    }

    /// The declaration's version.
    #[must_use]
    pub fn version(&self) -> u32 {
        self.version
    }

    /// All collections, in declaration order.
    #[must_use]
    pub fn collections(&self) -> &[Collection] {
        &self.collections
    }

    /// A collection by name.
    ///
    /// # Errors
    /// [`Error::UnknownCollection`] when it is not declared.
    pub fn collection(&self, name: &str) -> Result<&Collection> {
        self.collections
            .iter()
            .find(|c| c.name == name)
            .ok_or_else(|| Error::UnknownCollection(name.to_owned()))
    }
}

impl SchemaBuilder {
    /// Adds a collection.
    #[must_use]
    pub fn collection(mut self, collection: Collection) -> Self {
        self.collections.push(collection);
        self
    }

    /// Checks the declaration and returns it.
    ///
    /// # Errors
    /// [`Error::InvalidSchema`] naming the first problem found.
    pub fn build(self) -> Result<Schema> {
        let mut names = BTreeSet::new();
        for c in &self.collections {
            check_identifier(&c.name, "collection")?;
            if c.name.starts_with("lapak_") || c.name.starts_with("sqlite_") {
                return Err(invalid(format!(
                    "collection name `{}` uses a reserved prefix (lapak_, sqlite_)",
                    c.name
                )));
            }
            if !names.insert(c.name.as_str()) {
                return Err(invalid(format!(
                    "collection `{}` is declared twice",
                    c.name
                )));
            }
            c.check()?;
        }
        Ok(Schema {
            version: self.version,
            collections: self.collections,
        })
    }
}

fn invalid(msg: String) -> Error {
    Error::InvalidSchema(msg)
}

fn check_identifier(name: &str, what: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(invalid(format!(
            "{what} name `{name}` must start with a-z and hold only a-z, 0-9 and _ (at most 63 characters)"
        )))
    }
}

impl Collection {
    fn new(name: &str, kind: Kind) -> Self {
        Collection {
            name: name.to_owned(),
            kind,
            fields: Vec::new(),
            indexes: Vec::new(),
            scopes: Vec::new(),
            derived: false,
            attachments: Vec::new(),
        }
    }

    /// Declares a document collection.
    #[must_use]
    pub fn document(name: &str) -> Self {
        Self::new(name, Kind::Document)
    }

    /// Declares a ledger collection.
    #[must_use]
    pub fn ledger(name: &str) -> Self {
        Self::new(name, Kind::Ledger)
    }

    /// Declares a reference-data collection.
    #[must_use]
    pub fn reference(name: &str) -> Self {
        Self::new(name, Kind::Reference)
    }

    fn field(mut self, name: &str, ty: FieldType, required: bool) -> Self {
        self.fields.push(Field {
            name: name.to_owned(),
            ty,
            required,
        });
        self
    }

    /// An optional scalar field of any type.
    #[must_use]
    pub fn scalar(self, name: &str, ty: ScalarType) -> Self {
        self.field(name, FieldType::Scalar(ty), false)
    }

    /// A required scalar field.
    #[must_use]
    pub fn required(self, name: &str, ty: ScalarType) -> Self {
        self.field(name, FieldType::Scalar(ty), true)
    }

    /// An optional text field.
    #[must_use]
    pub fn text(self, name: &str) -> Self {
        self.scalar(name, ScalarType::Text)
    }

    /// An optional integer field.
    #[must_use]
    pub fn int(self, name: &str) -> Self {
        self.scalar(name, ScalarType::Int)
    }

    /// An optional float field.
    #[must_use]
    pub fn real(self, name: &str) -> Self {
        self.scalar(name, ScalarType::Real)
    }

    /// An optional boolean field.
    #[must_use]
    pub fn bool(self, name: &str) -> Self {
        self.scalar(name, ScalarType::Bool)
    }

    /// An optional timestamp field (ms since the epoch).
    #[must_use]
    pub fn timestamp(self, name: &str) -> Self {
        self.scalar(name, ScalarType::Timestamp)
    }

    /// A text field that merges by character (documents only).
    #[must_use]
    pub fn merge_text(self, name: &str) -> Self {
        self.field(name, FieldType::MergeText, false)
    }

    /// A list field whose items have the given keys.
    #[must_use]
    pub fn list(self, name: &str, keys: &[(&str, ScalarType)]) -> Self {
        let keys = keys.iter().map(|(k, t)| ((*k).to_owned(), *t)).collect();
        self.field(name, FieldType::List(keys), false)
    }

    /// A list of photos (attachments): items `ref` (the blob's content address,
    /// `sha256:<hex>`), `taken_at` and `caption`. The photos' bytes travel apart from the
    /// record, after it; the server lets a user fetch a photo only when a record of their
    /// scopes references it.
    #[must_use]
    pub fn photos(mut self, name: &str) -> Self {
        use ScalarType::{Text, Timestamp};
        self.attachments.push(name.to_owned());
        self.list(
            name,
            &[("ref", Text), ("taken_at", Timestamp), ("caption", Text)],
        )
    }

    /// An index over the given fields.
    #[must_use]
    pub fn index(mut self, fields: &[&str]) -> Self {
        self.indexes.push(Index {
            fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        });
        self
    }

    /// Every record of this collection belongs to the `org` scope.
    #[must_use]
    pub fn scope_org(mut self) -> Self {
        self.scopes.push(ScopeRule::Org);
        self
    }

    /// Records belong to the scope `<prefix>:<value of field>`.
    #[must_use]
    pub fn scope_from_field(mut self, field: &str, prefix: &str) -> Self {
        self.scopes.push(ScopeRule::Field {
            field: field.to_owned(),
            prefix: prefix.to_owned(),
        });
        self
    }

    /// Marks a reference collection as derived by the server from accepted facts (its rows
    /// follow running tallies: stock levels, dues): read-only on devices like all reference
    /// data, and refused to the back office's writes too.
    #[must_use]
    pub fn derived(mut self) -> Self {
        self.derived = true;
        self
    }

    /// The collection's name (also its table's name).
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Its kind.
    #[must_use]
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Whether the server derives its rows from accepted facts ([`Collection::derived`]).
    #[must_use]
    pub fn is_derived(&self) -> bool {
        self.derived
    }

    /// Its list fields of photos ([`Collection::photos`]).
    #[must_use]
    pub fn attachments(&self) -> &[String] {
        &self.attachments
    }

    /// Its fields, in declaration order.
    #[must_use]
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// Its indexes.
    #[must_use]
    pub fn indexes(&self) -> &[Index] {
        &self.indexes
    }

    /// Its scope rules.
    #[must_use]
    pub fn scope_rules(&self) -> &[ScopeRule] {
        &self.scopes
    }

    /// A field by name.
    ///
    /// # Errors
    /// [`Error::UnknownField`] when it is not declared.
    pub fn field_named(&self, name: &str) -> Result<&Field> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| Error::UnknownField {
                collection: self.name.clone(),
                field: name.to_owned(),
            })
    }

    fn check(&self) -> Result<()> {
        let mut names = BTreeSet::new();
        for f in &self.fields {
            check_identifier(&f.name, "field")?;
            if RESERVED_FIELDS.contains(&f.name.as_str()) {
                return Err(invalid(format!(
                    "`{}.{}`: `id` is reserved for the record id",
                    self.name, f.name
                )));
            }
            if !names.insert(f.name.as_str()) {
                return Err(invalid(format!(
                    "field `{}.{}` is declared twice",
                    self.name, f.name
                )));
            }
            match &f.ty {
                FieldType::MergeText if self.kind != Kind::Document => {
                    return Err(invalid(format!(
                        "`{}.{}`: merge_text fields exist only in document collections",
                        self.name, f.name
                    )));
                }
                FieldType::List(keys) => {
                    let mut key_names = BTreeSet::new();
                    for (k, _) in keys {
                        check_identifier(k, "list key")?;
                        if !key_names.insert(k.as_str()) {
                            return Err(invalid(format!(
                                "`{}.{}`: list key `{k}` is declared twice",
                                self.name, f.name
                            )));
                        }
                    }
                }
                _ => {}
            }
        }
        for idx in &self.indexes {
            if idx.fields.is_empty() {
                return Err(invalid(format!(
                    "`{}`: an index needs at least one field",
                    self.name
                )));
            }
            for name in &idx.fields {
                let f = self.field_named(name).map_err(|_| {
                    invalid(format!(
                        "`{}`: index names unknown field `{name}`",
                        self.name
                    ))
                })?;
                if matches!(f.ty, FieldType::List(_)) {
                    return Err(invalid(format!(
                        "`{}.{name}`: list fields cannot be indexed",
                        self.name
                    )));
                }
            }
        }
        for rule in &self.scopes {
            if let ScopeRule::Field { field, prefix } = rule {
                check_identifier(prefix, "scope prefix")?;
                let f = self.field_named(field).map_err(|_| {
                    invalid(format!(
                        "`{}`: scope rule names unknown field `{field}`",
                        self.name
                    ))
                })?;
                if f.ty != FieldType::Scalar(ScalarType::Text) {
                    return Err(invalid(format!(
                        "`{}.{field}`: scopes can only be derived from plain text fields",
                        self.name
                    )));
                }
            }
        }
        if self.derived && self.kind != Kind::Reference {
            return Err(invalid(format!(
                "`{}`: only reference collections can be derived by the server",
                self.name
            )));
        }
        if self.scopes.is_empty() {
            return Err(invalid(format!(
                "`{}` declares no scope rule: say who may see its records (scope_org, scope_from_field)",
                self.name
            )));
        }
        Ok(())
    }

    /// Reads a JSON object as a record of this collection: strings for text, integers for
    /// `int` and `timestamp` (ms since the epoch), numbers for `real`, booleans, arrays of
    /// objects for lists, `null` for null. Only the JSON types are checked here; use
    /// [`Collection::check_record`] for required fields.
    ///
    /// # Errors
    /// A message naming the field and what it expected.
    pub fn record_from_json(
        &self,
        obj: &serde_json::Map<String, serde_json::Value>,
    ) -> std::result::Result<Record, String> {
        let mut record = Record::new();
        for (k, v) in obj {
            let f = self
                .field_named(k)
                .map_err(|_| format!("`{}` has no field `{k}`", self.name))?;
            let value = match (&f.ty, v) {
                (_, serde_json::Value::Null) => Value::Null,
                (FieldType::Scalar(t), v) => json_scalar(*t, v)
                    .map_err(|e| format!("field `{k}`: {e}"))?
                    .into(),
                (FieldType::MergeText, serde_json::Value::String(s)) => Value::Text(s.clone()),
                (FieldType::List(keys), serde_json::Value::Array(items)) => {
                    let mut out = Vec::with_capacity(items.len());
                    for item in items {
                        let serde_json::Value::Object(o) = item else {
                            return Err(format!("field `{k}`: list items are objects"));
                        };
                        let mut it = Item::new();
                        for (ik, iv) in o {
                            let (_, t) = keys
                                .iter()
                                .find(|(n, _)| n == ik)
                                .ok_or_else(|| format!("field `{k}`: items have no key `{ik}`"))?;
                            it.insert(
                                ik.clone(),
                                json_scalar(*t, iv)
                                    .map_err(|e| format!("field `{k}.{ik}`: {e}"))?,
                            );
                        }
                        out.push(it);
                    }
                    Value::List(out)
                }
                (FieldType::MergeText, v) => {
                    return Err(format!("field `{k}`: expected text, got {v}"));
                }
                (FieldType::List(_), v) => {
                    return Err(format!("field `{k}`: expected a list of objects, got {v}"));
                }
            };
            record.insert(k.clone(), value);
        }
        Ok(record)
    }

    /// The scopes a record with these fields belongs to, sorted and without duplicates.
    /// A scope field that is null or empty contributes no scope.
    #[must_use]
    pub fn scopes_of(&self, record: &Record) -> Vec<String> {
        let mut out = BTreeSet::new();
        for rule in &self.scopes {
            match rule {
                ScopeRule::Org => {
                    out.insert("org".to_owned());
                }
                ScopeRule::Field { field, prefix } => {
                    if let Some(Value::Text(v)) = record.get(field)
                        && !v.is_empty()
                    {
                        out.insert(format!("{prefix}:{v}"));
                    }
                }
            }
        }
        out.into_iter().collect()
    }

    /// Checks one value against its field's type.
    ///
    /// # Errors
    /// [`Error::UnknownField`] or [`Error::InvalidValue`].
    pub fn check_value(&self, field: &str, value: &Value) -> Result<()> {
        self.check_value_as(field, value, Strictness::Local)
    }

    /// Checks a value that came from the server: written by an app of this or a newer schema,
    /// so nulls in required fields (a later schema may have relaxed them) and list item keys this
    /// app does not know (a later schema may have added them) are accepted; only the types of
    /// what this app declares must fit.
    ///
    /// # Errors
    /// [`Error::UnknownField`] or [`Error::InvalidValue`].
    pub fn check_pulled_value(&self, field: &str, value: &Value) -> Result<()> {
        self.check_value_as(field, value, Strictness::Pulled)
    }

    fn check_value_as(&self, field: &str, value: &Value, strictness: Strictness) -> Result<()> {
        let f = self.field_named(field)?;
        let bad = |detail: String| Error::InvalidValue {
            collection: self.name.clone(),
            field: field.to_owned(),
            detail,
        };
        match (&f.ty, value) {
            (_, Value::Null) if f.required && strictness == Strictness::Local => {
                Err(bad("the field is required".into()))
            }
            (_, Value::Null) => Ok(()),
            (FieldType::MergeText, Value::Text(_)) => Ok(()),
            (FieldType::Scalar(t), v) => check_scalar_type(*t, v)
                .map_err(|expected| bad(format!("expected {expected}, got {}", v.type_name()))),
            (FieldType::List(keys), Value::List(items)) => {
                for (i, item) in items.iter().enumerate() {
                    check_item(keys, item, strictness)
                        .map_err(|d| bad(format!("item {i}: {d}")))?;
                }
                Ok(())
            }
            (FieldType::MergeText, v) => Err(bad(format!("expected text, got {}", v.type_name()))),
            (FieldType::List(_), v) => Err(bad(format!("expected list, got {}", v.type_name()))),
        }
    }

    /// Checks a list item written on this device against a list field's keys.
    pub(crate) fn check_item(
        &self,
        keys: &[(String, ScalarType)],
        item: &Item,
    ) -> std::result::Result<(), String> {
        check_item(keys, item, Strictness::Local)
    }

    /// Checks a whole record: known fields, right types, required fields present.
    ///
    /// # Errors
    /// [`Error::UnknownField`] or [`Error::InvalidValue`].
    pub fn check_record(&self, record: &Record) -> Result<()> {
        for (name, value) in record {
            self.check_value(name, value)?;
        }
        for f in &self.fields {
            if f.required && record.get(&f.name).is_none_or(|v| *v == Value::Null) {
                return Err(Error::InvalidValue {
                    collection: self.name.clone(),
                    field: f.name.clone(),
                    detail: "the field is required".into(),
                });
            }
        }
        Ok(())
    }
}

/// How strictly values are checked: a device's own writes, or data pulled from the server.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Strictness {
    Local,
    Pulled,
}

fn check_item(
    keys: &[(String, ScalarType)],
    item: &Item,
    strictness: Strictness,
) -> std::result::Result<(), String> {
    for (k, v) in item {
        let Some((_, t)) = keys.iter().find(|(name, _)| name == k) else {
            if strictness == Strictness::Pulled {
                continue;
            }
            return Err(format!("unknown key `{k}`"));
        };
        if matches!(v, Scalar::Null) {
            continue;
        }
        check_scalar_type(*t, &Value::from(v.clone()))
            .map_err(|expected| format!("`{k}`: expected {expected}, got {}", v.type_name()))?;
    }
    Ok(())
}

fn check_scalar_type(t: ScalarType, v: &Value) -> std::result::Result<(), &'static str> {
    match (t, v) {
        (ScalarType::Text, Value::Text(_))
        | (ScalarType::Int | ScalarType::Timestamp, Value::Int(_))
        | (ScalarType::Bool, Value::Bool(_)) => Ok(()),
        (ScalarType::Real, Value::Real(r)) if r.is_finite() => Ok(()),
        (ScalarType::Real, Value::Real(_)) => Err("a finite number"),
        (ScalarType::Real, Value::Int(_)) => Err("real (write 1.0, not 1)"),
        (ScalarType::Text, _) => Err("text"),
        (ScalarType::Int, _) => Err("int"),
        (ScalarType::Timestamp, _) => Err("timestamp (int, ms since the epoch)"),
        (ScalarType::Bool, _) => Err("bool"),
        (ScalarType::Real, _) => Err("real"),
    }
}

fn json_scalar(ty: ScalarType, v: &serde_json::Value) -> std::result::Result<Scalar, String> {
    Ok(match (ty, v) {
        (_, serde_json::Value::Null) => Scalar::Null,
        (ScalarType::Text, serde_json::Value::String(s)) => Scalar::Text(s.clone()),
        (ScalarType::Int | ScalarType::Timestamp, serde_json::Value::Number(n)) if n.is_i64() => {
            Scalar::Int(n.as_i64().unwrap_or_default())
        }
        (ScalarType::Real, serde_json::Value::Number(n)) => {
            Scalar::Real(n.as_f64().unwrap_or_default())
        }
        (ScalarType::Bool, serde_json::Value::Bool(b)) => Scalar::Bool(*b),
        (ty, v) => {
            let want = match ty {
                ScalarType::Text => "text",
                ScalarType::Int => "an integer",
                ScalarType::Timestamp => "an integer (ms since the epoch)",
                ScalarType::Real => "a number",
                ScalarType::Bool => "true or false",
            };
            return Err(format!("expected {want}, got {v}"));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record;

    fn outlets() -> Collection {
        Collection::document("outlets")
            .required("name", ScalarType::Text)
            .text("territory")
            .merge_text("notes")
            .scope_from_field("territory", "territory")
    }

    #[test]
    fn rejects_bad_declarations() {
        let cases = [
            Collection::document("Outlets").text("a").scope_org(),
            Collection::document("lapak_x").text("a").scope_org(),
            Collection::document("o").text("id").scope_org(),
            Collection::document("o").text("a").text("a").scope_org(),
            Collection::ledger("o").merge_text("a").scope_org(),
            Collection::document("o")
                .text("a")
                .index(&["b"])
                .scope_org(),
            Collection::document("o")
                .int("a")
                .scope_from_field("a", "branch"),
            Collection::document("o").text("a"),
            Collection::ledger("o").text("a").scope_org().derived(),
        ];
        for c in cases {
            let name = c.name().to_owned();
            let err = Schema::builder(1).collection(c).build().unwrap_err();
            assert!(matches!(err, Error::InvalidSchema(_)), "{name}: {err}");
        }
        let dup = Schema::builder(1)
            .collection(outlets())
            .collection(outlets())
            .build();
        assert!(dup.is_err());
    }

    #[test]
    fn a_derived_flag_is_kept_and_absent_from_older_declarations() {
        let c = Collection::reference("levels")
            .required("qty", ScalarType::Int)
            .scope_org()
            .derived();
        assert!(c.is_derived());
        let json = serde_json::to_string(&c).unwrap();
        assert_eq!(serde_json::from_str::<Collection>(&json).unwrap(), c);
        // A collection that is not derived serializes as before the flag existed, so stored
        // declarations of older versions still compare equal.
        let plain = outlets();
        let json = serde_json::to_string(&plain).unwrap();
        assert!(!json.contains("derived"), "{json}");
        assert!(
            !serde_json::from_str::<Collection>(&json)
                .unwrap()
                .is_derived()
        );
    }

    #[test]
    fn derives_scopes_from_fields() {
        let c = outlets();
        assert_eq!(
            c.scopes_of(&record! {"territory" => "T1"}),
            vec!["territory:T1".to_owned()]
        );
        assert!(c.scopes_of(&record! {"territory" => ""}).is_empty());
        let c = c.scope_org();
        assert_eq!(c.scopes_of(&Record::new()), vec!["org".to_owned()]);
    }

    #[test]
    fn checks_values() {
        let c = outlets();
        assert!(c.check_record(&record! {"name" => "Toko"}).is_ok());
        assert!(
            c.check_record(&record! {"territory" => "T1"}).is_err(),
            "name is required"
        );
        assert!(c.check_record(&record! {"name" => 3}).is_err());
        assert!(
            c.check_record(&record! {"name" => "x", "nope" => 1})
                .is_err()
        );
        let l = Collection::ledger("sales")
            .real("gps")
            .list("lines", &[("qty", ScalarType::Int)])
            .scope_org();
        assert!(l.check_value("gps", &Value::Real(f64::NAN)).is_err());
        let bad_item = Value::List(vec![crate::item! {"qty" => "three"}]);
        assert!(l.check_value("lines", &bad_item).is_err());
        let unknown_key = Value::List(vec![crate::item! {"price" => 1}]);
        assert!(l.check_value("lines", &unknown_key).is_err());
    }
}
