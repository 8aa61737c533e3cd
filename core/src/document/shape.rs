//! The shape a document must have: its root map holds only declared fields (and `_deleted`),
//! each with a value of its declared type. Projection reads a value of the wrong type as null,
//! so without this check a change putting an int into a text field, or a plain string where
//! `merge_text` is declared, would be accepted and its value silently lost; the server checks
//! every document after each change and refuses such a change, naming the field and the type.

use automerge::{AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value as AmValue};

use super::{DELETED_KEY, doc_error};
use crate::error::{Error, Result};
use crate::schema::{Collection, FieldType, ScalarType};

/// Checks every value of the document's root map (conflicting values included) and of its
/// lists' items against `c`.
///
/// # Errors
/// [`Error::UnknownField`] for a root key `c` does not declare, [`Error::InvalidValue`] naming
/// the field and the expected type, [`Error::Document`] when the document cannot be read.
pub fn check(doc: &AutoCommit, c: &Collection, id: &str) -> Result<()> {
    let am = |e: automerge::AutomergeError| doc_error(c.name(), id, &e);
    for key in doc.keys(ROOT) {
        let values = doc.get_all(ROOT, key.as_str()).map_err(am)?;
        if key == DELETED_KEY {
            for (v, _) in &values {
                if !matches!(v, AmValue::Scalar(s) if matches!(s.as_ref(), ScalarValue::Boolean(_)))
                {
                    return Err(wrong(c, &key, "a boolean", v));
                }
            }
            continue;
        }
        let field = c.field_named(&key)?;
        for (v, obj) in &values {
            check_field(doc, c, id, &key, &field.ty, v, obj)?;
        }
    }
    Ok(())
}

fn check_field(
    doc: &AutoCommit,
    c: &Collection,
    id: &str,
    field: &str,
    ty: &FieldType,
    value: &AmValue<'_>,
    obj: &ObjId,
) -> Result<()> {
    match (ty, value) {
        (FieldType::Scalar(t), AmValue::Scalar(s)) if scalar_fits(*t, s) => Ok(()),
        (FieldType::Scalar(t), v) => Err(wrong(c, field, scalar_name(*t), v)),
        (FieldType::MergeText, AmValue::Object(ObjType::Text)) => Ok(()),
        (FieldType::MergeText, v) => Err(wrong(
            c,
            field,
            "merge_text (the text object the collection's genesis made)",
            v,
        )),
        (FieldType::List(keys), AmValue::Object(ObjType::List)) => {
            check_items(doc, c, id, field, keys, obj)
        }
        (FieldType::List(_), v) => Err(wrong(c, field, "a list of maps", v)),
    }
}

fn check_items(
    doc: &AutoCommit,
    c: &Collection,
    id: &str,
    field: &str,
    keys: &[(String, ScalarType)],
    list: &ObjId,
) -> Result<()> {
    let am = |e: automerge::AutomergeError| doc_error(c.name(), id, &e);
    for i in 0..doc.length(list) {
        let item = match doc.get(list, i).map_err(am)? {
            Some((AmValue::Object(ObjType::Map), item)) => item,
            Some((v, _)) => return Err(wrong(c, &format!("{field}[{i}]"), "a map", &v)),
            None => continue,
        };
        for key in doc.keys(&item) {
            let name = format!("{field}[{i}].{key}");
            let Some((_, t)) = keys.iter().find(|(k, _)| *k == key) else {
                return Err(Error::InvalidValue {
                    collection: c.name().to_owned(),
                    field: name,
                    detail: format!("`{key}` is not a key of the list's items"),
                });
            };
            for (v, _) in doc.get_all(&item, key.as_str()).map_err(am)? {
                match &v {
                    AmValue::Scalar(s) if scalar_fits(*t, s) => {}
                    v => return Err(wrong(c, &name, scalar_name(*t), v)),
                }
            }
        }
    }
    Ok(())
}

/// Whether an Automerge scalar reads as a value of type `t` (a null reads as no value).
fn scalar_fits(t: ScalarType, s: &ScalarValue) -> bool {
    matches!(
        (t, s),
        (_, ScalarValue::Null)
            | (ScalarType::Text, ScalarValue::Str(_))
            | (
                ScalarType::Int | ScalarType::Timestamp,
                ScalarValue::Int(_) | ScalarValue::Uint(_) | ScalarValue::Timestamp(_)
            )
            | (
                ScalarType::Real,
                ScalarValue::F64(_) | ScalarValue::Int(_) | ScalarValue::Uint(_)
            )
            | (ScalarType::Bool, ScalarValue::Boolean(_))
    )
}

fn scalar_name(t: ScalarType) -> &'static str {
    match t {
        ScalarType::Text => "text (an Automerge string)",
        ScalarType::Int => "an int",
        ScalarType::Real => "a real",
        ScalarType::Bool => "a boolean",
        ScalarType::Timestamp => "a timestamp (int milliseconds since 1970)",
    }
}

fn describe(v: &AmValue<'_>) -> String {
    match v {
        AmValue::Object(ObjType::Text) => "a text object".into(),
        AmValue::Object(ObjType::List) => "a list".into(),
        AmValue::Object(ObjType::Map | ObjType::Table) => "a map".into(),
        AmValue::Scalar(s) => match s.as_ref() {
            ScalarValue::Str(_) => "a string".into(),
            ScalarValue::Int(_) | ScalarValue::Uint(_) => "an int".into(),
            ScalarValue::F64(_) => "a real".into(),
            ScalarValue::Boolean(_) => "a boolean".into(),
            ScalarValue::Timestamp(_) => "a timestamp".into(),
            other => format!("{other:?}"),
        },
    }
}

fn wrong(c: &Collection, field: &str, expected: &str, got: &AmValue<'_>) -> Error {
    Error::InvalidValue {
        collection: c.name().to_owned(),
        field: field.to_owned(),
        detail: format!("expected {expected}, got {}", describe(got)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::genesis;
    use automerge::ActorId;
    use automerge::transaction::Transactable;

    fn profiles() -> Collection {
        Collection::document("outlet_profiles")
            .text("outlet")
            .int("visits")
            .merge_text("notes")
            .list(
                "photos",
                &[("hash", ScalarType::Text), ("size", ScalarType::Int)],
            )
    }

    fn refusal(edit: impl FnOnce(&mut AutoCommit)) -> String {
        let c = profiles();
        let mut doc = genesis::new_doc(&c, &ActorId::random());
        edit(&mut doc);
        check(&doc, &c, "x").unwrap_err().to_string()
    }

    #[test]
    fn a_genesis_document_with_typed_values_passes() {
        let c = profiles();
        let mut doc = genesis::new_doc(&c, &ActorId::random());
        doc.put(ROOT, "outlet", "O-1").unwrap();
        doc.put(ROOT, "visits", 3_i64).unwrap();
        let (_, photos) = doc.get(ROOT, "photos").unwrap().unwrap();
        let item = doc.insert_object(&photos, 0, ObjType::Map).unwrap();
        doc.put(&item, "hash", "ab").unwrap();
        check(&doc, &c, "x").unwrap();
    }

    #[test]
    fn wrong_types_are_named() {
        let m = refusal(|d| d.put(ROOT, "outlet", 5_i64).unwrap());
        assert!(
            m.contains("outlet_profiles.outlet") && m.contains("expected text"),
            "{m}"
        );
        let m = refusal(|d| d.put(ROOT, "notes", "plain").unwrap());
        assert!(m.contains(".notes") && m.contains("merge_text"), "{m}");
        let m = refusal(|d| d.put(ROOT, "visits", "3").unwrap());
        assert!(m.contains(".visits") && m.contains("an int"), "{m}");
        let m = refusal(|d| d.put(ROOT, "nope", 1_i64).unwrap());
        assert!(m.contains("nope"), "{m}");
        let m = refusal(|d| {
            let (_, photos) = d.get(ROOT, "photos").unwrap().unwrap();
            let item = d.insert_object(&photos, 0, ObjType::Map).unwrap();
            d.put(&item, "size", "big").unwrap();
        });
        assert!(m.contains("photos[0].size") && m.contains("an int"), "{m}");
        let m = refusal(|d| d.put(ROOT, DELETED_KEY, 1_i64).unwrap());
        assert!(m.contains("_deleted"), "{m}");
    }
}
