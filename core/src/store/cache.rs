//! A small cache of the documents this device wrote last, so that a cashier editing one held
//! bill or a salesperson filling one outlet profile does not pay for loading the Automerge
//! document from SQLite on every keystroke-sized write (loading costs far more than editing).
//!
//! The cache is bounded (a few dozen documents, about 20 KB each) and only ever holds committed
//! state: a write takes its document out, and puts it back only after its transaction commits.
//! Other paths that change documents (pulls, push answers, scope changes) empty it, and so does a
//! commit by another connection to the same file, seen through `PRAGMA data_version`.

use std::collections::VecDeque;

use rusqlite::Connection;

use super::StoredDocument;
use crate::error::Result;

/// Documents kept loaded after a write.
const CAPACITY: usize = 32;

#[derive(Default)]
pub(crate) struct DocCache {
    entries: VecDeque<(String, String, StoredDocument)>,
    data_version: Option<i64>,
}

impl DocCache {
    /// Empties the cache if another connection committed to the file since the last look.
    pub(crate) fn check_other_writers(&mut self, conn: &Connection) -> Result<()> {
        let version: i64 = conn
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?;
        if self.data_version != Some(version) {
            self.entries.clear();
            self.data_version = Some(version);
        }
        Ok(())
    }

    /// Takes a document out of the cache.
    pub(crate) fn take(&mut self, collection: &str, id: &str) -> Option<StoredDocument> {
        let at = self
            .entries
            .iter()
            .position(|(c, i, _)| c == collection && i == id)?;
        self.entries.remove(at).map(|(_, _, doc)| doc)
    }

    /// Puts a committed document back, as the most recent.
    pub(crate) fn put(&mut self, collection: &str, id: &str, doc: StoredDocument) {
        self.entries
            .push_front((collection.to_owned(), id.to_owned(), doc));
        self.entries.truncate(CAPACITY);
    }

    /// Forgets everything.
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }
}
