//! Replicas that share their keys (k8s/README.md, docs/CERTIFICATES.md):
//! two document-service instances on one database and one key directory (as
//! mounted from the Secret `yizhan-certificate-keys`), and two notification
//! instances on one database and one webhook sealing key file. Each instance
//! has its own data directory, as each pod has its own `emptyDir`, so
//! nothing a pod keeps for itself can make these pass.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio_util::sync::CancellationToken;
use yizhan::{Broker, Service, Stack, StackSettings};
use yizhan_auth::{Role, TokenRequest};
use yizhan_events::Envelope;
use yizhan_events::broker::EmbeddedBroker;
use yizhan_events::contracts::topics;
use yizhan_kit::testing::Backend;

use crate::certificates::{hotel_licence, verify_with_jwks};
use crate::common::{AUDIENCE, ENTERPRISE_A, ISSUER, eventually};
use crate::webhooks::{Receiver, Reply, material_event, produce_to, signature_verifies};

const WAIT: Duration = Duration::from_secs(60);

/// One running service instance (a "pod") with its own data directory.
struct Instance {
    port: u16,
    cancel: CancellationToken,
    waiter: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    data_dir: tempfile::TempDir,
}

impl Instance {
    async fn start(service: Service, base: &StackSettings, brokers: &str) -> Self {
        let data_dir = tempfile::tempdir().unwrap();
        let mut settings = base.clone();
        settings.common.data_dir = data_dir.path().to_path_buf();
        let cancel = CancellationToken::new();
        let stack = Stack::start_with(
            &[service],
            &settings,
            Broker::Shared(brokers.to_owned()),
            cancel.clone(),
        )
        .await
        .expect("instance starts");
        let port = stack.port(service).unwrap();
        Self {
            port,
            cancel,
            waiter: Some(tokio::spawn(stack.wait())),
            data_dir,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    async fn stop(mut self) {
        self.cancel.cancel();
        if let Some(waiter) = self.waiter.take() {
            waiter.await.unwrap().unwrap();
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Settings every instance of a test shares: auth, ports 0, fast polling.
fn base_settings(secret: &[u8]) -> StackSettings {
    yizhan_kit::telemetry::init_for_tests();
    let mut settings = StackSettings::default();
    settings.common.auth.issuer = ISSUER.into();
    settings.common.auth.audience = AUDIENCE.into();
    settings.common.auth.hs256_secret = Some(STANDARD.encode(secret));
    settings.common.outbox.poll_interval_ms = 100;
    settings.common.http.shutdown_timeout_secs = 1;
    let s = &mut settings.services;
    s.document.port = 0;
    s.notification.port = 0;
    s.notification.allow_private_webhook_targets = true;
    s.notification.webhook_first_retry_ms = 50;
    s.notification.webhook_max_retry_ms = 400;
    s.notification.webhook_poll_interval_ms = 50;
    settings
}

fn token(secret: &[u8], req: TokenRequest) -> String {
    yizhan_auth::mint_hs256(secret, ISSUER, AUDIENCE, &req)
}

async fn get_json(client: &reqwest::Client, url: String, token: Option<&str>) -> serde_json::Value {
    let mut request = client.get(&url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let body = response.text().await.unwrap();
    assert_eq!(status, 200, "GET {url}: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Asks `instance` to issue a certificate (through the licensing topic, as
/// licensing does) and returns it as the holder sees it there.
async fn issue_on(
    client: &reqwest::Client,
    producer: &FutureProducer,
    instance: &Instance,
    holder: &str,
) -> serde_json::Value {
    let request = hotel_licence(&uuid::Uuid::now_v7().to_string(), ENTERPRISE_A);
    let envelope = Envelope::new("/yizhan/licensing", &request, None);
    let payload = envelope.data.to_string();
    producer
        .send(
            FutureRecord::to(topics::LICENSING)
                .key(&envelope.subject)
                .payload(&payload)
                .headers(envelope.headers()),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| e)
        .unwrap();
    // The archive lists every certificate of the holder; this request's one
    // is the one whose `request_id` matches.
    eventually("the certificate of this request", WAIT, || async {
        let archive = get_json(
            client,
            instance.url(&format!("/api/v1/enterprises/{ENTERPRISE_A}/materials")),
            Some(holder),
        )
        .await;
        let mut found = None;
        for c in archive["certificates"].as_array().unwrap() {
            let id = c["id"].as_str().unwrap();
            let full = get_json(
                client,
                instance.url(&format!("/api/v1/certificates/{id}")),
                Some(holder),
            )
            .await;
            if full["request_id"] == request.request_id.as_str() {
                found = Some(full);
            }
        }
        found
    })
    .await
}

/// `instance` says the certificate is genuine, by identifier and by JWS,
/// and its JWKS alone verifies the signature.
async fn verifies_on(client: &reqwest::Client, instance: &Instance, cert: &serde_json::Value) {
    let id = cert["id"].as_str().unwrap();
    let jws = cert["jws"].as_str().unwrap();
    let by_id = get_json(
        client,
        instance.url(&format!("/api/v1/verify?id={id}")),
        None,
    )
    .await;
    assert_eq!(by_id["valid"], true, "{by_id}");
    assert_eq!(by_id["signature_valid"], true, "{by_id}");
    let by_jws: serde_json::Value = client
        .post(instance.url("/api/v1/verify"))
        .json(&serde_json::json!({ "jws": jws }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_jws["valid"], true, "{by_jws}");
    assert_eq!(by_jws["signature_valid"], true, "{by_jws}");
    let jwks = get_json(client, instance.url("/.well-known/jwks.json"), None).await;
    verify_with_jwks(jws, &jwks).expect("the instance's JWKS verifies the signature");
}

/// Nothing key-like was written into a pod's own data directory.
fn no_keys_in(data_dir: &Path) {
    let names: Vec<String> = walk(data_dir);
    assert!(
        !names
            .iter()
            .any(|n| n.contains("certificate-keys") || n.contains("webhook-secret-key")),
        "keys in the pod's data directory: {names:?}"
    );
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        out.push(path.display().to_string());
        if path.is_dir() {
            out.extend(walk(&path));
        }
    }
    out
}

async fn document_replicas_share_certificate_keys(backend: Backend) {
    let secret: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
    let broker = EmbeddedBroker::start(&[]).unwrap();
    let brokers = broker.bootstrap_servers().to_owned();
    let database = backend.fresh_database("document").await;
    // The operator prepares the Secret's files with `yizhan certificate-keys
    // rotate --dir`; every replica mounts the same files.
    let secret_mount = tempfile::tempdir().unwrap();
    let keys_dir = secret_mount.path().join("certificate-keys");
    let first_key = yizhan_document::store::keys::rotate(&keys_dir).unwrap();
    let mut settings = base_settings(&secret);
    settings.services.document.database_url = Some(database.url.clone());
    settings.services.document.certificates.keys_dir = Some(keys_dir.clone());

    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .create()
        .unwrap();
    let holder = token(
        &secret,
        TokenRequest {
            sub: "holder".into(),
            roles: vec![Role::Applicant],
            uscc: Some(ENTERPRISE_A.into()),
            ttl_secs: 600,
            ..Default::default()
        },
    );

    // Replica A alone signs the first certificate, with the Secret's key.
    let a = Instance::start(Service::Document, &settings, &brokers).await;
    let first = issue_on(&client, &producer, &a, &holder).await;
    assert_eq!(first["key_id"], first_key.new_kid.as_str(), "{first}");
    // Replica B verifies it.
    let b = Instance::start(Service::Document, &settings, &brokers).await;
    verifies_on(&client, &b, &first).await;

    // The operator rotates (new files in the Secret); B, alone now, signs
    // with the new key without a restart, and the old key stays published.
    let second_key = yizhan_document::store::keys::rotate(&keys_dir).unwrap();
    no_keys_in(a.data_dir.path());
    a.stop().await;
    let second = issue_on(&client, &producer, &b, &holder).await;
    assert_eq!(second["key_id"], second_key.new_kid.as_str(), "{second}");
    verifies_on(&client, &b, &first).await;
    no_keys_in(b.data_dir.path());
    b.stop().await;

    // Both restart as new pods (fresh data directories): everything verifies
    // on each, the first key included.
    let a = Instance::start(Service::Document, &settings, &brokers).await;
    let b = Instance::start(Service::Document, &settings, &brokers).await;
    for instance in [&a, &b] {
        verifies_on(&client, instance, &first).await;
        verifies_on(&client, instance, &second).await;
        let jwks = get_json(&client, instance.url("/.well-known/jwks.json"), None).await;
        let kids: Vec<&str> = jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k["kid"].as_str().unwrap())
            .collect();
        assert_eq!(kids.len(), 2, "{kids:?}");
        assert!(kids.contains(&first_key.new_kid.as_str()), "{kids:?}");
        assert!(kids.contains(&second_key.new_kid.as_str()), "{kids:?}");
    }
    a.stop().await;
    b.stop().await;
    drop(broker);
}

/// Waits for a delivery of `event_id` at the receiver; returns its
/// signature header and body.
async fn delivered(receiver: &Receiver, event_id: &str) -> (String, String) {
    eventually("the delivery", WAIT, || async {
        receiver
            .received()
            .into_iter()
            .filter(|r| r.answered < 300)
            .find(|r| serde_json::from_str::<serde_json::Value>(&r.body).unwrap()["id"] == event_id)
            .map(|r| (r.headers["x-yizhan-signature"].clone(), r.body))
    })
    .await
}

async fn notification_replicas_share_the_webhook_sealing_key(backend: Backend) {
    let secret: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
    let broker = EmbeddedBroker::start(&[]).unwrap();
    let brokers = broker.bootstrap_servers().to_owned();
    let database = backend.fresh_database("notification").await;
    // A shared volume (compose) or a mounted Secret (k8s): the first
    // instance generates the key file, the others read it.
    let shared = tempfile::tempdir().unwrap();
    let key_file = shared.path().join("webhook-secret-key");
    let mut settings = base_settings(&secret);
    settings.services.notification.database_url = Some(database.url.clone());
    settings.services.notification.webhook_secret_key_file = Some(key_file.clone());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let partner = token(
        &secret,
        TokenRequest {
            sub: "partner-shared".into(),
            roles: vec![Role::Partner],
            scopes: vec!["webhooks:manage".into()],
            ttl_secs: 600,
            ..Default::default()
        },
    );
    let receiver = Receiver::start(|_| Reply::status(204)).await;

    // Instance A seals the subscription's secret.
    let a = Instance::start(Service::Notification, &settings, &brokers).await;
    let response = client
        .post(a.url("/api/v1/webhooks/subscriptions"))
        .bearer_auth(&partner)
        .json(&serde_json::json!({
            "url": receiver.url,
            "event_types": ["cn.yizhan.document.material_uploaded.v1"],
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let subscription: serde_json::Value = response.json().await.unwrap();
    let webhook_secret = subscription["secret"].as_str().unwrap().to_owned();
    assert!(key_file.exists(), "the sealing key is in the shared file");
    no_keys_in(a.data_dir.path());
    a.stop().await;

    // Instance B opens it to sign the delivery.
    let b = Instance::start(Service::Notification, &settings, &brokers).await;
    let event = material_event(&uuid::Uuid::now_v7().to_string(), "shared.pdf");
    produce_to(&brokers, topics::DOCUMENT, &event).await;
    let (signature, body) = delivered(&receiver, &event.id).await;
    assert!(
        signature_verifies(&webhook_secret, &signature, &body),
        "signed with the secret instance A sealed"
    );
    no_keys_in(b.data_dir.path());
    b.stop().await;

    // Both restart as new pods: still the same key.
    let a = Instance::start(Service::Notification, &settings, &brokers).await;
    let b = Instance::start(Service::Notification, &settings, &brokers).await;
    let event = material_event(&uuid::Uuid::now_v7().to_string(), "restarted.pdf");
    produce_to(&brokers, topics::DOCUMENT, &event).await;
    let (signature, body) = delivered(&receiver, &event.id).await;
    assert!(signature_verifies(&webhook_secret, &signature, &body));
    a.stop().await;
    b.stop().await;
    drop(broker);
}

yizhan_kit::backend_tests!(
    document_replicas_share_certificate_keys,
    notification_replicas_share_the_webhook_sealing_key,
);
