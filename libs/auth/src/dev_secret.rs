//! The development HS256 secret: generated on first start, kept in a file so
//! that the stack and the `token` CLI agree on it across restarts.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rand::RngCore;

/// Length of a generated secret in bytes (256 bits, as HS256 wants).
pub const DEV_SECRET_LEN: usize = 32;

/// Reads the base64 secret at `path`, or creates it: 32 random bytes, parent
/// directories created, file mode 0600 on unix.
///
/// Two processes starting together agree on one secret: the new file is
/// written completely under a temporary name and then hard-linked into place,
/// which fails if someone else got there first, and then their secret is read.
pub fn load_or_create_dev_secret(path: &Path) -> io::Result<Vec<u8>> {
    match fs::read_to_string(path) {
        Ok(text) => return decode(path, &text),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    let mut secret = vec![0u8; DEV_SECRET_LEN];
    rand::rng().fill_bytes(&mut secret);

    let temp = temp_path(path);
    if let Err(e) = write_private(&temp, STANDARD.encode(&secret).as_bytes()) {
        let _ = fs::remove_file(&temp);
        return Err(e);
    }
    let placed = match fs::hard_link(&temp, path) {
        Err(e) if e.kind() != io::ErrorKind::AlreadyExists => {
            // Some filesystems (FAT, some network mounts) have no hard links;
            // a rename is still atomic, it just cannot detect a racing writer.
            fs::rename(&temp, path)
        }
        other => other,
    };
    let _ = fs::remove_file(&temp);
    match placed {
        Ok(()) => {
            tracing::info!(path = %path.display(), "generated a new development token secret");
            Ok(secret)
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            decode(path, &fs::read_to_string(path)?)
        }
        Err(e) => Err(e),
    }
}

fn decode(path: &Path, text: &str) -> io::Result<Vec<u8>> {
    warn_if_readable_by_others(path);
    let secret = STANDARD.decode(text.trim()).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} is not a base64 secret: {e}", path.display()),
        )
    })?;
    if secret.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} holds an empty secret", path.display()),
        ));
    }
    Ok(secret)
}

fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".{}.tmp", rand::random::<u64>()));
    path.with_file_name(name)
}

fn write_private(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = fs::metadata(path)
        && meta.permissions().mode() & 0o077 != 0
    {
        tracing::warn!(path = %path.display(), "token secret file is accessible to other users; chmod 600 it");
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch_dir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("yizhan-auth-test-{}", rand::random::<u64>()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn creates_once_then_reads_back_the_same_secret() {
        let dir = scratch_dir();
        let path = dir.join("nested/dir/jwt.secret");
        let first = load_or_create_dev_secret(&path).unwrap();
        assert_eq!(first.len(), DEV_SECRET_LEN);
        let stored = fs::read_to_string(&path).unwrap();
        assert_eq!(STANDARD.decode(stored.trim()).unwrap(), first);
        assert_eq!(load_or_create_dev_secret(&path).unwrap(), first);
        // No temporary files left behind.
        assert_eq!(fs::read_dir(path.parent().unwrap()).unwrap().count(), 1);

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn two_paths_get_different_secrets_and_garbage_is_an_error() {
        let dir = scratch_dir();
        let a = load_or_create_dev_secret(&dir.join("a")).unwrap();
        let b = load_or_create_dev_secret(&dir.join("b")).unwrap();
        assert_ne!(a, b);
        fs::write(dir.join("bad"), "not base64!").unwrap();
        let err = load_or_create_dev_secret(&dir.join("bad")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        fs::remove_dir_all(dir).unwrap();
    }
}
