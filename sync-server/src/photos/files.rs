//! Photos as files under the data directory: `<dir>/<first two hex digits>/<hex>`, written
//! to a temporary file, synced and renamed, so a crash never leaves half a photo under its
//! name.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use axum::body::Bytes;
use tokio::io::AsyncWriteExt as _;

use super::{BlobError, BlobStore, StoredBlob};

/// Photos in a directory.
#[derive(Debug)]
pub struct FileBlobs {
    dir: PathBuf,
}

impl FileBlobs {
    /// The photos under `dir` (made when missing).
    ///
    /// # Errors
    /// [`BlobError::Io`].
    pub fn open(dir: &Path) -> Result<FileBlobs, BlobError> {
        super::private_dir(dir)?;
        Ok(FileBlobs {
            dir: dir.to_owned(),
        })
    }

    fn path(&self, hex: &str) -> PathBuf {
        self.dir.join(&hex[..2]).join(hex)
    }
}

#[async_trait]
impl BlobStore for FileBlobs {
    async fn put(&self, hex: &str, bytes: Bytes) -> Result<(), BlobError> {
        let path = self.path(hex);
        if tokio::fs::try_exists(&path).await? {
            return Ok(());
        }
        let parent = path.parent().unwrap_or(&self.dir).to_owned();
        let shard = parent.clone();
        tokio::task::spawn_blocking(move || super::private_dir(&shard))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))??;
        let tmp = parent.join(format!("{hex}.{}.tmp", uuid::Uuid::now_v7().simple()));
        let mut f = super::private_file(false).open(&tmp).await?;
        f.write_all(&bytes).await?;
        f.sync_all().await?;
        drop(f);
        tokio::fs::rename(&tmp, &path).await?;
        if let Ok(d) = tokio::fs::File::open(&parent).await {
            let _ = d.sync_all().await;
        }
        Ok(())
    }

    async fn get(&self, hex: &str) -> Result<Option<Bytes>, BlobError> {
        match tokio::fs::read(self.path(hex)).await {
            Ok(b) => Ok(Some(Bytes::from(b))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    async fn exists(&self, hex: &str) -> Result<bool, BlobError> {
        Ok(tokio::fs::try_exists(self.path(hex)).await?)
    }

    async fn delete(&self, hex: &str) -> Result<(), BlobError> {
        match tokio::fs::remove_file(self.path(hex)).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    async fn list(&self) -> Result<Vec<StoredBlob>, BlobError> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || list_dir(&dir))
            .await
            .map_err(|e| BlobError::Io(std::io::Error::other(e.to_string())))?
    }
}

fn list_dir(dir: &Path) -> Result<Vec<StoredBlob>, BlobError> {
    let mut out = Vec::new();
    for shard in std::fs::read_dir(dir)? {
        let shard = shard?;
        let name = shard.file_name();
        let Some(prefix) = name.to_str().filter(|n| n.len() == 2) else {
            continue;
        };
        for f in std::fs::read_dir(shard.path())? {
            let f = f?;
            let Some(hex) = f.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            if lapak_core::photo::digest_of(&hex).is_err() || !hex.starts_with(prefix) {
                continue;
            }
            let meta = f.metadata()?;
            let stored_at_ms = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
            out.push(StoredBlob {
                hex,
                size: meta.len(),
                stored_at_ms,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_photo_is_stored_listed_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = FileBlobs::open(dir.path()).unwrap();
        let hex = lapak_core::photo::hex_digest(b"x");
        assert!(!blobs.exists(&hex).await.unwrap());
        blobs.put(&hex, Bytes::from_static(b"x")).await.unwrap();
        blobs.put(&hex, Bytes::from_static(b"x")).await.unwrap();
        assert_eq!(
            blobs.get(&hex).await.unwrap().unwrap(),
            Bytes::from_static(b"x")
        );
        let listed = blobs.list().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].hex.as_str(), listed[0].size), (hex.as_str(), 1));
        blobs.delete(&hex).await.unwrap();
        blobs.delete(&hex).await.unwrap();
        assert!(blobs.get(&hex).await.unwrap().is_none());
    }
}
