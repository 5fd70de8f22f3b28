//! S3-compatible blob storage, against a real S3 endpoint (CI runs moto's
//! server and sets `YIZHAN_TEST_S3_ENDPOINT`): identical content is stored
//! once, a file larger than one multipart part round-trips, and nothing is
//! left on local disk.

use yizhan::Service;
use yizhan_document::store::storage::{StorageKind, StorageSettings};
use yizhan_kit::testing::Backend;

use crate::common::*;

/// Environment variable naming the S3 endpoint used by this test.
const S3_ENDPOINT_ENV: &str = "YIZHAN_TEST_S3_ENDPOINT";

async fn s3_storage_dedupes_and_streams_large_files(backend: Backend) {
    let Ok(endpoint) = std::env::var(S3_ENDPOINT_ENV) else {
        yizhan_kit::testing::skip(&format!(
            "set {S3_ENDPOINT_ENV} to an S3-compatible endpoint to run it"
        ));
        return;
    };
    let bucket = format!("yizhan-test-{}", uuid::Uuid::new_v4().simple());
    let http = reqwest::Client::new();
    let created = http
        .put(format!("{endpoint}/{bucket}"))
        .send()
        .await
        .unwrap();
    assert!(
        created.status().is_success(),
        "create bucket: {}",
        created.status()
    );
    let storage = StorageSettings {
        kind: StorageKind::S3,
        bucket: Some(bucket.clone()),
        endpoint: Some(endpoint.clone()),
        region: Some("us-east-1".into()),
        access_key_id: Some("test".into()),
        secret_access_key: Some("test".into()),
        allow_http: true,
    };
    let stack = TestStack::start_tuned(&[Service::Document], backend, move |s| {
        s.services.document.storage = storage;
        s.services.document.max_upload_bytes = 16 * 1024 * 1024;
    })
    .await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let small = pdf_bytes(4096, "s3-small");
    let large = pdf_bytes(12 * 1024 * 1024, "s3-large");
    let mut ids = Vec::new();
    for (name, bytes) in [("a.pdf", &small), ("b.pdf", &small), ("big.pdf", &large)] {
        let r = upload(&stack, &alice, "floor_plan", name, bytes.clone(), &[]).await;
        assert_eq!(r.status(), 201);
        let m: serde_json::Value = r.json().await.unwrap();
        ids.push(m["id"].as_str().unwrap().to_owned());
    }
    let listing = http
        .get(format!("{endpoint}/{bucket}?list-type=2"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        listing.matches("<Key>").count(),
        2,
        "identical content stored once: {listing}"
    );
    for (id, bytes) in [(&ids[1], &small), (&ids[2], &large)] {
        let r = stack
            .get(
                stack.url(
                    Service::Document,
                    &format!("/api/v1/materials/{id}/content"),
                ),
                &alice,
            )
            .await;
        assert_eq!(r.status(), 200);
        assert_eq!(&r.bytes().await.unwrap().to_vec(), bytes);
    }
    let local_blobs = stack.data_dir.path().join("documents").join("blobs");
    assert!(!local_blobs.exists() || std::fs::read_dir(local_blobs).unwrap().next().is_none());
    stack.stop().await;
}

yizhan_kit::backend_tests!(s3_storage_dedupes_and_streams_large_files);
