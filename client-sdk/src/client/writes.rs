//! The device's writes (each wakes the sync loop and refreshes the status) and reads.

use lapak_core::store::Write;
use lapak_core::{Edit, Query, Record, Rejection, Row, Store, Value};

use super::Client;
use crate::error::Result;

impl Client {
    /// Wakes the sync loop: there is something to push.
    fn wrote(&self) {
        self.inner.wake.notify_one();
    }

    /// Creates a document record; returns its id.
    ///
    /// # Errors
    /// Store errors (unknown collection or field, wrong type, missing required field).
    pub async fn create(&self, collection: &str, fields: Record) -> Result<String> {
        let c = collection.to_owned();
        self.write_with(move |s| s.create(&c, fields)).await
    }

    /// Creates a document record under a chosen id.
    ///
    /// # Errors
    /// As [`Client::create`], and when the id exists.
    pub async fn create_with_id(&self, collection: &str, id: &str, fields: Record) -> Result<()> {
        let (c, i) = (collection.to_owned(), id.to_owned());
        self.write_with(move |s| s.create_with_id(&c, &i, fields))
            .await
    }

    /// Edits a document record.
    ///
    /// # Errors
    /// Store errors (no such record, wrong field or type).
    pub async fn edit(&self, collection: &str, id: &str, edits: Vec<Edit>) -> Result<()> {
        let (c, i) = (collection.to_owned(), id.to_owned());
        self.write_with(move |s| s.edit(&c, &i, edits)).await
    }

    /// Sets one field of a document record.
    ///
    /// # Errors
    /// As [`Client::edit`].
    pub async fn set(&self, collection: &str, id: &str, field: &str, value: Value) -> Result<()> {
        self.edit(
            collection,
            id,
            vec![Edit::Set {
                field: field.to_owned(),
                value,
            }],
        )
        .await
    }

    /// Deletes a document record.
    ///
    /// # Errors
    /// As [`Client::edit`].
    pub async fn delete(&self, collection: &str, id: &str) -> Result<()> {
        let (c, i) = (collection.to_owned(), id.to_owned());
        self.write_with(move |s| s.delete(&c, &i)).await
    }

    /// Appends a ledger entry; returns its id.
    ///
    /// # Errors
    /// Store errors.
    pub async fn append(&self, collection: &str, entry: Record) -> Result<String> {
        let c = collection.to_owned();
        self.write_with(move |s| s.append(&c, entry)).await
    }

    /// Makes several writes in one local transaction: all of them are stored and queued for the
    /// server, or none (see [`Store::write_batch`]). Returns the id of each write, in order.
    ///
    /// # Errors
    /// [`lapak_core::Error::BatchWrite`] (inside [`ClientError::Store`]) naming the write that
    /// failed and why; nothing of the batch was stored.
    pub async fn write_batch(&self, writes: Vec<Write>) -> Result<Vec<String>> {
        if writes.is_empty() {
            return Ok(Vec::new());
        }
        self.write_with(move |s| s.write_batch(writes)).await
    }

    /// Runs `f` on the store under its lock, for work that reads and then writes what it read
    /// (a cart line edited by its position, an invoice numbered after the last one): nothing
    /// else reaches the store in between, pulls included. Then, like every write, wakes the
    /// sync loop and refreshes the status.
    ///
    /// # Errors
    /// Whatever `f` returns.
    pub async fn write_with<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> lapak_core::Result<T> + Send + 'static,
    {
        // The queue's new length is read in the same trip to the blocking pool as the write:
        // a second trip costs a thread hand-off each way, which a binding's caller (a phone's
        // coroutine woken through the FFI) pays many times over. A local write changes neither
        // the rejections nor the photos waiting, so the rest of the status stays.
        let (out, pending) = self
            .with_store(move |s| {
                let out = f(s)?;
                Ok((out, s.pending_count()?))
            })
            .await?;
        self.wrote();
        self.inner.status.send_if_modified(|st| {
            let changed = st.pending != pending;
            st.pending = pending;
            changed
        });
        Ok(out)
    }

    /// One record's row.
    ///
    /// # Errors
    /// Store errors.
    pub async fn get(&self, collection: &str, id: &str) -> Result<Option<Row>> {
        let (c, i) = (collection.to_owned(), id.to_owned());
        self.with_store(move |s| s.get(&c, &i)).await
    }

    /// Rows of a collection.
    ///
    /// # Errors
    /// Store errors.
    pub async fn query(&self, collection: &str, query: Query) -> Result<Vec<Row>> {
        let c = collection.to_owned();
        self.with_store(move |s| s.query(&c, &query)).await
    }

    /// Changes the server rejected, with its reasons.
    ///
    /// # Errors
    /// Store errors.
    pub async fn rejections(&self) -> Result<Vec<Rejection>> {
        self.with_store(|s| s.rejections()).await
    }
}
