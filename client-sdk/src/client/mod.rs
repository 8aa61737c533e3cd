//! [`Client`]: one device's store kept in sync with the server, by itself.
//!
//! The client owns the device's [`Store`] (an SQLite file in its directory) and its stored
//! credentials. [`Client::start`] runs two background tasks until stopped:
//! - the **sync loop**: push what is pending (one push in flight at a time), pull until nothing
//!   is left, then wait for a local write, live news or the poll interval; on failure it backs
//!   off exponentially with jitter and tries again;
//! - the **live socket**: holds `/v1/sync/live`, applies the entries the server sends, wakes
//!   the sync loop on news, answers pings, and reconnects with backoff.
//!
//! Access tokens are refreshed before they expire; the rotating refresh token is written to
//! disk (owner-only) as soon as it arrives. Every change of state is published on a
//! [`Status`] watch channel.
//!
//! This module holds the types, opening, login and tokens; `writes` the writes and reads,
//! `sync` one sync and the sync loop, `live` the live socket.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use lapak_core::store::checkpoint::Checkpointer;
use lapak_core::{Rejection, Schema, Store};
use tokio::sync::{Notify, watch};

use crate::credentials::Credentials;
use crate::error::{ClientError, Result};
use crate::transport::{TokenAnswer, Transport};

mod live;
mod photos;
mod sync;
mod writes;

/// How a client runs.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// The directory of the device: its store (`store.sqlite3`) and credentials.
    pub dir: PathBuf,
    /// The collections (the same as the server's; [`lapak_core::catalog::starter`]).
    pub schema: Schema,
    /// The device's name, shown to administrators.
    pub device_name: String,
    /// How often to sync when the live socket is down (it is the only way to hear news then).
    pub poll_interval: Duration,
    /// How often to sync while the live socket is up (a safety net).
    pub live_poll_interval: Duration,
    /// Whether to hold the live socket.
    pub live: bool,
    /// The most changes per push.
    pub push_batch: usize,
    /// The most entries asked for per pull.
    pub pull_limit: u32,
    /// The longest wait between retries after failures.
    pub max_backoff: Duration,
}

impl ClientOptions {
    /// Defaults for a device in `dir` with `schema`.
    #[must_use]
    pub fn new(dir: impl Into<PathBuf>, schema: Schema) -> Self {
        ClientOptions {
            dir: dir.into(),
            schema,
            device_name: "lapak device".into(),
            poll_interval: Duration::from_secs(5),
            live_poll_interval: Duration::from_secs(60),
            live: true,
            push_batch: 1_000,
            pull_limit: 50_000,
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// Where the device stands, as its user should see it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Status {
    /// Credentials are stored and the server has not ended the session.
    pub signed_in: bool,
    /// The last exchange with the server succeeded.
    pub online: bool,
    /// The live socket is open.
    pub live: bool,
    /// Changes written here and not yet judged by the server.
    pub pending: u64,
    /// When the last full sync (or live update) finished, ms since the epoch.
    pub last_sync_ms: Option<i64>,
    /// Changes the server rejected, with its reasons, newest first.
    pub rejected: Vec<Rejection>,
    /// The last failure, for the user ("the server cannot be reached ...").
    pub last_error: Option<String>,
    /// Photos kept here that the server has not stored yet.
    pub photos_pending: u64,
}

/// What one sync did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Changes sent.
    pub pushed: usize,
    /// Of those, accepted.
    pub accepted: usize,
    /// Of those, rejected.
    pub rejected: usize,
    /// Log entries received.
    pub pulled: usize,
    /// Photos the server stored in this sync.
    pub photos_uploaded: usize,
}

/// Progress of a sync, for progress bars.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Progress {
    /// Changes sent so far, and still pending when the sync began.
    Pushed {
        /// Sent so far.
        done: usize,
        /// Pending at the start.
        total: u64,
    },
    /// Entries received so far.
    Pulled {
        /// Received so far.
        done: usize,
    },
}

/// What a login returned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoginInfo {
    /// The user's role.
    pub role: String,
    /// The scopes the device now follows.
    pub scopes: Vec<String>,
}

struct Session {
    access: String,
    expires_at: Instant,
}

struct Inner {
    options: ClientOptions,
    store: Arc<Mutex<Store>>,
    creds: tokio::sync::Mutex<Option<Credentials>>,
    session: tokio::sync::Mutex<Option<Session>>,
    status: watch::Sender<Status>,
    /// Wakes the sync loop: a local write, live news, a live batch that did not fit.
    wake: Notify,
    /// Wakes every loop waiting for a login.
    signed_in: Notify,
    shutdown: watch::Sender<bool>,
    sync_lock: tokio::sync::Mutex<()>,
    /// Held while the client is open: one process per device directory.
    _lock: std::fs::File,
    /// When the last sync time was written to disk (ms since the epoch).
    sync_written: std::sync::atomic::AtomicI64,
    /// The device's photos.
    photos: crate::photos::PhotoStore,
}

/// How often the store's log is folded back into its file, off the write path.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Checkpoints the store's log every [`CHECKPOINT_EVERY`] while the client is open, so that no
/// local write waits for one (`lapak_core::store::checkpoint`).
async fn checkpoints(client: std::sync::Weak<Inner>, checkpointer: Checkpointer) {
    let checkpointer = Arc::new(Mutex::new(checkpointer));
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if client.strong_count() == 0 {
            return;
        }
        let c = checkpointer.clone();
        let done =
            tokio::task::spawn_blocking(move || c.lock().map_or(Ok((0, 0)), |c| c.checkpoint()))
                .await;
        if let Ok(Err(e)) = done {
            tracing::warn!(error = %e, "the store's log could not be checkpointed; writes will");
        }
    }
}

/// A device kept in sync. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("dir", &self.inner.options.dir)
            .finish_non_exhaustive()
    }
}

/// The background tasks of a started client.
#[derive(Debug)]
pub struct SyncTask {
    client: Client,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

/// How long a stop lets a request in flight finish (a refresh whose new token should be kept,
/// a push whose answer should be applied) before it is abandoned.
pub(crate) const STOP_GRACE: Duration = Duration::from_millis(1500);

impl SyncTask {
    /// Stops the background tasks within about 2 s, whatever the server
    /// does. No new request starts; one in flight may finish within 1.5 s, else it is
    /// abandoned, which is safe: a push is judged whole or not at all on the server and
    /// pushed again next time (its changes are judged once), a store transaction always
    /// finishes (it runs on its own thread, atomically), and a refresh runs on as a task of
    /// its own until its new token is kept (if the runtime itself ends first, the old token
    /// is presented again at the next start, a retry the server answers with the same new
    /// token within 30 s).
    /// The live socket is closed with a close frame.
    pub async fn stop(mut self) {
        self.client.inner.shutdown.send_replace(true);
        let tasks: Vec<_> = self.tasks.drain(..).collect();
        let aborts: Vec<_> = tasks.iter().map(|t| t.abort_handle()).collect();
        // The loops end by themselves within the grace; this only guards against a bug.
        let joined = futures_util::future::join_all(tasks);
        if tokio::time::timeout(STOP_GRACE + Duration::from_millis(500), joined)
            .await
            .is_err()
        {
            tracing::warn!("the sync tasks did not stop in time: abandoning them");
            aborts.iter().for_each(tokio::task::AbortHandle::abort);
        }
        self.client.inner.status.send_modify(|s| s.live = false);
    }
}

/// Takes the device directory's lock file, so that two processes never sync one device (they
/// would spend each other's refresh tokens and push the same changes at once).
fn lock_dir(dir: &Path) -> Result<std::fs::File> {
    let path = dir.join("lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| ClientError::File {
            what: "cannot open the lock file",
            path: path.display().to_string(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(ClientError::Busy {
            dir: dir.display().to_string(),
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(ClientError::File {
            what: "cannot lock",
            path: path.display().to_string(),
            source,
        }),
    }
}

/// Exponential backoff with jitter: 0.5–1 × base × 2ⁿ, at most `max`.
struct Backoff {
    attempt: u32,
    base: Duration,
    max: Duration,
}

impl Backoff {
    fn new(max: Duration) -> Self {
        Backoff {
            attempt: 0,
            base: Duration::from_millis(250),
            max,
        }
    }

    fn next(&mut self) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << self.attempt.min(16))
            .min(self.max);
        self.attempt += 1;
        exp.mul_f64(rand::random_range(0.5..1.0))
    }

    fn reset(&mut self) {
        self.attempt = 0;
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl Client {
    /// Opens the device in `options.dir` (creating its store on first use) with the credentials
    /// stored there, if any.
    ///
    /// # Errors
    /// [`ClientError::File`] when the directory cannot be made; store errors (a database of a
    /// newer app, a damaged file).
    pub async fn open(options: ClientOptions) -> Result<Client> {
        std::fs::create_dir_all(&options.dir).map_err(|source| ClientError::File {
            what: "cannot create the device directory",
            path: options.dir.display().to_string(),
            source,
        })?;
        let path = options.dir.join("store.sqlite3");
        let schema = options.schema.clone();
        let (store, checkpointer) = tokio::task::spawn_blocking(move || {
            let mut store = Store::open(path, schema)?;
            let checkpointer = store.checkpointer()?;
            Ok::<_, lapak_core::Error>((store, checkpointer))
        })
        .await
        .map_err(|_| ClientError::Closed)??;
        let lock = lock_dir(&options.dir)?;
        let photos = crate::photos::PhotoStore::open(&options.dir)?;
        let creds = Credentials::load(&options.dir).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "ignoring damaged credentials: log in again");
            None
        });
        let client = Client {
            inner: Arc::new(Inner {
                status: watch::Sender::new(Status {
                    signed_in: creds.is_some(),
                    last_sync_ms: Self::remembered_sync(&options.dir),
                    ..Status::default()
                }),
                store: Arc::new(Mutex::new(store)),
                creds: tokio::sync::Mutex::new(creds),
                session: tokio::sync::Mutex::new(None),
                wake: Notify::new(),
                signed_in: Notify::new(),
                shutdown: watch::Sender::new(false),
                sync_lock: tokio::sync::Mutex::new(()),
                _lock: lock,
                sync_written: std::sync::atomic::AtomicI64::new(0),
                photos,
                options,
            }),
        };
        if let Some(c) = checkpointer {
            tokio::spawn(checkpoints(Arc::downgrade(&client.inner), c));
        }
        client.refresh_status().await;
        Ok(client)
    }

    /// The device's directory.
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.inner.options.dir
    }

    /// Runs `f` on the store, off the async threads.
    ///
    /// # Errors
    /// Whatever `f` returns; [`ClientError::Closed`] if the store's lock was poisoned.
    pub async fn with_store<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> lapak_core::Result<T> + Send + 'static,
    {
        let store = self.inner.store.clone();
        tokio::task::spawn_blocking(move || {
            let mut s = store.lock().map_err(|_| ClientError::Closed)?;
            f(&mut s).map_err(ClientError::from)
        })
        .await
        .map_err(|_| ClientError::Closed)?
    }

    /// The status channel: the current value, and every change.
    #[must_use]
    pub fn status(&self) -> watch::Receiver<Status> {
        self.inner.status.subscribe()
    }

    /// The credentials in use (the refresh token redacted in `Debug`).
    pub async fn credentials(&self) -> Option<Credentials> {
        self.inner.creds.lock().await.clone()
    }

    /// Marks a successful exchange now: online, last sync. The time is also kept beside the
    /// store, so that a later run (the CLI's `status`) can tell it; written at most every 10 s,
    /// since live updates can come many times a second.
    fn synced(&self) {
        let at = now_ms();
        self.inner.status.send_modify(|s| {
            s.online = true;
            s.last_sync_ms = Some(at);
            s.last_error = None;
        });
        let written = self
            .inner
            .sync_written
            .load(std::sync::atomic::Ordering::Relaxed);
        if at - written >= 10_000 {
            self.inner
                .sync_written
                .store(at, std::sync::atomic::Ordering::Relaxed);
            let _ = std::fs::write(self.inner.options.dir.join("last-sync"), at.to_string());
        }
    }

    fn remembered_sync(dir: &Path) -> Option<i64> {
        std::fs::read_to_string(dir.join("last-sync"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
    }

    async fn refresh_status(&self) {
        let photos = self.inner.photos.clone();
        let counts = self
            .with_store(move |s| {
                let waiting = photos.pending().map(|p| p.len() as u64);
                Ok((s.pending_count()?, s.rejections()?, waiting))
            })
            .await;
        if let Ok((pending, rejected, photos)) = counts {
            self.inner.status.send_modify(|st| {
                st.pending = pending;
                st.rejected = rejected;
                if let Ok(photos) = photos {
                    st.photos_pending = photos;
                }
            });
        }
    }

    /// Logs `username` in at `server` on this device, stores the session and follows the
    /// scopes of the user's grants (a grant of every scope, `*`, follows none by itself: pass
    /// `scopes` to choose).
    ///
    /// # Errors
    /// [`ClientError::Unauthorized`] for a wrong password; [`ClientError::Offline`] when the
    /// server cannot be reached; [`ClientError::Server`] when it refuses (a device registered
    /// to another user).
    pub async fn login(
        &self,
        server: &str,
        username: &str,
        password: &str,
        scopes: Option<Vec<String>>,
    ) -> Result<LoginInfo> {
        let transport = Transport::new(server)?;
        let device = self.with_store(|s| Ok(s.device_id())).await?;
        let answer = transport
            .login(username, password, device, &self.inner.options.device_name)
            .await?;
        let scopes = scopes.unwrap_or_else(|| followed_scopes(&answer));
        let follow = scopes.clone();
        self.with_store(move |s| s.set_scopes(&follow)).await?;
        let creds = Credentials {
            server: transport.base().to_owned(),
            username: username.to_owned(),
            user_id: answer.user_id.clone(),
            role: answer.role.clone(),
            device_id: device,
            scopes: scopes.clone(),
            refresh_token: answer.refresh_token.clone(),
        };
        {
            let mut session = self.inner.session.lock().await;
            let mut stored = self.inner.creds.lock().await;
            creds.save(&self.inner.options.dir)?;
            *session = Some(session_of(&answer));
            *stored = Some(creds);
        }
        self.inner.status.send_modify(|s| {
            s.signed_in = true;
            s.online = true;
            s.last_error = None;
        });
        self.inner.signed_in.notify_waiters();
        self.inner.wake.notify_one();
        Ok(LoginInfo {
            role: answer.role,
            scopes,
        })
    }

    /// Ends the session here and on the server (best effort), and forgets the credentials.
    /// The store and its pending changes stay.
    ///
    /// # Errors
    /// [`ClientError::File`] when the credentials cannot be removed.
    pub async fn logout(&self) -> Result<()> {
        if let Ok((t, access)) = self.access().await {
            let _ = t.logout(&access).await;
        }
        *self.inner.session.lock().await = None;
        *self.inner.creds.lock().await = None;
        Credentials::remove(&self.inner.options.dir)?;
        self.inner.status.send_modify(|s| {
            s.signed_in = false;
            s.live = false;
        });
        Ok(())
    }

    /// A transport and a valid access token, refreshing it when it expires within a minute.
    /// The refresh runs as a task of its own: a caller that is stopped meanwhile does not
    /// cut it off between the server's exchange and keeping the new token.
    async fn access(&self) -> Result<(Transport, String)> {
        let me = self.clone();
        tokio::spawn(async move { me.access_now().await })
            .await
            .map_err(|_| ClientError::Closed)?
    }

    async fn access_now(&self) -> Result<(Transport, String)> {
        let mut session = self.inner.session.lock().await;
        let mut creds = self.inner.creds.lock().await;
        let Some(c) = creds.as_mut() else {
            return Err(ClientError::NotLoggedIn);
        };
        let transport = Transport::new(&c.server)?;
        if let Some(s) = session.as_ref()
            && s.expires_at > Instant::now() + Duration::from_secs(60)
        {
            return Ok((transport, s.access.clone()));
        }
        match transport.refresh(&c.refresh_token).await {
            Ok(answer) => {
                // Keep the new refresh token first: the old one is spent.
                c.refresh_token = answer.refresh_token.clone();
                c.save(&self.inner.options.dir)?;
                *session = Some(session_of(&answer));
                Ok((transport, answer.access_token))
            }
            Err(e) => {
                if e.needs_login() {
                    *session = None;
                    self.inner.status.send_modify(|s| {
                        s.signed_in = false;
                        s.live = false;
                        s.last_error = Some(format!("{e}: log in again"));
                    });
                }
                Err(e)
            }
        }
    }

    /// Forgets the access token (after the server refused it), so the next call refreshes.
    async fn drop_access(&self) {
        *self.inner.session.lock().await = None;
    }

    /// Starts the background sync loop and live socket; they run until [`SyncTask::stop`].
    #[must_use]
    pub fn start(&self) -> SyncTask {
        self.inner.shutdown.send_replace(false);
        let mut tasks = vec![tokio::spawn(self.clone().sync_loop())];
        if self.inner.options.live {
            tasks.push(tokio::spawn(self.clone().live_loop()));
        }
        SyncTask {
            client: self.clone(),
            tasks,
        }
    }

    /// Whether [`SyncTask::stop`] was called.
    fn stopping(&self) -> bool {
        *self.inner.shutdown.borrow()
    }

    /// Returns `grace` after [`SyncTask::stop`] was called (never, if it is not).
    async fn stopped_after(&self, grace: Duration) {
        let mut stop = self.inner.shutdown.subscribe();
        if stop.wait_for(|s| *s).await.is_err() {
            std::future::pending::<()>().await;
        }
        tokio::time::sleep(grace).await;
    }

    /// Sleeps `d`, or until `early` is notified, or until shutdown (then `true`).
    async fn sleep_or_stop(&self, d: Duration, early: Option<&Notify>) -> bool {
        let mut stop = self.inner.shutdown.subscribe();
        if *stop.borrow() {
            return true;
        }
        let woken = async {
            match early {
                Some(n) => n.notified().await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            () = tokio::time::sleep(d) => false,
            () = woken => false,
            _ = stop.changed() => true,
        }
    }
}

fn session_of(answer: &TokenAnswer) -> Session {
    Session {
        access: answer.access_token.clone(),
        expires_at: Instant::now()
            + Duration::from_secs(u64::try_from(answer.expires_in).unwrap_or(0)),
    }
}

/// The scopes a login's grants make the device follow (a grant of every scope, `*`, names
/// none).
fn followed_scopes(answer: &TokenAnswer) -> Vec<String> {
    answer
        .grants
        .iter()
        .filter(|g| g.scope != "*")
        .map(|g| g.scope.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let mut b = Backoff::new(Duration::from_secs(2));
        let first = b.next();
        assert!(first >= Duration::from_millis(125) && first <= Duration::from_millis(250));
        for _ in 0..10 {
            assert!(b.next() <= Duration::from_secs(2));
        }
        b.reset();
        assert!(b.next() <= Duration::from_millis(250));
    }
}
