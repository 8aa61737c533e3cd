//! Reading fields of the store's rows and list items, with the defaults the views show.

use lapak_core::{Item, Row, Scalar, Value};

/// A text field, or `""`.
pub(crate) fn text(row: &Row, key: &str) -> String {
    row.fields
        .get(key)
        .and_then(Value::as_text)
        .unwrap_or("")
        .to_owned()
}

/// A text field, or `None` when unset or empty.
pub(crate) fn some_text(row: &Row, key: &str) -> Option<String> {
    Some(text(row, key)).filter(|s| !s.is_empty())
}

/// An integer field.
pub(crate) fn int(row: &Row, key: &str) -> Option<i64> {
    row.fields.get(key).and_then(Value::as_int)
}

/// A real field (an integer counts).
pub(crate) fn real(row: &Row, key: &str) -> Option<f64> {
    match row.fields.get(key) {
        Some(Value::Real(r)) => Some(*r),
        #[allow(clippy::cast_precision_loss)]
        Some(Value::Int(i)) => Some(*i as f64),
        _ => None,
    }
}

/// A list field's items.
pub(crate) fn items<'a>(row: &'a Row, key: &str) -> &'a [Item] {
    row.fields.get(key).and_then(Value::as_list).unwrap_or(&[])
}

/// A text key of an item, or `""`.
pub(crate) fn item_text(item: &Item, key: &str) -> String {
    match item.get(key) {
        Some(Scalar::Text(s)) => s.clone(),
        _ => String::new(),
    }
}

/// An integer key of an item, or 0.
pub(crate) fn item_int(item: &Item, key: &str) -> i64 {
    match item.get(key) {
        Some(Scalar::Int(i)) => *i,
        _ => 0,
    }
}

/// A boolean key of an item, or `false`.
pub(crate) fn item_bool(item: &Item, key: &str) -> bool {
    matches!(item.get(key), Some(Scalar::Bool(true)))
}

/// An item of `(key, value)` pairs.
pub(crate) fn item(pairs: impl IntoIterator<Item = (&'static str, Scalar)>) -> Item {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}
