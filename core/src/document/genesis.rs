//! Document genesis: the deterministic changes every document of a collection begins with.
//!
//! A `merge_text` or list field lives in an Automerge object. Were each device to make that
//! object when it creates a record, two devices creating the same id offline would make two
//! objects for one field, and Automerge keeps one of two conflicting objects: one side's text or
//! lines would be lost. So nobody makes them: every document of a collection starts from the
//! same *genesis*, one change per object field, byte for byte the same on every device and on the
//! server. Two creations of one id then edit the same objects and merge character by character
//! and item by item, like any other concurrent edits.
//!
//! The genesis change of field `f` of collection `c` (docs/protocol.md section 5.3.1):
//! - actor: the UTF-8 bytes of `lapak-genesis:<c>/<f>`;
//! - sequence 1, start op 1, time 0, no message, no dependencies;
//! - one operation: make a text object (`merge_text`) or a list object (list field) at key `f`
//!   of the root map.
//!
//! One change per field, each on its own actor, keeps the genesis of an existing field unchanged
//! when a later schema adds a field: the new field's genesis is one more change, with no
//! dependencies either. The server refuses any other change without dependencies
//! ([`check_root_change`]), so a document's history can only start at its genesis.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use automerge::transaction::{CommitOptions, Transactable};
use automerge::{ActorId, AutoCommit, Change, ChangeHash, ObjType, ROOT, TextEncoding};

use crate::schema::{Collection, FieldType};

/// The prefix of every genesis actor.
pub const ACTOR_PREFIX: &str = "lapak-genesis:";

/// Genesis changes already built, by actor bytes (collection and field) and whether the object
/// is a text.
type Built = HashMap<(Vec<u8>, bool), Change>;
static CACHE: Mutex<Option<Built>> = Mutex::new(None);

/// The actor of the genesis change of `field` in `collection`.
#[must_use]
pub fn actor(collection: &str, field: &str) -> ActorId {
    ActorId::from(format!("{ACTOR_PREFIX}{collection}/{field}").as_bytes())
}

/// The object type a field's genesis makes, or `None` for a scalar field (which needs none).
fn object_type(ty: &FieldType) -> Option<ObjType> {
    match ty {
        FieldType::MergeText => Some(ObjType::Text),
        FieldType::List(_) => Some(ObjType::List),
        FieldType::Scalar(_) => None,
    }
}

/// Builds the one genesis change of a field.
fn build(actor: &ActorId, field: &str, ty: ObjType) -> Change {
    let mut doc =
        AutoCommit::new_with_encoding(TextEncoding::UnicodeCodePoint).with_actor(actor.clone());
    // Neither can fail on a new document: a root key, a fresh transaction.
    let made = doc.put_object(ROOT, field, ty);
    debug_assert!(made.is_ok());
    let hash = doc.commit_with(CommitOptions::default().with_time(0));
    hash.and_then(|h| doc.get_change_by_hash(&h))
        .unwrap_or_else(|| unreachable!("a change with one operation always commits"))
}

/// The genesis changes of `c`: one per `merge_text` or list field, in declaration order.
/// Empty for a collection of scalars only.
#[must_use]
pub fn changes(c: &Collection) -> Vec<Change> {
    let mut cache = CACHE.lock().unwrap_or_else(PoisonError::into_inner);
    let cache = cache.get_or_insert_with(HashMap::new);
    c.fields()
        .iter()
        .filter_map(|f| object_type(&f.ty).map(|ty| (f, ty)))
        .map(|(f, ty)| {
            let actor = actor(c.name(), &f.name);
            cache
                .entry((actor.to_bytes().to_vec(), ty == ObjType::Text))
                .or_insert_with(|| build(&actor, &f.name, ty))
                .clone()
        })
        .collect()
}

/// The hashes of the genesis changes of `c`.
#[must_use]
pub fn hashes(c: &Collection) -> Vec<ChangeHash> {
    changes(c).iter().map(Change::hash).collect()
}

/// A new document of `c`, written by `actor`: its genesis applied, nothing else.
#[must_use]
pub fn new_doc(c: &Collection, actor: &ActorId) -> AutoCommit {
    let mut doc = super::new_doc(actor);
    // Genesis changes have no dependencies and distinct actors: applying them cannot fail.
    let applied = doc.apply_changes(changes(c));
    debug_assert!(applied.is_ok());
    doc
}

/// Whether `doc` holds every genesis change of `c` (documents created before genesis existed
/// hold none: see docs/protocol.md section 5.3.1 on their upgrade).
#[must_use]
pub fn holds_genesis(doc: &mut AutoCommit, c: &Collection) -> bool {
    hashes(c)
        .iter()
        .all(|h| doc.get_change_by_hash(h).is_some())
}

/// Whether `hash` is one of `c`'s genesis changes.
#[must_use]
pub fn is_genesis(c: &Collection, hash: &ChangeHash) -> bool {
    hashes(c).contains(hash)
}

/// Why the server refuses a change: a verdict code and a message for the device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    /// The verdict code.
    pub code: &'static str,
    /// What was wrong and what to do.
    pub message: String,
}

/// Refuses a change with no dependencies that is not one of `c`'s genesis changes: it would
/// start a second history beside the genesis, with objects of its own for fields the genesis
/// already made.
///
/// # Errors
/// A [`Refusal`] coded `genesis_required`.
pub fn check_root_change(c: &Collection, change: &Change) -> Result<(), Refusal> {
    if change.deps().is_empty() && !is_genesis(c, &change.hash()) {
        return Err(Refusal {
            code: "genesis_required",
            message: format!(
                "a `{}` document must begin with the collection's genesis changes (docs/protocol.md \
                 section 5.3.1); this change starts a history of its own: build it on the genesis",
                c.name()
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::ScalarType;
    use automerge::ReadDoc;

    fn profiles() -> Collection {
        Collection::document("outlet_profiles")
            .text("outlet")
            .merge_text("notes")
            .list("photos", &[("hash", ScalarType::Text)])
    }

    #[test]
    fn genesis_is_the_same_bytes_every_time() {
        let a = changes(&profiles());
        *CACHE.lock().unwrap() = None;
        let b = changes(&profiles());
        assert_eq!(a.len(), 2);
        assert_eq!(
            a.iter().map(|c| c.raw_bytes().to_vec()).collect::<Vec<_>>(),
            b.iter().map(|c| c.raw_bytes().to_vec()).collect::<Vec<_>>()
        );
        assert_eq!(a[0].actor_id(), &actor("outlet_profiles", "notes"));
        assert_eq!(a[0].seq(), 1);
        assert_eq!(a[0].timestamp(), 0);
        assert!(a[0].deps().is_empty());
    }

    #[test]
    fn adding_a_field_keeps_the_genesis_of_the_others() {
        let old = hashes(&profiles());
        let new = hashes(&profiles().merge_text("address"));
        assert_eq!(&new[..2], &old[..]);
        assert_eq!(new.len(), 3);
    }

    #[test]
    fn two_creations_share_the_objects() {
        let c = profiles();
        let mut a = new_doc(&c, &ActorId::random());
        let mut b = new_doc(&c, &ActorId::random());
        assert_eq!(a.get(ROOT, "notes").unwrap(), b.get(ROOT, "notes").unwrap());
        assert!(holds_genesis(&mut a, &c));
        let stray = {
            let mut d = super::super::new_doc(&ActorId::random());
            d.put_object(ROOT, "notes", ObjType::Text).unwrap();
            d.commit();
            d.get_last_local_change().unwrap()
        };
        assert_eq!(
            check_root_change(&c, &stray).unwrap_err().code,
            "genesis_required"
        );
        assert!(check_root_change(&c, &changes(&c)[0]).is_ok());
        let _ = (a.commit(), b.commit());
    }
}
