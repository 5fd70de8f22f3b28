//! Partner webhooks end to end: events from real uploads (and, for
//! redelivery, raw Kafka messages) reach local receivers on 127.0.0.1,
//! signed, retried, dead-lettered, replayed and isolated per subscription.
//! Signatures are checked with an independent HMAC implementation (the
//! `hmac` crate), not the service's own code.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use yizhan::Service;
use yizhan_auth::{Role, TokenRequest};
use yizhan_events::Envelope;
use yizhan_events::contracts::{
    DeadlineApproaching, DeadlineLimit, DeadlineNotice, DeadlineOverdue, Event, MaterialUploaded,
    topics,
};
use yizhan_kit::testing::Backend;

use crate::common::*;

const WAIT: Duration = Duration::from_secs(60);
const SCOPE: &str = "webhooks:manage";
const MATERIAL_UPLOADED: &str = "cn.yizhan.document.material_uploaded.v1";

/// One request a receiver got.
#[derive(Debug, Clone)]
pub(crate) struct Received {
    pub(crate) at: Instant,
    pub(crate) headers: HashMap<String, String>,
    pub(crate) body: String,
    pub(crate) answered: u16,
}

/// What a receiver answers to its `n`th request (0-based).
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, String)>,
    /// When set, the answer waits until this gate opens (becomes true):
    /// a receiver that is slow for exactly as long as the test needs,
    /// with no clock involved.
    pub(crate) hold: Option<tokio::sync::watch::Receiver<bool>>,
}

impl Reply {
    pub(crate) fn status(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            hold: None,
        }
    }
}

type Behaviour = Arc<dyn Fn(usize) -> Reply + Send + Sync>;

/// A tiny HTTP/1.1 server on 127.0.0.1:0 recording what it receives.
pub(crate) struct Receiver {
    pub(crate) url: String,
    log: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub(crate) async fn start(behaviour: impl Fn(usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let log: Arc<Mutex<Vec<Received>>> = Arc::default();
        let behaviour: Behaviour = Arc::new(behaviour);
        let counter = Arc::new(Mutex::new(0usize));
        let task_log = log.clone();
        tokio::spawn(async move {
            loop {
                let Ok((mut socket, _)) = listener.accept().await else {
                    return;
                };
                let log = task_log.clone();
                let behaviour = behaviour.clone();
                let counter = counter.clone();
                tokio::spawn(async move {
                    let Some((headers, body)) = read_request(&mut socket).await else {
                        return;
                    };
                    let at = Instant::now();
                    let n = {
                        let mut c = counter.lock().unwrap();
                        *c += 1;
                        *c - 1
                    };
                    let reply = behaviour(n);
                    if let Some(mut gate) = reply.hold.clone() {
                        let _ = gate.wait_for(|open| *open).await;
                    }
                    let mut head = format!(
                        "HTTP/1.1 {} X\r\nContent-Length: 0\r\nConnection: close\r\n",
                        reply.status
                    );
                    for (k, v) in &reply.headers {
                        head.push_str(&format!("{k}: {v}\r\n"));
                    }
                    head.push_str("\r\n");
                    if socket.write_all(head.as_bytes()).await.is_ok() {
                        let _ = socket.shutdown().await;
                        log.lock().unwrap().push(Received {
                            at,
                            headers,
                            body,
                            answered: reply.status,
                        });
                    }
                });
            }
        });
        Self { url, log }
    }

    pub(crate) fn received(&self) -> Vec<Received> {
        self.log.lock().unwrap().clone()
    }
}

async fn read_request(
    socket: &mut tokio::net::TcpStream,
) -> Option<(HashMap<String, String>, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let headers: HashMap<String, String> = head
        .lines()
        .skip(1)
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    while buf.len() < head_end + length {
        let n = socket.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8(buf[head_end..head_end + length].to_vec()).ok()?;
    Some((headers, body))
}

/// Checks `t=<ts>,v1=<hex>` against HMAC-SHA256(secret, "<ts>.<body>").
pub(crate) fn signature_verifies(secret: &str, header: &str, body: &str) -> bool {
    let mut ts = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", t)) => ts = Some(t),
            Some(("v1", s)) => v1 = Some(s),
            _ => {}
        }
    }
    let (Some(ts), Some(v1)) = (ts, v1) else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{ts}.{body}").as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    expected == v1
}

pub(crate) fn partner(stack: &TestStack, sub: &str) -> String {
    stack.token(TokenRequest {
        sub: sub.into(),
        roles: vec![Role::Partner],
        scopes: vec![SCOPE.into()],
        ttl_secs: 600,
        ..Default::default()
    })
}

/// Registers a subscription; returns (id, secret).
pub(crate) async fn subscribe(stack: &TestStack, token: &str, url: &str) -> (String, String) {
    let r = stack
        .post_json(
            stack.url(Service::Notification, "/api/v1/webhooks/subscriptions"),
            token,
            &serde_json::json!({"url": url, "event_types": [MATERIAL_UPLOADED]}),
        )
        .await;
    let status = r.status();
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    (
        body["id"].as_str().unwrap().to_owned(),
        body["secret"].as_str().unwrap().to_owned(),
    )
}

pub(crate) async fn upload_one(stack: &TestStack, name: &str) -> String {
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let r = upload(stack, &alice, "floor_plan", name, pdf_bytes(100, name), &[]).await;
    assert_eq!(r.status(), 201);
    let material: serde_json::Value = r.json().await.unwrap();
    material["id"].as_str().unwrap().to_owned()
}

async fn deliveries(stack: &TestStack, token: &str, query: &str) -> Vec<serde_json::Value> {
    let url = stack.url(
        Service::Notification,
        &format!("/api/v1/webhooks/deliveries?limit=100&{query}"),
    );
    let page = stack.get_json(url, token).await;
    page["items"].as_array().cloned().unwrap_or_default()
}

/// Waits until the subscription has a delivery in `status`; returns it.
async fn delivery_in(
    stack: &TestStack,
    token: &str,
    subscription: &str,
    status: &str,
) -> serde_json::Value {
    eventually(&format!("a {status} delivery"), WAIT, || async {
        deliveries(
            stack,
            token,
            &format!("subscription_id={subscription}&status={status}"),
        )
        .await
        .into_iter()
        .next()
    })
    .await
}

async fn a_receiver_failing_three_times_gets_one_verified_delivery(backend: Backend) {
    let stack = TestStack::start(&[Service::Document, Service::Notification], backend).await;
    let receiver = Receiver::start(|n| match n {
        0 => Reply {
            headers: vec![("Retry-After", "1".into())],
            ..Reply::status(429)
        },
        1 | 2 => Reply::status(503),
        _ => Reply::status(204),
    })
    .await;
    // Retry-After must be honoured even though the test backoff is 50 ms:
    // a receiver asking for ten minutes gets its next attempt scheduled ten
    // minutes after its first, by the service's own record (no stopwatch
    // of ours, so a slow machine cannot make it pass or fail).
    let patient = Receiver::start(|_| Reply {
        headers: vec![("Retry-After", "600".into())],
        ..Reply::status(429)
    })
    .await;
    let token = partner(&stack, "partner-a");
    let (subscription, secret) = subscribe(&stack, &token, &receiver.url).await;
    let (later, _) = subscribe(&stack, &token, &patient.url).await;
    let material_id = upload_one(&stack, "flaky.pdf").await;

    let delivered = delivery_in(&stack, &token, &subscription, "delivered").await;
    assert_eq!(delivered["attempts"], 4, "{delivered}");
    assert_eq!(delivered["last_status_code"], 204);
    // A delivered delivery is never attempted again (only pending ones are
    // claimed); the receiver logs its answer after sending it, so wait for
    // the fourth entry rather than reading the log at once.
    let got = eventually("the receiver's log of four attempts", WAIT, || async {
        let got = receiver.received();
        (got.len() >= 4).then_some(got)
    })
    .await;
    assert_eq!(got.len(), 4, "{got:?}");
    assert_eq!(got.iter().filter(|r| r.answered < 300).count(), 1);
    let deferred = eventually(
        "the first attempt at the patient receiver",
        WAIT,
        || async {
            deliveries(&stack, &token, &format!("subscription_id={later}"))
                .await
                .into_iter()
                .find(|d| d["attempts"] == 1 && d["last_status_code"] == 429)
        },
    )
    .await;
    let at = |key: &str| {
        chrono::DateTime::parse_from_rfc3339(deferred[key].as_str().unwrap())
            .unwrap()
            .to_utc()
    };
    let wait = at("next_attempt_at") - at("last_attempt_at");
    assert!(
        wait >= chrono::Duration::seconds(600) && wait < chrono::Duration::seconds(660),
        "Retry-After: 600 honoured, not the 50 ms backoff: {wait} ({deferred})"
    );
    assert_eq!(deferred["status"], "pending");
    assert_eq!(patient.received().len(), 1);
    let ok = got.last().unwrap();
    assert!(signature_verifies(
        &secret,
        &ok.headers["x-yizhan-signature"],
        &ok.body
    ));
    assert!(!signature_verifies(
        "whsec_wrong",
        &ok.headers["x-yizhan-signature"],
        &ok.body
    ));
    assert!(!signature_verifies(
        &secret,
        &ok.headers["x-yizhan-signature"],
        &ok.body.replace("flaky", "FLAKY")
    ));
    assert_eq!(ok.headers["content-type"], "application/cloudevents+json");
    assert_eq!(ok.headers["x-yizhan-event-type"], MATERIAL_UPLOADED);
    assert_eq!(
        ok.headers["x-yizhan-delivery"],
        delivered["id"].as_str().unwrap()
    );
    assert!(
        got.iter()
            .all(|r| r.headers["x-yizhan-delivery"] == ok.headers["x-yizhan-delivery"]),
        "one delivery id across retries"
    );
    let event: serde_json::Value = serde_json::from_str(&ok.body).unwrap();
    assert_eq!(event["specversion"], "1.0");
    assert_eq!(event["type"], MATERIAL_UPLOADED);
    assert_eq!(event["source"], "/yizhan/document");
    assert_eq!(event["subject"], material_id.as_str());
    assert_eq!(event["data"]["material_id"], material_id.as_str());
    assert_eq!(event["data"]["enterprise_uscc"], ENTERPRISE_A);
    stack.stop().await;
}

async fn a_dead_receiver_is_dead_lettered_and_a_replay_succeeds(backend: Backend) {
    let stack = TestStack::start(&[Service::Document, Service::Notification], backend).await;
    let down = Arc::new(AtomicBool::new(true));
    let flag = down.clone();
    let receiver = Receiver::start(move |_| {
        Reply::status(if flag.load(Ordering::SeqCst) {
            500
        } else {
            200
        })
    })
    .await;
    let token = partner(&stack, "partner-a");
    let (subscription, secret) = subscribe(&stack, &token, &receiver.url).await;
    upload_one(&stack, "dead.pdf").await;

    let dead = delivery_in(&stack, &token, &subscription, "dead").await;
    assert_eq!(dead["attempts"], 5, "every configured attempt made: {dead}");
    assert_eq!(dead["last_status_code"], 500);
    assert!(dead["next_attempt_at"].is_null());
    assert_eq!(receiver.received().len(), 5);

    down.store(false, Ordering::SeqCst);
    let dead_id = dead["id"].as_str().unwrap();
    let replay_url = stack.url(
        Service::Notification,
        &format!("/api/v1/webhooks/deliveries/{dead_id}/replay"),
    );
    let r = stack.post(&replay_url, &token).await;
    assert_eq!(r.status(), 202);
    let replay: serde_json::Value = r.json().await.unwrap();
    assert_eq!(replay["replay_of"], dead_id);
    assert_ne!(replay["id"], dead["id"]);
    assert_eq!(replay["event_id"], dead["event_id"]);

    let delivered = delivery_in(&stack, &token, &subscription, "delivered").await;
    assert_eq!(delivered["id"], replay["id"]);
    assert_eq!(delivered["attempts"], 1);
    let got = receiver.received();
    let last = got.last().unwrap();
    assert_eq!(last.answered, 200);
    assert_eq!(
        last.headers["x-yizhan-delivery"],
        replay["id"].as_str().unwrap()
    );
    assert!(signature_verifies(
        &secret,
        &last.headers["x-yizhan-signature"],
        &last.body
    ));
    assert_eq!(got[0].body, last.body, "the same event body is replayed");
    // The dead record stays as it was.
    let still_dead = deliveries(&stack, &token, "status=dead").await;
    assert_eq!(still_dead.len(), 1);
    assert_eq!(still_dead[0]["id"], dead["id"]);
    stack.stop().await;
}

async fn a_slow_receiver_does_not_delay_a_fast_one(backend: Backend) {
    let stack = TestStack::start(&[Service::Document, Service::Notification], backend).await;
    // The slow receiver answers nothing until the fast one has had both
    // events: were its deliveries queued behind the slow ones, they would
    // never arrive while the gate is shut.
    let (open, gate) = tokio::sync::watch::channel(false);
    let slow = Receiver::start(move |_| Reply {
        hold: Some(gate.clone()),
        ..Reply::status(200)
    })
    .await;
    let fast = Receiver::start(|_| Reply::status(200)).await;
    let token = partner(&stack, "partner-a");
    let other = partner(&stack, "partner-b");
    let (slow_sub, _) = subscribe(&stack, &token, &slow.url).await;
    let (fast_sub, _) = subscribe(&stack, &other, &fast.url).await;

    upload_one(&stack, "one.pdf").await;
    upload_one(&stack, "two.pdf").await;
    eventually("both events at the fast receiver", WAIT, || async {
        (fast.received().len() == 2).then_some(())
    })
    .await;
    assert!(slow.received().is_empty(), "slow one has not answered yet");
    // The receiver has both requests; the worker records each answer just
    // after it, so wait for the records rather than race them.
    eventually("both fast deliveries recorded", WAIT, || async {
        let done = deliveries(
            &stack,
            &other,
            &format!("subscription_id={fast_sub}&status=delivered"),
        )
        .await;
        (done.len() == 2).then_some(())
    })
    .await;
    // Opened, the slow one answers and both are delivered.
    open.send_replace(true);
    eventually("both events at the slow receiver", WAIT, || async {
        let done = deliveries(
            &stack,
            &token,
            &format!("subscription_id={slow_sub}&status=delivered"),
        )
        .await;
        (done.len() == 2).then_some(())
    })
    .await;
    stack.stop().await;
}

async fn produce(brokers: &str, envelope: &Envelope) {
    produce_to(brokers, topics::DOCUMENT, envelope).await
}

pub(crate) async fn produce_to(brokers: &str, topic: &str, envelope: &Envelope) {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let payload = envelope.data.to_string();
    producer
        .send(
            FutureRecord::to(topic)
                .key(&envelope.subject)
                .payload(&payload)
                .headers(envelope.headers()),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| e)
        .unwrap();
}

pub(crate) fn material_event(material_id: &str, filename: &str) -> Envelope {
    Envelope::new(
        "/yizhan/document",
        &MaterialUploaded {
            material_id: material_id.into(),
            enterprise_uscc: ENTERPRISE_A.into(),
            material_type: "floor_plan".into(),
            version: 1,
            filename: filename.into(),
            content_type: "application/pdf".into(),
            size_bytes: 100,
            sha256: "0".repeat(64),
            uploaded_by: "alice".into(),
            uploaded_by_name: None,
            uploaded_at: chrono::Utc::now(),
        },
        None,
    )
}

async fn a_redelivered_event_is_delivered_once(backend: Backend) {
    let stack = TestStack::start(&[Service::Notification], backend).await;
    let receiver = Receiver::start(|_| Reply::status(200)).await;
    let token = partner(&stack, "partner-a");
    let (subscription, _) = subscribe(&stack, &token, &receiver.url).await;

    let material_id = uuid::Uuid::now_v7().to_string();
    let event = material_event(&material_id, "twice.pdf");
    produce(&stack.brokers, &event).await;
    produce(&stack.brokers, &event).await;
    // A later event of the same aggregate (same key, so same partition, so
    // consumed after both copies): once it is delivered, any duplicate would be too.
    let marker = material_event(&material_id, "marker.pdf");
    produce(&stack.brokers, &marker).await;
    eventually("the marker delivered", WAIT, || async {
        let done = deliveries(
            &stack,
            &token,
            &format!("subscription_id={subscription}&status=delivered"),
        )
        .await;
        done.iter()
            .any(|d| d["event_id"] == marker.id.as_str())
            .then_some(())
    })
    .await;
    // Once more after everything was delivered.
    produce(&stack.brokers, &event).await;
    let last = material_event(&material_id, "last.pdf");
    produce(&stack.brokers, &last).await;
    eventually("the last marker delivered", WAIT, || async {
        let done = deliveries(
            &stack,
            &token,
            &format!("subscription_id={subscription}&status=delivered"),
        )
        .await;
        done.iter()
            .any(|d| d["event_id"] == last.id.as_str())
            .then_some(())
    })
    .await;

    let all = deliveries(&stack, &token, &format!("subscription_id={subscription}")).await;
    let ids: Vec<&str> = all
        .iter()
        .map(|d| d["event_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.iter().filter(|i| **i == event.id).count(), 1, "{ids:?}");
    assert_eq!(all.len(), 3, "{ids:?}");
    let bodies: Vec<serde_json::Value> = receiver
        .received()
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect();
    let order: Vec<&str> = bodies.iter().map(|b| b["id"].as_str().unwrap()).collect();
    assert_eq!(
        order,
        vec![event.id.as_str(), marker.id.as_str(), last.id.as_str()],
        "once each, in aggregate order"
    );
    stack.stop().await;
}

async fn partners_see_and_replay_only_their_own_deliveries(backend: Backend) {
    let stack = TestStack::start(&[Service::Document, Service::Notification], backend).await;
    let receiver = Receiver::start(|_| Reply::status(200)).await;
    let owner = partner(&stack, "partner-a");
    let (subscription, _) = subscribe(&stack, &owner, &receiver.url).await;
    upload_one(&stack, "mine.pdf").await;
    let delivered = delivery_in(&stack, &owner, &subscription, "delivered").await;
    let id = delivered["id"].as_str().unwrap();

    let nf = |path: String| stack.url(Service::Notification, &path);
    let intruder = partner(&stack, "partner-b");
    assert!(deliveries(&stack, &intruder, "").await.is_empty());
    assert!(
        deliveries(
            &stack,
            &intruder,
            &format!("subscription_id={subscription}")
        )
        .await
        .is_empty()
    );
    for response in [
        stack
            .get(nf(format!("/api/v1/webhooks/deliveries/{id}")), &intruder)
            .await,
        stack
            .post(
                nf(format!("/api/v1/webhooks/deliveries/{id}/replay")),
                &intruder,
            )
            .await,
        stack
            .get(
                nf(format!("/api/v1/webhooks/subscriptions/{subscription}")),
                &intruder,
            )
            .await,
        stack
            .post(
                nf(format!(
                    "/api/v1/webhooks/subscriptions/{subscription}/rotate-secret"
                )),
                &intruder,
            )
            .await,
        stack
            .client
            .delete(nf(format!("/api/v1/webhooks/subscriptions/{subscription}")))
            .bearer_auth(&intruder)
            .send()
            .await
            .unwrap(),
    ] {
        expect_problem(response, 404, "not_found").await;
    }
    let listed = stack
        .get_json(nf("/api/v1/webhooks/subscriptions".into()), &intruder)
        .await;
    assert!(listed["items"].as_array().unwrap().is_empty());

    let applicant = stack.applicant("alice", ENTERPRISE_A);
    let no_scope = stack.token(TokenRequest {
        sub: "partner-a".into(),
        roles: vec![Role::Partner],
        scopes: vec!["materials:check".into()],
        ttl_secs: 600,
        ..Default::default()
    });
    let admin = stack.staff("admin-1", Role::Admin);
    for token in [&applicant, &no_scope, &admin] {
        let r = stack
            .get(nf("/api/v1/webhooks/deliveries".into()), token)
            .await;
        expect_problem(r, 403, "forbidden").await;
        let r = stack
            .post(
                nf(format!("/api/v1/webhooks/deliveries/{id}/replay")),
                token,
            )
            .await;
        expect_problem(r, 403, "forbidden").await;
    }
    let r = stack
        .client
        .get(nf("/api/v1/webhooks/deliveries".into()))
        .send()
        .await
        .unwrap();
    expect_problem(r, 401, "unauthorized").await;

    // The owner still sees it, filters it, and a bad filter is a 422 naming the field.
    assert_eq!(
        deliveries(&stack, &owner, "status=delivered").await.len(),
        1
    );
    assert!(deliveries(&stack, &owner, "status=dead").await.is_empty());
    let r = stack
        .get(nf("/api/v1/webhooks/deliveries?status=lost".into()), &owner)
        .await;
    let body = expect_problem(r, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "status");
    stack.stop().await;
}

async fn subscriptions_are_validated_and_private_targets_refused(backend: Backend) {
    let stack = TestStack::start_tuned(&[Service::Notification], backend, |s| {
        s.services.notification.allow_private_webhook_targets = false;
    })
    .await;
    let token = partner(&stack, "partner-a");
    let url = stack.url(Service::Notification, "/api/v1/webhooks/subscriptions");
    let port = url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    for target in [
        "http://127.0.0.1:9/hook".to_owned(),
        format!("http://127.0.0.1:{port}/api/v1/inbox/messages"),
        "http://10.0.0.8/hook".into(),
        "http://192.168.1.20/hook".into(),
        "http://169.254.169.254/latest/meta-data/".into(),
        "http://[::1]:8080/hook".into(),
        "http://localhost:8084/hook".into(),
    ] {
        let r = stack
            .post_json(
                &url,
                &token,
                &serde_json::json!({"url": target, "event_types": ["*"]}),
            )
            .await;
        let body = expect_problem(r, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], "url", "{target}: {body}");
        assert_eq!(body["errors"][0]["code"], "private_target", "{target}");
    }
    let r = stack
        .post_json(
            &url,
            &token,
            &serde_json::json!({
                "url": "ftp://partner.example.com/x",
                "event_types": [],
                "filters": {"enterprise_uscc": "91350100M000100Y44", "department_code": "Market"}
            }),
        )
        .await;
    let body = expect_problem(r, 422, "validation_failed").await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec![
            "url",
            "event_types",
            "filters.department_code",
            "filters.enterprise_uscc"
        ],
        "{body}"
    );
    let r = stack
        .post_json(&url, &token, &serde_json::json!({"url": "https://partner.example.com/h", "event_types": ["*"], "colour": "red"}))
        .await;
    let body = expect_problem(r, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "colour");

    // A public target is accepted (nothing is sent: no events flow here).
    let create = serde_json::json!({
        "url": "https://partner.example.com/yizhan",
        "event_types": [MATERIAL_UPLOADED],
        "filters": {"enterprise_uscc": ENTERPRISE_A}
    });
    let first = stack
        .client
        .post(&url)
        .bearer_auth(&token)
        .header("Idempotency-Key", "create-1")
        .json(&create)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    let created: serde_json::Value = first.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(created["filters"]["enterprise_uscc"], ENTERPRISE_A);
    let again = stack
        .client
        .post(&url)
        .bearer_auth(&token)
        .header("Idempotency-Key", "create-1")
        .json(&create)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let replayed: serde_json::Value = again.json().await.unwrap();
    assert_eq!(replayed["id"], created["id"]);
    assert!(replayed["secret"].is_null(), "the secret is shown once");

    let id = created["id"].as_str().unwrap();
    let rotated: serde_json::Value = stack
        .post(format!("{url}/{id}/rotate-secret"), &token)
        .await
        .json()
        .await
        .unwrap();
    let new_secret = rotated["secret"].as_str().unwrap();
    assert!(new_secret.starts_with("whsec_") && new_secret != secret);
    let shown = stack.get_json(format!("{url}/{id}"), &token).await;
    assert!(shown.get("secret").is_none(), "never listed: {shown}");
    let r = stack
        .client
        .delete(format!("{url}/{id}"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    expect_problem(
        stack.get(format!("{url}/{id}"), &token).await,
        404,
        "not_found",
    )
    .await;
    stack.stop().await;
}

fn reviewer(stack: &TestStack, sub: &str, dept: &str) -> String {
    stack.token(TokenRequest {
        sub: sub.into(),
        roles: vec![Role::DeptReviewer],
        dept: Some(dept.into()),
        ttl_secs: 600,
        ..Default::default()
    })
}

/// Deadline warnings from licensing reach the reviewer, every reviewer of
/// the department and the applicant's enterprise, once each however often
/// Kafka delivers them, and reach partners filtering on that department.
async fn deadline_warnings_reach_the_right_inboxes_and_partners_once(backend: Backend) {
    let stack = TestStack::start(&[Service::Notification], backend).await;
    let receiver = Receiver::start(|_| Reply::status(200)).await;
    let elsewhere = Receiver::start(|_| Reply::status(200)).await;
    let market = partner(&stack, "market-system");
    let fire = partner(&stack, "fire-system");
    let subs_url = stack.url(Service::Notification, "/api/v1/webhooks/subscriptions");
    for (token, url, dept) in [
        (&market, &receiver.url, "market_supervision"),
        (&fire, &elsewhere.url, "fire-safety"),
    ] {
        let r = stack
            .post_json(
                &subs_url,
                token,
                &serde_json::json!({
                    "url": url,
                    "event_types": [DeadlineApproaching::TYPE, DeadlineOverdue::TYPE],
                    "filters": {"department_code": dept}
                }),
            )
            .await;
        assert_eq!(r.status(), 201);
    }

    let notice = DeadlineNotice {
        task_id: "task-1".into(),
        application_id: "app-1".into(),
        project_id: None,
        item_code: "SC-001".into(),
        item_name: "食品经营许可".into(),
        department_code: "market_supervision".into(),
        reviewer_sub: Some("rev-1".into()),
        applicant_uscc: ENTERPRISE_A.into(),
        applicant_sub: Some("alice".into()),
        due_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
        limit_kind: DeadlineLimit::Committed,
        working_days_remaining: 2,
    };
    let warning = DeadlineApproaching(notice.clone());
    let overdue = DeadlineOverdue(DeadlineNotice {
        limit_kind: DeadlineLimit::Statutory,
        working_days_remaining: -1,
        ..notice
    });
    let approaching = Envelope::new("/yizhan/licensing", &warning, None);
    produce_to(&stack.brokers, topics::LICENSING, &approaching).await;
    produce_to(&stack.brokers, topics::LICENSING, &approaching).await;
    // Same task, so same key and partition: consumed after both copies.
    let late = Envelope::new("/yizhan/licensing", &overdue, None);
    produce_to(&stack.brokers, topics::LICENSING, &late).await;

    let inbox = stack.url(Service::Notification, "/api/v1/inbox/messages?limit=50");
    let titles = |token: String| {
        let inbox = inbox.clone();
        let stack = &stack;
        async move {
            let page = stack.get_json(&inbox, &token).await;
            let mut titles: Vec<String> = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["title"].as_str().unwrap().to_owned())
                .collect();
            titles.sort();
            titles
        }
    };
    let alice = stack.applicant("alice", ENTERPRISE_A);
    eventually("both warnings at the applicant", WAIT, || async {
        (titles(alice.clone()).await.len() == 2).then_some(())
    })
    .await;
    assert_eq!(
        titles(reviewer(&stack, "rev-1", "market_supervision")).await,
        vec![
            "办理已超期",
            "办理时限即将届满",
            "本部门事项即将超期",
            "本部门事项已超期"
        ],
        "the reviewer: their own and their department's, once each"
    );
    assert_eq!(
        titles(reviewer(&stack, "rev-2", "market_supervision")).await,
        vec!["本部门事项即将超期", "本部门事项已超期"]
    );
    assert!(
        titles(reviewer(&stack, "rev-3", "fire-safety"))
            .await
            .is_empty()
    );
    assert_eq!(
        titles(alice.clone()).await,
        vec!["您的申请即将到期办结", "您的申请已超过办结时限"]
    );
    // A colleague at the same enterprise sees the enterprise's messages; others nothing.
    assert_eq!(titles(stack.applicant("bob", ENTERPRISE_A)).await.len(), 2);
    assert!(
        titles(stack.applicant("carol", ENTERPRISE_B))
            .await
            .is_empty()
    );
    assert!(
        titles(stack.staff("clerk", Role::WindowClerk))
            .await
            .is_empty()
    );
    // Department reviewers' message is not shown to someone with the same
    // dept claim but another role.
    let not_reviewer = stack.token(TokenRequest {
        sub: "someone".into(),
        roles: vec![Role::WindowClerk],
        dept: Some("market_supervision".into()),
        ttl_secs: 600,
        ..Default::default()
    });
    assert!(titles(not_reviewer).await.is_empty());

    // The inbox showed both messages, so the consumer has handled all three
    // events (the overdue one shares the task's partition and came last):
    // every delivery they were going to make is recorded. Once each is
    // delivered no further attempt can come; wait for that, and for the
    // receiver's log (written after it answers).
    eventually(
        "both warnings delivered to the market partner",
        WAIT,
        || async {
            let recorded = deliveries(&stack, &market, "").await;
            (recorded.len() == 2
                && recorded.iter().all(|d| d["status"] == "delivered")
                && receiver.received().len() >= 2)
                .then_some(())
        },
    )
    .await;
    assert_eq!(deliveries(&stack, &market, "").await.len(), 2);
    let ids: Vec<String> = receiver
        .received()
        .iter()
        .map(|r| r.headers["x-yizhan-event-type"].clone())
        .collect();
    assert_eq!(ids, vec![DeadlineApproaching::TYPE, DeadlineOverdue::TYPE]);
    assert!(
        elsewhere.received().is_empty(),
        "filtered out by department"
    );
    assert!(deliveries(&stack, &fire, "").await.is_empty());
    stack.stop().await;
}

/// With the webhook worker's fallback poll and the relays' at ten
/// minutes, a delivery still goes out at once: the consumer commit that
/// created it wakes the worker (and only such commits wake it).
async fn a_delivery_goes_out_when_created_not_when_polled(backend: Backend) {
    let stack = TestStack::start_tuned(&[Service::Document, Service::Notification], backend, |s| {
        s.common.outbox.poll_interval_ms = 600_000;
        s.services.notification.webhook_poll_interval_ms = 600_000;
    })
    .await;
    let receiver = Receiver::start(|_| Reply::status(200)).await;
    let token = partner(&stack, "partner-a");
    subscribe(&stack, &token, &receiver.url).await;
    upload_one(&stack, "woken.pdf").await;
    eventually("the delivery at the receiver", WAIT, || async {
        (receiver.received().len() == 1).then_some(())
    })
    .await;
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    a_delivery_goes_out_when_created_not_when_polled,
    deadline_warnings_reach_the_right_inboxes_and_partners_once,
    a_receiver_failing_three_times_gets_one_verified_delivery,
    a_dead_receiver_is_dead_lettered_and_a_replay_succeeds,
    a_slow_receiver_does_not_delay_a_fast_one,
    a_redelivered_event_is_delivered_once,
    partners_see_and_replay_only_their_own_deliveries,
    subscriptions_are_validated_and_private_targets_refused,
);

/// Rough figure: deliveries/s to a local receiver and latency from the
/// event's `ce_time` (set just before it is produced to Kafka) to its
/// arrival at the receiver. Ignored by default; run with
/// `cargo nextest run --release --test stack --run-ignored only -E 'test(bench_webhook)' --no-capture`
/// (`WEBHOOK_BENCH_EVENTS`, default 2000; `WEBHOOK_BENCH_RATE` events/s, default
/// unpaced; `YIZHAN_TEST_DATABASE_URL` for PostgreSQL).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "benchmark"]
async fn bench_webhook_deliveries() {
    let events: usize = std::env::var("WEBHOOK_BENCH_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let rate: f64 = std::env::var("WEBHOOK_BENCH_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    let backend = Backend::postgres_from_env().unwrap_or(Backend::Sqlite);
    let stack = TestStack::start(&[Service::Notification], backend.clone()).await;
    let receiver = Receiver::start(|_| Reply::status(200)).await;
    let token = partner(&stack, "bench");
    subscribe(&stack, &token, &receiver.url).await;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &stack.brokers)
        .set("linger.ms", "2")
        .create()
        .unwrap();
    // Warm up: the consumer joins its group a few seconds after start; events
    // produced before that would measure the join, not the delivery path.
    produce(&stack.brokers, &material_event("warm-up", "warm.pdf")).await;
    eventually("the warm-up delivery", WAIT, || async {
        (receiver.received().len() == 1).then_some(())
    })
    .await;
    receiver.log.lock().unwrap().clear();
    let started = Instant::now();
    let mut sent_at: HashMap<String, chrono::DateTime<chrono::Utc>> = HashMap::new();
    for i in 0..events {
        if rate > 0.0 {
            let due = started + Duration::from_secs_f64(i as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
        }
        // 64 aggregates, so per-subject ordering still allows parallelism.
        let envelope = material_event(&format!("bench-{}", i % 64), "bench.pdf");
        sent_at.insert(envelope.id.clone(), envelope.time);
        let payload = envelope.data.to_string();
        let record = FutureRecord::to(topics::DOCUMENT)
            .key(&envelope.subject)
            .payload(&payload)
            .headers(envelope.headers());
        let _ = producer.send(record, Duration::from_secs(10)).await;
    }
    let produced = started.elapsed();
    eventually("every delivery", Duration::from_secs(600), || async {
        (receiver.received().len() >= events).then_some(())
    })
    .await;
    let elapsed = started.elapsed();
    let arrivals = receiver.received();
    let now_wall = chrono::Utc::now();
    let now_mono = Instant::now();
    let mut latencies: Vec<f64> = arrivals
        .iter()
        .map(|r| {
            let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
            let sent = sent_at[body["id"].as_str().unwrap()];
            let arrived = now_wall - chrono::Duration::from_std(now_mono - r.at).unwrap();
            (arrived - sent).num_microseconds().unwrap() as f64 / 1000.0
        })
        .collect();
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "webhook bench ({}): {events} events produced in {:.2} s, delivered in {:.2} s = {:.0} deliveries/s; event -> delivery p50 {:.0} ms, p99 {:.0} ms",
        match backend {
            Backend::Sqlite => "sqlite",
            Backend::Postgres(_) => "postgres",
        },
        produced.as_secs_f64(),
        elapsed.as_secs_f64(),
        events as f64 / elapsed.as_secs_f64(),
        pct(0.5),
        pct(0.99),
    );
    stack.stop().await;
}
