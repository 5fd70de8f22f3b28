//! Per-subscription signing secrets: generated, shown once, kept sealed.
//!
//! The worker needs the raw secret to compute each signature, so a one-way
//! hash will not do. Secrets are sealed with AES-256-GCM under a key that
//! lives outside the database (`webhook_secret_key` in the settings, or a
//! file generated under `data/`), bound to their subscription id as
//! associated data so a sealed value copied onto another row does not open.
//! This protects against a leaked database dump or backup; it does not
//! protect against someone who can read both the database and the key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};

/// Prefix of every generated secret, so a leaked one is recognisable (the
/// Standard Webhooks convention: `whsec_<base64 key>`).
pub const SECRET_PREFIX: &str = "whsec_";

/// Prefix of the sealed form (format version).
const SEALED_PREFIX: &str = "v1:";

/// Why a key or a sealed secret is unusable.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The sealing key is not 32 bytes.
    #[error("webhook secret key must be 32 bytes (base64), got {0}")]
    BadKey(usize),
    /// The system random source failed.
    #[error("system random source failed")]
    Random,
    /// The sealed value is damaged, or was sealed under another key or row.
    #[error("sealed webhook secret cannot be opened (wrong key, wrong row or damaged)")]
    Unseal,
}

/// Seals and opens subscription secrets.
pub struct SecretBox {
    key: LessSafeKey,
    random: SystemRandom,
}

impl std::fmt::Debug for SecretBox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBox(<redacted>)")
    }
}

impl SecretBox {
    /// A box over a 32-byte key.
    pub fn new(key: &[u8]) -> Result<Self, SecretError> {
        let unbound =
            UnboundKey::new(&AES_256_GCM, key).map_err(|_| SecretError::BadKey(key.len()))?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
            random: SystemRandom::new(),
        })
    }

    /// A fresh secret: a 32-byte key in standard base64 (what Standard
    /// Webhooks libraries decode), prefixed.
    pub fn generate(&self) -> Result<String, SecretError> {
        let mut bytes = [0u8; 32];
        self.random
            .fill(&mut bytes)
            .map_err(|_| SecretError::Random)?;
        Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(bytes)))
    }

    /// Seals `secret` for the subscription `owner_id`.
    pub fn seal(&self, owner_id: &str, secret: &str) -> Result<String, SecretError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random
            .fill(&mut nonce)
            .map_err(|_| SecretError::Random)?;
        let mut data = secret.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(owner_id.as_bytes()),
                &mut data,
            )
            .map_err(|_| SecretError::Random)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        Ok(format!("{SEALED_PREFIX}{}", STANDARD.encode(out)))
    }

    /// Opens a value sealed by [`SecretBox::seal`] for the same `owner_id`.
    pub fn open(&self, owner_id: &str, sealed: &str) -> Result<String, SecretError> {
        let encoded = sealed
            .strip_prefix(SEALED_PREFIX)
            .ok_or(SecretError::Unseal)?;
        let raw = STANDARD.decode(encoded).map_err(|_| SecretError::Unseal)?;
        if raw.len() < NONCE_LEN {
            return Err(SecretError::Unseal);
        }
        let (nonce, data) = raw.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SecretError::Unseal)?;
        let mut data = data.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(owner_id.as_bytes()), &mut data)
            .map_err(|_| SecretError::Unseal)?;
        String::from_utf8(plain.to_vec()).map_err(|_| SecretError::Unseal)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_for_their_row_and_key() {
        let b = SecretBox::new(&[7u8; 32]).unwrap();
        let secret = b.generate().unwrap();
        assert!(secret.starts_with(SECRET_PREFIX) && secret.len() > 40);
        let key = STANDARD.decode(&secret[SECRET_PREFIX.len()..]).unwrap();
        assert_eq!(key.len(), 32, "a standard-base64 32-byte key");
        let sealed = b.seal("sub-1", &secret).unwrap();
        assert!(!sealed.contains(&secret[SECRET_PREFIX.len()..]));
        assert_eq!(b.open("sub-1", &sealed).unwrap(), secret);
        assert!(b.open("sub-2", &sealed).is_err(), "bound to its row");
        let other = SecretBox::new(&[8u8; 32]).unwrap();
        assert!(other.open("sub-1", &sealed).is_err(), "bound to its key");
        assert!(SecretBox::new(&[1u8; 16]).is_err());
    }
}
