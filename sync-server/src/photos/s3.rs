//! Photos in S3-compatible object storage (AWS S3, MinIO, Cloudflare R2, ...), through the
//! `object_store` crate: one object per photo, `<prefix>/<hex>`. Credentials come from the
//! settings (`AWS_ACCESS_KEY_ID` and `AWS_SECRET_ACCESS_KEY`, as every AWS tool reads them)
//! or the machine's role; the endpoint and region from the settings.

use async_trait::async_trait;
use axum::body::Bytes;
use futures_util::StreamExt as _;
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path;
use object_store::{ObjectStore as _, ObjectStoreExt as _, PutPayload};

use super::{BlobError, BlobStore, StoredBlob};
use crate::config::S3Config;

/// Photos in an S3 bucket.
#[derive(Debug)]
pub struct S3Blobs {
    store: AmazonS3,
    prefix: String,
}

fn object(e: &object_store::Error) -> BlobError {
    BlobError::Object(e.to_string())
}

impl S3Blobs {
    /// The bucket and prefix of `config`.
    ///
    /// # Errors
    /// [`BlobError::Object`] when the client cannot be built (a malformed endpoint).
    pub fn open(config: &S3Config) -> Result<S3Blobs, BlobError> {
        let mut b = AmazonS3Builder::from_env().with_bucket_name(&config.bucket);
        if let Some(endpoint) = &config.endpoint {
            b = b
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"))
                .with_virtual_hosted_style_request(false);
        }
        if let Some(region) = &config.region {
            b = b.with_region(region);
        }
        if let Some((id, secret)) = &config.credentials {
            b = b.with_access_key_id(id).with_secret_access_key(&secret.0);
        }
        Ok(S3Blobs {
            store: b.build().map_err(|e| object(&e))?,
            prefix: config.prefix.trim_matches('/').to_owned(),
        })
    }

    fn path(&self, hex: &str) -> Path {
        if self.prefix.is_empty() {
            Path::from(hex)
        } else {
            Path::from(format!("{}/{hex}", self.prefix))
        }
    }
}

#[async_trait]
impl BlobStore for S3Blobs {
    async fn put(&self, hex: &str, bytes: Bytes) -> Result<(), BlobError> {
        self.store
            .put(&self.path(hex), PutPayload::from_bytes(bytes))
            .await
            .map_err(|e| object(&e))?;
        Ok(())
    }

    async fn get(&self, hex: &str) -> Result<Option<Bytes>, BlobError> {
        match self.store.get(&self.path(hex)).await {
            Ok(r) => Ok(Some(r.bytes().await.map_err(|e| object(&e))?)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(object(&e)),
        }
    }

    async fn exists(&self, hex: &str) -> Result<bool, BlobError> {
        match self.store.head(&self.path(hex)).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(e) => Err(object(&e)),
        }
    }

    async fn delete(&self, hex: &str) -> Result<(), BlobError> {
        match self.store.delete(&self.path(hex)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(object(&e)),
        }
    }

    async fn list(&self) -> Result<Vec<StoredBlob>, BlobError> {
        let prefix = (!self.prefix.is_empty()).then(|| Path::from(self.prefix.as_str()));
        let mut stream = self.store.list(prefix.as_ref());
        let mut out = Vec::new();
        while let Some(meta) = stream.next().await {
            let meta = meta.map_err(|e| object(&e))?;
            let Some(hex) = meta.location.filename() else {
                continue;
            };
            if lapak_core::photo::digest_of(hex).is_ok() {
                out.push(StoredBlob {
                    hex: hex.to_owned(),
                    size: meta.size,
                    stored_at_ms: meta.last_modified.timestamp_millis(),
                });
            }
        }
        Ok(out)
    }
}
