//! Photos on a device: kept by content address ([`crate::photos`]), uploaded after the
//! records that reference them (the server takes a photo only once a record of the user's
//! references it), resumed from the bytes the server already holds, never sent twice; and
//! fetched from the server when a record the device holds references one it does not have.

use std::collections::HashMap;

use lapak_core::photo;

use super::{Client, Result};
use crate::error::ClientError;
use crate::photos::PhotoStore;
use crate::transport::{MAX_PHOTO_STATES, UploadState};

/// Photos uploaded at once: the uplink stays busy while the server hashes and stores the
/// ones before (a phone's round trips are long; the server's work per photo is mostly waiting
/// on its disk).
const PARALLEL_UPLOADS: usize = 4;

/// How many times one photo waits out the server's rate limit (a second each) before the sync
/// gives up for now.
const RATE_LIMIT_WAITS: u32 = 30;

impl Client {
    /// The device's photo files.
    #[must_use]
    pub fn photos(&self) -> &PhotoStore {
        &self.inner.photos
    }

    /// Keeps a photo (JPEG, PNG or WebP, at most 10 MiB) and returns its reference
    /// `sha256:<hex>`, to put in a record's `photos`; it uploads after that record.
    ///
    /// # Errors
    /// [`ClientError::Photo`] for bytes that are not a photo Lapak takes, or a full disk.
    pub async fn add_photo(&self, bytes: Vec<u8>) -> Result<String> {
        let photos = self.inner.photos.clone();
        let reference = tokio::task::spawn_blocking(move || photos.add(&bytes, false))
            .await
            .map_err(|_| ClientError::Closed)??;
        self.refresh_status().await;
        Ok(reference)
    }

    /// A photo's bytes: from the device, or else from the server (which gives it only when a
    /// record of the user's scopes references it), then kept. `None` when neither has it.
    ///
    /// # Errors
    /// [`ClientError::Photo`] for a bad reference; [`ClientError::Offline`] and the like when
    /// the photo must come from the server.
    pub async fn photo(&self, reference: &str) -> Result<Option<Vec<u8>>> {
        if let Some(bytes) = self.inner.photos.read(reference)? {
            return Ok(Some(bytes));
        }
        let hex = photo::digest_of(reference)
            .map_err(crate::photos::PhotoStoreError::from)?
            .to_owned();
        let (t, access) = self.access().await?;
        let Some(bytes) = t.photo_download(&access, &hex).await? else {
            return Ok(None);
        };
        if photo::hex_digest(&bytes) != hex {
            return Err(ClientError::Server {
                status: 200,
                code: "photo_corrupt".into(),
                message: "the server sent bytes that are not this photo: try again later".into(),
            });
        }
        let photos = self.inner.photos.clone();
        tokio::task::spawn_blocking(move || photos.add(&bytes, true).map(|_| bytes))
            .await
            .map_err(|_| ClientError::Closed)?
            .map(Some)
            .map_err(ClientError::from)
    }

    /// Uploads every waiting photo the server will take now, [`PARALLEL_UPLOADS`] at a time;
    /// returns how many it stored. A photo no record of the user's references on the server
    /// yet (its record was deferred or is still on the way) waits for a later sync. The first
    /// failure is returned once the uploads under way have ended.
    pub(super) async fn upload_photos(&self) -> Result<usize> {
        use futures_util::StreamExt as _;
        let pending = self.inner.photos.pending()?;
        if pending.is_empty() {
            return Ok(0);
        }
        let known = self.upload_states(&pending).await?;
        let known = &known;
        let mut uploads = futures_util::stream::iter(pending)
            .map(|reference| async move {
                let state = match known.get(&reference) {
                    Some(None) => return Ok(false),
                    Some(Some(state)) => Some(*state),
                    None => None,
                };
                if self.stopping() || !self.upload_photo_patiently(&reference, state).await? {
                    return Ok(false);
                }
                self.inner.photos.uploaded(&reference)?;
                Ok::<bool, ClientError>(true)
            })
            .buffer_unordered(PARALLEL_UPLOADS);
        let (mut stored, mut failure) = (0, None);
        while let Some(outcome) = uploads.next().await {
            match outcome {
                Ok(true) => stored += 1,
                Ok(false) => {}
                Err(e) => {
                    failure.get_or_insert(e);
                }
            }
        }
        drop(uploads);
        if stored > 0 {
            self.refresh_status().await;
        }
        failure.map_or(Ok(stored), Err)
    }

    /// Where the server stands on each of `pending`, asked in one request per
    /// [`MAX_PHOTO_STATES`] photos rather than one per photo: `Some(state)` for a photo the
    /// user may upload, `None` for one no record of theirs references yet. Empty when the
    /// server predates the question (each photo is then asked about on its own).
    async fn upload_states(
        &self,
        pending: &[String],
    ) -> Result<HashMap<String, Option<UploadState>>> {
        let mut known = HashMap::new();
        for chunk in pending.chunks(MAX_PHOTO_STATES) {
            let mut reference_of = HashMap::new();
            for reference in chunk {
                let hex =
                    photo::digest_of(reference).map_err(crate::photos::PhotoStoreError::from)?;
                reference_of.insert(hex.to_owned(), reference);
            }
            let hexes: Vec<String> = reference_of.keys().cloned().collect();
            let answers = self
                .patiently(|| async {
                    let (t, access) = self.access().await?;
                    t.photo_upload_states(&access, &hexes).await
                })
                .await;
            let answers = match answers {
                Err(ClientError::Server {
                    status: 404 | 405,
                    code,
                    ..
                }) if code == "not_found" || code == "unknown" => {
                    return Ok(HashMap::new());
                }
                other => other?,
            };
            for a in answers {
                if let Some(reference) = reference_of.get(&a.photo) {
                    let state = a.referenced.then_some(UploadState {
                        stored: a.stored,
                        offset: a.offset,
                    });
                    known.insert((*reference).clone(), state);
                }
            }
        }
        Ok(known)
    }

    /// `call`, again after a second while the server says this device sends too many
    /// requests (a burst of photos can reach its per-device rate), at most
    /// [`RATE_LIMIT_WAITS`] times.
    async fn patiently<T, F, Fut>(&self, mut call: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let mut waits = 0;
        loop {
            match call().await {
                Err(ClientError::Server { status: 429, .. }) if waits < RATE_LIMIT_WAITS => {
                    waits += 1;
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
                other => return other,
            }
        }
    }

    /// [`Self::upload_photo`], waiting out the server's rate limit.
    async fn upload_photo_patiently(
        &self,
        reference: &str,
        known: Option<UploadState>,
    ) -> Result<bool> {
        self.patiently(|| self.upload_photo(reference, known)).await
    }

    /// One photo: sends what the server lacks of it, from `known` (else asked first). `false`
    /// when it must wait.
    async fn upload_photo(&self, reference: &str, known: Option<UploadState>) -> Result<bool> {
        let hex = photo::digest_of(reference)
            .map_err(crate::photos::PhotoStoreError::from)?
            .to_owned();
        let (t, access) = self.access().await?;
        let state = match known {
            Some(state) => state,
            None => match t.photo_state(&access, &hex).await {
                Err(ClientError::Server { code, .. }) if code == "photo_not_referenced" => {
                    return Ok(false);
                }
                other => other?,
            },
        };
        if state.stored {
            return Ok(true);
        }
        let Some(bytes) = self.inner.photos.read(reference)? else {
            return Ok(false);
        };
        match t.photo_upload(&access, &hex, bytes, state.offset).await {
            Ok(done) => Ok(done.stored),
            // Another upload of the same photo moved on: the next sync asks again.
            Err(ClientError::Server { code, .. })
                if code == "offset_mismatch" || code == "photo_not_referenced" =>
            {
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }
}
