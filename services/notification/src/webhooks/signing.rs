//! How a delivery is signed: the Standard Webhooks scheme
//! (<https://www.standardwebhooks.com/>), so partners can verify with that
//! project's libraries in any language, plus, while an operator keeps it on,
//! the legacy `X-Yizhan-Signature` header of earlier releases.
//!
//! Standard Webhooks: the secret is `whsec_<base64 key>`; the signed content
//! is `"<webhook-id>.<webhook-timestamp>.<raw body>"`; the signature header
//! is `v1,<base64 HMAC-SHA256(key, content)>`. The id is the delivery id,
//! the same across retries, so receivers dedupe on it.
//!
//! Only the HMAC comes from a library (ring); the header layout is the
//! scheme's, a few lines, and no maintained Rust crate implements it on ring
//! (which this service already uses for sealing).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::hmac;

use super::secret::SECRET_PREFIX;

/// `webhook-id`: the delivery id (stable across retries).
pub const ID_HEADER: &str = "webhook-id";
/// `webhook-timestamp`: unix seconds of this attempt.
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
/// `webhook-signature`: `v1,<base64>`.
pub const SIGNATURE_HEADER: &str = "webhook-signature";
/// The pre-Standard-Webhooks header, `t=<unix seconds>,v1=<hex>`; sent only
/// while `webhook_legacy_signature` is on (see docs/WEBHOOKS.md, migration).
pub const LEGACY_SIGNATURE_HEADER: &str = "X-Yizhan-Signature";

/// The HMAC key of a `whsec_` secret: the base64 after the prefix. Secrets
/// issued before the switch to Standard Webhooks used the URL-safe alphabet
/// without padding; they are read too, so those subscriptions get valid
/// `webhook-signature`s without rotating. `None` when it is not base64.
pub fn signing_key(secret: &str) -> Option<Vec<u8>> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).unwrap_or(secret);
    STANDARD
        .decode(encoded)
        .or_else(|_| URL_SAFE_NO_PAD.decode(encoded))
        .ok()
        .filter(|key| !key.is_empty())
}

/// The `webhook-signature` value for delivery `id` sent at `timestamp`.
pub fn standard_signature(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(id.as_bytes());
    ctx.update(b".");
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    format!("v1,{}", STANDARD.encode(ctx.sign().as_ref()))
}

/// The legacy `X-Yizhan-Signature` value: `t=<timestamp>,v1=<hex
/// HMAC-SHA256(secret as UTF-8, "<timestamp>.<body>")>`.
pub fn legacy_signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(timestamp.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    format!("t={timestamp},v1={}", hex::encode(ctx.sign().as_ref()))
}

/// Every signature header of one attempt of delivery `id`, as (name, value).
/// `None` when the secret is not a usable `whsec_` secret.
pub fn signature_headers(
    secret: &str,
    id: &str,
    timestamp: i64,
    body: &[u8],
    legacy: bool,
) -> Option<Vec<(&'static str, String)>> {
    let key = signing_key(secret)?;
    let mut headers = vec![
        (ID_HEADER, id.to_owned()),
        (TIMESTAMP_HEADER, timestamp.to_string()),
        (
            SIGNATURE_HEADER,
            standard_signature(&key, id, timestamp, body),
        ),
    ];
    if legacy {
        headers.push((
            LEGACY_SIGNATURE_HEADER,
            legacy_signature(secret, timestamp, body),
        ));
    }
    Some(headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_signature_matches_the_specification_example() {
        // The example of the Standard Webhooks specification (and of its
        // reference libraries' tests).
        let key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            standard_signature(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn legacy_signature_matches_a_known_vector() {
        // HMAC-SHA256("key", "1700000000.{}") computed with Python's hmac module.
        assert_eq!(
            legacy_signature("key", 1_700_000_000, b"{}"),
            "t=1700000000,v1=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
    }

    #[test]
    fn secrets_of_both_alphabets_give_their_key() {
        assert_eq!(signing_key("whsec_AAEC/w==").unwrap(), vec![0, 1, 2, 255]);
        // Issued before Standard Webhooks: URL-safe, unpadded.
        assert_eq!(signing_key("whsec_AAEC_w").unwrap(), vec![0, 1, 2, 255]);
        assert!(signing_key("whsec_not base64!").is_none());
        assert!(signing_key("whsec_").is_none());
    }

    #[test]
    fn the_legacy_header_is_sent_only_when_asked() {
        let names = |legacy| {
            signature_headers("whsec_AAEC/w==", "d1", 1, b"{}", legacy)
                .unwrap()
                .into_iter()
                .map(|(n, _)| n)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(false),
            [ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER]
        );
        assert!(names(true).contains(&LEGACY_SIGNATURE_HEADER));
    }
}
