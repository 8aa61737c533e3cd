//! Collecting photos no record references any more (a profile's photo removed, a record
//! deleted), and uploads abandoned half way. A photo is collected only when it was stored
//! longer ago than a grace period, so one whose record is being written is never lost.

use crate::photos::BlobStore;
use crate::photos::uploads::Uploads;
use crate::storage::Storage;

/// How long an unreferenced photo is kept, and an unfinished upload waits for its rest.
pub const GRACE_MS: i64 = 24 * 3_600_000;

/// What a collection found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct GcReport {
    /// Photos stored before it ran.
    pub stored: usize,
    /// Photos deleted (or, in a dry run, that would be), by content address.
    pub deleted: Vec<String>,
    /// Bytes freed.
    pub freed_bytes: u64,
    /// Unfinished uploads removed.
    pub stale_uploads: usize,
}

/// Why a collection failed (nothing is deleted after the failure).
#[derive(Debug, thiserror::Error)]
pub enum GcError {
    /// Reading the references failed.
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    /// The blob store failed.
    #[error(transparent)]
    Blobs(#[from] super::BlobError),
    /// The disk failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Deletes the photos no record references that were stored before `now_ms - grace_ms`, and
/// uploads untouched as long; with `dry_run`, only reports them.
///
/// # Errors
/// [`GcError`].
pub async fn collect(
    storage: &dyn Storage,
    blobs: &dyn BlobStore,
    uploads: &Uploads,
    now_ms: i64,
    grace_ms: i64,
    dry_run: bool,
) -> Result<GcReport, GcError> {
    // Listed first, referenced second: a photo stored in between is young, so kept.
    let stored = blobs.list().await?;
    let referenced = storage.referenced_photos().await?;
    let mut report = GcReport {
        stored: stored.len(),
        ..GcReport::default()
    };
    for b in stored {
        let reference = format!("{}{}", lapak_core::photo::REF_PREFIX, b.hex);
        if referenced.contains(&reference) || b.stored_at_ms > now_ms - grace_ms {
            continue;
        }
        if !dry_run {
            blobs.delete(&b.hex).await?;
        }
        report.freed_bytes += b.size;
        report.deleted.push(reference);
    }
    if !dry_run {
        report.stale_uploads = uploads.remove_stale(now_ms - grace_ms).await?;
    }
    Ok(report)
}

/// Collects garbage every hour until the server shuts down; failures are logged and retried
/// the next hour.
pub async fn every_hour(state: crate::app::AppState) {
    let mut shutdown = state.shutdown.clone();
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(3_600));
    tick.tick().await;
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = shutdown.changed() => return,
        }
        let now = crate::app::AppState::now_ms();
        match collect(
            state.storage.as_ref(),
            state.photos.as_ref(),
            &state.uploads,
            now,
            GRACE_MS,
            false,
        )
        .await
        {
            Ok(r) if !r.deleted.is_empty() || r.stale_uploads > 0 => tracing::info!(
                deleted = r.deleted.len(),
                freed_bytes = r.freed_bytes,
                stale_uploads = r.stale_uploads,
                "collected unreferenced photos"
            ),
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(error = %e, "photo garbage collection failed; it runs again in an hour")
            }
        }
    }
}
