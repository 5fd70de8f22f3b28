//! Where file bytes live. Content-addressed by SHA-256 (`blobs/ab/abcd…`),
//! so identical content is stored once however many materials refer to it.
//! The local filesystem is the default; production uses S3-compatible object
//! storage (any replica can serve any file) behind the same trait, chosen by
//! `[document.storage]` settings.
//!
//! Uploads are first streamed to a local temporary file while being hashed
//! (the key is the hash, unknown until the last byte); `put` then moves or
//! uploads that file. Neither path holds a whole file in memory.

use std::path::{Path, PathBuf};
use std::pin::Pin;

use bytes::Bytes;
use futures_util::{Stream, StreamExt, TryStreamExt};
use object_store::{ObjectStoreExt, WriteMultipart};
use serde::Deserialize;

/// Streamed file content.
pub type BlobStream = Pin<Box<dyn Stream<Item = std::io::Result<Bytes>> + Send>>;

/// Blob storage keyed by SHA-256 hex.
#[async_trait::async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores a finished temporary file under `sha256` and removes the temp
    /// file. Returns `false` when that content was already stored.
    async fn put(&self, sha256: &str, temp: &Path) -> std::io::Result<bool>;
    /// Streams stored content.
    async fn open(&self, sha256: &str) -> std::io::Result<BlobStream>;
    /// Local directory for the temporary files uploads are received into.
    fn temp_dir(&self) -> &Path;
}

/// `[document.storage]` settings.
#[derive(Clone, Default, Deserialize)]
#[serde(default)]
pub struct StorageSettings {
    /// `local` (default) or `s3`.
    pub kind: StorageKind,
    /// S3 bucket.
    pub bucket: Option<String>,
    /// S3 endpoint for S3-compatible stores (MinIO, Ceph, OSS...); unset = AWS.
    pub endpoint: Option<String>,
    /// S3 region.
    pub region: Option<String>,
    /// Access key id.
    pub access_key_id: Option<String>,
    /// Secret access key (never logged).
    pub secret_access_key: Option<String>,
    /// Allow a plain-http endpoint (a store inside a trusted network, tests).
    pub allow_http: bool,
}

impl std::fmt::Debug for StorageSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StorageSettings")
            .field("kind", &self.kind)
            .field("bucket", &self.bucket)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

/// Storage backend.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageKind {
    /// Files under the data directory.
    #[default]
    Local,
    /// S3-compatible object storage.
    S3,
}

/// Builds the configured store; `local_root` holds local blobs and, for
/// every backend, the temporary files.
pub fn build(
    settings: &StorageSettings,
    local_root: &Path,
) -> anyhow::Result<std::sync::Arc<dyn BlobStore>> {
    Ok(match settings.kind {
        StorageKind::Local => std::sync::Arc::new(LocalStore::new(local_root)?),
        StorageKind::S3 => std::sync::Arc::new(S3Store::new(settings, local_root)?),
    })
}

fn blob_key(sha256: &str) -> std::io::Result<String> {
    // The hash is ours, but check anyway: a key or path must never come from input.
    if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "bad content hash",
        ));
    }
    Ok(format!("blobs/{}/{sha256}", &sha256[..2]))
}

/// Files under a root directory: `<root>/blobs/ab/abcdef...`.
pub struct LocalStore {
    root: PathBuf,
    temp: PathBuf,
}

impl LocalStore {
    /// Creates the directories if needed.
    pub fn new(root: impl Into<PathBuf>) -> std::io::Result<Self> {
        let root = root.into();
        let temp = root.join("tmp");
        std::fs::create_dir_all(root.join("blobs"))?;
        std::fs::create_dir_all(&temp)?;
        Ok(Self { root, temp })
    }
}

#[async_trait::async_trait]
impl BlobStore for LocalStore {
    async fn put(&self, sha256: &str, temp: &Path) -> std::io::Result<bool> {
        let target = self.root.join(blob_key(sha256)?);
        if tokio::fs::try_exists(&target).await? {
            tokio::fs::remove_file(temp).await?;
            return Ok(false);
        }
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        // Same filesystem as the temp dir: an atomic rename, never a partial blob.
        tokio::fs::rename(temp, &target).await?;
        Ok(true)
    }

    async fn open(&self, sha256: &str) -> std::io::Result<BlobStream> {
        let file = tokio::fs::File::open(self.root.join(blob_key(sha256)?)).await?;
        Ok(Box::pin(tokio_util::io::ReaderStream::new(file)))
    }

    fn temp_dir(&self) -> &Path {
        &self.temp
    }
}

/// S3-compatible object storage.
pub struct S3Store {
    store: object_store::aws::AmazonS3,
    temp: PathBuf,
}

impl S3Store {
    /// Connects lazily (the first request opens the connection).
    pub fn new(settings: &StorageSettings, local_root: &Path) -> anyhow::Result<Self> {
        let bucket = settings.bucket.as_deref().ok_or_else(|| {
            anyhow::anyhow!("document.storage.kind = s3 needs document.storage.bucket")
        })?;
        let mut builder = object_store::aws::AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .with_allow_http(settings.allow_http);
        if let Some(endpoint) = &settings.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_virtual_hosted_style_request(false);
        }
        if let Some(region) = &settings.region {
            builder = builder.with_region(region);
        }
        if let (Some(id), Some(secret)) = (&settings.access_key_id, &settings.secret_access_key) {
            builder = builder
                .with_access_key_id(id)
                .with_secret_access_key(secret);
        }
        let temp = local_root.join("tmp");
        std::fs::create_dir_all(&temp)?;
        Ok(Self {
            store: builder.build()?,
            temp,
        })
    }
}

fn io_error(e: object_store::Error) -> std::io::Error {
    match e {
        object_store::Error::NotFound { .. } => {
            std::io::Error::new(std::io::ErrorKind::NotFound, e)
        }
        other => std::io::Error::other(other),
    }
}

#[async_trait::async_trait]
impl BlobStore for S3Store {
    async fn put(&self, sha256: &str, temp: &Path) -> std::io::Result<bool> {
        let key = object_store::path::Path::from(blob_key(sha256)?);
        match self.store.head(&key).await {
            Ok(_) => {
                tokio::fs::remove_file(temp).await?;
                return Ok(false);
            }
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(io_error(e)),
        }
        // Multipart upload in 5 MiB parts read from the temp file: memory stays
        // bounded whatever the file size. The object appears only on finish.
        let upload = self.store.put_multipart(&key).await.map_err(io_error)?;
        let mut writer = WriteMultipart::new(upload);
        let mut file = tokio_util::io::ReaderStream::with_capacity(
            tokio::fs::File::open(temp).await?,
            256 * 1024,
        );
        while let Some(chunk) = file.next().await {
            writer.wait_for_capacity(4).await.map_err(io_error)?;
            writer.put(chunk?);
        }
        writer.finish().await.map_err(io_error)?;
        tokio::fs::remove_file(temp).await?;
        Ok(true)
    }

    async fn open(&self, sha256: &str) -> std::io::Result<BlobStream> {
        let key = object_store::path::Path::from(blob_key(sha256)?);
        let got = self.store.get(&key).await.map_err(io_error)?;
        Ok(Box::pin(got.into_stream().map_err(io_error)))
    }

    fn temp_dir(&self) -> &Path {
        &self.temp
    }
}
