//! Compact JWS (RFC 7515) with EdDSA over Ed25519 (RFC 8037), and the
//! public-key JWK an independent verifier needs. Pure functions: keys come
//! in, strings go out; where keys live is `store::keys`' business.
//!
//! Written by hand rather than through a JWT library because the payload is
//! a certificate, not a token (no `exp`/`aud` to validate), and the whole
//! format is three base64url segments and one signature: small enough to
//! read in full, which is what a verifier of public documents should be able
//! to do.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// The only algorithm these certificates are signed with.
pub const ALG: &str = "EdDSA";

/// `typ` header value: marks the JWS as a yizhan e-certificate.
pub const TYP: &str = "yizhan-certificate+jws";

/// The protected header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Always `EdDSA`.
    pub alg: String,
    /// Which published key signed it (RFC 7638 thumbprint of that key).
    pub kid: String,
    /// [`TYP`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
}

/// A public key as a JWK (`kty: OKP`, `crv: Ed25519`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
    "kid": "Vv1B3hX1i1Y2rFQ3O3mMSuN0w8mW1C3iN2y4p0ZKf5Q",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
}))]
pub struct Jwk {
    /// Key type: `OKP`.
    pub kty: String,
    /// Curve: `Ed25519`.
    pub crv: String,
    /// Algorithm: `EdDSA`.
    pub alg: String,
    /// Use: `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// Key id, the RFC 7638 thumbprint; JWS headers name it.
    pub kid: String,
    /// The 32-byte public key, base64url without padding.
    pub x: String,
}

impl Jwk {
    /// The JWK of a public key.
    pub fn of(key: &VerifyingKey) -> Self {
        let x = B64.encode(key.as_bytes());
        Self {
            kty: "OKP".into(),
            crv: "Ed25519".into(),
            alg: ALG.into(),
            use_: "sig".into(),
            kid: thumbprint(&x),
            x,
        }
    }

    /// The public key it carries; `None` when it is not an Ed25519 key.
    pub fn verifying_key(&self) -> Option<VerifyingKey> {
        if self.kty != "OKP" || self.crv != "Ed25519" {
            return None;
        }
        let bytes: [u8; 32] = B64.decode(&self.x).ok()?.try_into().ok()?;
        VerifyingKey::from_bytes(&bytes).ok()
    }
}

/// RFC 7638 thumbprint of an Ed25519 public key given as its `x`: SHA-256 of
/// the members `crv`, `kty`, `x` in that (lexicographic) order, no spaces.
/// Used as the `kid`, so a key id can be recomputed from the key itself.
pub fn thumbprint(x: &str) -> String {
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    B64.encode(Sha256::digest(canonical.as_bytes()))
}

/// Signs `payload` (the certificate content as JSON bytes) into a compact JWS.
pub fn sign(key: &SigningKey, kid: &str, payload: &[u8]) -> String {
    let header = Header {
        alg: ALG.into(),
        kid: kid.into(),
        typ: Some(TYP.into()),
    };
    let header = serde_json::to_vec(&header).unwrap_or_default();
    let signing_input = format!("{}.{}", B64.encode(header), B64.encode(payload));
    let signature = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", B64.encode(signature.to_bytes()))
}

/// Why a string is not a compact JWS at all (as opposed to one whose
/// signature does not verify, which is an answer, not an error).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MalformedJws {
    /// Not three dot-separated segments.
    #[error("签名数据须为三段以“.”分隔的 JWS 紧凑格式")]
    Segments,
    /// A segment is not base64url.
    #[error("签名数据的第 {0} 段不是合法的 base64url 编码")]
    Encoding(usize),
    /// The header is not a JSON object with `alg` and `kid`.
    #[error("签名数据的头部不是含 alg、kid 的 JSON 对象")]
    Header,
}

impl MalformedJws {
    /// Stable machine code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Segments => "malformed_jws",
            Self::Encoding(_) => "invalid_encoding",
            Self::Header => "invalid_jws_header",
        }
    }
}

/// A compact JWS taken apart, not yet verified.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The protected header.
    pub header: Header,
    /// The payload bytes (unverified until [`Parsed::verify`] says so).
    pub payload: Vec<u8>,
    signing_input: String,
    signature: Vec<u8>,
}

/// Why a signature does not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureFailure {
    /// `alg` is not `EdDSA` (an `alg: none` or HMAC token is never accepted).
    UnsupportedAlgorithm,
    /// No published key has this `kid`.
    UnknownKey,
    /// The signature does not match header + payload under that key.
    Mismatch,
}

impl SignatureFailure {
    /// Stable machine code.
    pub fn code(self) -> &'static str {
        match self {
            Self::UnsupportedAlgorithm => "unsupported_algorithm",
            Self::UnknownKey => "unknown_key",
            Self::Mismatch => "signature_mismatch",
        }
    }

    /// zh-CN explanation.
    pub fn message(self) -> &'static str {
        match self {
            Self::UnsupportedAlgorithm => "签名算法不是 EdDSA，不予认可",
            Self::UnknownKey => "签名所用密钥不在本中心公布的公钥集中",
            Self::Mismatch => "签名与内容不符：证照数据可能已被篡改",
        }
    }
}

impl Parsed {
    /// Splits and decodes a compact JWS.
    pub fn parse(jws: &str) -> Result<Self, MalformedJws> {
        let mut parts = jws.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(MalformedJws::Segments);
        };
        let header_bytes = B64.decode(h).map_err(|_| MalformedJws::Encoding(1))?;
        let payload = B64.decode(p).map_err(|_| MalformedJws::Encoding(2))?;
        let signature = B64.decode(s).map_err(|_| MalformedJws::Encoding(3))?;
        let header: Header =
            serde_json::from_slice(&header_bytes).map_err(|_| MalformedJws::Header)?;
        Ok(Self {
            header,
            payload,
            signing_input: format!("{h}.{p}"),
            signature,
        })
    }

    /// Checks the signature with the key the header names, looked up by
    /// `key_for(kid)`. Uses strict verification (no malleable or small-order
    /// signatures), as an independent verifier would.
    pub fn verify(
        &self,
        key_for: impl FnOnce(&str) -> Option<VerifyingKey>,
    ) -> Result<(), SignatureFailure> {
        if self.header.alg != ALG {
            return Err(SignatureFailure::UnsupportedAlgorithm);
        }
        let key = key_for(&self.header.kid).ok_or(SignatureFailure::UnknownKey)?;
        let signature: [u8; 64] = self
            .signature
            .as_slice()
            .try_into()
            .map_err(|_| SignatureFailure::Mismatch)?;
        key.verify_strict(
            self.signing_input.as_bytes(),
            &Signature::from_bytes(&signature),
        )
        .map_err(|_| SignatureFailure::Mismatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    #[test]
    fn signs_and_verifies_round_trip() {
        let k = key(7);
        let jwk = Jwk::of(&k.verifying_key());
        let jws = sign(&k, &jwk.kid, br#"{"id":"x"}"#);
        let parsed = Parsed::parse(&jws).unwrap();
        assert_eq!(parsed.header.alg, "EdDSA");
        assert_eq!(parsed.header.kid, jwk.kid);
        assert_eq!(parsed.payload, br#"{"id":"x"}"#);
        let lookup = |kid: &str| (kid == jwk.kid).then(|| jwk.verifying_key().unwrap());
        assert_eq!(parsed.verify(lookup), Ok(()));
    }

    #[test]
    fn tampering_anywhere_fails() {
        let k = key(7);
        let jwk = Jwk::of(&k.verifying_key());
        let jws = sign(&k, &jwk.kid, br#"{"holder":"A"}"#);
        let lookup = |_: &str| Some(k.verifying_key());
        // A different payload under the original signature.
        let parts: Vec<&str> = jws.split('.').collect();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            B64.encode(br#"{"holder":"B"}"#),
            parts[2]
        );
        assert_eq!(
            Parsed::parse(&forged).unwrap().verify(lookup),
            Err(SignatureFailure::Mismatch)
        );
        // Signed by another key that claims the same kid.
        let other = sign(&key(8), &jwk.kid, br#"{"holder":"A"}"#);
        assert_eq!(
            Parsed::parse(&other).unwrap().verify(lookup),
            Err(SignatureFailure::Mismatch)
        );
        // alg swapped to none.
        let none_header = B64.encode(format!(r#"{{"alg":"none","kid":"{}"}}"#, jwk.kid));
        let none = format!("{none_header}.{}.{}", parts[1], parts[2]);
        assert_eq!(
            Parsed::parse(&none).unwrap().verify(lookup),
            Err(SignatureFailure::UnsupportedAlgorithm)
        );
        // A kid nobody published.
        assert_eq!(
            Parsed::parse(&jws).unwrap().verify(|_| None),
            Err(SignatureFailure::UnknownKey)
        );
    }

    #[test]
    fn rejects_malformed_shapes() {
        assert_eq!(Parsed::parse("abc").unwrap_err(), MalformedJws::Segments);
        assert_eq!(
            Parsed::parse("a.b.c.d").unwrap_err(),
            MalformedJws::Segments
        );
        assert_eq!(
            Parsed::parse("a*.b.c").unwrap_err(),
            MalformedJws::Encoding(1)
        );
        let header = B64.encode("[1]");
        assert_eq!(
            Parsed::parse(&format!("{header}.e30.AA")).unwrap_err(),
            MalformedJws::Header
        );
    }

    /// RFC 8037 Appendix A: the thumbprint of its example key.
    #[test]
    fn thumbprint_matches_rfc_8037() {
        assert_eq!(
            thumbprint("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    /// RFC 8037 Appendix A.4: signing "Example of Ed25519 signing" with the
    /// example key gives the published JWS, byte for byte (Ed25519 is
    /// deterministic), so this is an interoperability check, not a self-test.
    #[test]
    fn matches_rfc_8037_example_signature() {
        let d = B64
            .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
            .unwrap();
        let k = SigningKey::from_bytes(&d.try_into().unwrap());
        assert_eq!(
            B64.encode(k.verifying_key().as_bytes()),
            "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
        );
        let input = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
        let sig = k.sign(input.as_bytes());
        assert_eq!(
            B64.encode(sig.to_bytes()),
            "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
        );
    }
}
