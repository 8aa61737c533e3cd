//! [`BlockingClient`]: the client for callers that have no async runtime (the Tauri commands,
//! the uniffi bindings). It owns a small tokio runtime that runs the background sync; every
//! method blocks until done. Do not call it from inside an async runtime (tokio refuses to
//! block there); async callers use [`Client`] directly.

use lapak_core::store::Write;
use lapak_core::{Edit, Query, Record, Rejection, Row, Value};
use tokio::sync::watch;

use crate::client::{Client, ClientOptions, LoginInfo, Status, SyncReport, SyncTask};
use crate::error::{ClientError, Result};

/// A [`Client`] behind blocking calls.
#[derive(Debug)]
pub struct BlockingClient {
    runtime: tokio::runtime::Runtime,
    client: Client,
    task: Option<SyncTask>,
}

impl BlockingClient {
    /// Opens the device (see [`Client::open`]).
    ///
    /// # Errors
    /// As [`Client::open`], and when the runtime cannot start.
    pub fn open(options: ClientOptions) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .thread_name("lapak-client")
            .build()
            .map_err(|source| ClientError::File {
                what: "cannot start the client's runtime for",
                path: options.dir.display().to_string(),
                source,
            })?;
        let client = runtime.block_on(Client::open(options))?;
        Ok(BlockingClient {
            runtime,
            client,
            task: None,
        })
    }

    /// The async client inside, for callers that have a runtime after all.
    #[must_use]
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// See [`Client::login`].
    ///
    /// # Errors
    /// As [`Client::login`].
    pub fn login(&self, server: &str, username: &str, password: &str) -> Result<LoginInfo> {
        self.runtime
            .block_on(self.client.login(server, username, password, None))
    }

    /// See [`Client::logout`].
    ///
    /// # Errors
    /// As [`Client::logout`].
    pub fn logout(&self) -> Result<()> {
        self.runtime.block_on(self.client.logout())
    }

    /// See [`Client::sync_once`].
    ///
    /// # Errors
    /// As [`Client::sync_once`].
    pub fn sync_once(&self) -> Result<SyncReport> {
        self.runtime.block_on(self.client.sync_once())
    }

    /// Starts the background sync (no-op when running).
    pub fn start(&mut self) {
        if self.task.is_none() {
            let _guard = self.runtime.enter();
            self.task = Some(self.client.start());
        }
    }

    /// Stops the background sync and waits for it (about 2 s at most, as
    /// [`crate::SyncTask::stop`]).
    pub fn stop(&mut self) {
        if let Some(t) = self.task.take() {
            self.runtime.block_on(t.stop());
        }
    }

    /// The current status.
    #[must_use]
    pub fn status(&self) -> Status {
        self.client.status().borrow().clone()
    }

    /// Waits until the status changes (or `timeout` passes) and returns it.
    #[must_use]
    pub fn next_status(&self, timeout: std::time::Duration) -> Status {
        let mut rx: watch::Receiver<Status> = self.client.status();
        self.runtime.block_on(async {
            let _ = tokio::time::timeout(timeout, rx.changed()).await;
        });
        rx.borrow().clone()
    }

    /// See [`Client::create`].
    ///
    /// # Errors
    /// As [`Client::create`].
    pub fn create(&self, collection: &str, fields: Record) -> Result<String> {
        self.runtime
            .block_on(self.client.create(collection, fields))
    }

    /// See [`Client::edit`].
    ///
    /// # Errors
    /// As [`Client::edit`].
    pub fn edit(&self, collection: &str, id: &str, edits: Vec<Edit>) -> Result<()> {
        self.runtime
            .block_on(self.client.edit(collection, id, edits))
    }

    /// See [`Client::set`].
    ///
    /// # Errors
    /// As [`Client::set`].
    pub fn set(&self, collection: &str, id: &str, field: &str, value: Value) -> Result<()> {
        self.runtime
            .block_on(self.client.set(collection, id, field, value))
    }

    /// See [`Client::delete`].
    ///
    /// # Errors
    /// As [`Client::delete`].
    pub fn delete(&self, collection: &str, id: &str) -> Result<()> {
        self.runtime.block_on(self.client.delete(collection, id))
    }

    /// See [`Client::append`].
    ///
    /// # Errors
    /// As [`Client::append`].
    pub fn append(&self, collection: &str, entry: Record) -> Result<String> {
        self.runtime.block_on(self.client.append(collection, entry))
    }

    /// See [`Client::write_batch`].
    ///
    /// # Errors
    /// As [`Client::write_batch`].
    pub fn write_batch(&self, writes: Vec<Write>) -> Result<Vec<String>> {
        self.runtime.block_on(self.client.write_batch(writes))
    }

    /// See [`Client::get`].
    ///
    /// # Errors
    /// As [`Client::get`].
    pub fn get(&self, collection: &str, id: &str) -> Result<Option<Row>> {
        self.runtime.block_on(self.client.get(collection, id))
    }

    /// See [`Client::query`].
    ///
    /// # Errors
    /// As [`Client::query`].
    pub fn query(&self, collection: &str, query: Query) -> Result<Vec<Row>> {
        self.runtime.block_on(self.client.query(collection, query))
    }

    /// See [`Client::rejections`].
    ///
    /// # Errors
    /// As [`Client::rejections`].
    pub fn rejections(&self) -> Result<Vec<Rejection>> {
        self.runtime.block_on(self.client.rejections())
    }
}

impl Drop for BlockingClient {
    fn drop(&mut self) {
        self.stop();
    }
}
