//! `lapak-mobile`: Lapak for the field-sales phone apps, through uniffi (Kotlin, Swift,
//! Python). One [`LapakClient`] per device wraps `lapak-client`; nothing of the engine or the
//! rules is reimplemented here: the checks are `lapak_core::field` and `lapak_core::commerce`,
//! the server's own. Calls that talk to the store or the server are `async` (Kotlin
//! coroutines, Swift async, Python asyncio); `status` is a plain read.
//!
//! - [`plan`]: today's call plan (visits in order, done, notes; the supervisor reorders).
//! - [`outlets`]: the territory's outlets (search, distance) and their profiles.
//! - [`visits`]: check-in and check-out, activities, surveys.
//! - [`orders`]: draft orders over several visits, then submitted.
//! - [`catalog`]: items with the outlet's price and the stock the user may see.
//! - [`photos`]: photos kept by content address and uploaded after their records.
//! - [`status`]: sync status and its listener; [`error`]: the one error type;
//!   [`types`]: ids, times, positions.

use std::sync::{Arc, Mutex};

pub mod catalog;
mod error;
pub mod orders;
pub mod outlets;
pub mod photos;
pub mod plan;
mod rows;
mod status;
pub mod types;
pub mod visits;

pub use error::LapakError;
pub use status::{StatusListener, StatusSubscription, SyncStatus};
pub use types::{Position, Uuid};

uniffi::setup_scaffolding!();

/// One device's Lapak: its store on the phone, its session with the server, and the sync
/// that runs by itself once signed in.
#[derive(uniffi::Object)]
pub struct LapakClient {
    client: lapak_client::Client,
    sync: Mutex<Option<lapak_client::SyncTask>>,
    runtime: tokio::runtime::Handle,
    /// The user's last trusted position, for judging check-ins (see `visits`).
    last_fix: Arc<visits::LastFix>,
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
    /// Photos the server stored.
    pub photos_uploaded: u64,
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
        lapak_client::identify_app(concat!("lapak-mobile/", env!("CARGO_PKG_VERSION")));
        let mut options =
            lapak_client::ClientOptions::new(data_dir, lapak_core::catalog::business());
        options.device_name = device_name;
        let client = lapak_client::Client::open(options).await?;
        let this = LapakClient {
            client,
            sync: Mutex::new(None),
            runtime: tokio::runtime::Handle::current(),
            last_fix: Arc::default(),
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
            photos_uploaded: r.photos_uploaded as u64,
        })
    }

    /// Who is signed in on this device: their login, name, role, branch and territory.
    ///
    /// # Errors
    /// `NotSignedIn`.
    pub async fn me(&self) -> Result<Me, LapakError> {
        let creds = self.client.credentials().await.ok_or_else(not_signed_in)?;
        let username = creds.username.clone();
        let staff = self.client.get("staff", &username).await?;
        let field = |k: &str| staff.as_ref().map(|r| rows::text(r, k)).unwrap_or_default();
        Ok(Me {
            name: Some(field("name"))
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| username.clone()),
            branch: field("branch"),
            territory: field("territory"),
            role: creds.role,
            username,
        })
    }

    /// The changes the server rejected, newest first, with its reasons.
    ///
    /// # Errors
    /// `Storage`.
    pub async fn rejections(&self) -> Result<Vec<RejectedChange>, LapakError> {
        let list = self.client.rejections().await?;
        Ok(list
            .into_iter()
            .map(|r| RejectedChange {
                change_id: r.change_id,
                collection: r.collection,
                record_id: r.record_id,
                code: r.code,
                message: r.message,
                rejected_at: types::from_ms(r.rejected_at),
            })
            .collect())
    }

    /// Where sync stands now.
    pub fn status(&self) -> SyncStatus {
        SyncStatus::from(&*self.client.status().borrow())
    }

    /// Calls `listener` with the status now and at every change, until the returned handle
    /// is cancelled or dropped.
    pub fn subscribe_status(&self, listener: Arc<dyn StatusListener>) -> Arc<StatusSubscription> {
        status::subscribe(&self.runtime, self.client.status(), listener)
    }
}

fn not_signed_in() -> LapakError {
    LapakError::NotSignedIn {
        reason: "no one is signed in on this device: log in first".into(),
    }
}

/// Who is signed in.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct Me {
    /// Login name.
    pub username: String,
    /// Name, from the back office's staff list (the login when absent).
    pub name: String,
    /// `salesperson`, `supervisor`, ...
    pub role: String,
    /// Their branch.
    pub branch: String,
    /// Their territory (salespeople).
    pub territory: String,
}

/// A change the server refused.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct RejectedChange {
    /// The change.
    pub change_id: Uuid,
    /// Its collection.
    pub collection: String,
    /// Its record.
    pub record_id: String,
    /// The rule's code (`outside_territory`, ...).
    pub code: String,
    /// What was wrong and what to do.
    pub message: String,
    /// When the verdict arrived.
    pub rejected_at: std::time::SystemTime,
}

impl LapakClient {
    /// The signed-in user's login.
    pub(crate) async fn username(&self) -> Result<String, LapakError> {
        self.client
            .credentials()
            .await
            .map(|c| c.username)
            .ok_or_else(not_signed_in)
    }

    fn start_sync(&self) {
        let _guard = self.runtime.enter();
        if let Ok(mut sync) = self.sync.lock()
            && sync.is_none()
        {
            *sync = Some(self.client.start());
        }
    }
}
