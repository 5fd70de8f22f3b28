//! Graceful shutdown drains in-flight requests: a request that started
//! before the stop finishes normally; new connections are refused after.
//! With the broker gone, the stop still ends in bounded time.

use std::time::{Duration, Instant};

use yizhan::Service;
use yizhan_events::broker::EmbeddedBroker;
use yizhan_kit::testing::Backend;

use crate::common::*;

async fn shutdown_drains_an_upload_in_flight(backend: Backend) {
    let stack = TestStack::start(&[Service::Document], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let url = stack.url(Service::Document, "/api/v1/materials");
    let boundary = "yizhan-test-boundary";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"material_type\"\r\n\r\nfloor_plan\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slow.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
    );
    let tail = format!("rest of the file\n\r\n--{boundary}--\r\n");
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    tx.send(Ok(head.into_bytes())).await.unwrap();
    let request = stack
        .client
        .post(&url)
        .bearer_auth(&alice)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(reqwest::Body::wrap_stream(body))
        .send();
    let in_flight = tokio::spawn(request);
    // The head is on the wire once the client has taken it from the channel.
    eventually(
        "the client sent the head",
        Duration::from_secs(10),
        || async { (tx.capacity() == tx.max_capacity()).then_some(()) },
    )
    .await;
    // The server accepts connections in order: once one opened after the
    // upload's is answered, the upload's connection is the server's too.
    let health = reqwest::Client::new()
        .get(stack.url(Service::Document, "/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    // Stop the service under the request, and finish the body only once
    // the stop is in effect (the port refuses new connections).
    stack.begin_shutdown();
    let addr = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    eventually("the listener closed", Duration::from_secs(10), || {
        let addr = addr.clone();
        async move {
            tokio::net::TcpStream::connect(addr)
                .await
                .is_err()
                .then_some(())
        }
    })
    .await;
    tx.send(Ok(tail.into_bytes())).await.unwrap();
    drop(tx);
    let response = in_flight.await.unwrap().unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let material: serde_json::Value = response.json().await.unwrap();
    assert_eq!(material["filename"], "slow.pdf");
    // Once stopped, the port refuses new connections.
    stack.stop().await;
    let refused = reqwest::Client::new().get(url).send().await;
    assert!(refused.is_err(), "service still answering after stop");
}

/// Finding: SIGTERM with the broker gone took 13.9 s, the relay waiting
/// out Kafka's message timeout for a batch that could not leave. The stop
/// now gives the relay and consumer a fixed grace and moves on; the batch
/// stays in the outbox for the next start.
async fn stop_with_the_broker_gone_ends_in_bounded_time(backend: Backend) {
    let broker = EmbeddedBroker::start(&[]).unwrap();
    let stack =
        TestStack::start_on_broker(&[Service::Document], backend, broker.bootstrap_servers()).await;
    drop(broker);
    let alice = stack.applicant("alice", ENTERPRISE_A);
    upload_one(&stack, &alice).await;
    let db = stack.connect(Service::Document).await;
    // The relay has the upload's event in hand and cannot deliver it.
    eventually(
        "the relay tried to publish",
        Duration::from_secs(60),
        || async {
            use sea_orm::{ConnectionTrait, Statement};
            let row = db
                .query_one_raw(Statement::from_string(
                    db.get_database_backend(),
                    "SELECT COUNT(*) FROM outbox_events WHERE published_at IS NULL".to_owned(),
                ))
                .await
                .unwrap()
                .unwrap();
            (row.try_get_by_index::<i64>(0).unwrap() > 0).then_some(())
        },
    )
    .await;
    let started = Instant::now();
    stack.stop().await;
    let took = started.elapsed();
    // The grace plus generous room for a slow machine, well under the
    // 30 s Kafka message timeout the stop used to wait for.
    let bound = yizhan_events::runtime::STOP_GRACE + Duration::from_secs(10);
    assert!(took < bound, "stop took {took:?}, bound {bound:?}");
}

yizhan_kit::backend_tests!(
    shutdown_drains_an_upload_in_flight,
    stop_with_the_broker_gone_ends_in_bounded_time,
);
