//! JWKS mode end to end: ES256 keys generated here, the JWK set served by a
//! real HTTP server on 127.0.0.1, tokens verified through an actix-web service.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::http::StatusCode;
use common::*;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use p256::ecdsa::SigningKey;
use p256::pkcs8::EncodePrivateKey;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use yizhan_auth::{AuthConfig, AuthMode, Authenticator};

/// An ES256 key pair and the JWK of its public half.
struct EcKey {
    kid: String,
    signing: SigningKey,
}

impl EcKey {
    fn generate(kid: &str) -> Self {
        let signing = loop {
            // Any 32 bytes below the curve order are a valid secret scalar.
            if let Ok(key) = SigningKey::from_slice(&rand::random::<[u8; 32]>()) {
                break key;
            }
        };
        Self {
            kid: kid.to_owned(),
            signing,
        }
    }

    fn jwk(&self) -> serde_json::Value {
        let point = self.signing.verifying_key().to_encoded_point(false);
        serde_json::json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256",
            "kid": self.kid,
            "x": b64(point.x().unwrap()),
            "y": b64(point.y().unwrap()),
        })
    }

    fn sign(&self, claims: &serde_json::Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        let der = self.signing.to_pkcs8_der().unwrap();
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(der.as_bytes())).unwrap()
    }
}

fn jwk_set(keys: &[&EcKey]) -> String {
    serde_json::json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() }).to_string()
}

/// A minimal HTTP/1.1 server answering every request with the current JWK set.
#[derive(Clone)]
struct JwksServer {
    url: String,
    body: Arc<Mutex<String>>,
    status: Arc<Mutex<u16>>,
    hits: Arc<AtomicUsize>,
}

impl JwksServer {
    async fn start(body: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let server = JwksServer {
            url: format!("http://{}/certs", listener.local_addr().unwrap()),
            body: Arc::new(Mutex::new(body)),
            status: Arc::new(Mutex::new(200)),
            hits: Arc::new(AtomicUsize::new(0)),
        };
        let shared = server.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let mut request = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => request.extend_from_slice(&buf[..n]),
                        }
                    }
                    shared.hits.fetch_add(1, Ordering::SeqCst);
                    let body = shared.body.lock().unwrap().clone();
                    let status = *shared.status.lock().unwrap();
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        server
    }

    fn serve(&self, body: String) {
        *self.body.lock().unwrap() = body;
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn jwks_authenticator(url: &str) -> Authenticator {
    Authenticator::new(AuthConfig::new(
        ISSUER,
        AUDIENCE,
        AuthMode::Jwks {
            url: url.to_owned(),
        },
    ))
}

#[actix_web::test]
async fn an_es256_token_verifies_against_the_served_jwks_and_the_set_is_cached() {
    let key = EcKey::generate("k1");
    let server = JwksServer::start(jwk_set(&[&key])).await;
    let auth = jwks_authenticator(&server.url);
    let token = key.sign(&valid_claims());

    let answer = call(Some(&auth), "/me", Some(&bearer(&token))).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(answer.body["sub"], "user-1");
    assert_eq!(answer.body["roles"], serde_json::json!(["admin"]));
    assert_eq!(server.hits(), 1);

    let answer = call(Some(&auth), "/me", Some(&bearer(&token))).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(
        server.hits(),
        1,
        "the second request must use the cached set"
    );
}

#[actix_web::test]
async fn a_new_kid_triggers_exactly_one_refetch() {
    let old = EcKey::generate("k1");
    let server = JwksServer::start(jwk_set(&[&old])).await;
    let auth = jwks_authenticator(&server.url);

    let answer = call(
        Some(&auth),
        "/me",
        Some(&bearer(&old.sign(&valid_claims()))),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(server.hits(), 1);

    // The IdP rotates: a token signed with the new key arrives.
    let new = EcKey::generate("k2");
    server.serve(jwk_set(&[&old, &new]));
    let new_token = new.sign(&valid_claims());
    let answer = call(Some(&auth), "/me", Some(&bearer(&new_token))).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(server.hits(), 2, "one refetch for the new kid");

    let answer = call(Some(&auth), "/me", Some(&bearer(&new_token))).await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
    assert_eq!(server.hits(), 2, "the refetched set is cached");

    // Made-up kids right after a refetch do not reach the IdP again.
    for kid in ["spray-1", "spray-2", "spray-3"] {
        let stranger = EcKey::generate(kid);
        call(
            Some(&auth),
            "/me",
            Some(&bearer(&stranger.sign(&valid_claims()))),
        )
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "kid");
    }
    assert_eq!(server.hits(), 2, "refetches are rate limited");
}

#[actix_web::test]
async fn an_unreachable_jwks_is_503_not_401() {
    // Bind, note the port, and close it again: nothing listens there.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let auth = jwks_authenticator(&format!("http://127.0.0.1:{port}/certs"));
    let key = EcKey::generate("k1");
    let answer = call(
        Some(&auth),
        "/me",
        Some(&bearer(&key.sign(&valid_claims()))),
    )
    .await;
    answer.assert_problem(StatusCode::SERVICE_UNAVAILABLE, "身份认证服务暂时无法访问");
    assert_eq!(answer.body["code"], "service_unavailable");
    // The transport error stays in the logs.
    assert!(!answer.body.to_string().contains("127.0.0.1"), "{answer:?}");
}

#[actix_web::test]
async fn an_idp_answering_500_is_503() {
    let key = EcKey::generate("k1");
    let server = JwksServer::start(jwk_set(&[&key])).await;
    *server.status.lock().unwrap() = 500;
    let auth = jwks_authenticator(&server.url);
    call(
        Some(&auth),
        "/me",
        Some(&bearer(&key.sign(&valid_claims()))),
    )
    .await
    .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "身份认证服务暂时无法访问");
}

#[actix_web::test]
async fn hmac_tokens_are_refused_even_with_a_known_kid_and_the_public_key_as_secret() {
    // The classic algorithm confusion: sign HS256 with the public key the IdP
    // publishes, and hope the verifier uses it as an HMAC secret.
    let key = EcKey::generate("k1");
    let server = JwksServer::start(jwk_set(&[&key])).await;
    let auth = jwks_authenticator(&server.url);
    let public = key.jwk().to_string();
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some("k1".into());
    let token = jsonwebtoken::encode(
        &header,
        &valid_claims(),
        &EncodingKey::from_secret(public.as_bytes()),
    )
    .unwrap();
    call(Some(&auth), "/me", Some(&bearer(&token)))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "不支持的令牌签名算法");
    assert_eq!(server.hits(), 0, "refused before any key lookup");
}

#[actix_web::test]
async fn a_symmetric_key_in_the_jwks_is_never_used() {
    let key = EcKey::generate("k1");
    let mut set: serde_json::Value = serde_json::from_str(&jwk_set(&[&key])).unwrap();
    set["keys"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"kty": "oct", "kid": "sym", "alg": "HS256", "k": b64(b"shared")}));
    let server = JwksServer::start(set.to_string()).await;
    let auth = jwks_authenticator(&server.url);
    // An ES256 header naming the oct key: the key is not in the usable set.
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("sym".into());
    let der = key.signing.to_pkcs8_der().unwrap();
    let token = jsonwebtoken::encode(
        &header,
        &valid_claims(),
        &EncodingKey::from_ec_der(der.as_bytes()),
    )
    .unwrap();
    call(Some(&auth), "/me", Some(&bearer(&token)))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "kid");
    // The EC key next to it still works.
    let answer = call(
        Some(&auth),
        "/me",
        Some(&bearer(&key.sign(&valid_claims()))),
    )
    .await;
    assert_eq!(answer.status, StatusCode::OK, "{answer:?}");
}

#[actix_web::test]
async fn a_header_alg_that_does_not_match_the_key_is_refused() {
    let key = EcKey::generate("k1");
    let server = JwksServer::start(jwk_set(&[&key])).await;
    let auth = jwks_authenticator(&server.url);
    let claims = b64(valid_claims().to_string().as_bytes());
    for alg in ["RS256", "ES384"] {
        let header = b64(format!(r#"{{"alg":"{alg}","typ":"JWT","kid":"k1"}}"#).as_bytes());
        let token = format!("{header}.{claims}.{}", b64(&[7u8; 64]));
        call(Some(&auth), "/me", Some(&bearer(&token)))
            .await
            .assert_problem(StatusCode::UNAUTHORIZED, "令牌签名算法与签名密钥不匹配");
    }
}

#[actix_web::test]
async fn a_token_signed_by_another_key_under_a_known_kid_is_refused() {
    let key = EcKey::generate("k1");
    let server = JwksServer::start(jwk_set(&[&key])).await;
    let auth = jwks_authenticator(&server.url);
    let impostor = EcKey::generate("k1");
    call(
        Some(&auth),
        "/me",
        Some(&bearer(&impostor.sign(&valid_claims()))),
    )
    .await
    .assert_problem(StatusCode::UNAUTHORIZED, "令牌签名无效");
}

#[actix_web::test]
async fn claims_are_still_validated_in_jwks_mode() {
    let key = EcKey::generate("k1");
    let server = JwksServer::start(jwk_set(&[&key])).await;
    let auth = jwks_authenticator(&server.url);

    let mut claims = valid_claims();
    claims["aud"] = serde_json::json!(["account", "other"]);
    call(Some(&auth), "/me", Some(&bearer(&key.sign(&claims))))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "令牌受众(aud)不匹配");

    let mut claims = valid_claims();
    claims["aud"] = serde_json::json!(["account", AUDIENCE]);
    let answer = call(Some(&auth), "/me", Some(&bearer(&key.sign(&claims)))).await;
    assert_eq!(
        answer.status,
        StatusCode::OK,
        "an array aud containing ours is fine"
    );

    let mut claims = valid_claims();
    claims["exp"] = serde_json::json!(chrono::Utc::now().timestamp() - 3600);
    call(Some(&auth), "/me", Some(&bearer(&key.sign(&claims))))
        .await
        .assert_problem(StatusCode::UNAUTHORIZED, "令牌已过期");
}
