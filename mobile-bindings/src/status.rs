//! Where sync stands, and the listener the app registers for it: `subscribe_status` returns
//! a handle that stops the calls when closed or dropped (so a screen that goes away stops
//! listening by letting go of it).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::{oneshot, watch};

/// Where sync stands.
#[derive(Clone, Debug, PartialEq, Eq, uniffi::Record)]
pub struct SyncStatus {
    /// Someone is signed in and the server has not ended the session.
    pub signed_in: bool,
    /// The last exchange with the server worked.
    pub online: bool,
    /// Others' changes arrive as they happen (the live socket is open).
    pub live: bool,
    /// Changes made here that the server has not judged yet.
    pub pending: u64,
    /// When sync last finished.
    pub last_sync: Option<std::time::SystemTime>,
    /// How many changes the server rejected.
    pub rejected: u64,
    /// The last failure, for people.
    pub last_error: Option<String>,
    /// Photos taken here that the server has not stored yet.
    pub photos_pending: u64,
}

impl From<&lapak_client::Status> for SyncStatus {
    fn from(s: &lapak_client::Status) -> Self {
        SyncStatus {
            signed_in: s.signed_in,
            online: s.online,
            live: s.live,
            pending: s.pending,
            last_sync: s.last_sync_ms.map(crate::types::from_ms),
            rejected: s.rejected.len() as u64,
            last_error: s.last_error.clone(),
            photos_pending: s.photos_pending,
        }
    }
}

/// The app's listener, implemented in Kotlin, Swift or Python.
#[uniffi::export(with_foreign)]
pub trait StatusListener: Send + Sync {
    /// The status changed (also called once at subscription with the status then).
    fn on_status(&self, status: SyncStatus);
}

/// A status subscription: calls stop when it is cancelled or dropped (Kotlin `close()` or
/// `use {}`, Swift releasing it, Python `cancel()` or `del`). No call starts after `cancel`
/// returns; one already under way on another thread finishes.
#[derive(uniffi::Object)]
pub struct StatusSubscription {
    closed: Arc<AtomicBool>,
    stop: Mutex<Option<oneshot::Sender<()>>>,
}

#[uniffi::export]
impl StatusSubscription {
    /// Stops the calls now (dropping the handle does the same). Named apart from Kotlin's
    /// `close()`, which the generated class already has and which drops the handle.
    pub fn cancel(&self) {
        self.closed.store(true, Ordering::SeqCst);
        if let Ok(mut stop) = self.stop.lock()
            && let Some(tx) = stop.take()
        {
            let _ = tx.send(());
        }
    }
}

impl Drop for StatusSubscription {
    fn drop(&mut self) {
        self.cancel();
    }
}

/// Forwards every change of `status` to `listener` on `runtime` until the handle goes.
pub(crate) fn subscribe(
    runtime: &tokio::runtime::Handle,
    mut status: watch::Receiver<lapak_client::Status>,
    listener: Arc<dyn StatusListener>,
) -> Arc<StatusSubscription> {
    let (tx, mut stop) = oneshot::channel();
    let closed = Arc::new(AtomicBool::new(false));
    let gone = closed.clone();
    runtime.spawn(async move {
        loop {
            let now = SyncStatus::from(&*status.borrow_and_update());
            if gone.load(Ordering::SeqCst) {
                break;
            }
            listener.on_status(now);
            tokio::select! {
                biased;
                _ = &mut stop => break,
                changed = status.changed() => if changed.is_err() { break },
            }
        }
    });
    Arc::new(StatusSubscription {
        closed,
        stop: Mutex::new(Some(tx)),
    })
}
