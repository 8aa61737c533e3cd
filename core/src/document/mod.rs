//! Automerge documents: applying local edits and projecting a document to its plain row.
//!
//! A record of a document collection is one Automerge document whose root map holds one key per
//! declared field: scalars as Automerge scalars, `merge_text` fields as Automerge text objects
//! (merged by character), list fields as Automerge lists of maps (merged by element). A deleted
//! record keeps its document with the root key `_deleted` set, so a delete merges with
//! concurrent edits instead of being undone by them.
//!
//! Every document begins with its collection's [`genesis`], which makes the text and list
//! objects; [`shape`] checks that a document holds only declared fields of their declared types.

use automerge::transaction::Transactable;
use automerge::{ActorId, AutoCommit, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, TextEncoding};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::schema::{Collection, FieldType, ScalarType};
use crate::value::{Item, Record, Scalar, Value};

pub mod genesis;
pub mod shape;

/// The root key marking a deleted record.
pub(crate) const DELETED_KEY: &str = "_deleted";

/// One edit of an existing document.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Edit {
    /// Sets a field. On a `merge_text` field the text is diffed against the current text so only
    /// the changed characters are written (two devices making the same change concurrently both
    /// insert it: prefer [`Edit::SpliceText`] for typing). On a list field the whole list is
    /// replaced by a new one: when two devices replace it concurrently one whole list wins, and
    /// item edits made concurrently to the replaced list are dropped; prefer the item edits.
    Set {
        /// The field.
        field: String,
        /// The new value.
        value: Value,
    },
    /// Deletes `delete` characters at `index` of a `merge_text` field, then inserts `insert`
    /// there. Indexes count Unicode code points.
    SpliceText {
        /// The field.
        field: String,
        /// Position, in code points.
        index: usize,
        /// Code points to delete.
        delete: usize,
        /// Text to insert.
        insert: String,
    },
    /// Inserts an item into a list field at `index` (`index == len` appends).
    InsertItem {
        /// The field.
        field: String,
        /// Position.
        index: usize,
        /// The new item.
        item: Item,
    },
    /// Removes the item at `index` of a list field.
    RemoveItem {
        /// The field.
        field: String,
        /// Position.
        index: usize,
    },
    /// Sets some keys of the item at `index` of a list field; other keys keep their values.
    UpdateItem {
        /// The field.
        field: String,
        /// Position.
        index: usize,
        /// Keys to set.
        values: Item,
    },
}

/// What a local write does to a document; kept in the queue beside the Automerge change so that
/// pending writes can be replayed onto the server-confirmed state after a rejection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum DocOp {
    Create(Record),
    Edit(Vec<Edit>),
    Delete,
}

/// Whether out-of-range positions are errors (a user's edit) or clamped (a replay after a
/// rejection, where concurrent changes may have shortened a list).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    Strict,
    Replay,
}

/// A new, empty document written by `actor`, with the text encoding every Lapak document uses.
/// A record's document starts from [`genesis::new_doc`] instead, which holds its objects.
#[must_use]
pub fn new_doc(actor: &ActorId) -> AutoCommit {
    AutoCommit::new_with_encoding(TextEncoding::UnicodeCodePoint).with_actor(actor.clone())
}

/// Loads a saved document (whole saves and appended changes alike) with Lapak's text encoding.
///
/// # Errors
/// [`Error::Document`] when the bytes are not an Automerge document.
pub fn load(bytes: &[u8], actor: &ActorId, collection: &str, id: &str) -> Result<AutoCommit> {
    let opts = automerge::LoadOptions::new().text_encoding(TextEncoding::UnicodeCodePoint);
    AutoCommit::load_with_options(bytes, opts)
        .map(|d| d.with_actor(actor.clone()))
        .map_err(|e| doc_error(collection, id, &e))
}

pub(crate) fn doc_error(collection: &str, id: &str, e: &dyn std::fmt::Display) -> Error {
    Error::Document {
        collection: collection.to_owned(),
        id: id.to_owned(),
        detail: e.to_string(),
    }
}

/// Applies `op` to `doc` (without committing).
pub(crate) fn apply(
    doc: &mut AutoCommit,
    c: &Collection,
    id: &str,
    op: &DocOp,
    mode: Mode,
) -> Result<()> {
    let am = |e: automerge::AutomergeError| doc_error(c.name(), id, &e);
    match op {
        DocOp::Create(record) => {
            for f in c.fields() {
                let value = record.get(&f.name).cloned().unwrap_or(Value::Null);
                match &f.ty {
                    // The genesis made the objects: creating fills them, so two creations of
                    // the same id merge their text and items instead of one replacing the other.
                    FieldType::MergeText => {
                        if let Value::Text(t) = value {
                            let obj = object(doc, &f.name, ObjType::Text).map_err(am)?;
                            let end = doc.length(&obj);
                            doc.splice_text(&obj, end, 0, &t).map_err(am)?;
                        }
                    }
                    FieldType::List(_) => {
                        if let Value::List(items) = value {
                            let obj = object(doc, &f.name, ObjType::List).map_err(am)?;
                            let end = doc.length(&obj);
                            for (i, item) in items.iter().enumerate() {
                                insert_item(doc, &obj, end + i, item).map_err(am)?;
                            }
                        }
                    }
                    FieldType::Scalar(_) => {
                        if value != Value::Null {
                            doc.put(ROOT, f.name.as_str(), to_scalar(&value))
                                .map_err(am)?;
                        }
                    }
                }
            }
        }
        DocOp::Delete => doc.put(ROOT, DELETED_KEY, true).map_err(am)?,
        DocOp::Edit(edits) => {
            for e in edits {
                apply_edit(doc, c, id, e, mode)?;
            }
        }
    }
    Ok(())
}

fn out_of_range(c: &Collection, field: &str, index: usize, len: usize) -> Error {
    Error::InvalidValue {
        collection: c.name().to_owned(),
        field: field.to_owned(),
        detail: format!("position {index} is out of range (length {len})"),
    }
}

fn apply_edit(
    doc: &mut AutoCommit,
    c: &Collection,
    id: &str,
    edit: &Edit,
    mode: Mode,
) -> Result<()> {
    let am = |e: automerge::AutomergeError| doc_error(c.name(), id, &e);
    match edit {
        Edit::Set { field, value } => {
            let f = c.field_named(field)?;
            match &f.ty {
                FieldType::Scalar(_) => {
                    if *value == Value::Null {
                        doc.delete(ROOT, field.as_str()).map_err(am)?;
                    } else {
                        doc.put(ROOT, field.as_str(), to_scalar(value))
                            .map_err(am)?;
                    }
                }
                FieldType::MergeText => {
                    let obj = object(doc, field, ObjType::Text).map_err(am)?;
                    let text = value.as_text().unwrap_or_default();
                    doc.update_text(&obj, text).map_err(am)?;
                }
                FieldType::List(_) => {
                    // A new list object: concurrent replacements resolve to one whole list,
                    // never to the union of both (which would double an order's lines).
                    let obj = doc
                        .put_object(ROOT, field.as_str(), ObjType::List)
                        .map_err(am)?;
                    for (i, item) in value.as_list().unwrap_or_default().iter().enumerate() {
                        insert_item(doc, &obj, i, item).map_err(am)?;
                    }
                }
            }
        }
        Edit::SpliceText {
            field,
            index,
            delete,
            insert,
        } => {
            let obj = object(doc, field, ObjType::Text).map_err(am)?;
            let len = doc.length(&obj);
            let (index, delete) = match mode {
                Mode::Strict if index.checked_add(*delete).is_none_or(|end| end > len) => {
                    return Err(out_of_range(c, field, index.saturating_add(*delete), len));
                }
                Mode::Strict => (*index, *delete),
                Mode::Replay => {
                    let i = (*index).min(len);
                    (i, (*delete).min(len - i))
                }
            };
            let delete =
                isize::try_from(delete).map_err(|_| out_of_range(c, field, delete, len))?;
            doc.splice_text(&obj, index, delete, insert).map_err(am)?;
        }
        Edit::InsertItem { field, index, item } => {
            let obj = object(doc, field, ObjType::List).map_err(am)?;
            let len = doc.length(&obj);
            let index = match mode {
                Mode::Strict if *index > len => return Err(out_of_range(c, field, *index, len)),
                _ => (*index).min(len),
            };
            insert_item(doc, &obj, index, item).map_err(am)?;
        }
        Edit::RemoveItem { field, index } => {
            let obj = object(doc, field, ObjType::List).map_err(am)?;
            let len = doc.length(&obj);
            if *index < len {
                doc.delete(&obj, *index).map_err(am)?;
            } else if mode == Mode::Strict {
                return Err(out_of_range(c, field, *index, len));
            }
        }
        Edit::UpdateItem {
            field,
            index,
            values,
        } => {
            let obj = object(doc, field, ObjType::List).map_err(am)?;
            let len = doc.length(&obj);
            if *index < len {
                let item = match doc.get(&obj, *index).map_err(am)? {
                    Some((automerge::Value::Object(ObjType::Map), id)) => id,
                    _ => doc.insert_object(&obj, *index, ObjType::Map).map_err(am)?,
                };
                for (k, v) in values {
                    put_scalar(doc, &item, k, v).map_err(am)?;
                }
            } else if mode == Mode::Strict {
                return Err(out_of_range(c, field, *index, len));
            }
        }
    }
    Ok(())
}

/// The object under `field`: the genesis's, or one made when the document predates genesis.
fn object(
    doc: &mut AutoCommit,
    field: &str,
    ty: ObjType,
) -> Result<ObjId, automerge::AutomergeError> {
    match doc.get(ROOT, field)? {
        Some((automerge::Value::Object(t), id)) if t == ty => Ok(id),
        _ => doc.put_object(ROOT, field, ty),
    }
}

fn insert_item(
    doc: &mut AutoCommit,
    list: &ObjId,
    index: usize,
    item: &Item,
) -> Result<(), automerge::AutomergeError> {
    let obj = doc.insert_object(list, index, ObjType::Map)?;
    for (k, v) in item {
        put_scalar(doc, &obj, k, v)?;
    }
    Ok(())
}

fn put_scalar(
    doc: &mut AutoCommit,
    obj: &ObjId,
    key: &str,
    v: &Scalar,
) -> Result<(), automerge::AutomergeError> {
    if *v == Scalar::Null {
        doc.delete(obj, key)
    } else {
        doc.put(obj, key, to_scalar(&Value::from(v.clone())))
    }
}

fn to_scalar(v: &Value) -> ScalarValue {
    match v {
        Value::Bool(b) => ScalarValue::Boolean(*b),
        Value::Int(i) => ScalarValue::Int(*i),
        Value::Real(r) => ScalarValue::F64(*r),
        Value::Text(t) => ScalarValue::Str(t.as_str().into()),
        Value::Null | Value::List(_) => ScalarValue::Null,
    }
}

fn from_scalar(s: &ScalarValue, ty: ScalarType) -> Scalar {
    match (s, ty) {
        (ScalarValue::Str(t), ScalarType::Text) => Scalar::Text(t.to_string()),
        (ScalarValue::Int(i), ScalarType::Int | ScalarType::Timestamp)
        | (ScalarValue::Timestamp(i), ScalarType::Int | ScalarType::Timestamp) => Scalar::Int(*i),
        (ScalarValue::Uint(u), ScalarType::Int | ScalarType::Timestamp) => {
            Scalar::Int(i64::try_from(*u).unwrap_or(i64::MAX))
        }
        (ScalarValue::F64(r), ScalarType::Real) => Scalar::Real(*r),
        // Writers in other languages may store a whole number as an int.
        #[allow(clippy::cast_precision_loss)]
        (ScalarValue::Int(i), ScalarType::Real) => Scalar::Real(*i as f64),
        #[allow(clippy::cast_precision_loss)]
        (ScalarValue::Uint(u), ScalarType::Real) => Scalar::Real(*u as f64),
        (ScalarValue::Boolean(b), ScalarType::Bool) => Scalar::Bool(*b),
        // A value of another type (written by a different schema version) reads as null.
        _ => Scalar::Null,
    }
}

/// The scopes the document's fields put it in (read from its scope fields only).
pub(crate) fn scopes(doc: &AutoCommit, c: &Collection, id: &str) -> Result<Vec<String>> {
    let mut record = Record::new();
    for rule in c.scope_rules() {
        if let crate::schema::ScopeRule::Field { field, .. } = rule
            && let Some((automerge::Value::Scalar(s), _)) = doc
                .get(ROOT, field.as_str())
                .map_err(|e| doc_error(c.name(), id, &e))?
        {
            record.insert(field.clone(), from_scalar(&s, ScalarType::Text).into());
        }
    }
    Ok(c.scopes_of(&record))
}

/// The scopes the writer of `change` saw the record in after writing it: the scopes of the
/// document at the change's dependencies with the change applied. They differ from the merged
/// document's when the writer had not seen concurrent changes (two devices creating one id, each
/// putting it in its own branch): the server evicts the record from the scopes only the writer
/// saw, so a device following them drops its copy instead of keeping a version nobody else has.
/// `None` when the change builds on every head of `doc` (the writer saw it all).
///
/// # Errors
/// [`Error::Document`] when the change's dependencies are not in `doc` or it does not apply.
pub fn scopes_as_written(
    doc: &mut AutoCommit,
    change: &automerge::Change,
    c: &Collection,
    id: &str,
) -> Result<Option<Vec<String>>> {
    let mut heads = doc.get_heads();
    let mut deps = change.deps().to_vec();
    heads.sort();
    deps.sort();
    if heads == deps {
        return Ok(None);
    }
    let am = |e: automerge::AutomergeError| doc_error(c.name(), id, &e);
    let mut seen = doc.fork_at(&deps).map_err(am)?;
    seen.apply_changes([change.clone()]).map_err(am)?;
    scopes(&seen, c, id).map(Some)
}

/// The document's fields as a plain record (every declared field, null when absent), and
/// whether it is deleted.
///
/// # Errors
/// [`Error::Document`] when the document cannot be read.
pub fn project(doc: &AutoCommit, c: &Collection, id: &str) -> Result<(Record, bool)> {
    let am = |e: automerge::AutomergeError| doc_error(c.name(), id, &e);
    let deleted = matches!(
        doc.get(ROOT, DELETED_KEY).map_err(am)?,
        Some((automerge::Value::Scalar(s), _)) if *s == ScalarValue::Boolean(true)
    );
    let mut record = Record::new();
    for f in c.fields() {
        let got = doc.get(ROOT, f.name.as_str()).map_err(am)?;
        let value = match (&f.ty, got) {
            (FieldType::Scalar(t), Some((automerge::Value::Scalar(s), _))) => {
                from_scalar(&s, *t).into()
            }
            (FieldType::MergeText, Some((automerge::Value::Object(ObjType::Text), obj))) => {
                Value::Text(doc.text(&obj).map_err(am)?)
            }
            (FieldType::List(keys), Some((automerge::Value::Object(ObjType::List), obj))) => {
                let mut items = Vec::new();
                for i in 0..doc.length(&obj) {
                    let mut item = Item::new();
                    if let Some((automerge::Value::Object(ObjType::Map), m)) =
                        doc.get(&obj, i).map_err(am)?
                    {
                        for (k, t) in keys {
                            if let Some((automerge::Value::Scalar(s), _)) =
                                doc.get(&m, k.as_str()).map_err(am)?
                            {
                                let v = from_scalar(&s, *t);
                                if v != Scalar::Null {
                                    item.insert(k.clone(), v);
                                }
                            }
                        }
                    }
                    items.push(item);
                }
                Value::List(items)
            }
            _ => Value::Null,
        };
        record.insert(f.name.clone(), value);
    }
    Ok((record, deleted))
}
