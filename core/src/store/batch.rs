//! Local writes, single or several in one SQLite transaction ([`Store::write_batch`]).
//!
//! Every local write goes through here; [`Store::create`], [`Store::edit`], [`Store::delete`],
//! [`Store::append`] and the others are batches of one whose errors are their own. A write
//! passes two steps:
//! 1. **Plan** (no transaction yet): the collection and its kind, the id, the fields, edits and
//!    scopes are checked against the schema, a ledger entry is encoded and its size checked, and
//!    creations without an id and ledger entries get their new ids.
//! 2. **Stage** (inside one `BEGIN IMMEDIATE` transaction, in the writes' order): a document
//!    write takes its document from the writes staged before it, the cache or the file, applies
//!    its change, checks the change's size, and writes the document bytes, the plain row and a
//!    queue entry; a ledger entry writes its row and a queue entry.
//!
//! Only after the commit are the written documents put in the cache (`store::cache`) and the
//! listeners told, once, which records changed. A failure at any step drops the transaction
//! (SQLite rolls it back) and the documents it loaded, which the cache no longer holds: a failed
//! batch leaves the file, the queue, the cache and the listeners as they were.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use automerge::ActorId;
use rusqlite::{Connection, TransactionBehavior, params};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::cache::DocCache;
use super::tables::{Scopes, TableSql};
use super::{
    COMPACT_AFTER, Changed, Origin, Store, StoredDocument, check_edit, check_id, check_scopes,
    check_size, insert_ledger_row, load_document, now_ms, save_document, write_document_row,
};
use crate::document::{self, DocOp, Edit, Mode};
use crate::error::{Error, Result};
use crate::schema::{Collection, Kind, Schema};
use crate::value::{Record, Value};

/// One local write, for [`Store::write_batch`]. Each variant is checked exactly as the single
/// write it names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Write {
    /// Creates a document record: [`Store::create`] when `id` is `None` (a new UUIDv7 is made),
    /// [`Store::create_with_id`] otherwise.
    Create {
        /// A document collection.
        collection: String,
        /// The record's id, or `None` for a new one.
        id: Option<String>,
        /// Its fields.
        fields: Record,
    },
    /// Applies edits to a document record, as one change ([`Store::edit`]).
    Edit {
        /// A document collection.
        collection: String,
        /// The record.
        id: String,
        /// The edits, in order.
        edits: Vec<Edit>,
    },
    /// Deletes a document record ([`Store::delete`]).
    Delete {
        /// A document collection.
        collection: String,
        /// The record.
        id: String,
    },
    /// Appends a ledger entry with a new id ([`Store::append`]).
    Append {
        /// A ledger collection.
        collection: String,
        /// The entry.
        entry: Record,
    },
}

impl Write {
    /// [`Write::Create`] with a new id.
    #[must_use]
    pub fn create(collection: impl Into<String>, fields: Record) -> Write {
        Write::Create {
            collection: collection.into(),
            id: None,
            fields,
        }
    }

    /// [`Write::Create`] with the given id.
    #[must_use]
    pub fn create_with_id(
        collection: impl Into<String>,
        id: impl Into<String>,
        fields: Record,
    ) -> Write {
        Write::Create {
            collection: collection.into(),
            id: Some(id.into()),
            fields,
        }
    }

    /// [`Write::Edit`].
    #[must_use]
    pub fn edit(collection: impl Into<String>, id: impl Into<String>, edits: Vec<Edit>) -> Write {
        Write::Edit {
            collection: collection.into(),
            id: id.into(),
            edits,
        }
    }

    /// [`Write::Edit`] setting one field ([`Store::set`]).
    #[must_use]
    pub fn set(
        collection: impl Into<String>,
        id: impl Into<String>,
        field: impl Into<String>,
        value: impl Into<Value>,
    ) -> Write {
        Write::edit(
            collection,
            id,
            vec![Edit::Set {
                field: field.into(),
                value: value.into(),
            }],
        )
    }

    /// [`Write::Delete`].
    #[must_use]
    pub fn delete(collection: impl Into<String>, id: impl Into<String>) -> Write {
        Write::Delete {
            collection: collection.into(),
            id: id.into(),
        }
    }

    /// [`Write::Append`].
    #[must_use]
    pub fn append(collection: impl Into<String>, entry: Record) -> Write {
        Write::Append {
            collection: collection.into(),
            entry,
        }
    }

    /// The collection written.
    #[must_use]
    pub fn collection(&self) -> &str {
        match self {
            Write::Create { collection, .. }
            | Write::Edit { collection, .. }
            | Write::Delete { collection, .. }
            | Write::Append { collection, .. } => collection,
        }
    }
}

/// A write checked against the schema, with its id decided: what a transaction stages.
enum Planned {
    Document {
        /// The collection's index in the schema.
        at: usize,
        id: String,
        op: DocOp,
    },
    Ledger {
        at: usize,
        /// The entry's id, also its change id.
        id: Uuid,
        entry: Record,
        /// The entry in postcard encoding, as queued and pushed.
        payload: Vec<u8>,
        /// The followed scopes the entry is held through, tentatively.
        scopes: Scopes,
    },
}

impl Planned {
    fn id(&self) -> String {
        match self {
            Planned::Document { id, .. } => id.clone(),
            Planned::Ledger { id, .. } => id.to_string(),
        }
    }
}

/// Which write of a batch failed (`None`: the transaction itself, not one write), and why.
type Failed = (Option<usize>, Error);

impl Store {
    /// Makes several writes (documents and ledger entries) in one local transaction: either all
    /// of them are stored and queued for the server, or none. Each write is checked exactly as
    /// its single form ([`Store::create`], [`Store::create_with_id`], [`Store::edit`],
    /// [`Store::delete`], [`Store::append`]) and sees the writes before it: a batch may create a
    /// document and then edit it, or edit one and then delete it; each write queues its own
    /// change, in the batch's order. Listeners hear of the batch once, after it commits.
    ///
    /// Returns the id of each write, in order (the new ids of creations without an id and of
    /// ledger entries). An empty batch writes nothing and returns an empty vector.
    ///
    /// Every document the batch writes stays loaded until it commits: keep a batch to what one
    /// user action writes.
    ///
    /// # Errors
    /// [`Error::BatchWrite`] naming the write that failed (its index and collection) with its
    /// single write's error inside; nothing of the batch is stored, queued or told.
    /// [`Error::Sqlite`] when the transaction itself cannot begin or commit.
    pub fn write_batch(&mut self, writes: Vec<Write>) -> Result<Vec<String>> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        let collections: Vec<String> = writes.iter().map(|w| w.collection().to_owned()).collect();
        let failed = |(index, source): Failed| match index {
            Some(index) => Error::BatchWrite {
                index,
                collection: collections[index].clone(),
                source: Box::new(source),
            },
            None => source,
        };
        let planned = writes
            .into_iter()
            .enumerate()
            .map(|(i, w)| self.plan(w).map_err(|e| failed((Some(i), e))))
            .collect::<Result<Vec<_>>>()?;
        self.commit_writes(planned).map_err(failed)
    }

    /// One write: a batch of one, failing with the write's own error. Returns its id.
    pub(super) fn write_one(&mut self, write: Write) -> Result<String> {
        let planned = self.plan(write)?;
        let ids = self.commit_writes(vec![planned]).map_err(|(_, e)| e)?;
        Ok(ids.into_iter().next().unwrap_or_default())
    }

    /// Checks a write against the schema and decides its id, without touching the file.
    fn plan(&self, write: Write) -> Result<Planned> {
        match write {
            Write::Create {
                collection,
                id,
                fields,
            } => {
                let (schema, at) = self.collection_of(&collection, Kind::Document, "create")?;
                let c = &schema.collections()[at];
                let id = id.unwrap_or_else(|| Uuid::now_v7().to_string());
                check_id(c, &id)?;
                c.check_record(&fields)?;
                check_scopes(c, &fields)?;
                Ok(Planned::Document {
                    at,
                    id,
                    op: DocOp::Create(fields),
                })
            }
            Write::Edit {
                collection,
                id,
                edits,
            } => {
                let (schema, at) = self.collection_of(&collection, Kind::Document, "edit")?;
                let c = &schema.collections()[at];
                for e in &edits {
                    check_edit(c, e)?;
                }
                Ok(Planned::Document {
                    at,
                    id,
                    op: DocOp::Edit(edits),
                })
            }
            Write::Delete { collection, id } => {
                let (_, at) = self.collection_of(&collection, Kind::Document, "delete")?;
                Ok(Planned::Document {
                    at,
                    id,
                    op: DocOp::Delete,
                })
            }
            Write::Append { collection, entry } => self.plan_append(&collection, entry),
        }
    }

    fn plan_append(&self, collection: &str, entry: Record) -> Result<Planned> {
        let (schema, at) = self.collection_of(collection, Kind::Ledger, "append")?;
        let c = &schema.collections()[at];
        c.check_record(&entry)?;
        check_scopes(c, &entry)?;
        let id = Uuid::now_v7();
        let payload = postcard::to_allocvec(&entry).map_err(|e| Error::InvalidValue {
            collection: c.name().to_owned(),
            field: String::new(),
            detail: e.to_string(),
        })?;
        check_size(c, &id.to_string(), payload.len())?;
        let mut scopes = Scopes::default();
        scopes.add_moved_into(&[], &c.scopes_of(&entry), &self.followed);
        Ok(Planned::Ledger {
            at,
            id,
            entry,
            payload,
            scopes,
        })
    }

    /// Stages the planned writes in one `BEGIN IMMEDIATE` transaction and commits it; then puts
    /// the written documents in the cache and tells the listeners. Returns each write's id.
    fn commit_writes(&mut self, planned: Vec<Planned>) -> Result<Vec<String>, Failed> {
        let whole = |e: Error| (None, e);
        let ids = planned.iter().map(Planned::id).collect();
        let schema = Arc::clone(&self.schema);
        let changed = Changed::new(self.listening());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| whole(e.into()))?;
        self.cache.check_other_writers(&tx).map_err(whole)?;
        let mut staging = Staging {
            conn: &tx,
            actor: &self.actor,
            sql: &self.sql,
            followed: &self.followed,
            cache: &mut self.cache,
            docs: HashMap::new(),
            changed,
            told: HashSet::new(),
        };
        for (i, p) in planned.iter().enumerate() {
            staging.stage(&schema, p).map_err(|e| (Some(i), e))?;
        }
        let Staging { docs, changed, .. } = staging;
        tx.commit().map_err(|e| whole(e.into()))?;
        for ((collection, id), doc) in docs {
            self.cache.put(&collection, &id, doc);
        }
        self.notify(changed, Origin::Local);
        Ok(ids)
    }
}

/// The writes of one open transaction: the documents they changed (committed to the cache only
/// after the transaction commits) and the records to tell the listeners of.
struct Staging<'a> {
    conn: &'a Connection,
    actor: &'a ActorId,
    sql: &'a HashMap<String, TableSql>,
    followed: &'a BTreeSet<String>,
    cache: &'a mut DocCache,
    /// Documents written by this transaction, by (collection, id), as written.
    docs: HashMap<(String, String), StoredDocument>,
    changed: Changed,
    /// Records already in `changed` (a batch may write one record several times).
    told: HashSet<(String, String)>,
}

impl Staging<'_> {
    fn stage(&mut self, schema: &Schema, p: &Planned) -> Result<()> {
        match p {
            Planned::Document { at, id, op } => {
                self.stage_document(&schema.collections()[*at], id, op)
            }
            Planned::Ledger {
                at,
                id,
                entry,
                payload,
                scopes,
            } => self.stage_ledger(&schema.collections()[*at], *id, entry, payload, scopes),
        }
    }

    fn tell(&mut self, collection: &str, id: &str) {
        if self.told.insert((collection.to_owned(), id.to_owned())) {
            self.changed.add(collection, id);
        }
    }

    /// The document as this transaction sees it: written earlier in it, cached, or stored.
    fn take_document(&mut self, c: &Collection, id: &str) -> Result<Option<StoredDocument>> {
        if let Some(doc) = self.docs.remove(&(c.name().to_owned(), id.to_owned())) {
            return Ok(Some(doc));
        }
        match self.cache.take(c.name(), id) {
            Some(cached) => Ok(Some(cached)),
            None => load_document(self.conn, c, id, self.actor),
        }
    }

    /// Applies a document write: the document bytes, the plain row and the queue entry. A write
    /// that changes nothing writes nothing (and drops the document, which the file still holds).
    fn stage_document(&mut self, c: &Collection, id: &str, op: &DocOp) -> Result<()> {
        let (mut doc, scopes, appended) = match (self.take_document(c, id)?, op) {
            (Some(_), DocOp::Create(_)) => {
                return Err(Error::AlreadyExists {
                    collection: c.name().to_owned(),
                    id: id.to_owned(),
                });
            }
            (None, DocOp::Create(_)) => (
                document::genesis::new_doc(c, self.actor),
                Scopes::default(),
                None,
            ),
            (Some(s), _) if !s.deleted => (s.doc, s.scopes, s.appended),
            _ => {
                return Err(Error::NotFound {
                    collection: c.name().to_owned(),
                    id: id.to_owned(),
                });
            }
        };
        let scopes_before = document::scopes(&doc, c, id)?;
        document::apply(&mut doc, c, id, op, Mode::Strict)?;
        let Some(hash) = doc.commit() else {
            return Ok(()); // nothing changed
        };
        let change = doc
            .get_change_by_hash(&hash)
            .ok_or_else(|| document::doc_error(c.name(), id, &"the new change vanished"))?;
        check_size(c, id, change.raw_bytes().len())?;
        let (record, deleted) = document::project(&doc, c, id)?;
        check_scopes(c, &record)?;
        // A write that moves the record into a followed scope puts it there tentatively, until
        // the server's copy comes back through a pull.
        let mut scopes = scopes;
        scopes.add_moved_into(&scopes_before, &c.scopes_of(&record), self.followed);
        let appended = match appended {
            Some(n) if n < COMPACT_AFTER => {
                self.conn.prepare_cached(
                    "UPDATE lapak_documents SET doc = CAST(doc || ?3 AS BLOB), deleted = ?4, scopes = ?5
                     WHERE collection = ?1 AND id = ?2",
                )?
                .execute(params![c.name(), id, change.raw_bytes(), deleted, scopes.join()])?;
                n + 1
            }
            _ => {
                save_document(self.conn, c, id, &mut doc, deleted, &scopes)?;
                0
            }
        };
        write_document_row(
            self.conn,
            c,
            &self.sql[c.name()],
            id,
            &record,
            deleted,
            &scopes,
        )?;
        let op_json =
            serde_json::to_string(op).map_err(|e| document::doc_error(c.name(), id, &e))?;
        self.conn.prepare_cached(
            "INSERT INTO lapak_queue (change_id, collection, record_id, kind, payload, change_hash, op, created_at)
             VALUES (?1, ?2, ?3, 'document', ?4, ?5, ?6, ?7)",
        )?
        .execute(params![
            Uuid::now_v7().as_bytes().as_slice(),
            c.name(),
            id,
            change.raw_bytes(),
            hash.0.as_slice(),
            op_json,
            now_ms()
        ])?;
        self.docs.insert(
            (c.name().to_owned(), id.to_owned()),
            StoredDocument {
                doc,
                deleted,
                scopes,
                appended: Some(appended),
            },
        );
        self.tell(c.name(), id);
        Ok(())
    }

    /// Appends a ledger entry: its row and its queue entry.
    fn stage_ledger(
        &mut self,
        c: &Collection,
        id: Uuid,
        entry: &Record,
        payload: &[u8],
        scopes: &Scopes,
    ) -> Result<()> {
        let id_text = id.to_string();
        insert_ledger_row(
            self.conn,
            c,
            &self.sql[c.name()],
            &id_text,
            entry,
            &scopes.join(),
            None,
        )?;
        self.conn
            .prepare_cached(
                "INSERT INTO lapak_queue (change_id, collection, record_id, kind, payload, created_at)
                 VALUES (?1, ?2, ?3, 'ledger', ?4, ?5)",
            )?
            .execute(params![
                id.as_bytes().as_slice(),
                c.name(),
                id_text,
                payload,
                now_ms()
            ])?;
        self.tell(c.name(), &id_text);
        Ok(())
    }
}
