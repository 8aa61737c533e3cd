//! What a push's document changes may cost the server, checked before Automerge parses them:
//! each change is one Automerge change chunk whose content (inflated, when compressed) is at most
//! [`MAX_CHANGE_BYTES`]; the content of one push's document changes adds up to at most
//! [`MAX_PUSH_CHANGE_CONTENT_BYTES`] (later changes are deferred to the next push); a document
//! grows to at most [`MAX_DOCUMENT_BYTES`] (its stored bytes plus this push's changes to it).
//! The refusals are verdicts of their own change: the rest of the push is judged as usual.
//! A parsed change carries at most [`MAX_CHANGE_OPS`] operations before it is applied.
//! Applying a change runs guarded ([`apply_guarded`]): a panic inside Automerge rejects the
//! change instead of failing the push.

use std::collections::HashMap;

use lapak_core::chunk::{self, ChunkError};
use lapak_core::protocol::{
    MAX_CHANGE_BYTES, MAX_DOCUMENT_BYTES, MAX_PUSH_CHANGE_CONTENT_BYTES, Outcome,
};

use super::reject;

/// What one push's document changes have cost so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Spent {
    /// Content bytes of the document changes checked (inflated when compressed).
    pub content: usize,
    /// Bytes of the changes admitted to each document `(collection, record id)`.
    pub grown: HashMap<(String, String), usize>,
}

/// Admits one document change of `key`, whose stored copy holds `stored` bytes, or says why
/// not: `malformed` or `too_large` (the bytes), deferred (the push's budget is spent),
/// `document_too_large` (the document would outgrow its bound).
pub(super) fn admit(
    key: (&str, &str),
    change: &[u8],
    stored: usize,
    spent: &mut Spent,
) -> Option<Outcome> {
    let over_budget = || Outcome::Deferred {
        reason: format!(
            "this push carried more than {MAX_PUSH_CHANGE_CONTENT_BYTES} bytes of document changes; send this one again in a later push"
        ),
    };
    if spent.content >= MAX_PUSH_CHANGE_CONTENT_BYTES {
        return Some(over_budget());
    }
    let content = match chunk::check_change(change, MAX_CHANGE_BYTES) {
        Ok(n) => n,
        Err(e @ ChunkError::TooLarge { .. }) => return Some(reject("too_large", e.to_string())),
        Err(e) => return Some(reject("malformed", e.to_string())),
    };
    spent.content = spent.content.saturating_add(content);
    if spent.content > MAX_PUSH_CHANGE_CONTENT_BYTES {
        return Some(over_budget());
    }
    // Counted from the columns' run lengths, before Automerge's parse walks every operation.
    if let Ok(Some(ops)) = chunk::claimed_ops(change, MAX_CHANGE_BYTES)
        && ops > MAX_CHANGE_OPS as u64
    {
        return Some(reject(
            "too_large",
            format!(
                "the change claims {ops} operations; at most {MAX_CHANGE_OPS} are allowed: save smaller edits"
            ),
        ));
    }
    let key = (key.0.to_owned(), key.1.to_owned());
    let grown = spent.grown.get(&key).copied().unwrap_or(0);
    let size = stored.saturating_add(grown).saturating_add(change.len());
    if size > MAX_DOCUMENT_BYTES {
        return Some(reject(
            "document_too_large",
            format!(
                "the document would grow to {size} bytes, past the limit of {MAX_DOCUMENT_BYTES}: keep large or growing data in a ledger, or start a new record"
            ),
        ));
    }
    spent.grown.insert(key, grown + change.len());
    None
}

/// The most operations one change may carry: as many as its largest size in bytes. Its columns
/// are run-length encoded, so ~100 bytes can claim millions of operations, each of which costs
/// memory and time when applied; a device's real changes carry at most about one per byte.
pub const MAX_CHANGE_OPS: usize = MAX_CHANGE_BYTES;

/// Refuses a parsed change that claims more than `max` operations (`too_large`), before it is
/// applied.
pub(super) fn admit_ops(change: &automerge::Change, max: usize) -> Option<Outcome> {
    (change.len() > max).then(|| {
        reject(
            "too_large",
            format!(
                "the change holds {} operations; at most {max} are allowed: save smaller edits",
                change.len()
            ),
        )
    })
}

/// Applies `change` to `doc` (a fork, thrown away on failure), taking a panic inside Automerge
/// for a failure: some malformed changes parse and then panic while they are applied (the fuzz
/// target `push_document_change` found one of 20 bytes), and a panic would fail the whole push
/// on every retry, wedging its device.
pub(super) fn apply_guarded(doc: &mut automerge::AutoCommit, change: automerge::Change) -> bool {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        doc.apply_changes([change]).is_ok()
    }))
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(len: usize) -> Vec<u8> {
        let mut out = chunk::MAGIC.to_vec();
        out.extend([0, 0, 0, 0, 1]);
        let mut n = len;
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                break;
            }
            out.push(b | 0x80);
        }
        out.resize(out.len() + len, 0);
        out
    }

    fn code(o: Option<Outcome>) -> String {
        match o {
            None => "admitted".into(),
            Some(Outcome::Rejected { code, .. }) => code,
            Some(Outcome::Deferred { .. }) => "deferred".into(),
            Some(Outcome::Accepted { .. }) => "accepted".into(),
        }
    }

    #[test]
    fn a_change_claiming_too_many_operations_is_refused() {
        use automerge::transaction::Transactable as _;
        let mut doc = automerge::AutoCommit::new();
        let list = doc
            .put_object(automerge::ROOT, "l", automerge::ObjType::List)
            .unwrap();
        for i in 0..1_000 {
            doc.insert(&list, i, automerge::ScalarValue::Null).unwrap();
        }
        let hash = doc.commit().unwrap();
        let bytes = doc.get_change_by_hash(&hash).unwrap().raw_bytes().to_vec();
        assert!(
            bytes.len() < 200,
            "run-length encoding: {} bytes",
            bytes.len()
        );
        let change = automerge::Change::from_bytes(bytes).unwrap();
        assert_eq!(code(admit_ops(&change, 500)), "too_large");
        assert_eq!(code(admit_ops(&change, 1_001)), "admitted");
    }

    #[test]
    fn documents_stop_growing_at_their_bound() {
        let mut spent = Spent::default();
        let c = change(1_000);
        assert_eq!(code(admit(("a", "1"), &c, 0, &mut spent)), "admitted");
        let near = MAX_DOCUMENT_BYTES - c.len();
        assert_eq!(code(admit(("a", "2"), &c, near, &mut spent)), "admitted");
        assert_eq!(
            code(admit(("a", "2"), &c, near, &mut spent)),
            "document_too_large",
            "the push's earlier change to the document counts"
        );
        assert_eq!(code(admit(("a", "3"), b"junk", 0, &mut spent)), "malformed");
    }

    #[test]
    fn a_push_stops_parsing_at_its_budget() {
        let mut spent = Spent::default();
        let c = change(MAX_CHANGE_BYTES - 16);
        let fit = MAX_PUSH_CHANGE_CONTENT_BYTES / c.len();
        for i in 0..fit {
            assert_eq!(
                code(admit(("a", &i.to_string()), &c, 0, &mut spent)),
                "admitted"
            );
        }
        assert_eq!(code(admit(("a", "x"), &c, 0, &mut spent)), "deferred");
        assert_eq!(
            code(admit(("a", "y"), &change(1), 0, &mut spent)),
            "deferred"
        );
    }

    /// A 20-byte change found by fuzzing: Automerge parses it, then panics applying it.
    #[test]
    fn a_change_that_panics_automerge_is_not_applied() {
        let mut bytes = chunk::MAGIC.to_vec();
        bytes.extend([0, 0, 0, 0, 1, 10, 0, 1, 0, 0x58, 0x6b, 0, 0, 0, 0, 0]);
        let change = automerge::Change::from_bytes(bytes).expect("it parses");
        let mut doc = automerge::AutoCommit::new();
        assert!(!apply_guarded(&mut doc, change));
    }

    /// A 37-byte change whose action column claims 10^8 operations is refused before Automerge
    /// parses it (its parse would walk every one of them under the push's lock).
    #[test]
    fn a_run_length_bomb_is_refused_before_parsing() {
        // No deps, actor `aa`, seq 1, start op 1, time 0, no message, no other actors; one
        // column (action, 0x42) holding one run of 100,000,000 ones.
        let mut body = vec![0, 1, 0xaa, 1, 1, 0, 0, 0, 1, 0x42, 5];
        body.extend([0x80, 0xc2, 0xd7, 0x2f, 1]);
        let mut bytes = chunk::MAGIC.to_vec();
        bytes.extend([0, 0, 0, 0, 1, u8::try_from(body.len()).unwrap()]);
        bytes.extend(&body);
        let mut spent = Spent::default();
        assert_eq!(code(admit(("a", "b"), &bytes, 0, &mut spent)), "too_large");
    }
}
