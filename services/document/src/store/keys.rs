//! Certificate signing keys on disk, and the public key set (JWKS).
//!
//! Layout of the keys directory (default `<data_dir>/certificate-keys/`,
//! mode 0700):
//!
//! - `<kid>.key.pem`: a PKCS#8 Ed25519 private key (0600). Only the active
//!   one is kept; rotation deletes the previous private key, which is no
//!   longer needed once nothing signs with it.
//! - `<kid>.jwk.json`: the public JWK of every key that ever signed here.
//!   Never deleted, so certificates signed years ago still verify.
//! - `active`: the `kid` new certificates are signed with.
//!
//! `kid` is the RFC 7638 thumbprint of the public key, so anyone can check a
//! key id against its key. A private key given in settings (e.g. from a
//! Kubernetes Secret) overrides `active`; its public JWK is still written to
//! the directory so it stays published after the next key replaces it.
//!
//! Several processes may share the directory (replicas, or `yizhan
//! certificate-keys rotate` run beside a live service): each re-reads it at
//! most once a second when asked about a key it lacks, and before signing.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use anyhow::Context;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use ed25519_dalek::{SigningKey, VerifyingKey};
use rand::TryRngCore;

use crate::domain::jws::Jwk;

/// Name of the file holding the active `kid`.
const ACTIVE_FILE: &str = "active";
const KEY_SUFFIX: &str = ".key.pem";
const JWK_SUFFIX: &str = ".jwk.json";
/// How often a lookup miss may re-read the directory.
const REFRESH_EVERY: Duration = Duration::from_secs(1);

/// The key new certificates are signed with.
pub struct ActiveKey {
    /// Its key id.
    pub kid: String,
    /// The private key.
    pub signing: SigningKey,
}

impl std::fmt::Debug for ActiveKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the private key.
        f.debug_struct("ActiveKey").field("kid", &self.kid).finish()
    }
}

struct Loaded {
    active: Arc<ActiveKey>,
    public: BTreeMap<String, Jwk>,
}

/// The signing key and every published public key.
pub struct KeyRing {
    dir: PathBuf,
    configured: Option<Arc<ActiveKey>>,
    loaded: RwLock<Loaded>,
    last_refresh: Mutex<Instant>,
}

impl std::fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyRing").field("dir", &self.dir).finish()
    }
}

fn generate() -> anyhow::Result<SigningKey> {
    let mut seed = [0u8; 32];
    rand::rngs::OsRng
        .try_fill_bytes(&mut seed)
        .context("operating system random source")?;
    Ok(SigningKey::from_bytes(&seed))
}

fn kid_of(key: &VerifyingKey) -> String {
    Jwk::of(key).kid
}

/// Writes `contents` to `path` through a temporary file and a rename, so a
/// reader never sees half a file; `mode` applies on Unix.
fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("key"),
        uuid::Uuid::new_v4().simple()
    ));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(&tmp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, path)
}

/// Creates the directory (mode 0700) when it is missing. An existing one is
/// left as it is: it may be a read-only Secret mount, whose permissions are
/// the mount's `defaultMode` and cannot be changed from inside the pod.
fn create_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

fn write_private(dir: &Path, kid: &str, key: &SigningKey) -> anyhow::Result<()> {
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| anyhow::anyhow!("encoding the private key: {e}"))?;
    write_atomic(
        &dir.join(format!("{kid}{KEY_SUFFIX}")),
        pem.as_bytes(),
        0o600,
    )?;
    Ok(())
}

fn write_public(dir: &Path, key: &VerifyingKey) -> anyhow::Result<Jwk> {
    let jwk = Jwk::of(key);
    let path = dir.join(format!("{}{JWK_SUFFIX}", jwk.kid));
    if !path.exists() {
        write_atomic(&path, &serde_json::to_vec_pretty(&jwk)?, 0o644)?;
    }
    Ok(jwk)
}

fn read_private(dir: &Path, kid: &str) -> anyhow::Result<SigningKey> {
    let path = dir.join(format!("{kid}{KEY_SUFFIX}"));
    let pem = std::fs::read_to_string(&path)
        .with_context(|| format!("reading signing key {}", path.display()))?;
    let key = SigningKey::from_pkcs8_pem(&pem)
        .map_err(|e| anyhow::anyhow!("{} is not a PKCS#8 Ed25519 key: {e}", path.display()))?;
    anyhow::ensure!(
        kid_of(&key.verifying_key()) == kid,
        "{} does not hold the key its name says",
        path.display()
    );
    Ok(key)
}

fn read_public(dir: &Path) -> anyhow::Result<BTreeMap<String, Jwk>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !name.ends_with(JWK_SUFFIX) || name.starts_with('.') {
            continue;
        }
        let jwk: Jwk = serde_json::from_slice(&std::fs::read(&path)?)
            .with_context(|| format!("{} is not a JWK", path.display()))?;
        // A JWK whose kid is not its thumbprint would let one key pose as another.
        let key = jwk
            .verifying_key()
            .with_context(|| format!("{} is not an Ed25519 public key", path.display()))?;
        anyhow::ensure!(
            kid_of(&key) == jwk.kid,
            "{}: kid is not the key's thumbprint",
            path.display()
        );
        out.insert(jwk.kid.clone(), jwk);
    }
    Ok(out)
}

fn read_active_kid(dir: &Path) -> anyhow::Result<Option<String>> {
    match std::fs::read_to_string(dir.join(ACTIVE_FILE)) {
        Ok(s) => Ok(Some(s.trim().to_owned())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Makes a new key, publishes its JWK and makes it the active one. Returns
/// its `kid`. Leaves the previous private key in place: the caller decides
/// (see [`rotate`]).
fn add_active(dir: &Path) -> anyhow::Result<String> {
    let key = generate()?;
    let kid = kid_of(&key.verifying_key());
    write_private(dir, &kid, &key)?;
    write_public(dir, &key.verifying_key())?;
    write_atomic(&dir.join(ACTIVE_FILE), kid.as_bytes(), 0o644)?;
    Ok(kid)
}

/// What [`rotate`] did.
#[derive(Debug, Clone)]
pub struct Rotation {
    /// The new active key.
    pub new_kid: String,
    /// The key it replaced, if any (still published).
    pub previous_kid: Option<String>,
    /// Every published key id.
    pub published: Vec<String>,
}

/// `yizhan certificate-keys rotate`: a new signing key becomes active; the
/// previous key's public JWK stays published and its private key is
/// deleted. Running services pick the new key up before their next
/// signature (they re-read the directory), no restart needed.
pub fn rotate(dir: &Path) -> anyhow::Result<Rotation> {
    create_dir(dir)?;
    let previous_kid = read_active_kid(dir)?;
    if let Some(previous) = &previous_kid
        && let Ok(key) = read_private(dir, previous)
    {
        // Make sure the outgoing key stays verifiable before its private half goes.
        write_public(dir, &key.verifying_key())?;
    }
    let new_kid = add_active(dir)?;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if let Some(kid) = name.strip_suffix(KEY_SUFFIX)
            && kid != new_kid
            && dir.join(format!("{kid}{JWK_SUFFIX}")).exists()
        {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(Rotation {
        new_kid,
        previous_kid,
        published: read_public(dir)?.into_keys().collect(),
    })
}

impl KeyRing {
    /// Opens the key directory, generating the first key if there is none.
    /// `configured_pem` (a PKCS#8 PEM private key) overrides `active`.
    pub fn open(dir: &Path, configured_pem: Option<&str>) -> anyhow::Result<Self> {
        create_dir(dir).with_context(|| format!("creating {}", dir.display()))?;
        let configured = match configured_pem {
            Some(pem) => {
                let signing = SigningKey::from_pkcs8_pem(pem.trim()).map_err(|e| {
                    anyhow::anyhow!(
                        "document.certificates.signing_key is not a PKCS#8 Ed25519 PEM key: {e}"
                    )
                })?;
                let jwk = write_public(dir, &signing.verifying_key()).with_context(|| {
                    format!(
                        "publishing the configured key's JWK in {} (it must stay \
                         published after the key is replaced)",
                        dir.display()
                    )
                })?;
                Some(Arc::new(ActiveKey {
                    kid: jwk.kid,
                    signing,
                }))
            }
            None => {
                if read_active_kid(dir)?.is_none() {
                    // Only a writable directory gets a generated key (dev, a
                    // compose volume). A read-only one (a Kubernetes Secret)
                    // must come with its keys: see `yizhan certificate-keys
                    // rotate --dir` in docs/CERTIFICATES.md.
                    let kid = add_active(dir).with_context(|| {
                        format!(
                            "{} has no `active` key and a first key cannot be written there; \
                             create the keys with `yizhan certificate-keys rotate --dir <dir>` \
                             and mount them",
                            dir.display()
                        )
                    })?;
                    tracing::info!(kid, dir = %dir.display(), "generated the first certificate signing key");
                }
                None
            }
        };
        let loaded = Self::load(dir, configured.as_ref())?;
        Ok(Self {
            dir: dir.to_owned(),
            configured,
            loaded: RwLock::new(loaded),
            last_refresh: Mutex::new(Instant::now()),
        })
    }

    fn load(dir: &Path, configured: Option<&Arc<ActiveKey>>) -> anyhow::Result<Loaded> {
        let active = match configured {
            Some(k) => k.clone(),
            None => {
                let kid = read_active_kid(dir)?
                    .with_context(|| format!("{} has no `active` file", dir.display()))?;
                let signing = read_private(dir, &kid)?;
                Arc::new(ActiveKey { kid, signing })
            }
        };
        let mut public = read_public(dir)?;
        public
            .entry(active.kid.clone())
            .or_insert_with(|| Jwk::of(&active.signing.verifying_key()));
        Ok(Loaded { active, public })
    }

    /// Re-reads the directory (another process may have rotated). On a
    /// read error the keys in memory stay in use and the error is logged:
    /// signing with the previous key is still verifiable.
    pub fn refresh(&self) {
        *self.last_refresh.lock().unwrap_or_else(|e| e.into_inner()) = Instant::now();
        match Self::load(&self.dir, self.configured.as_ref()) {
            Ok(loaded) => {
                let mut current = self.loaded.write().unwrap_or_else(|e| e.into_inner());
                if current.active.kid != loaded.active.kid {
                    tracing::info!(kid = %loaded.active.kid, "certificate signing key changed");
                }
                *current = loaded;
            }
            Err(e) => tracing::warn!(error = %format!("{e:#}"), "cannot re-read certificate keys"),
        }
    }

    fn refresh_if_due(&self) {
        let due = self
            .last_refresh
            .lock()
            .map(|t| t.elapsed() >= REFRESH_EVERY)
            .unwrap_or(true);
        if due {
            self.refresh();
        }
    }

    /// The key to sign with now (after re-reading the directory, so a
    /// rotation done by the CLI takes effect at once).
    pub fn active(&self) -> Arc<ActiveKey> {
        self.refresh();
        self.loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .active
            .clone()
    }

    /// The public key with `kid`, re-reading the directory (at most once a
    /// second) when it is unknown: another replica may have rotated.
    pub fn verifying_key(&self, kid: &str) -> Option<VerifyingKey> {
        let find = |ring: &Self| {
            ring.loaded
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .public
                .get(kid)
                .and_then(Jwk::verifying_key)
        };
        find(self).or_else(|| {
            self.refresh_if_due();
            find(self)
        })
    }

    /// Every published key, for `/.well-known/jwks.json`.
    pub fn jwks(&self) -> Vec<Jwk> {
        self.refresh_if_due();
        self.loaded
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .public
            .values()
            .cloned()
            .collect()
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::jws;

    #[test]
    fn first_open_generates_a_private_key_only_the_owner_can_read() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("certificate-keys");
        let ring = KeyRing::open(&dir, None).unwrap();
        let active = ring.active();
        let pem = dir.join(format!("{}{KEY_SUFFIX}", active.kid));
        assert!(pem.exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&pem).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700);
        }
        // Reopening keeps the same key.
        let again = KeyRing::open(&dir, None).unwrap();
        assert_eq!(again.active().kid, active.kid);
        assert_eq!(ring.jwks().len(), 1);
    }

    #[test]
    fn rotation_keeps_old_public_keys_and_a_running_ring_follows() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let ring = KeyRing::open(&dir, None).unwrap();
        let old = ring.active();
        let old_jws = jws::sign(&old.signing, &old.kid, b"{}");

        let rotation = rotate(&dir).unwrap();
        assert_eq!(rotation.previous_kid.as_deref(), Some(old.kid.as_str()));
        assert_ne!(rotation.new_kid, old.kid);
        assert_eq!(rotation.published.len(), 2);
        assert!(!dir.join(format!("{}{KEY_SUFFIX}", old.kid)).exists());

        // The live ring signs with the new key and still verifies the old signature.
        assert_eq!(ring.active().kid, rotation.new_kid);
        let parsed = jws::Parsed::parse(&old_jws).unwrap();
        assert_eq!(parsed.verify(|kid| ring.verifying_key(kid)), Ok(()));
        assert_eq!(ring.jwks().len(), 2);
    }

    #[test]
    fn a_configured_key_is_used_and_published() {
        let tmp = tempfile::tempdir().unwrap();
        let key = SigningKey::from_bytes(&[9; 32]);
        let pem = key.to_pkcs8_pem(LineEnding::LF).unwrap();
        let ring = KeyRing::open(tmp.path(), Some(&pem)).unwrap();
        let kid = kid_of(&key.verifying_key());
        assert_eq!(ring.active().kid, kid);
        assert!(tmp.path().join(format!("{kid}{JWK_SUFFIX}")).exists());
        assert!(!tmp.path().join(format!("{kid}{KEY_SUFFIX}")).exists());
        assert!(KeyRing::open(tmp.path(), Some("not a key")).is_err());
    }

    #[test]
    fn a_prepared_directory_is_only_read() {
        // As mounted from a Kubernetes Secret: made by `rotate`, then opened
        // by replicas that must not write (the mount is read-only).
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("certificate-keys");
        let first = rotate(&dir).unwrap();
        let second = rotate(&dir).unwrap();
        let listing = |dir: &Path| {
            let mut names: Vec<(String, std::time::SystemTime)> = std::fs::read_dir(dir)
                .unwrap()
                .map(|e| {
                    let e = e.unwrap();
                    let name = e.file_name().to_string_lossy().into_owned();
                    (name, e.metadata().unwrap().modified().unwrap())
                })
                .collect();
            names.sort();
            names
        };
        let before = listing(&dir);
        let ring = KeyRing::open(&dir, None).unwrap();
        assert_eq!(ring.active().kid, second.new_kid);
        assert_eq!(ring.jwks().len(), 2);
        assert!(ring.verifying_key(&first.new_kid).is_some());
        assert_eq!(listing(&dir), before, "opening wrote nothing");
    }

    #[cfg(unix)]
    #[test]
    fn a_kubernetes_secret_layout_is_read_and_follows_an_update() {
        // The kubelet's layout: the files are symlinks into `..data`, itself
        // a symlink to a timestamped directory swapped atomically on update.
        let tmp = tempfile::tempdir().unwrap();
        let work = tmp.path().join("work");
        let first = rotate(&work).unwrap();
        let mount = tmp.path().join("mount");
        let publish = |version: &str| {
            let snapshot = mount.join(format!("..{version}"));
            std::fs::create_dir_all(&snapshot).unwrap();
            for entry in std::fs::read_dir(&work).unwrap() {
                let entry = entry.unwrap();
                std::fs::copy(entry.path(), snapshot.join(entry.file_name())).unwrap();
                let link = mount.join(entry.file_name());
                if !link.exists() {
                    std::os::unix::fs::symlink(Path::new("..data").join(entry.file_name()), &link)
                        .unwrap();
                }
            }
            let tmp_link = mount.join("..data_tmp");
            std::os::unix::fs::symlink(format!("..{version}"), &tmp_link).unwrap();
            std::fs::rename(&tmp_link, mount.join("..data")).unwrap();
        };
        publish("2026_01_01");
        let ring = KeyRing::open(&mount, None).unwrap();
        assert_eq!(ring.active().kid, first.new_kid);
        // The operator rotates the copy and updates the Secret.
        let second = rotate(&work).unwrap();
        publish("2026_02_01");
        assert_eq!(ring.active().kid, second.new_kid);
        assert!(ring.verifying_key(&first.new_kid).is_some());
        assert_eq!(ring.jwks().len(), 2);
    }

    #[test]
    fn a_jwk_file_whose_kid_lies_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let mut jwk = Jwk::of(&SigningKey::from_bytes(&[1; 32]).verifying_key());
        jwk.kid = "someone-else".into();
        std::fs::write(
            tmp.path().join(format!("x{JWK_SUFFIX}")),
            serde_json::to_vec(&jwk).unwrap(),
        )
        .unwrap();
        assert!(KeyRing::open(tmp.path(), None).is_err());
    }
}
