//! The back office's writes of reference rows: versions, scope moves, supersession of older
//! log entries, plain rows and events, as a [`Plan`]. [`write_row`] writes one row; the rows the
//! server derives from tallies (`engine::derived`) go through it too. Derived collections are
//! refused to the back office ([`ReferenceError::Derived`]).

use std::collections::HashMap;

use lapak_core::Record;
use lapak_core::protocol::LogOp;
use lapak_core::schema::Kind;

use super::{
    Context, LogRow, MaterialRow, Plan, RowWrite, StoredReference, Superseded, check_id, check_row,
    event, next_position,
};
use crate::rules::WriteKind;

/// Why a back-office write of reference rows was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceError {
    /// No such collection, or not reference data.
    #[error("`{0}` is not a reference collection of this server's schema")]
    NotReference(String),
    /// A collection the server derives from accepted facts: nobody writes it.
    #[error(
        "`{0}` is derived by the server from accepted facts (its rows follow the tallies that sales, returns, stock movements and payments move) and cannot be written: record the fact that changes it instead"
    )]
    Derived(String),
    /// A row does not fit the collection.
    #[error("row `{id}` of `{collection}`: {detail}")]
    Invalid {
        /// The collection.
        collection: String,
        /// The row.
        id: String,
        /// What is wrong.
        detail: String,
    },
}

/// Plans a back-office write of reference rows: each `(id, Some(fields))` is an upsert, each
/// `(id, None)` a deletion. Each row gets its own position, which is also its version; the
/// log keeps only each row's newest entry per scope (older ones are superseded), so a new
/// device's first pull of a scope is a snapshot, not a replay of history.
///
/// # Errors
/// [`ReferenceError`] when the collection is not reference data or a row does not fit it;
/// nothing of the batch is then stored.
pub fn plan_reference(
    ctx: &Context<'_>,
    collection: &str,
    rows: &[(String, Option<Record>)],
    current: &HashMap<String, StoredReference>,
) -> Result<Plan, ReferenceError> {
    let c = ctx
        .schema
        .collection(collection)
        .ok()
        .filter(|c| c.kind() == Kind::Reference)
        .ok_or_else(|| ReferenceError::NotReference(collection.to_owned()))?;
    if c.is_derived() {
        return Err(ReferenceError::Derived(collection.to_owned()));
    }
    let mut plan = Plan {
        head: ctx.head,
        ..Plan::default()
    };
    let mut state: HashMap<String, StoredReference> = HashMap::new();
    for (id, fields) in rows {
        let invalid = |detail: String| ReferenceError::Invalid {
            collection: collection.to_owned(),
            id: id.clone(),
            detail,
        };
        check_id(id).map_err(invalid)?;
        let scopes = match fields {
            Some(f) => check_row(c, f).map_err(invalid)?,
            None => Vec::new(),
        };
        let before = state
            .get(id)
            .or_else(|| current.get(id))
            .cloned()
            .unwrap_or(StoredReference {
                scopes: Vec::new(),
                deleted: true,
                version: 0,
            });
        let written = fields.as_ref().map(|f| (f, scopes.clone()));
        let Some((position, after)) = write_row(&mut plan, c, id, written, &before) else {
            continue; // deleting what is not there changes nothing
        };
        let empty = Record::new();
        let (kind, record) = match fields {
            Some(f) => (WriteKind::Updated, f),
            None => (WriteKind::Deleted, &empty),
        };
        plan.events.push(event(
            ctx,
            ctx.rules.event_type(collection, kind),
            collection,
            id,
            record,
            &scopes,
            position,
            None,
        ));
        state.insert(id.clone(), after);
    }
    Ok(plan)
}

/// Writes one reference row (`Some`: upsert, with its fields and the scopes they put it in;
/// `None`: delete) into `plan` at the next position,
/// which is also its version: a log entry in every scope it was or will be in (an upsert where
/// it is, a deletion, or an eviction from a scope it left), its previous entries superseded, its
/// plain row and its new state. Returns the position and that state, or `None` when deleting
/// a row that is not there (nothing to write). The caller has checked the row.
pub(super) fn write_row(
    plan: &mut Plan,
    c: &lapak_core::Collection,
    id: &str,
    written: Option<(&Record, Vec<String>)>,
    before: &StoredReference,
) -> Option<(u64, StoredReference)> {
    if written.is_none() && before.deleted {
        return None;
    }
    let collection = c.name();
    let position = next_position(plan);
    let (fields, new_scopes) = written.map_or((None, Vec::new()), |(f, s)| (Some(f), s));
    let mut touched = before.scopes.clone();
    touched.extend(new_scopes.iter().cloned());
    touched.sort();
    touched.dedup();
    for s in &touched {
        let op = match (fields, new_scopes.contains(s)) {
            (Some(f), true) => LogOp::Upsert {
                version: position,
                fields: f.clone(),
            },
            (None, _) => LogOp::Delete { version: position },
            (Some(_), false) => LogOp::Evict,
        };
        plan.log.push(LogRow {
            scope: s.clone(),
            position,
            collection: collection.to_owned(),
            record_id: id.to_owned(),
            op,
        });
    }
    // Every write logs the row in every scope it touches, so its previous entries are all
    // at its previous version.
    if before.version > 0 {
        for s in &before.scopes {
            plan.superseded.push(Superseded {
                scope: s.clone(),
                position: before.version,
            });
        }
    }
    plan.rows.push(RowWrite {
        collection: collection.to_owned(),
        id: id.to_owned(),
        row: fields.map(|f| MaterialRow {
            record: f.clone(),
            scopes: new_scopes.clone(),
            position,
            device_id: None,
        }),
    });
    // A deleted row keeps the scopes its deletion was logged in, so that a later write
    // supersedes those entries too.
    let after = StoredReference {
        scopes: if fields.is_some() {
            new_scopes
        } else {
            touched
        },
        deleted: fields.is_none(),
        version: position,
    };
    plan.references
        .push(((collection.to_owned(), id.to_owned()), after.clone()));
    Some((position, after))
}
