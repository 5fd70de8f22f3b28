//! npm packages the tests run (the OIDC provider, axe-core): installed
//! with `npm ci` from a lock file committed under `tests/<name>/`, once per
//! lock file, into `$HOME/.cache/yizhan-<name>/<hash of the lock>`.

use std::path::{Path, PathBuf};

use sha2::Digest;

/// The committed package `tests/<name>` (its `package.json` and lock).
pub fn source(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name)
}

fn cache_root(name: &str) -> PathBuf {
    let home = std::env::var_os("HOME").map_or_else(std::env::temp_dir, PathBuf::from);
    home.join(".cache").join(format!("yizhan-{name}"))
}

/// `npm ci` of `tests/<name>`'s lock file into a cache directory named
/// after it, unless `node_modules/<marker>` is already there; answers the
/// directory, or why npm cannot install it.
pub async fn installed(name: &str, marker: &str) -> Result<PathBuf, String> {
    let source = source(name);
    let lock = std::fs::read(source.join("package-lock.json")).map_err(|e| e.to_string())?;
    let root = cache_root(name);
    let dir = root.join(&format!("{:x}", sha2::Sha256::digest(&lock))[..16]);
    if dir.join("node_modules").join(marker).exists() {
        return Ok(dir);
    }
    // Installed beside and renamed into place: parallel tests never see a
    // half-installed tree.
    let staging = root.join(format!("staging-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&staging).map_err(|e| e.to_string())?;
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(source.join(file), staging.join(file)).map_err(|e| e.to_string())?;
    }
    let output = tokio::process::Command::new("npm")
        .args(["ci", "--ignore-scripts", "--no-audit", "--no-fund"])
        .current_dir(&staging)
        .output()
        .await
        .map_err(|e| format!("npm could not be run: {e}"))?;
    if !output.status.success() {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(format!(
            "npm ci failed (is the npm registry reachable?): {}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    if std::fs::rename(&staging, &dir).is_err() {
        // Another test got there first.
        let _ = std::fs::remove_dir_all(&staging);
    }
    Ok(dir)
}
