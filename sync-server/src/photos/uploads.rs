//! Uploads in progress: the bytes of a photo received so far, in a file per photo under the
//! data directory, so an upload cut off (a dropped connection, a killed app) continues from
//! where it stopped. The client asks for the offset and sends the rest; one upload of a photo
//! runs at a time. The photo is checked against its name once whole, and only then stored.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use futures_util::StreamExt as _;
use tokio::io::AsyncWriteExt as _;

/// Why an upload's bytes were not taken.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The client's offset is not the bytes the server holds.
    #[error("the server holds {0} bytes of this photo: continue from there")]
    OffsetMismatch(u64),
    /// More bytes than the announced length.
    #[error("more bytes were sent than the photo's length")]
    TooLong,
    /// Another upload of the same photo is under way.
    #[error("another upload of this photo is under way: try again shortly")]
    Busy,
    /// The connection ended before the bytes announced; what arrived is kept.
    #[error("the upload was cut off after {0} bytes; continue from there")]
    Interrupted(u64),
    /// The disk failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// What an append came to.
#[derive(Debug)]
pub enum Received {
    /// Bytes so far, short of the length.
    Partial(u64),
    /// The whole photo.
    Whole(Bytes),
}

/// The uploads in progress.
#[derive(Debug)]
pub struct Uploads {
    dir: PathBuf,
    busy: Arc<Mutex<HashSet<String>>>,
}

/// Marks one photo's upload under way until dropped.
struct Busy {
    busy: Arc<Mutex<HashSet<String>>>,
    hex: String,
}

impl Drop for Busy {
    fn drop(&mut self) {
        if let Ok(mut b) = self.busy.lock() {
            b.remove(&self.hex);
        }
    }
}

impl Uploads {
    /// Uploads kept under `dir` (made when missing).
    ///
    /// # Errors
    /// The directory cannot be made.
    pub fn open(dir: &Path) -> std::io::Result<Uploads> {
        super::private_dir(dir)?;
        Ok(Uploads {
            dir: dir.to_owned(),
            busy: Arc::default(),
        })
    }

    fn path(&self, hex: &str) -> PathBuf {
        self.dir.join(hex)
    }

    /// The bytes held of `hex`'s upload (0 when none started).
    ///
    /// # Errors
    /// The disk failed.
    pub async fn offset(&self, hex: &str) -> std::io::Result<u64> {
        match tokio::fs::metadata(self.path(hex)).await {
            Ok(m) => Ok(m.len()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(e),
        }
    }

    fn begin(&self, hex: &str) -> Result<Busy, UploadError> {
        let mut b = self
            .busy
            .lock()
            .map_err(|_| std::io::Error::other("upload registry poisoned"))?;
        if !b.insert(hex.to_owned()) {
            return Err(UploadError::Busy);
        }
        Ok(Busy {
            busy: self.busy.clone(),
            hex: hex.to_owned(),
        })
    }

    /// Appends `body` at `offset` to `hex`'s upload of `length` bytes in all.
    ///
    /// # Errors
    /// [`UploadError`]: a wrong offset, too many bytes (what arrived past the length is
    /// dropped), a cut-off body (what arrived is kept), another upload under way, the disk.
    /// A body that is not taken is read and dropped first (at most `length` bytes), so the
    /// client hears the refusal instead of a connection reset while it was still sending.
    pub async fn append(
        &self,
        hex: &str,
        offset: u64,
        length: u64,
        body: Body,
    ) -> Result<Received, UploadError> {
        let _busy = match self.begin(hex) {
            Ok(busy) => busy,
            Err(e) => {
                drain(body, length).await;
                return Err(e);
            }
        };
        let held = self.offset(hex).await?;
        if held != offset {
            drain(body, length).await;
            return Err(UploadError::OffsetMismatch(held));
        }
        let (arrived, outcome) = read_upto(body, length - held).await;
        if matches!(outcome, Err(UploadError::TooLong)) {
            self.discard(hex).await?;
            return Err(UploadError::TooLong);
        }
        let size = held + arrived.len() as u64;
        if held == 0 && size == length && outcome.is_ok() {
            // The whole photo in one request, the usual case: it never touches this directory.
            return Ok(Received::Whole(Bytes::from(arrived)));
        }
        let path = self.path(hex);
        let mut file = super::private_file(true).open(&path).await?;
        file.write_all(&arrived).await?;
        file.flush().await?;
        if size < length || outcome.is_err() {
            // Kept to continue from: make what arrived durable. A whole photo is not synced
            // here; its stored copy is, and this file goes.
            file.sync_all().await?;
        }
        drop(file);
        if let Err(e) = outcome {
            return Err(match e {
                UploadError::Interrupted(_) => UploadError::Interrupted(size),
                other => other,
            });
        }
        if size < length {
            return Ok(Received::Partial(size));
        }
        let bytes = tokio::fs::read(&path).await?;
        Ok(Received::Whole(Bytes::from(bytes)))
    }

    /// Forgets `hex`'s upload.
    ///
    /// # Errors
    /// The disk failed.
    pub async fn discard(&self, hex: &str) -> std::io::Result<()> {
        match tokio::fs::remove_file(self.path(hex)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Removes uploads untouched since `before_ms`; returns how many.
    ///
    /// # Errors
    /// The disk failed.
    pub async fn remove_stale(&self, before_ms: i64) -> std::io::Result<usize> {
        let mut removed = 0;
        let mut dir = tokio::fs::read_dir(&self.dir).await?;
        while let Some(e) = dir.next_entry().await? {
            let touched = e
                .metadata()
                .await?
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            let name = e.file_name();
            let busy = self
                .busy
                .lock()
                .map(|b| name.to_str().is_some_and(|n| b.contains(n)))
                .unwrap_or(true);
            if touched < before_ms && !busy {
                tokio::fs::remove_file(e.path()).await?;
                removed += 1;
            }
        }
        Ok(removed)
    }
}

/// Reads and drops at most `limit` bytes of `body`.
pub async fn drain(body: Body, limit: u64) {
    let mut read = 0u64;
    let mut stream = body.into_data_stream();
    while read < limit {
        match stream.next().await {
            Some(Ok(chunk)) => read += chunk.len() as u64,
            _ => break,
        }
    }
}

/// The body's bytes, at most `room` of them: `TooLong` when it holds more (the rest is read,
/// bounded, so the client hears the refusal), `Interrupted` when it is cut off (what arrived
/// is returned with it).
async fn read_upto(body: Body, room: u64) -> (Vec<u8>, Result<(), UploadError>) {
    let mut arrived = Vec::with_capacity(usize::try_from(room).unwrap_or(0).min(16 << 20));
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return (arrived, Err(UploadError::Interrupted(0)));
        };
        if arrived.len() as u64 + chunk.len() as u64 > room {
            let mut extra = 0u64;
            while extra < lapak_core::photo::MAX_PHOTO_BYTES {
                match stream.next().await {
                    Some(Ok(c)) => extra += c.len() as u64,
                    _ => break,
                }
            }
            return (arrived, Err(UploadError::TooLong));
        }
        arrived.extend_from_slice(&chunk);
    }
    (arrived, Ok(()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_upload_continues_from_its_offset() {
        let dir = tempfile::tempdir().unwrap();
        let up = Uploads::open(dir.path()).unwrap();
        let hex = "ab".repeat(32);
        let first = up.append(&hex, 0, 6, Body::from("abc")).await.unwrap();
        assert!(matches!(first, Received::Partial(3)));
        assert!(matches!(
            up.append(&hex, 0, 6, Body::from("abc")).await,
            Err(UploadError::OffsetMismatch(3))
        ));
        match up.append(&hex, 3, 6, Body::from("def")).await.unwrap() {
            Received::Whole(b) => assert_eq!(&b[..], b"abcdef"),
            Received::Partial(n) => panic!("partial {n}"),
        }
        assert!(matches!(
            up.append(&hex, 6, 6, Body::from("g")).await,
            Err(UploadError::TooLong)
        ));
        assert_eq!(up.offset(&hex).await.unwrap(), 0, "too long: discarded");
    }
}
