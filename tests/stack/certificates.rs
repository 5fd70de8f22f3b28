//! E-certificates end to end: issue requests arrive on the licensing and
//! construction topics as raw Kafka messages (as those services will send
//! them), the document service issues exactly once, and everything after is
//! checked the way an outsider would: the JWS verified with ed25519-dalek
//! from the published JWKS alone, the identifier's check character
//! recomputed here, the QR codes decoded back to the verification URL.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD as B64};
use chrono::NaiveDate;
use rdkafka::ClientConfig;
use rdkafka::Message;
use rdkafka::consumer::{Consumer, StreamConsumer};
use rdkafka::message::Headers;
use rdkafka::producer::{FutureProducer, FutureRecord};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use tokio_util::sync::CancellationToken;
use yizhan::{Broker, Service, Stack, StackSettings};
use yizhan_auth::{Role, TokenRequest};
use yizhan_events::Envelope;
use yizhan_events::broker::EmbeddedBroker;
use yizhan_events::contracts::{
    ByConstruction, CertificateIssueRequested, CertificateItem, CertificateStatus,
    CertificateStatusChangeRequested, Event, topics,
};
use yizhan_kit::testing::{Backend, TestDatabase};

use crate::common::{AUDIENCE, ENTERPRISE_A, ENTERPRISE_B, ISSUER, eventually, expect_problem};

const LICENSING_SOURCE: &str = "/yizhan/licensing";
const CONSTRUCTION_SOURCE: &str = "/yizhan/construction";
const WAIT: Duration = Duration::from_secs(60);

/// The document service against a broker this test owns, so the test can
/// produce to the licensing and construction topics itself.
struct CertStack {
    secret: Vec<u8>,
    client: reqwest::Client,
    port: u16,
    cancel: CancellationToken,
    waiter: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    producer: FutureProducer,
    db: DatabaseConnection,
    _database: TestDatabase,
    _data_dir: tempfile::TempDir,
    // Dropped last: the services talk to it until they stop.
    broker: Option<EmbeddedBroker>,
}

impl CertStack {
    async fn start(backend: Backend) -> Self {
        yizhan_kit::telemetry::init_for_tests();
        let broker = EmbeddedBroker::start(&[]).unwrap();
        let data_dir = tempfile::tempdir().unwrap();
        let secret: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
        let database = backend.fresh_database("document").await;
        let mut settings = StackSettings::default();
        settings.common.data_dir = data_dir.path().to_path_buf();
        settings.common.auth.issuer = ISSUER.into();
        settings.common.auth.audience = AUDIENCE.into();
        settings.common.auth.hs256_secret = Some(STANDARD.encode(&secret));
        settings.common.outbox.poll_interval_ms = 100;
        settings.common.http.shutdown_timeout_secs = 1;
        settings.services.document.port = 0;
        settings.services.document.database_url = Some(database.url.clone());
        let cancel = CancellationToken::new();
        let stack = Stack::start_with(
            &[Service::Document],
            &settings,
            Broker::Shared(broker.bootstrap_servers().to_owned()),
            cancel.clone(),
        )
        .await
        .expect("document service starts");
        let port = stack.port(Service::Document).unwrap();
        let waiter = tokio::spawn(stack.wait());
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", broker.bootstrap_servers())
            .create()
            .unwrap();
        let db = Database::connect(database.url.as_str()).await.unwrap();
        Self {
            secret,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            port,
            cancel,
            waiter: Some(waiter),
            producer,
            db,
            _database: database,
            _data_dir: data_dir,
            broker: Some(broker),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn token(&self, req: TokenRequest) -> String {
        yizhan_auth::mint_hs256(&self.secret, ISSUER, AUDIENCE, &req)
    }

    fn applicant(&self, uscc: &str) -> String {
        self.token(TokenRequest {
            sub: format!("applicant-{uscc}"),
            roles: vec![Role::Applicant],
            uscc: Some(uscc.into()),
            ttl_secs: 600,
            ..Default::default()
        })
    }

    fn with_role(&self, role: Role) -> String {
        self.token(TokenRequest {
            sub: format!("{role:?}"),
            roles: vec![role],
            enterprises: if role == Role::Agent {
                vec![ENTERPRISE_A.into()]
            } else {
                vec![]
            },
            scopes: vec!["materials:check".into()],
            ttl_secs: 600,
            ..Default::default()
        })
    }

    async fn get(&self, path: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    async fn get_json(&self, path: &str, token: Option<&str>) -> serde_json::Value {
        let response = self.get(path, token).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    async fn verify_jws(&self, jws: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/v1/verify"))
            .json(&serde_json::json!({ "jws": jws }))
            .send()
            .await
            .unwrap()
    }

    /// Produces an envelope the way a peer's outbox relay does.
    async fn publish(&self, topic: &str, envelope: &Envelope) {
        let payload = envelope.data.to_string();
        self.producer
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

    async fn count(&self, sql: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(Statement::from_string(
                self.db.get_database_backend(),
                sql.to_owned(),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get_by_index::<i64>(0).unwrap()
    }

    /// Issues through an event and waits for the holder to see it.
    async fn issue(&self, request: &CertificateIssueRequested) -> serde_json::Value {
        self.publish(
            topics::LICENSING,
            &Envelope::new(LICENSING_SOURCE, request, None),
        )
        .await;
        let holder = self.applicant(&request.holder_uscc);
        let id = eventually("the certificate in the archive", WAIT, || async {
            let archive = self
                .get_json(
                    &format!("/api/v1/enterprises/{}/materials", request.holder_uscc),
                    Some(&holder),
                )
                .await;
            archive["certificates"]
                .as_array()
                .unwrap()
                .first()
                .map(|c| c["id"].as_str().unwrap().to_owned())
        })
        .await;
        self.get_json(&format!("/api/v1/certificates/{id}"), Some(&holder))
            .await
    }

    async fn stop(mut self) {
        self.cancel.cancel();
        if let Some(waiter) = self.waiter.take() {
            waiter.await.unwrap().unwrap();
        }
        drop(self.broker.take());
    }
}

impl Drop for CertStack {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

pub(crate) fn hotel_licence(request_id: &str, holder: &str) -> CertificateIssueRequested {
    CertificateIssueRequested {
        request_id: request_id.into(),
        certificate_type: "industry_comprehensive_licence".into(),
        holder_uscc: holder.into(),
        holder_name: "福州一站酒店有限公司".into(),
        scope: "住宿服务；餐饮服务；公共场所（旅店）".into(),
        items: vec![
            CertificateItem {
                item_code: "SP-JY-001".into(),
                item_name: "食品经营许可".into(),
                department: "市场监督管理局".into(),
                permit_number: "JY13501000000001".into(),
            },
            CertificateItem {
                item_code: "TZ-001".into(),
                item_name: "特种行业许可（旅馆业）".into(),
                department: "公安局".into(),
                permit_number: "闽榕公特旅字第2026001号".into(),
            },
            CertificateItem {
                item_code: "WS-GG-001".into(),
                item_name: "公共场所卫生许可".into(),
                department: "卫生健康委员会".into(),
                permit_number: "榕卫公字〔2026〕第0001号".into(),
            },
        ],
        valid_from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        valid_until: NaiveDate::from_ymd_opt(2099, 12, 31),
        requested_by_service: "licensing".into(),
    }
}

/// ISO 7064 MOD 37,36 written again from the standard, independent of
/// `yizhan_types`, the way an outside verifier would check an identifier.
fn mod_37_36_check(payload: &str) -> char {
    const ALPHABET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut p = 36;
    for c in payload.chars() {
        let mut s = (p + ALPHABET.find(c).expect("0-9A-Z")) % 36;
        if s == 0 {
            s = 36;
        }
        p = (s * 2) % 37;
    }
    let check = (37 - p) % 36;
    ALPHABET.as_bytes()[check] as char
}

fn check_character_is_valid(id: &str) -> bool {
    let rest = id.strip_prefix("1.2.156.3005.2.").unwrap();
    let parts: Vec<&str> = rest.split('.').collect();
    assert_eq!(parts.len(), 5, "{id}");
    let check = parts[4].chars().next().unwrap();
    mod_37_36_check(&parts[..4].concat()) == check
}

/// Verifies a compact JWS with nothing but the JWKS JSON, as an independent
/// verifier would: find the key by `kid`, check `alg`, verify Ed25519.
pub(crate) fn verify_with_jwks(
    jws: &str,
    jwks: &serde_json::Value,
) -> Result<serde_json::Value, String> {
    let parts: Vec<&str> = jws.split('.').collect();
    if parts.len() != 3 {
        return Err("not a compact JWS".into());
    }
    let header: serde_json::Value =
        serde_json::from_slice(&B64.decode(parts[0]).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    if header["alg"] != "EdDSA" {
        return Err(format!("alg {}", header["alg"]));
    }
    let jwk = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .ok_or("unknown kid")?;
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["crv"], "Ed25519");
    let x: [u8; 32] = B64
        .decode(jwk["x"].as_str().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let key = ed25519_dalek::VerifyingKey::from_bytes(&x).map_err(|e| e.to_string())?;
    let signature: [u8; 64] = B64
        .decode(parts[2])
        .map_err(|e| e.to_string())?
        .try_into()
        .map_err(|_| "signature length")?;
    key.verify_strict(
        format!("{}.{}", parts[0], parts[1]).as_bytes(),
        &ed25519_dalek::Signature::from_bytes(&signature),
    )
    .map_err(|e| e.to_string())?;
    serde_json::from_slice(&B64.decode(parts[1]).unwrap()).map_err(|e| e.to_string())
}

/// Decodes the QR code in a greyscale raster.
fn decode_qr(width: usize, height: usize, pixel: impl FnMut(usize, usize) -> u8) -> String {
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, pixel);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code");
    grids[0].decode().unwrap().1
}

/// Rasterises the SVG `qrcode` writes (one path of `M x y h w v h H x V y`
/// rectangles) and decodes it.
fn decode_svg_qr(svg: &str) -> String {
    let attr = |name: &str| -> usize {
        let start = svg.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        svg[start..start + svg[start..].find('"').unwrap()]
            .parse()
            .unwrap()
    };
    let (width, height) = (attr("width"), attr("height"));
    let d_start = svg.find(" d=\"").unwrap() + 4;
    let d = &svg[d_start..d_start + svg[d_start..].find('"').unwrap()];
    let mut dark = vec![false; width * height];
    for rect in d.split('M').filter(|s| !s.is_empty()) {
        let nums: Vec<usize> = rect
            .split(|c: char| !c.is_ascii_digit())
            .filter(|s| !s.is_empty())
            .map(|s| s.parse().unwrap())
            .collect();
        let (x, y, w, h) = (nums[0], nums[1], nums[2], nums[3]);
        for yy in y..y + h {
            for xx in x..x + w {
                dark[yy * width + xx] = true;
            }
        }
    }
    decode_qr(
        width,
        height,
        |x, y| if dark[y * width + x] { 0 } else { 255 },
    )
}

async fn dead_letters(brokers: &str, expected: usize) -> Vec<(String, String)> {
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", format!("dlq-reader-{}", uuid::Uuid::new_v4()))
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    consumer
        .subscribe(&[topics::dead_letter("document").as_str()])
        .unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + WAIT;
    while out.len() < expected && Instant::now() < deadline {
        if let Ok(Ok(m)) = tokio::time::timeout(Duration::from_secs(1), consumer.recv()).await {
            let header = |name: &str| {
                m.headers()
                    .and_then(|h| h.iter().find(|h| h.key == name))
                    .and_then(|h| h.value)
                    .map(|v| String::from_utf8_lossy(v).into_owned())
                    .unwrap_or_default()
            };
            out.push((header("ce_id"), header("dlq_error")));
        }
    }
    out
}

async fn certificates_are_issued_exactly_once_under_redelivery(backend: Backend) {
    let stack = CertStack::start(backend).await;
    let request_id = uuid::Uuid::now_v7().to_string();
    let request = hotel_licence(&request_id, ENTERPRISE_A);

    // The same event twice (a redelivery), the same request under a new
    // event id (a producer retry past its outbox), and the same request from
    // construction on its own topic.
    let first = Envelope::new(LICENSING_SOURCE, &request, None);
    let retried = Envelope::new(LICENSING_SOURCE, &request, None);
    let from_construction =
        Envelope::new(CONSTRUCTION_SOURCE, &ByConstruction(request.clone()), None);
    assert_ne!(first.id, retried.id);
    stack.publish(topics::LICENSING, &first).await;
    stack.publish(topics::LICENSING, &first).await;
    stack.publish(topics::LICENSING, &retried).await;
    stack
        .publish(topics::CONSTRUCTION, &from_construction)
        .await;

    // The inbox takes each distinct (source, id) once: three events. Same key,
    // same partition, so by the time `retried` is in, the duplicate of
    // `first` has been seen and skipped.
    let inbox = format!(
        "SELECT COUNT(*) FROM inbox_events WHERE ce_type = '{}'",
        CertificateIssueRequested::TYPE
    );
    eventually("three distinct issue events applied", WAIT, || async {
        (stack.count(&inbox).await == 3).then_some(())
    })
    .await;
    let certificates =
        format!("SELECT COUNT(*) FROM certificates WHERE request_id = '{request_id}'");
    assert_eq!(
        stack.count(&certificates).await,
        1,
        "one certificate per request"
    );
    let issued_events = "SELECT COUNT(*) FROM outbox_events \
         WHERE ce_type = 'cn.yizhan.document.certificate_issued.v1'";
    assert_eq!(stack.count(issued_events).await, 1, "one CertificateIssued");

    // The holder sees it in the enterprise archive (一企一档), once.
    let holder = stack.applicant(ENTERPRISE_A);
    let archive = stack
        .get_json(
            &format!("/api/v1/enterprises/{ENTERPRISE_A}/materials"),
            Some(&holder),
        )
        .await;
    let listed = archive["certificates"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{archive}");
    assert_eq!(listed[0]["type_name"], "行业综合许可证");
    assert_eq!(listed[0]["status"]["code"], "01");
    assert!(archive["current"].as_array().unwrap().is_empty());

    // The identifier: prefix, type code, the centre's USCC, a serial, version
    // 001, and a check character recomputed here.
    let id = listed[0]["id"].as_str().unwrap();
    let parts: Vec<&str> = id.split('.').collect();
    assert_eq!(&parts[..5], &["1", "2", "156", "3005", "2"]);
    assert_eq!(parts[5], "HYZHXKZ");
    assert_eq!(
        yizhan_types::Uscc::parse(parts[6]).unwrap().as_str(),
        parts[6]
    );
    // The serial: the per-type counter, then ten random characters.
    assert_eq!(&parts[7][..8], "00000001");
    assert_eq!(parts[7].len(), 18, "{id}");
    assert!(
        parts[7][8..]
            .chars()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase()),
        "{id}"
    );
    assert_eq!(parts[8], "001");
    assert!(check_character_is_valid(id), "{id}");
    assert!(yizhan_types::CertificateId::parse(id).is_ok());

    // A second request gets the next serial.
    let second = stack
        .issue(&hotel_licence(
            &uuid::Uuid::now_v7().to_string(),
            ENTERPRISE_B,
        ))
        .await;
    let second_serial = second["id"].as_str().unwrap().split('.').nth(7).unwrap();
    assert!(second_serial.starts_with("00000002"), "{second}");
    assert_ne!(second_serial[8..], parts[7][8..], "the random part repeats");
    assert!(check_character_is_valid(second["id"].as_str().unwrap()));

    // A request that can never be honoured is dead-lettered with its reason,
    // and issues nothing.
    let mut bad = hotel_licence("bad-request", "91350100M000100Y44");
    bad.certificate_type = "fishing_licence".into();
    let bad_event = Envelope::new(LICENSING_SOURCE, &bad, None);
    stack.publish(topics::LICENSING, &bad_event).await;
    let brokers = stack
        .broker
        .as_ref()
        .unwrap()
        .bootstrap_servers()
        .to_owned();
    let dead = dead_letters(&brokers, 1).await;
    assert_eq!(dead.len(), 1, "dead-lettered");
    assert_eq!(dead[0].0, bad_event.id);
    assert!(
        dead[0].1.contains("holder_uscc") && dead[0].1.contains("certificate_type"),
        "{}",
        dead[0].1
    );
    assert_eq!(
        stack
            .count("SELECT COUNT(*) FROM certificates WHERE request_id = 'bad-request'")
            .await,
        0
    );
    stack.stop().await;
}

async fn certificates_verify_offline_and_report_status_changes(backend: Backend) {
    let stack = CertStack::start(backend).await;
    let holder = stack.applicant(ENTERPRISE_A);
    let cert = stack
        .issue(&hotel_licence(
            &uuid::Uuid::now_v7().to_string(),
            ENTERPRISE_A,
        ))
        .await;
    let id = cert["id"].as_str().unwrap().to_owned();
    let jws = cert["jws"].as_str().unwrap().to_owned();
    assert_eq!(cert["status"]["code"], "01");
    assert_eq!(cert["items"].as_array().unwrap().len(), 3);

    // The JWKS is public, and with it alone the signature verifies.
    let response = stack.get("/.well-known/jwks.json", None).await;
    assert_eq!(response.status(), 200);
    let jwks: serde_json::Value = response.json().await.unwrap();
    let payload = verify_with_jwks(&jws, &jwks).expect("the signature verifies with the JWKS");
    assert_eq!(payload["id"], id.as_str());
    assert_eq!(payload["holder"]["uscc"], ENTERPRISE_A);
    assert_eq!(payload["holder"]["name"], "福州一站酒店有限公司");
    assert_eq!(
        payload["items"][1]["permit_number"],
        "闽榕公特旅字第2026001号"
    );
    assert_eq!(payload["valid_until"], "2099-12-31");
    assert_eq!(payload["status"], "01");
    assert_eq!(payload["status_name"], "有效");
    assert_eq!(payload["issuer"]["uscc"], id.split('.').nth(6).unwrap());
    let header: serde_json::Value =
        serde_json::from_slice(&B64.decode(jws.split('.').next().unwrap()).unwrap()).unwrap();
    assert_eq!(header["alg"], "EdDSA");
    assert_eq!(header["kid"], cert["key_id"]);

    // A tampered payload fails, offline and online (200, signature_valid false).
    let mut forged_payload = payload.clone();
    forged_payload["holder"]["name"] = "冒名顶替有限公司".into();
    let parts: Vec<&str> = jws.split('.').collect();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        B64.encode(forged_payload.to_string()),
        parts[2]
    );
    assert!(verify_with_jwks(&tampered, &jwks).is_err());
    let response = stack.verify_jws(&tampered).await;
    assert_eq!(response.status(), 200);
    let answer: serde_json::Value = response.json().await.unwrap();
    assert_eq!(answer["signature_valid"], false, "{answer}");
    assert_eq!(answer["signature_problem"]["code"], "signature_mismatch");
    assert_eq!(answer["valid"], false);
    assert_eq!(answer["identifier"], id.as_str());
    assert_eq!(answer["found"], true);
    // The registry's record shows the real holder beside the forgery.
    assert_eq!(
        answer["certificate"]["holder"]["name"],
        "福州一站酒店有限公司"
    );

    // The genuine JWS, and the identifier, verify as valid with status 01.
    let answer: serde_json::Value = stack.verify_jws(&jws).await.json().await.unwrap();
    assert_eq!(answer["valid"], true, "{answer}");
    assert_eq!(answer["signature_valid"], true);
    assert_eq!(answer["identifier_valid"], true);
    assert_eq!(answer["status"]["code"], "01");
    let by_id = stack
        .get_json(&format!("/api/v1/verify?id={id}"), None)
        .await;
    assert_eq!(by_id["valid"], true, "{by_id}");
    assert_eq!(by_id["signature_valid"], true);
    assert_eq!(by_id["verdict"], "电子证照真实有效");

    // A wrong check character is an answer; a malformed identifier or JWS is a 422.
    let last = id.chars().last().unwrap();
    let wrong = format!(
        "{}{}",
        &id[..id.len() - 1],
        if last == '0' { '1' } else { '0' }
    );
    let answer = stack
        .get_json(&format!("/api/v1/verify?id={wrong}"), None)
        .await;
    assert_eq!(answer["identifier_valid"], false, "{answer}");
    assert_eq!(answer["valid"], false);
    // ... worded like an identifier not on record, with nothing of the
    // registered certificate and no hint at the right character.
    let unknown = yizhan_types::CertificateId::new(
        "HYZHXKZ",
        &yizhan_types::Uscc::parse(id.split('.').nth(6).unwrap()).unwrap(),
        "99999999ABCDEFGHIJ",
        "001",
    )
    .unwrap();
    let not_found = stack
        .get_json(&format!("/api/v1/verify?id={unknown}"), None)
        .await;
    assert_eq!(not_found["found"], false, "{not_found}");
    for field in ["verdict", "found", "certificate", "status", "valid"] {
        assert_eq!(answer[field], not_found[field], "{field}: {answer}");
    }
    assert!(!answer.to_string().contains("应为"), "{answer}");
    let problem = expect_problem(
        stack
            .get("/api/v1/verify?id=1.2.156.3005.2.HY-X.1.1.001.A", None)
            .await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "id");
    let problem = expect_problem(
        stack.get("/api/v1/verify", None).await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "id");
    let problem = expect_problem(
        stack.verify_jws("not-a-jws").await,
        422,
        "validation_failed",
    )
    .await;
    assert_eq!(problem["errors"][0]["field"], "jws");

    // 撤销 from construction's topic, then the same request again under a new
    // event id: applied once, reflected in verification at once.
    let change = CertificateStatusChangeRequested {
        certificate_id: id.clone(),
        new_status: CertificateStatus::Annulled,
        reason: "以欺骗手段取得行政许可，依法撤销".into(),
        request_id: uuid::Uuid::now_v7().to_string(),
        requested_by_service: "construction".into(),
    };
    for _ in 0..2 {
        stack
            .publish(
                topics::CONSTRUCTION,
                &Envelope::new(CONSTRUCTION_SOURCE, &ByConstruction(change.clone()), None),
            )
            .await;
    }
    let answer = eventually("status 03 in verification", WAIT, || async {
        let a = stack
            .get_json(&format!("/api/v1/verify?id={id}"), None)
            .await;
        (a["status"]["code"] == "03").then_some(a)
    })
    .await;
    assert_eq!(answer["status"]["name"], "撤销");
    assert_eq!(
        answer["signed_status"]["code"], "01",
        "the JWS is not re-signed"
    );
    assert_eq!(answer["signature_valid"], true);
    assert_eq!(answer["valid"], false);
    assert!(answer["verdict"].as_str().unwrap().contains("撤销"));
    let answer: serde_json::Value = stack.verify_jws(&jws).await.json().await.unwrap();
    assert_eq!(answer["status"]["code"], "03");
    assert_eq!(answer["valid"], false);
    let inbox = format!(
        "SELECT COUNT(*) FROM inbox_events WHERE ce_type = '{}'",
        CertificateStatusChangeRequested::TYPE
    );
    eventually("both change events seen", WAIT, || async {
        (stack.count(&inbox).await == 2).then_some(())
    })
    .await;
    let full = stack
        .get_json(&format!("/api/v1/certificates/{id}"), Some(&holder))
        .await;
    assert_eq!(full["history"].as_array().unwrap().len(), 1, "{full}");
    assert_eq!(full["status_reason"], "以欺骗手段取得行政许可，依法撤销");
    assert_eq!(
        stack
            .count(
                "SELECT COUNT(*) FROM outbox_events \
                 WHERE ce_type = 'cn.yizhan.document.certificate_status_changed.v1'"
            )
            .await,
        1
    );

    // The public page a scanned QR code opens.
    let page = stack.get(&format!("/verify?id={id}"), None).await;
    assert_eq!(page.status(), 200);
    assert!(
        page.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text().await.unwrap().contains("撤销"));
    stack.stop().await;
}

async fn qr_codes_print_page_and_scoping(backend: Backend) {
    let stack = CertStack::start(backend).await;
    let cert = stack
        .issue(&hotel_licence(
            &uuid::Uuid::now_v7().to_string(),
            ENTERPRISE_A,
        ))
        .await;
    let id = cert["id"].as_str().unwrap();
    let verify_url = cert["verify_url"].as_str().unwrap();
    assert_eq!(verify_url, stack.url(&format!("/verify?id={id}")));
    let holder = stack.applicant(ENTERPRISE_A);

    // SVG: served as image/svg+xml, and it decodes to the verification URL.
    let response = stack
        .get(&format!("/api/v1/certificates/{id}/qr.svg"), Some(&holder))
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("image/svg+xml")
    );
    let svg = response.text().await.unwrap();
    assert!(svg.contains("<svg"));
    assert_eq!(decode_svg_qr(&svg), verify_url);

    // PNG: a valid PNG that decodes to the same URL.
    let response = stack
        .get(&format!("/api/v1/certificates/{id}/qr.png"), Some(&holder))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    let png = response.bytes().await.unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    let img = image::load_from_memory(&png).unwrap().to_luma8();
    let (w, h) = img.dimensions();
    assert_eq!(
        decode_qr(w as usize, h as usize, |x, y| img
            .get_pixel(x as u32, y as u32)
            .0[0]),
        verify_url
    );

    // The printable page: zh-CN, every field, self-contained, escaped.
    let response = stack
        .get(&format!("/api/v1/certificates/{id}/print"), Some(&holder))
        .await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let html = response.text().await.unwrap();
    for expected in [
        "lang=\"zh-CN\"",
        "行业综合许可证",
        id,
        "福州一站酒店有限公司",
        ENTERPRISE_A,
        "住宿服务",
        "JY13501000000001",
        "闽榕公特旅字第2026001号",
        "公共场所卫生许可",
        "2026年01月01日 至 2099年12月31日",
        "有效",
        "<svg",
        cert["jws"].as_str().unwrap(),
    ] {
        assert!(html.contains(expected), "print page lacks {expected}");
    }
    for external in ["<script", "<link", "src=", "@import", "url("] {
        assert!(!html.contains(external), "print page loads {external}");
    }

    // Who may read: holder, its agent, clerks, reviewers, admins; others 404; no token 401.
    for role in [
        Role::Agent,
        Role::WindowClerk,
        Role::DeptReviewer,
        Role::Admin,
    ] {
        let token = stack.with_role(role);
        let r = stack
            .get(&format!("/api/v1/certificates/{id}"), Some(&token))
            .await;
        assert_eq!(r.status(), 200, "{role:?}");
    }
    let other = stack.applicant(ENTERPRISE_B);
    let partner = stack.with_role(Role::Partner);
    for token in [&other, &partner] {
        for suffix in ["", "/qr.svg", "/qr.png", "/print"] {
            let r = stack
                .get(&format!("/api/v1/certificates/{id}{suffix}"), Some(token))
                .await;
            expect_problem(r, 404, "not_found").await;
        }
    }
    let archive = stack
        .get(
            &format!("/api/v1/enterprises/{ENTERPRISE_A}/materials"),
            Some(&other),
        )
        .await;
    expect_problem(archive, 404, "not_found").await;
    let r = stack.get(&format!("/api/v1/certificates/{id}"), None).await;
    expect_problem(r, 401, "unauthorized").await;
    let r = stack
        .get("/api/v1/certificates/not-an-identifier", Some(&holder))
        .await;
    let problem = expect_problem(r, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "id");
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    certificates_are_issued_exactly_once_under_redelivery,
    certificates_verify_offline_and_report_status_changes,
    qr_codes_print_page_and_scoping,
);
