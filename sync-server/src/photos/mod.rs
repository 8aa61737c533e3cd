//! Photos (attachments) on the server: their bytes behind [`BlobStore`] (files under the data
//! directory by default, S3-compatible object storage when configured), uploads that resume
//! from the bytes already received ([`uploads`]), and the collection of photos no record
//! references any more ([`gc`]).
//!
//! A photo is named by its content (`sha256:<hex>`, `lapak_core::photo`), so storing it twice
//! stores it once. Who may upload or fetch it is decided by the records that reference it
//! (`storage::photos`): a photo is taken only once a record of the uploader's write scopes
//! references it, and given only to a reader of a scope of such a record.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use axum::body::Bytes;

pub mod files;
pub mod gc;
pub mod s3;
pub mod uploads;

pub use files::FileBlobs;

/// Why the blob store failed.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    /// The disk failed.
    #[error("photo storage: {0}")]
    Io(#[from] std::io::Error),
    /// The object store failed.
    #[error("object storage: {0}")]
    Object(String),
}

/// A stored photo, as listed for garbage collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBlob {
    /// Its content address, 64 hex digits.
    pub hex: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was stored, ms since the epoch.
    pub stored_at_ms: i64,
}

/// Where photos' bytes are kept. Keys are the 64 hex digits of their SHA-256; a key's bytes
/// never change, so `put` of a stored key may do nothing.
#[async_trait]
pub trait BlobStore: fmt::Debug + Send + Sync {
    /// Stores `bytes` under `hex` (checked by the caller to be their hash).
    async fn put(&self, hex: &str, bytes: Bytes) -> Result<(), BlobError>;
    /// The bytes under `hex`, if stored.
    async fn get(&self, hex: &str) -> Result<Option<Bytes>, BlobError>;
    /// Whether `hex` is stored.
    async fn exists(&self, hex: &str) -> Result<bool, BlobError>;
    /// Forgets `hex` (nothing when it is not stored).
    async fn delete(&self, hex: &str) -> Result<(), BlobError>;
    /// Every stored photo.
    async fn list(&self) -> Result<Vec<StoredBlob>, BlobError>;
}

/// Makes `dir` (and its parents) readable by the server's user only, as everything in the
/// data directory.
///
/// # Errors
/// The directory cannot be made.
pub(crate) fn private_dir(dir: &std::path::Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Opens `path` for writing, creating it readable by the server's user only.
pub(crate) fn private_file(append: bool) -> tokio::fs::OpenOptions {
    let mut o = tokio::fs::OpenOptions::new();
    o.write(true).create(true);
    if append {
        o.append(true);
    } else {
        o.truncate(true);
    }
    #[cfg(unix)]
    o.mode(0o600);
    o
}

/// The blob store a configuration names.
///
/// # Errors
/// [`BlobError`] when the directory cannot be made or the object store client built.
pub fn open(config: &crate::config::PhotoStoreConfig) -> Result<Arc<dyn BlobStore>, BlobError> {
    match config {
        crate::config::PhotoStoreConfig::Files(dir) => Ok(Arc::new(FileBlobs::open(dir)?)),
        crate::config::PhotoStoreConfig::S3(s3) => Ok(Arc::new(s3::S3Blobs::open(s3)?)),
    }
}
