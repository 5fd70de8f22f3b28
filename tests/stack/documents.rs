//! Material uploads through HTTP: size cap, type sniffing, file names,
//! deduplicated storage, enterprise scoping, idempotency, download, archive
//! and the check endpoint.

use std::path::Path;

use yizhan::Service;
use yizhan_auth::{Role, TokenRequest};
use yizhan_kit::testing::Backend;

use crate::common::*;

fn blob_files(root: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.join("documents").join("blobs")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out
}

fn temp_files(root: &Path) -> usize {
    std::fs::read_dir(root.join("documents").join("tmp"))
        .map(|d| d.count())
        .unwrap_or(0)
}

async fn uploads_enforce_cap_type_and_names(backend: Backend) {
    let stack = TestStack::start(&[Service::Document], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let root = stack.data_dir.path().to_path_buf();

    // Over the cap: 413 naming the file, nothing stored, no temp file left.
    let r = upload(
        &stack,
        &alice,
        "floor_plan",
        "big.pdf",
        pdf_bytes(TEST_UPLOAD_CAP as usize + 4096, "big"),
        &[],
    )
    .await;
    let body = expect_problem(r, 413, "file_too_large").await;
    assert_eq!(body["errors"][0]["field"], "file");
    assert!(blob_files(&root).is_empty());
    assert_eq!(temp_files(&root), 0);

    // An executable named .pdf: judged by its bytes.
    let r = upload(
        &stack,
        &alice,
        "floor_plan",
        "plan.pdf",
        b"MZ\x90\x00\x03 this is not a pdf".to_vec(),
        &[],
    )
    .await;
    let body = expect_problem(r, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["code"], "unsupported_file_type");
    // A real PDF where only images are allowed.
    let r = upload(
        &stack,
        &alice,
        "site_photo",
        "photo.jpg",
        pdf_bytes(200, "p"),
        &[],
    )
    .await;
    let body = expect_problem(r, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["code"], "file_type_not_allowed");
    assert!(blob_files(&root).is_empty());

    // Every problem of a bad form at once.
    let form = reqwest::multipart::Form::new().text("valid_until", "31/12/2030");
    let r = stack
        .client
        .post(stack.url(Service::Document, "/api/v1/materials"))
        .bearer_auth(&alice)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let body = expect_problem(r, 422, "validation_failed").await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, vec!["material_type", "valid_until", "file"]);

    // A path-traversal name is reduced to its last segment; bytes go only under blobs/.
    let r = upload(
        &stack,
        &alice,
        "floor_plan",
        "../../../../etc/cron.d/plan.pdf",
        pdf_bytes(300, "t"),
        &[],
    )
    .await;
    assert_eq!(r.status(), 201);
    let m: serde_json::Value = r.json().await.unwrap();
    assert_eq!(m["filename"], "plan.pdf");
    let files = blob_files(&root);
    assert_eq!(files.len(), 1);
    assert!(files[0].ends_with(m["sha256"].as_str().unwrap()));
    assert!(
        !root.join("etc").exists() && !root.parent().unwrap().join("etc/cron.d/plan.pdf").exists()
    );

    // Download streams the same bytes with type and a safe disposition.
    let r = stack
        .get(
            stack.url(
                Service::Document,
                &format!("/api/v1/materials/{}/content", m["id"].as_str().unwrap()),
            ),
            &alice,
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let disposition = r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        disposition.starts_with("attachment") && disposition.contains("plan.pdf"),
        "{disposition}"
    );
    assert_eq!(r.bytes().await.unwrap().to_vec(), pdf_bytes(300, "t"));
    stack.stop().await;
}

async fn identical_content_is_stored_once_and_versions_count_up(backend: Backend) {
    let stack = TestStack::start(&[Service::Document], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let bytes = pdf_bytes(5000, "same");
    let first: serde_json::Value = upload(
        &stack,
        &alice,
        "premises_lease",
        "lease.pdf",
        bytes.clone(),
        &[],
    )
    .await
    .json()
    .await
    .unwrap();
    let second: serde_json::Value = upload(
        &stack,
        &alice,
        "premises_lease",
        "lease-v2.pdf",
        bytes.clone(),
        &[("valid_until", "2001-01-01")],
    )
    .await
    .json()
    .await
    .unwrap();
    assert_ne!(first["id"], second["id"]);
    assert_eq!(first["sha256"], second["sha256"]);
    assert_eq!(first["version"], 1);
    assert_eq!(second["version"], 2);
    assert_eq!(second["expired"], true);
    assert_eq!(
        blob_files(stack.data_dir.path()).len(),
        1,
        "identical content stored once"
    );

    // The archive shows the current version of each type, flagging expiry.
    let archive: serde_json::Value = stack
        .get_json(
            stack.url(
                Service::Document,
                &format!("/api/v1/enterprises/{ENTERPRISE_A}/materials"),
            ),
            &alice,
        )
        .await;
    assert_eq!(archive["current"].as_array().unwrap().len(), 1);
    assert_eq!(archive["current"][0]["id"], second["id"]);
    assert_eq!(archive["expired_count"], 1);

    // The check endpoint tells ok / expired / not found (another enterprise's looks absent).
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let bobs: serde_json::Value = upload(
        &stack,
        &bob,
        "floor_plan",
        "b.pdf",
        pdf_bytes(100, "b"),
        &[],
    )
    .await
    .json()
    .await
    .unwrap();
    let clerk = stack.staff("clerk", Role::WindowClerk);
    let result: serde_json::Value = stack.post_json(stack.url(Service::Document, "/api/v1/materials/check"), &clerk, &serde_json::json!({"enterprise_uscc": ENTERPRISE_A, "material_ids": [first["id"], second["id"], bobs["id"], "missing"]})).await
        .json()
        .await
        .unwrap();
    let statuses: Vec<&str> = result["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["ok", "expired", "not_found", "not_found"]);
    assert_eq!(result["all_ok"], false);
    stack.stop().await;
}

async fn other_enterprises_are_refused(backend: Backend) {
    let stack = TestStack::start(&[Service::Document], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let r = upload(
        &stack,
        &alice,
        "floor_plan",
        "x.pdf",
        pdf_bytes(100, "x"),
        &[("enterprise_uscc", ENTERPRISE_B)],
    )
    .await;
    expect_problem(r, 403, "forbidden").await;
    let mine: serde_json::Value = upload(
        &stack,
        &alice,
        "floor_plan",
        "x.pdf",
        pdf_bytes(100, "x"),
        &[],
    )
    .await
    .json()
    .await
    .unwrap();
    let id = mine["id"].as_str().unwrap();
    for path in [
        format!("/api/v1/materials/{id}"),
        format!("/api/v1/materials/{id}/content"),
        format!("/api/v1/enterprises/{ENTERPRISE_A}/materials"),
    ] {
        let r = stack.get(stack.url(Service::Document, &path), &bob).await;
        expect_problem(r, 404, "not_found").await;
    }
    // An agent acts only for enterprises that authorised them.
    let agent = stack.token(TokenRequest {
        sub: "agent-1".into(),
        roles: vec![Role::Agent],
        enterprises: vec![ENTERPRISE_A.into()],
        ttl_secs: 600,
        ..Default::default()
    });
    let r = upload(
        &stack,
        &agent,
        "floor_plan",
        "a.pdf",
        pdf_bytes(120, "a"),
        &[("enterprise_uscc", ENTERPRISE_A)],
    )
    .await;
    assert_eq!(r.status(), 201);
    let r = upload(
        &stack,
        &agent,
        "floor_plan",
        "a.pdf",
        pdf_bytes(120, "a"),
        &[("enterprise_uscc", ENTERPRISE_B)],
    )
    .await;
    expect_problem(r, 403, "forbidden").await;
    let r = upload(
        &stack,
        &agent,
        "floor_plan",
        "a.pdf",
        pdf_bytes(120, "a"),
        &[],
    )
    .await;
    let body = expect_problem(r, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "enterprise_uscc");
    stack.stop().await;
}

async fn idempotency_key_replays_and_refuses_reuse(backend: Backend) {
    let stack = TestStack::start(&[Service::Document], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let send = |bytes: Vec<u8>, key: &'static str| {
        let form = reqwest::multipart::Form::new()
            .text("material_type", "floor_plan")
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name("plan.pdf"),
            );
        stack
            .client
            .post(stack.url(Service::Document, "/api/v1/materials"))
            .bearer_auth(&alice)
            .header("Idempotency-Key", key)
            .multipart(form)
            .send()
    };
    let first = send(pdf_bytes(400, "one"), "key-1").await.unwrap();
    assert_eq!(first.status(), 201);
    assert!(!first.headers().contains_key("idempotent-replayed"));
    let first: serde_json::Value = first.json().await.unwrap();
    let again = send(pdf_bytes(400, "one"), "key-1").await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let again: serde_json::Value = again.json().await.unwrap();
    assert_eq!(first, again, "the stored response is replayed");
    let different = send(pdf_bytes(400, "two"), "key-1").await.unwrap();
    let body = expect_problem(different, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["code"], "idempotency_key_reused");
    let archive: serde_json::Value = stack
        .get_json(
            stack.url(
                Service::Document,
                &format!("/api/v1/enterprises/{ENTERPRISE_A}/materials"),
            ),
            &alice,
        )
        .await;
    assert_eq!(
        archive["current"][0]["version"], 1,
        "only one material was created"
    );
    stack.stop().await;
}

/// Concurrent uploads of one material type for one enterprise all succeed,
/// each with its own version (no 500 from a busy SQLite writer, no 409 from
/// two PostgreSQL transactions picking the same version).
async fn concurrent_uploads_all_succeed_with_distinct_versions(backend: Backend) {
    let stack = TestStack::start(&[Service::Document], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let mut tasks = Vec::new();
    for i in 0..12 {
        let bytes = pdf_bytes(2000, &format!("concurrent-{i}"));
        tasks.push(upload(&stack, &alice, "floor_plan", "plan.pdf", bytes, &[]));
    }
    let responses = futures_util::future::join_all(tasks).await;
    let mut versions = Vec::new();
    for r in responses {
        let status = r.status();
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(status, 201, "{body}");
        versions.push(body["version"].as_i64().unwrap());
    }
    versions.sort();
    assert_eq!(versions, (1..=12).collect::<Vec<i64>>());
    stack.stop().await;
}

/// A file name built to mislead a clerk (`\u{202E}` turns "fdp.exe" into
/// "exe.pdf" on screen; zero-width characters and a BOM hide in it) is
/// kept without them, sent as browsers send names: raw UTF-8 in the
/// Content-Disposition.
async fn file_names_lose_bidi_overrides_and_invisible_characters(backend: Backend) {
    let stack = TestStack::start(&[Service::Document], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    for (sent, kept) in [
        ("\u{202E}fdp.exe", "fdp.exe"),
        (
            "\u{FEFF}合同\u{200B}扫描\u{2066}件\u{2069}\u{202A}.pdf\u{200F}",
            "合同扫描件.pdf",
        ),
    ] {
        let form = reqwest::multipart::Form::new()
            .text("material_type", "floor_plan")
            .part(
                "file",
                reqwest::multipart::Part::bytes(pdf_bytes(300, sent)).file_name(sent.to_owned()),
            )
            .percent_encode_noop();
        let r = stack
            .client
            .post(stack.url(Service::Document, "/api/v1/materials"))
            .bearer_auth(&alice)
            .multipart(form)
            .send()
            .await
            .unwrap();
        let m = json_ok(r, 201).await;
        assert_eq!(m["filename"], kept, "{sent:?}");
        let id = m["id"].as_str().unwrap();
        let shown = stack
            .get_json(
                stack.url(Service::Document, &format!("/api/v1/materials/{id}")),
                &alice,
            )
            .await;
        assert_eq!(shown["filename"], kept);
    }
    stack.stop().await;
}

/// `GET /api/v1/materials?ids=…` answers, in the order asked, only the
/// materials the caller may see: another enterprise's and unknown ids are
/// left out alike; a missing, malformed or too long list is a 422 naming
/// `ids`.
async fn several_materials_are_looked_up_at_once(backend: Backend) {
    let stack = TestStack::start(&[Service::Document], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let bob = stack.applicant("bob", ENTERPRISE_B);
    let mut ids = Vec::new();
    for (who, kind, name) in [
        (&alice, "floor_plan", "a1.pdf"),
        (&bob, "floor_plan", "b1.pdf"),
        (&alice, "fire_safety_plan", "a2.pdf"),
    ] {
        let m = json_ok(
            upload(&stack, who, kind, name, pdf_bytes(100, name), &[]).await,
            201,
        )
        .await;
        ids.push(m["id"].as_str().unwrap().to_owned());
    }
    let unknown = "01937a4e-7c1a-7d3e-9a55-0f3c2b1e4d5a";
    let asked = format!("{},{},{},{unknown},{}", ids[2], ids[1], ids[0], ids[2]);
    let url = stack.url(Service::Document, &format!("/api/v1/materials?ids={asked}"));
    let seen = stack.get_json(url.clone(), &alice).await;
    let got: Vec<&str> = seen["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, [ids[2].as_str(), ids[0].as_str()]);
    assert_eq!(
        seen["items"][0]["material_type_name"],
        "消防安全制度及应急预案"
    );
    let bobs = stack.get_json(url.clone(), &bob).await;
    assert_eq!(bobs["items"].as_array().unwrap().len(), 1);
    assert_eq!(bobs["items"][0]["id"], ids[1].as_str());
    let r = stack.client.get(&url).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let many = vec![unknown; 101].join(",");
    let many_distinct: Vec<String> = (0..101).map(|i| format!("m{i}")).collect();
    for query in [
        String::new(),
        "?ids=".to_owned(),
        "?ids=a,,b".to_owned(),
        "?ids=a%20b".to_owned(),
        format!("?ids={}", many_distinct.join(",")),
    ] {
        let r = stack
            .get(
                stack.url(Service::Document, &format!("/api/v1/materials{query}")),
                &alice,
            )
            .await;
        let body = expect_problem(r, 422, "validation_failed").await;
        assert_eq!(body["errors"][0]["field"], "ids", "{query}");
    }
    // The same id many times is one id.
    let r = stack
        .get(
            stack.url(Service::Document, &format!("/api/v1/materials?ids={many}")),
            &alice,
        )
        .await;
    assert_eq!(json_ok(r, 200).await["items"], serde_json::json!([]));
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    several_materials_are_looked_up_at_once,
    uploads_enforce_cap_type_and_names,
    file_names_lose_bidi_overrides_and_invisible_characters,
    identical_content_is_stored_once_and_versions_count_up,
    other_enterprises_are_refused,
    idempotency_key_replays_and_refuses_reuse,
    concurrent_uploads_all_succeed_with_distinct_versions,
);
