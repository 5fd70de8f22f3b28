//! Where file bytes live. Content-addressed by SHA-256, so identical content
//! is stored once however many materials refer to it. The local filesystem
//! is the default; production swaps in object storage behind the same trait.

use std::path::{Path, PathBuf};

/// Blob storage keyed by SHA-256 hex.
#[async_trait::async_trait]
pub trait BlobStore: Send + Sync {
    /// Moves a finished temporary file in under `sha256`. Returns `false`
    /// when that content was already stored (the temp file is then removed).
    async fn put(&self, sha256: &str, temp: &Path) -> std::io::Result<bool>;
    /// Opens stored content for streaming.
    async fn open(&self, sha256: &str) -> std::io::Result<tokio::fs::File>;
    /// A directory for temporary files on the same filesystem, so `put` is a rename.
    fn temp_dir(&self) -> &Path;
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

    fn path_of(&self, sha256: &str) -> std::io::Result<PathBuf> {
        // The hash is ours, but check anyway: a path must never come from input.
        if sha256.len() != 64 || !sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "bad content hash",
            ));
        }
        Ok(self.root.join("blobs").join(&sha256[..2]).join(sha256))
    }
}

#[async_trait::async_trait]
impl BlobStore for LocalStore {
    async fn put(&self, sha256: &str, temp: &Path) -> std::io::Result<bool> {
        let target = self.path_of(sha256)?;
        if tokio::fs::try_exists(&target).await? {
            tokio::fs::remove_file(temp).await?;
            return Ok(false);
        }
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await?;
        }
        tokio::fs::rename(temp, &target).await?;
        Ok(true)
    }

    async fn open(&self, sha256: &str) -> std::io::Result<tokio::fs::File> {
        tokio::fs::File::open(self.path_of(sha256)?).await
    }

    fn temp_dir(&self) -> &Path {
        &self.temp
    }
}
