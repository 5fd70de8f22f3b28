//! Graceful shutdown drains in-flight requests: a request that started
//! before the stop finishes normally; new connections are refused after.

use std::time::Duration;

use yizhan::Service;
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
    // The handler is now reading the file part; stop the service under it.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stack.begin_shutdown();
    tokio::time::sleep(Duration::from_millis(200)).await;
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

yizhan_kit::backend_tests!(shutdown_drains_an_upload_in_flight);
