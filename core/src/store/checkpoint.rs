//! Checkpoints off the write path. In WAL mode SQLite folds the log back into the database
//! file every 1,000 pages, on the connection that happens to commit then, and syncs the file
//! while that write waits: one local write in a few hundred takes ten times the others. A
//! [`Checkpointer`] is a second connection to the same file that an app runs from a background
//! thread; the store's own connection then checkpoints only past [`FALLBACK_PAGES`], should
//! the checkpointer not run.

use rusqlite::Connection;

use super::Store;
use crate::error::Result;

/// Pages of log past which the store's own connection checkpoints anyway (32 MiB of 4 KiB
/// pages): the log stays bounded even when no checkpointer runs.
pub const FALLBACK_PAGES: u32 = 8_192;

/// A connection that checkpoints a store's log; see the module's documentation.
pub struct Checkpointer {
    conn: Connection,
}

impl std::fmt::Debug for Checkpointer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpointer")
            .field("path", &self.conn.path())
            .finish()
    }
}

impl Checkpointer {
    /// Copies what the log holds into the database file, without waiting for readers or
    /// writers (a passive checkpoint); returns the pages the log held and those copied.
    ///
    /// # Errors
    /// When SQLite fails (the file is locked too long, the disk is full).
    pub fn checkpoint(&self) -> Result<(i64, i64)> {
        Ok(self
            .conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                Ok((r.get(1)?, r.get(2)?))
            })?)
    }
}

impl Store {
    /// A [`Checkpointer`] for this store's file, `None` for a store in memory. From then on
    /// this connection checkpoints only past [`FALLBACK_PAGES`]: run the checkpointer every
    /// second or so, off the threads that write.
    ///
    /// # Errors
    /// When the second connection cannot be opened.
    pub fn checkpointer(&mut self) -> Result<Option<Checkpointer>> {
        let Some(path) = self
            .conn
            .path()
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
        else {
            return Ok(None);
        };
        let conn = Connection::open(path)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        self.conn
            .pragma_update(None, "wal_autocheckpoint", FALLBACK_PAGES)?;
        Ok(Some(Checkpointer { conn }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checkpointer_empties_the_log_the_store_leaves_behind() {
        let dir = tempfile::tempdir().unwrap();
        let schema = crate::testkit::sample_schema();
        let mut store = Store::open(dir.path().join("s.sqlite3"), schema.clone()).unwrap();
        let checkpointer = store.checkpointer().unwrap().expect("a file has one");
        for i in 0..300 {
            let mut sale = crate::Record::new();
            sale.insert("branch".into(), crate::Value::Text("A".into()));
            sale.insert("total".into(), crate::Value::Int(i));
            store.append("sales", sale).unwrap();
        }
        let (held, copied) = checkpointer.checkpoint().unwrap();
        assert!(held > 0, "the store left its writes in the log");
        assert_eq!(held, copied, "nothing else holds the log");
        let mut memory = Store::open_in_memory(schema).unwrap();
        assert!(memory.checkpointer().unwrap().is_none());
    }
}
