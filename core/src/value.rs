//! Field values: what a record holds, on devices, on the wire and in the server's tables.
//!
//! Values are deliberately shallow: a record maps field names to [`Value`]s, and the only
//! composite value is a list of flat items (an invoice's lines, an order's lines). Keeping the
//! nesting bounded keeps decoding hostile bytes safe (no unbounded recursion) and keeps every
//! field mappable to a plain SQL column.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A scalar: the value of a plain field, or of one key inside a list item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Scalar {
    /// No value.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A 64-bit integer (also used for money in minor units and timestamps in ms).
    Int(i64),
    /// A finite 64-bit float (NaN and infinities are refused by validation).
    Real(f64),
    /// UTF-8 text.
    Text(String),
}

/// One element of a list field: a flat map of scalars (an order line, a payment).
pub type Item = BTreeMap<String, Scalar>;

/// The value of a field.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Value {
    /// No value.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A 64-bit integer.
    Int(i64),
    /// A finite 64-bit float.
    Real(f64),
    /// UTF-8 text (plain or merge-by-character text fields).
    Text(String),
    /// The elements of a list field.
    List(Vec<Item>),
}

/// A record: field name to value. The record's id is kept apart from its fields.
pub type Record = BTreeMap<String, Value>;

impl Value {
    /// The text, when this is a text value.
    #[must_use]
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, when this is an integer value.
    #[must_use]
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The list items, when this is a list value.
    #[must_use]
    pub fn as_list(&self) -> Option<&[Item]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// A short name of the value's type, for error messages.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Real(_) => "real",
            Value::Text(_) => "text",
            Value::List(_) => "list",
        }
    }
}

impl Scalar {
    /// A short name of the scalar's type, for error messages.
    #[must_use]
    pub fn type_name(&self) -> &'static str {
        match self {
            Scalar::Null => "null",
            Scalar::Bool(_) => "bool",
            Scalar::Int(_) => "int",
            Scalar::Real(_) => "real",
            Scalar::Text(_) => "text",
        }
    }
}

impl std::fmt::Display for Scalar {
    /// Plain text for people: text as is, numbers and booleans as usual, null as empty.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Scalar::Null => Ok(()),
            Scalar::Bool(b) => write!(f, "{b}"),
            Scalar::Int(i) => write!(f, "{i}"),
            Scalar::Real(r) => write!(f, "{r}"),
            Scalar::Text(t) => f.write_str(t),
        }
    }
}

impl std::fmt::Display for Value {
    /// Plain text for people; a list shows its items as `key=value` pairs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Null => Ok(()),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Real(r) => write!(f, "{r}"),
            Value::Text(t) => f.write_str(t),
            Value::List(items) => {
                f.write_str("[")?;
                for (n, item) in items.iter().enumerate() {
                    f.write_str(if n == 0 { "{" } else { ", {" })?;
                    for (k, (key, v)) in item.iter().enumerate() {
                        write!(f, "{}{key}={v}", if k == 0 { "" } else { " " })?;
                    }
                    f.write_str("}")?;
                }
                f.write_str("]")
            }
        }
    }
}

impl From<Scalar> for Value {
    fn from(s: Scalar) -> Self {
        match s {
            Scalar::Null => Value::Null,
            Scalar::Bool(b) => Value::Bool(b),
            Scalar::Int(i) => Value::Int(i),
            Scalar::Real(r) => Value::Real(r),
            Scalar::Text(t) => Value::Text(t),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Text(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Text(s)
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Value::Int(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(r: f64) -> Self {
        Value::Real(r)
    }
}

impl From<&str> for Scalar {
    fn from(s: &str) -> Self {
        Scalar::Text(s.to_owned())
    }
}

impl From<String> for Scalar {
    fn from(s: String) -> Self {
        Scalar::Text(s)
    }
}

impl From<i64> for Scalar {
    fn from(i: i64) -> Self {
        Scalar::Int(i)
    }
}

/// Builds a [`Record`] from `name => value` pairs: `record! { "name" => "Toko Maju", "qty" => 3 }`.
#[macro_export]
macro_rules! record {
    ($($k:expr => $v:expr),* $(,)?) => {{
        let mut r = $crate::Record::new();
        $( r.insert(::std::string::String::from($k), $crate::Value::from($v)); )*
        r
    }};
}

/// Builds an [`Item`] (one list element) from `name => scalar` pairs.
#[macro_export]
macro_rules! item {
    ($($k:expr => $v:expr),* $(,)?) => {{
        let mut r = $crate::Item::new();
        $( r.insert(::std::string::String::from($k), $crate::Scalar::from($v)); )*
        r
    }};
}

/// A record as plain JSON (lists of items as arrays of objects): [`RecordJson`] as a value.
#[must_use]
pub fn record_to_json(record: &Record) -> serde_json::Value {
    serde_json::to_value(RecordJson(record)).unwrap_or_default()
}

/// A record as JSON, written straight to a serializer: fields in name order, lists as arrays
/// of objects, a float that is not finite as `null`. An event's payload is written this way
/// for every row written, without building a [`serde_json::Value`] first.
#[derive(Clone, Copy, Debug)]
pub struct RecordJson<'a>(pub &'a Record);

impl Serialize for RecordJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, v)| (k, ValueJson(v))))
    }
}

/// A value as [`RecordJson`] writes it.
struct ValueJson<'a>(&'a Value);

impl Serialize for ValueJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => serializer.serialize_unit(),
            Value::Bool(b) => serializer.serialize_bool(*b),
            Value::Int(i) => serializer.serialize_i64(*i),
            Value::Real(f) => serializer.serialize_f64(*f),
            Value::Text(t) => serializer.serialize_str(t),
            Value::List(items) => serializer.collect_seq(items.iter().map(ItemJson)),
        }
    }
}

/// A list item as [`RecordJson`] writes it.
struct ItemJson<'a>(&'a Item);

impl Serialize for ItemJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.0.iter().map(|(k, s)| (k, ScalarJson(s))))
    }
}

/// A scalar as [`RecordJson`] writes it.
struct ScalarJson<'a>(&'a Scalar);

impl Serialize for ScalarJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Scalar::Null => serializer.serialize_unit(),
            Scalar::Bool(b) => serializer.serialize_bool(*b),
            Scalar::Int(i) => serializer.serialize_i64(*i),
            Scalar::Real(f) => serializer.serialize_f64(*f),
            Scalar::Text(t) => serializer.serialize_str(t),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_written_as_json_in_field_order_with_non_finite_floats_as_null() {
        let mut line = Item::new();
        line.insert("sku".into(), Scalar::Text("KOPI \"A\"\n".into()));
        line.insert("qty".into(), Scalar::Int(-3));
        line.insert("disc".into(), Scalar::Real(0.1));
        line.insert("gift".into(), Scalar::Bool(true));
        line.insert("note".into(), Scalar::Null);
        let mut record = Record::new();
        record.insert("name".into(), Value::from("Toko Maju \u{1F600}"));
        record.insert("total".into(), Value::Int(i64::MIN));
        record.insert("rate".into(), Value::Real(1e-300));
        record.insert("odd".into(), Value::Real(f64::NAN));
        record.insert("paid".into(), Value::Bool(false));
        record.insert("gone".into(), Value::Null);
        record.insert("lines".into(), Value::List(vec![line, Item::new()]));
        assert_eq!(
            serde_json::to_string(&RecordJson(&record)).unwrap(),
            concat!(
                r#"{"gone":null,"lines":[{"disc":0.1,"gift":true,"note":null,"qty":-3,"#,
                r#""sku":"KOPI \"A\"\n"},{}],"name":"Toko Maju 😀","odd":null,"paid":false,"#,
                r#""rate":1e-300,"total":-9223372036854775808}"#
            )
        );
        assert_eq!(
            record_to_json(&record).to_string(),
            serde_json::to_string(&RecordJson(&record)).unwrap()
        );
        assert_eq!(
            serde_json::to_string(&RecordJson(&Record::new())).unwrap(),
            "{}"
        );
    }

    #[test]
    fn values_display_as_plain_text() {
        assert_eq!(Value::from("Toko Maju").to_string(), "Toko Maju");
        assert_eq!(Value::Null.to_string(), "");
        assert_eq!(Value::Int(14_500).to_string(), "14500");
        let lines = Value::List(vec![
            crate::item! {"sku" => "KOPI", "qty" => 2},
            crate::item! {"sku" => "GULA"},
        ]);
        assert_eq!(lines.to_string(), "[{qty=2 sku=KOPI}, {sku=GULA}]");
    }
}
