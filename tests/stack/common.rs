//! `TestStack`: start services, mint tokens, call them.

use std::time::{Duration, Instant};

use base64::Engine;
use tokio_util::sync::CancellationToken;
use yizhan::{Service, Stack, StackSettings};
use yizhan_auth::{Role, TokenRequest};
use yizhan_kit::testing::{Backend, TestDatabase};

/// A valid USCC (checked against python-stdnum in the types crate).
pub const ENTERPRISE_A: &str = "91350100M000100Y43";
/// Another valid USCC.
pub const ENTERPRISE_B: &str = "91110000600037341L";

pub const ISSUER: &str = "yizhan-test";
pub const AUDIENCE: &str = "yizhan";

/// Upload cap used by tests (1 MiB), so the cap is cheap to exceed.
pub const TEST_UPLOAD_CAP: u64 = 1024 * 1024;

pub struct TestStack {
    settings: StackSettings,
    backend: Backend,
    pub secret: Vec<u8>,
    pub client: reqwest::Client,
    ports: Vec<(Service, u16)>,
    cancel: CancellationToken,
    waiter: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    databases: Vec<(Service, TestDatabase)>,
    pub data_dir: tempfile::TempDir,
    /// Bootstrap servers of the running stack's broker (tests may produce to it).
    pub brokers: String,
    /// A broker the test runs itself (to stop it under the services);
    /// `None`: each launch starts its own embedded broker.
    shared_broker: Option<String>,
}

impl TestStack {
    pub async fn start(services: &[Service], backend: Backend) -> Self {
        Self::start_tuned(services, backend, |_| {}).await
    }

    /// Like `start`, on a broker the test owns (and may stop).
    pub async fn start_on_broker(services: &[Service], backend: Backend, brokers: &str) -> Self {
        let mut stack = Self::unstarted(backend, |_| {});
        stack.shared_broker = Some(brokers.to_owned());
        stack.launch(services).await;
        stack
    }

    /// Like `start`, with a last say over the settings.
    pub async fn start_tuned(
        services: &[Service],
        backend: Backend,
        tune: impl FnOnce(&mut StackSettings),
    ) -> Self {
        let mut stack = Self::unstarted(backend, tune);
        stack.launch(services).await;
        stack
    }

    /// Settings and databases of a stack, nothing running yet.
    fn unstarted(backend: Backend, tune: impl FnOnce(&mut StackSettings)) -> Self {
        yizhan_kit::telemetry::init_for_tests();
        let data_dir = tempfile::tempdir().unwrap();
        let secret: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
        let mut settings = StackSettings::default();
        settings.common.data_dir = data_dir.path().to_path_buf();
        settings.common.auth.issuer = ISSUER.into();
        settings.common.auth.audience = AUDIENCE.into();
        settings.common.auth.hs256_secret =
            Some(base64::engine::general_purpose::STANDARD.encode(&secret));
        settings.common.outbox.poll_interval_ms = 100;
        settings.common.http.shutdown_timeout_secs = 1;
        // Every test calls from 127.0.0.1, many times over; the rate-limit
        // tests set their own small quotas.
        let unlimited = yizhan_kit::rate_limit::QuotaSettings {
            per_minute: 1_000_000,
            burst: 1_000_000,
        };
        settings.common.http.rate_limit.public = unlimited;
        settings.common.http.rate_limit.login = unlimited;
        let s = &mut settings.services;
        s.licensing.port = 0;
        s.construction.port = 0;
        s.document.port = 0;
        s.notification.port = 0;
        s.enterprise.port = 0;
        s.portal.port = 0;
        s.document.max_upload_bytes = TEST_UPLOAD_CAP;
        // Webhook receivers in tests listen on 127.0.0.1; retries in milliseconds.
        s.notification.allow_private_webhook_targets = true;
        s.notification.webhook_max_attempts = 5;
        s.notification.webhook_first_retry_ms = 50;
        s.notification.webhook_max_retry_ms = 400;
        s.notification.webhook_poll_interval_ms = 50;
        tune(&mut settings);
        Self {
            settings,
            backend,
            secret,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .pool_idle_timeout(yizhan_kit::http::PEER_POOL_IDLE)
                .build()
                .unwrap(),
            ports: Vec::new(),
            cancel: CancellationToken::new(),
            waiter: None,
            databases: Vec::new(),
            data_dir,
            brokers: String::new(),
            shared_broker: None,
        }
    }

    /// Settings and a fresh database for each of `services`, none started:
    /// for tests that run a service their own way.
    pub async fn prepared(services: &[Service], backend: Backend) -> Self {
        let mut stack = Self::unstarted(backend, |_| {});
        stack.ensure_databases(services).await;
        stack
    }

    /// The broker the next `restart` uses.
    pub fn use_broker(&mut self, brokers: &str) {
        self.shared_broker = Some(brokers.to_owned());
    }

    /// Starts `services` (with a new embedded broker), giving each service
    /// the database it had before or a fresh one.
    async fn launch(&mut self, services: &[Service]) {
        self.ensure_databases(services).await;
        self.cancel = CancellationToken::new();
        let stack = match &self.shared_broker {
            Some(brokers) => {
                let broker = yizhan::Broker::Shared(brokers.clone());
                Stack::start_with(services, &self.settings, broker, self.cancel.clone()).await
            }
            None => Stack::start(services, &self.settings, self.cancel.clone()).await,
        }
        .expect("stack starts");
        self.ports = stack.ports.clone();
        self.brokers = stack.broker.bootstrap().to_owned();
        self.waiter = Some(tokio::spawn(stack.wait()));
    }

    async fn ensure_databases(&mut self, services: &[Service]) {
        for service in services.iter().filter(|s| s.has_database()) {
            if !self.databases.iter().any(|(s, _)| s == service) {
                let db = self.backend.fresh_database(service.name()).await;
                let url = Some(db.url.clone());
                let s = &mut self.settings.services;
                match service {
                    Service::Licensing => s.licensing.database_url = url,
                    Service::Construction => s.construction.database_url = url,
                    Service::Document => s.document.database_url = url,
                    Service::Notification => s.notification.database_url = url,
                    Service::Enterprise => s.enterprise.database_url = url,
                    Service::Portal => unreachable!("the portal has no database"),
                }
                self.databases.push((*service, db));
            }
        }
    }

    /// Stops everything (the embedded broker too, losing its contents) and
    /// starts `services` again on the same databases and data directory.
    pub async fn restart(&mut self, services: &[Service]) {
        self.cancel.cancel();
        if let Some(waiter) = self.waiter.take() {
            waiter.await.unwrap().unwrap();
        }
        self.launch(services).await;
    }

    /// The settings the next `restart` uses (e.g. to point the portal at a
    /// stopped service).
    pub fn settings_mut(&mut self) -> &mut StackSettings {
        &mut self.settings
    }

    /// A connection of the test's own to `service`'s database, for driving
    /// a background job at a chosen moment.
    pub async fn connect(&self, service: Service) -> sea_orm::DatabaseConnection {
        sea_orm::Database::connect(self.database_url(service))
            .await
            .unwrap()
    }

    /// URL of `service`'s database.
    pub fn database_url(&self, service: Service) -> &str {
        let (_, db) = self
            .databases
            .iter()
            .find(|(s, _)| *s == service)
            .expect("service database");
        &db.url
    }

    /// Takes `service`'s database away until the outage is ended.
    pub async fn database_outage(&self, service: Service) -> yizhan_kit::outage::DatabaseOutage {
        yizhan_kit::outage::DatabaseOutage::begin(&self.backend, self.database_url(service)).await
    }

    /// Whether `service` runs in this stack.
    pub fn runs(&self, service: Service) -> bool {
        self.ports.iter().any(|(s, _)| *s == service)
    }

    pub fn url(&self, service: Service, path: &str) -> String {
        let port = self
            .ports
            .iter()
            .find(|(s, _)| *s == service)
            .expect("service running")
            .1;
        format!("http://127.0.0.1:{port}{path}")
    }

    pub fn token(&self, req: TokenRequest) -> String {
        yizhan_auth::mint_hs256(&self.secret, ISSUER, AUDIENCE, &req)
    }

    pub fn applicant(&self, sub: &str, uscc: &str) -> String {
        self.token(TokenRequest {
            sub: sub.into(),
            name: Some("测试申请人".into()),
            roles: vec![Role::Applicant],
            uscc: Some(uscc.into()),
            ttl_secs: 600,
            ..Default::default()
        })
    }

    pub fn staff(&self, sub: &str, role: Role) -> String {
        self.token(TokenRequest {
            sub: sub.into(),
            roles: vec![role],
            ttl_secs: 600,
            ..Default::default()
        })
    }

    /// GET with a bearer token.
    pub async fn get(&self, url: impl reqwest::IntoUrl, token: &str) -> reqwest::Response {
        self.client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// GET with a bearer token, answer as JSON.
    pub async fn get_json(&self, url: impl reqwest::IntoUrl, token: &str) -> serde_json::Value {
        self.get(url, token).await.json().await.unwrap()
    }

    /// POST without a body, with a bearer token.
    pub async fn post(&self, url: impl reqwest::IntoUrl, token: &str) -> reqwest::Response {
        self.client
            .post(url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    /// POST a JSON body with a bearer token.
    pub async fn post_json(
        &self,
        url: impl reqwest::IntoUrl,
        token: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        self.client
            .post(url)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    /// Starts a graceful stop (as SIGTERM does) without waiting for it.
    pub fn begin_shutdown(&self) {
        self.cancel.cancel();
    }

    /// Stops the services gracefully and waits for them.
    pub async fn stop(mut self) {
        self.cancel.cancel();
        if let Some(waiter) = self.waiter.take() {
            waiter.await.unwrap().unwrap();
        }
    }
}

impl Drop for TestStack {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

/// Polls `check` until it yields `Some`, or fails the test after `timeout`.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether consumer group `group` has committed, on every partition of
/// `topics`, everything the broker at `brokers` holds: every message,
/// duplicates included, has been applied or dropped by then. Any error
/// (the broker still starting) answers `false`, for the caller to poll.
pub async fn consumer_caught_up(brokers: &str, group: &str, topics: &[&str]) -> bool {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let (brokers, group) = (brokers.to_owned(), group.to_owned());
    let topics: Vec<String> = topics.iter().map(|t| (*t).to_owned()).collect();
    let check = move || -> rdkafka::error::KafkaResult<bool> {
        let timeout = Duration::from_secs(5);
        let consumer: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &brokers)
            .set("group.id", &group)
            .set("enable.auto.commit", "false")
            .create()?;
        let mut wanted = rdkafka::TopicPartitionList::new();
        let mut marks = Vec::new();
        for topic in &topics {
            let metadata = consumer.fetch_metadata(Some(topic), timeout)?;
            for described in metadata.topics() {
                for p in described.partitions() {
                    let (low, high) = consumer.fetch_watermarks(topic, p.id(), timeout)?;
                    wanted.add_partition(topic, p.id());
                    marks.push((topic.clone(), p.id(), low, high));
                }
            }
        }
        let committed = consumer.committed_offsets(wanted, timeout)?;
        Ok(marks.iter().all(|(topic, partition, low, high)| {
            match committed
                .find_partition(topic, *partition)
                .map(|p| p.offset())
            {
                Some(rdkafka::Offset::Offset(at)) => at >= *high,
                // Nothing committed: caught up only if nothing was ever there.
                _ => low == high,
            }
        }))
    };
    tokio::task::spawn_blocking(check)
        .await
        .unwrap()
        .unwrap_or(false)
}

/// Asserts a problem+json answer with `status` and `code`; returns the body.
pub async fn expect_problem(
    response: reqwest::Response,
    status: u16,
    code: &str,
) -> serde_json::Value {
    let got = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    let body = response.text().await.unwrap();
    assert_eq!(got, status, "status; body: {body}");
    assert!(
        content_type.starts_with("application/problem+json"),
        "content type {content_type}; body: {body}"
    );
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["code"], code, "code; body: {body}");
    assert_eq!(json["status"], status);
    assert!(json["title"].as_str().is_some_and(|t| !t.is_empty()));
    json
}

/// A minimal valid PDF-looking file of `len` bytes.
pub fn pdf_bytes(len: usize, salt: &str) -> Vec<u8> {
    let mut bytes = format!("%PDF-1.7\n% {salt}\n").into_bytes();
    bytes.resize(len.max(bytes.len()), b' ');
    bytes
}

/// Uploads a file as `material_type` with the given token.
pub async fn upload(
    stack: &TestStack,
    token: &str,
    material_type: &str,
    filename: &str,
    bytes: Vec<u8>,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new().text("material_type", material_type.to_owned());
    for (k, v) in extra {
        form = form.text(k.to_string(), v.to_string());
    }
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(filename.to_owned()),
    );
    stack
        .client
        .post(stack.url(Service::Document, "/api/v1/materials"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

/// Uploads one PDF per material code, each as the material type of its
/// code (the approval services refuse a material filed under another
/// type), all at once; answers code → material id. Without a document
/// service in the stack, made-up ids (references are then not checked).
pub async fn materials_for_codes(
    stack: &TestStack,
    token: &str,
    enterprise: Option<&str>,
    codes: &[String],
) -> serde_json::Map<String, serde_json::Value> {
    if !stack.runs(Service::Document) {
        return codes
            .iter()
            .enumerate()
            .map(|(i, c)| {
                (
                    c.clone(),
                    serde_json::json!(format!("0193aa00-0000-7000-8000-{i:012}")),
                )
            })
            .collect();
    }
    let uploads = codes.iter().map(|code| async move {
        let extra: Vec<(&str, &str)> = enterprise
            .map(|e| ("enterprise_uscc", e))
            .into_iter()
            .collect();
        let response = upload(
            stack,
            token,
            code,
            // Named as a person would name the file (pages and messages
            // show the file name; a code there would be the test's own).
            &format!(
                "{}.pdf",
                yizhan_types::material_type::name_of(code).unwrap_or("材料")
            ),
            pdf_bytes(2048, &uuid::Uuid::now_v7().to_string()),
            &extra,
        )
        .await;
        let id = json_ok(response, 201).await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        (code.clone(), serde_json::json!(id))
    });
    futures_util::future::join_all(uploads)
        .await
        .into_iter()
        .collect()
}

/// Uploads a small floor plan that must be accepted; answers the material.
pub async fn upload_one(stack: &TestStack, token: &str) -> serde_json::Value {
    let salt = uuid::Uuid::now_v7().to_string();
    let response = upload(
        stack,
        token,
        "floor_plan",
        "plan.pdf",
        pdf_bytes(2048, &salt),
        &[],
    )
    .await;
    json_ok(response, 201).await
}

/// The status must be `status`; answers the JSON body.
pub async fn json_ok(response: reqwest::Response, status: u16) -> serde_json::Value {
    let got = response.status().as_u16();
    let body = response.text().await.unwrap();
    assert_eq!(got, status, "body: {body}");
    serde_json::from_str(&body).unwrap()
}

/// A token of department `dept`'s reviewer (`reviewer-<dept>`).
pub fn reviewer(stack: &TestStack, dept: &str) -> String {
    stack.token(yizhan_auth::TokenRequest {
        sub: format!("reviewer-{dept}"),
        roles: vec![yizhan_auth::Role::DeptReviewer],
        dept: Some(dept.into()),
        ttl_secs: 600,
        ..Default::default()
    })
}

/// A token of an agent (帮办代办员) authorised by `enterprises`.
pub fn agent(stack: &TestStack, sub: &str, enterprises: &[&str]) -> String {
    stack.token(yizhan_auth::TokenRequest {
        sub: sub.into(),
        roles: vec![yizhan_auth::Role::Agent],
        enterprises: enterprises.iter().map(|e| (*e).to_owned()).collect(),
        ttl_secs: 600,
        ..Default::default()
    })
}
