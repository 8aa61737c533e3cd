//! `lapak-mobile`: Lapak for the field-sales phone apps, through uniffi (Kotlin, Swift,
//! Python). One [`LapakClient`] per device wraps `lapak-client`; nothing of the engine or the
//! rules is reimplemented here. Calls that talk to the store or the server are `async`
//! (Kotlin coroutines, Swift async, Python asyncio); `status` is a plain read.

use std::sync::{Arc, Mutex};

mod error;
mod status;

pub use error::LapakError;
pub use status::{StatusListener, StatusSubscription, SyncStatus};

uniffi::setup_scaffolding!();

/// One device's Lapak: its store on the phone, its session with the server, and the sync
/// that runs by itself once signed in.
#[derive(uniffi::Object)]
pub struct LapakClient {
    client: lapak_client::Client,
    sync: Mutex<Option<lapak_client::SyncTask>>,
    runtime: tokio::runtime::Handle,
}

/// What one `sync_now` did.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SyncReport {
    /// Changes sent to the server.
    pub pushed: u64,
    /// Of those, accepted.
    pub accepted: u64,
    /// Of those, rejected (see the status's rejections).
    pub rejected: u64,
    /// Changes of others received.
    pub pulled: u64,
}

#[uniffi::export(async_runtime = "tokio")]
impl LapakClient {
    /// Opens (or creates) the device's store in `data_dir` (the app's private files
    /// directory). Signed in from an earlier run, it starts syncing at once.
    ///
    /// # Errors
    /// `Storage` when the directory or the store cannot be opened.
    #[uniffi::constructor]
    pub async fn open(data_dir: String, device_name: String) -> Result<Arc<Self>, LapakError> {
        let mut options =
            lapak_client::ClientOptions::new(data_dir, lapak_core::catalog::business());
        options.device_name = device_name;
        let client = lapak_client::Client::open(options).await?;
        let this = LapakClient {
            client,
            sync: Mutex::new(None),
            runtime: tokio::runtime::Handle::current(),
        };
        if this.client.credentials().await.is_some() {
            this.start_sync();
        }
        Ok(Arc::new(this))
    }

    /// Signs `username` in at `server` (`https://lapak.example.com`) and starts syncing.
    ///
    /// # Errors
    /// `Unauthorized` for a wrong password, `Offline` when the server cannot be reached.
    pub async fn login(
        &self,
        server: String,
        username: String,
        password: String,
    ) -> Result<(), LapakError> {
        self.client
            .login(&server, &username, &password, None)
            .await?;
        self.start_sync();
        Ok(())
    }

    /// Signs out: stops syncing and forgets the session (the store keeps the data).
    ///
    /// # Errors
    /// `Offline` or `Server` when the server could not end the session.
    pub async fn logout(&self) -> Result<(), LapakError> {
        let task = self.sync.lock().map(|mut s| s.take()).unwrap_or(None);
        if let Some(task) = task {
            task.stop().await;
        }
        self.client.logout().await?;
        Ok(())
    }

    /// Sends what waits and receives what others wrote, now.
    ///
    /// # Errors
    /// `NotSignedIn`, `Offline`, `Unauthorized`.
    pub async fn sync_now(&self) -> Result<SyncReport, LapakError> {
        let r = self.client.sync_once().await?;
        Ok(SyncReport {
            pushed: r.pushed as u64,
            accepted: r.accepted as u64,
            rejected: r.rejected as u64,
            pulled: r.pulled as u64,
        })
    }

    /// Where sync stands now.
    pub fn status(&self) -> SyncStatus {
        SyncStatus::from(&*self.client.status().borrow())
    }

    /// Calls `listener` with the status now and at every change, until the returned handle
    /// is closed or dropped.
    pub fn subscribe_status(&self, listener: Arc<dyn StatusListener>) -> Arc<StatusSubscription> {
        status::subscribe(&self.runtime, self.client.status(), listener)
    }
}

impl LapakClient {
    fn start_sync(&self) {
        let _guard = self.runtime.enter();
        if let Ok(mut sync) = self.sync.lock()
            && sync.is_none()
        {
            *sync = Some(self.client.start());
        }
    }
}
