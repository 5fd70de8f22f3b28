//! A dependency that is down is a 503 with `Retry-After`, never a 500; the
//! public `/readyz` says which dependency in words, never the driver's
//! error; a broker outage leaves the service ready and writing; a service
//! follows a restarted embedded broker, and re-drives its outbox only to a
//! broker that is new to it.

use std::time::Duration;

use yizhan::Service;
use yizhan_events::broker::EmbeddedBroker;
use yizhan_events::contracts::topics;
use yizhan_kit::testing::Backend;

use crate::common::*;

/// Finding: uploads (and every other write) answered `500 internal_error`
/// while the database was away, and `/readyz` showed the raw driver error.
async fn database_outage_answers_503_with_retry_after(backend: Backend) {
    let stack = TestStack::start(&[Service::Document], backend.clone()).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let outage = stack.database_outage(Service::Document).await;

    let response = upload(
        &stack,
        &alice,
        "floor_plan",
        "a.pdf",
        pdf_bytes(2048, "a"),
        &[],
    )
    .await;
    let retry_after = response
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = expect_problem(response, 503, "service_unavailable").await;
    assert!(
        retry_after.is_some_and(|s| s.parse::<u32>().is_ok_and(|n| n > 0)),
        "Retry-After in seconds"
    );
    assert!(
        body["detail"].as_str().unwrap().contains("数据库"),
        "{body}"
    );

    let ready = stack
        .client
        .get(stack.url(Service::Document, "/readyz"))
        .send()
        .await
        .unwrap();
    if matches!(backend, Backend::Sqlite) {
        // SQLite's outage here is a held write lock: reads, and so the
        // readiness ping, still work.
        assert_eq!(ready.status(), 200);
    } else {
        assert!(ready.headers().contains_key("retry-after"));
        let body = expect_problem(ready, 503, "service_unavailable").await;
        let detail = body["detail"].as_str().unwrap();
        assert!(detail.contains("database: 数据库无法连接"), "{detail}");
        let database = stack.database_url(Service::Document);
        let name = database.rsplit('/').next().unwrap();
        for leak in [name, "error", "Error", "pool", "sqlx"] {
            assert!(!detail.contains(leak), "readyz leaks {leak:?}: {detail}");
        }
    }

    outage.end().await;
    upload_one(&stack, &alice).await;
    stack.stop().await;
}

/// Finding: `/readyz` failed on a broker outage, so Kubernetes would take
/// every pod out of its Service although writes go on through the outbox.
/// Now the service stays ready (`degraded`), writes succeed, and their
/// events wait in the outbox.
async fn broker_outage_leaves_the_service_ready_and_writing(backend: Backend) {
    let broker = EmbeddedBroker::start(&[]).unwrap();
    let stack =
        TestStack::start_on_broker(&[Service::Document], backend, broker.bootstrap_servers()).await;
    let ready_url = stack.url(Service::Document, "/readyz");
    let ready = json_ok(stack.client.get(&ready_url).send().await.unwrap(), 200).await;
    assert_eq!(ready["status"], "ok", "{ready}");
    drop(broker);

    let ready = json_ok(stack.client.get(&ready_url).send().await.unwrap(), 200).await;
    assert_eq!(ready["status"], "degraded", "{ready}");
    let broker_entry = ready["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "broker")
        .unwrap()
        .clone();
    assert_eq!(broker_entry["critical"], false);
    assert!(
        broker_entry["status"]
            .as_str()
            .unwrap()
            .contains("消息代理"),
        "{broker_entry}"
    );
    let alice = stack.applicant("alice", ENTERPRISE_A);
    upload_one(&stack, &alice).await;
    let db = stack.connect(Service::Document).await;
    assert!(
        yizhan_events::outbox::pending_count(&db).await.unwrap() > 0,
        "the upload's event waits in the outbox"
    );
    stack.stop().await;
}

fn messages_in(brokers: &str, topic: &str) -> i64 {
    yizhan_events::kafka::KafkaConfig {
        brokers: brokers.to_owned(),
        client_id: "stack-test".into(),
    }
    .message_count(topic)
    .unwrap()
}

async fn outbox_drained(stack: &TestStack) {
    let db = stack.connect(Service::Document).await;
    eventually("the outbox drained", Duration::from_secs(60), || async {
        (yizhan_events::outbox::pending_count(&db).await.unwrap() == 0).then_some(())
    })
    .await;
}

/// Finding: every service restart re-sent its whole retained outbox, even
/// to the broker that already had it. Now only a broker new to the
/// service's database gets the retained events.
async fn retained_events_go_only_to_a_new_broker(backend: Backend) {
    let first = EmbeddedBroker::start(&[]).unwrap();
    let mut stack =
        TestStack::start_on_broker(&[Service::Document], backend, first.bootstrap_servers()).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    upload_one(&stack, &alice).await;
    outbox_drained(&stack).await;
    let published = messages_in(first.bootstrap_servers(), topics::DOCUMENT);
    assert!(published > 0);

    stack.restart(&[Service::Document]).await;
    let db = stack.connect(Service::Document).await;
    assert_eq!(
        yizhan_events::outbox::pending_count(&db).await.unwrap(),
        0,
        "same broker: nothing re-driven"
    );
    assert_eq!(
        messages_in(first.bootstrap_servers(), topics::DOCUMENT),
        published
    );

    let second = EmbeddedBroker::start(&[]).unwrap();
    stack.use_broker(second.bootstrap_servers());
    stack.restart(&[Service::Document]).await;
    outbox_drained(&stack).await;
    assert_eq!(
        messages_in(second.bootstrap_servers(), topics::DOCUMENT),
        published,
        "the new broker got every retained event"
    );
    stack.stop().await;
}

/// Finding: `yizhan broker` comes back on a new port and running services
/// never reconnected; they drained only when restarted by hand. Now a
/// `serve` process follows `broker.addr`: it moves to the new broker by
/// itself and re-drives its retained events to it.
async fn a_served_service_follows_a_restarted_broker(backend: Backend) {
    let mut stack = TestStack::prepared(&[Service::Document], backend).await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    stack.settings_mut().services.document.port = port;
    let settings = stack.settings_mut().clone();
    let file = yizhan::broker_address_file(stack.data_dir.path());
    let first = EmbeddedBroker::start(&[]).unwrap();
    yizhan::write_broker_address(&file, first.bootstrap_servers()).unwrap();
    let cancel = tokio_util::sync::CancellationToken::new();
    let served = {
        let cancel = cancel.clone();
        let file = file.clone();
        tokio::spawn(async move {
            yizhan::serve_following_broker(Service::Document, &settings, &file, cancel).await
        })
    };
    let base = format!("http://127.0.0.1:{port}");
    eventually("the service answers", Duration::from_secs(60), || async {
        let r = stack
            .client
            .get(format!("{base}/healthz"))
            .send()
            .await
            .ok()?;
        (r.status() == 200).then_some(())
    })
    .await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    // An upload to the fixed port, retried while the service restarts on
    // the new broker (connections are refused for that moment).
    let upload_here = || async {
        let form = reqwest::multipart::Form::new()
            .text("material_type", "floor_plan")
            .part(
                "file",
                reqwest::multipart::Part::bytes(pdf_bytes(2048, &uuid::Uuid::now_v7().to_string()))
                    .file_name("a.pdf"),
            );
        let r = stack
            .client
            .post(format!("{base}/api/v1/materials"))
            .bearer_auth(&alice)
            .multipart(form)
            .send()
            .await
            .ok()?;
        (r.status() == 201).then_some(())
    };
    eventually("an upload", Duration::from_secs(60), upload_here).await;
    outbox_drained(&stack).await;

    drop(first);
    let second = EmbeddedBroker::start(&[]).unwrap();
    yizhan::write_broker_address(&file, second.bootstrap_servers()).unwrap();
    let brokers = second.bootstrap_servers().to_owned();
    eventually(
        "the retained event reaches the new broker",
        Duration::from_secs(60),
        || {
            let brokers = brokers.clone();
            async move {
                let n =
                    tokio::task::spawn_blocking(move || messages_in(&brokers, topics::DOCUMENT))
                        .await
                        .unwrap();
                (n > 0).then_some(())
            }
        },
    )
    .await;
    // And new writes flow to it too.
    eventually(
        "an upload after the move",
        Duration::from_secs(60),
        upload_here,
    )
    .await;
    outbox_drained(&stack).await;
    assert!(messages_in(second.bootstrap_servers(), topics::DOCUMENT) >= 2);
    cancel.cancel();
    served.await.unwrap().unwrap();
}

yizhan_kit::backend_tests!(
    retained_events_go_only_to_a_new_broker,
    a_served_service_follows_a_restarted_broker,
    database_outage_answers_503_with_retry_after,
    broker_outage_leaves_the_service_ready_and_writing,
);
