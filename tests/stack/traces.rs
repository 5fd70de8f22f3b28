//! One trace per request (issue 15, point 3), observed where an operator's
//! collector and a partner would see it: on the wire. A request sent with a
//! known `traceparent` keeps its trace id in the service's outbox row, in
//! the Kafka message the relay publishes, and in the `traceparent` header
//! of the webhook the notification service delivers for that event; a page
//! request to the portal keeps it through the portal's call to licensing,
//! Kafka and the notification service's webhook. Deliveries stay validly
//! signed (Standard Webhooks, checked with the `hmac` crate).

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::header::COOKIE;
use serde_json::{Value, json};
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_events::contracts::{ApplicationAccepted, ApplicationSubmitted, Event, topics};
use yizhan_kit::telemetry::{TRACEPARENT, trace_id_of};
use yizhan_kit::testing::Backend;

use crate::common::*;
use crate::portal_pages::{client, csrf, session};
use crate::webhooks::{Received, Receiver, Reply, partner};

const WAIT: Duration = Duration::from_secs(60);
/// The applicant's own call to licensing.
const API_TRACE: &str = "5b8aa5a2d2c872e8321cf37308d69df2";
/// The clerk's page request to the portal.
const PAGE_TRACE: &str = "0af7651916cd43dd8448eb211c80319c";

fn traceparent(trace_id: &str) -> String {
    format!("00-{trace_id}-b7ad6b7169203331-01")
}

fn trace_of(headers: &reqwest::header::HeaderMap) -> String {
    let value = headers
        .get(TRACEPARENT)
        .expect("a traceparent on the answer")
        .to_str()
        .unwrap();
    trace_id_of(value)
        .expect("a well-formed traceparent")
        .to_owned()
}

/// Subscribes `url` to every event; answers the signing secret.
async fn subscribe_all(stack: &TestStack, url: &str) -> String {
    let body = json_ok(
        stack
            .post_json(
                stack.url(Service::Notification, "/api/v1/webhooks/subscriptions"),
                &partner(stack, "trace-partner"),
                &json!({"url": url, "event_types": ["*"]}),
            )
            .await,
        201,
    )
    .await;
    body["secret"].as_str().unwrap().to_owned()
}

/// The delivery of event type `event_type` about application `subject`.
async fn delivery(receiver: &Receiver, event_type: &str, subject: &str) -> Received {
    eventually(&format!("a {event_type} webhook"), WAIT, || async {
        receiver.received().into_iter().find(|r| {
            let body: Value = serde_json::from_str(&r.body).unwrap_or_default();
            body["type"] == event_type && body["subject"] == subject
        })
    })
    .await
}

/// Standard Webhooks: `v1,<base64 HMAC-SHA256(key, "<id>.<ts>.<body>")>`.
fn signed_validly(secret: &str, got: &Received) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    let content = format!(
        "{}.{}.{}",
        got.headers["webhook-id"], got.headers["webhook-timestamp"], got.body
    );
    mac.update(content.as_bytes());
    let expected = format!("v1,{}", b64.encode(mac.finalize().into_bytes()));
    got.headers["webhook-signature"]
        .split(' ')
        .any(|s| s == expected)
}

/// The `traceparent` header of the licensing message of `event_type` about
/// `subject`, as the relay published it.
async fn kafka_traceparent(brokers: &str, event_type: &str, subject: &str) -> Option<String> {
    use rdkafka::ClientConfig;
    use rdkafka::Message;
    use rdkafka::consumer::{Consumer, StreamConsumer};
    use rdkafka::message::Headers;

    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("trace-reader-{}", uuid::Uuid::new_v4()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer.subscribe(&[topics::LICENSING]).unwrap();
    let deadline = std::time::Instant::now() + WAIT;
    while std::time::Instant::now() < deadline {
        let Ok(Ok(m)) = tokio::time::timeout(Duration::from_secs(1), consumer.recv()).await else {
            continue;
        };
        let header = |name: &str| {
            m.headers()
                .and_then(|h| h.iter().find(|h| h.key == name))
                .and_then(|h| h.value)
                .map(|v| String::from_utf8_lossy(v).into_owned())
        };
        if header("ce_type").as_deref() == Some(event_type)
            && header("ce_subject").as_deref() == Some(subject)
        {
            return header(TRACEPARENT);
        }
    }
    None
}

/// The `traceparent` licensing stored with its outbox row of `event_type`.
async fn outbox_traceparent(stack: &TestStack, event_type: &str, subject: &str) -> Option<String> {
    use sea_orm::{ConnectionTrait, Statement};
    let db = stack.connect(Service::Licensing).await;
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            "SELECT traceparent FROM outbox_events WHERE ce_type = $1 AND partition_key = $2"
        }
        _ => "SELECT traceparent FROM outbox_events WHERE ce_type = ? AND partition_key = ?",
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [event_type.into(), subject.into()],
        ))
        .await
        .unwrap()
        .expect("the outbox row");
    row.try_get_by_index::<Option<String>>(0).unwrap()
}

/// The application body of a convenience store of enterprise A (material
/// ids not checked: no document service in this stack).
async fn store_application(stack: &TestStack) -> Value {
    let answers = json!({"sells_food": false, "sells_tobacco": false, "outdoor_sign": false});
    let notice = crate::licensing_more::notice(stack, "convenience_store", &answers).await;
    json!({
        "scenario": "convenience_store",
        "answers": answers,
        "enterprise_uscc": ENTERPRISE_A,
        "form": {
            "enterprise_name": "一站便利店有限公司",
            "legal_rep_name": "钱七",
            "legal_rep_id_no": "11010519491231002X",
            "contact_phone": "0591-87654321",
            "business_address": "福州市台江区八一七中路 2 号",
            "registered_capital_wan": 50,
            "business_scope": "日用百货",
        },
        "materials": crate::licensing::materials_for(&notice),
    })
}

async fn a_trace_survives_portal_licensing_kafka_notification(backend: Backend) {
    let stack = TestStack::start(
        &[Service::Licensing, Service::Notification, Service::Portal],
        backend,
    )
    .await;
    let receiver = Receiver::start(|_| Reply::status(204)).await;
    let secret = subscribe_all(&stack, &receiver.url).await;

    // A service's own caller: the applicant's request names its trace.
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let submitted = stack
        .client
        .post(stack.url(Service::Licensing, "/api/v1/applications"))
        .bearer_auth(&alice)
        .header(TRACEPARENT, traceparent(API_TRACE))
        .json(&store_application(&stack).await)
        .send()
        .await
        .unwrap();
    assert_eq!(trace_of(submitted.headers()), API_TRACE);
    let app = json_ok(submitted, 201).await;
    let id = app["id"].as_str().unwrap().to_owned();
    let stored = outbox_traceparent(&stack, ApplicationSubmitted::TYPE, &id).await;
    assert_eq!(
        stored.as_deref().and_then(trace_id_of),
        Some(API_TRACE),
        "outbox row: {stored:?}"
    );
    let published = kafka_traceparent(&stack.brokers, ApplicationSubmitted::TYPE, &id).await;
    assert_eq!(
        published.as_deref().and_then(trace_id_of),
        Some(API_TRACE),
        "Kafka header: {published:?}"
    );
    let got = delivery(&receiver, ApplicationSubmitted::TYPE, &id).await;
    assert_eq!(
        got.headers.get(TRACEPARENT).map(|v| trace_id_of(v)),
        Some(Some(API_TRACE)),
        "webhook headers: {:?}",
        got.headers
    );
    assert!(signed_validly(&secret, &got), "{:?}", got.headers);

    // The portal: the clerk's page request (as a browser or an ingress
    // sends it) accepts the application through licensing.
    let clerk = stack.staff("clerk-trace", Role::WindowClerk);
    let token = csrf(&stack, &clerk).await;
    let accepted = client()
        .post(stack.url(Service::Portal, &format!("/window/licensing/{id}/intake")))
        .header(COOKIE, session(&clerk))
        .header(TRACEPARENT, traceparent(PAGE_TRACE))
        .form(&[
            ("_csrf", token.as_str()),
            ("decision", "accept"),
            ("confirm", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(accepted.status(), 303);
    assert_eq!(trace_of(accepted.headers()), PAGE_TRACE);
    let stored = outbox_traceparent(&stack, ApplicationAccepted::TYPE, &id).await;
    assert_eq!(
        stored.as_deref().and_then(trace_id_of),
        Some(PAGE_TRACE),
        "licensing's outbox row continues the portal's trace: {stored:?}"
    );
    let got = delivery(&receiver, ApplicationAccepted::TYPE, &id).await;
    let header = got.headers.get(TRACEPARENT).cloned().unwrap_or_default();
    assert_eq!(trace_id_of(&header), Some(PAGE_TRACE), "{:?}", got.headers);
    // The delivery is a span of its own in that trace, not a copy of the
    // event's context.
    let body: Value = serde_json::from_str(&got.body).unwrap();
    assert_eq!(
        body["traceparent"].as_str().and_then(trace_id_of),
        Some(PAGE_TRACE)
    );
    assert_ne!(body["traceparent"].as_str(), Some(header.as_str()));
    assert!(signed_validly(&secret, &got), "{:?}", got.headers);
    stack.stop().await;
}

yizhan_kit::backend_tests!(a_trace_survives_portal_licensing_kafka_notification);
