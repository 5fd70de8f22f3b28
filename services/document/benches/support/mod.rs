//! Shared set-up for the document benchmarks: the service in-process on
//! SQLite with the embedded broker, a token minter, and a producer for
//! publishing events as licensing would.

use std::time::Duration;

use base64::Engine;
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio_util::sync::CancellationToken;
use yizhan_auth::{AuthConfig, AuthMode, Authenticator, Role, TokenRequest};
use yizhan_events::Envelope;
use yizhan_events::broker::EmbeddedBroker;
use yizhan_events::outbox::RelayConfig;
use yizhan_events::runtime::Backbone;
use yizhan_kit::settings::CommonSettings;

/// The benchmark enterprise.
pub const USCC: &str = "91350100M000100Y43";

/// A running document service.
pub struct Bench {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// An applicant token of [`USCC`].
    pub token: String,
    /// Producer on the embedded broker.
    pub producer: FutureProducer,
    cancel: CancellationToken,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
    _broker: EmbeddedBroker,
    _dir: tempfile::TempDir,
}

impl Bench {
    /// Starts the service with an upload cap of `max_upload_bytes`.
    pub async fn start(max_upload_bytes: u64) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let secret = b"benchmark-secret-benchmark-secret".to_vec();
        let mut common = CommonSettings {
            data_dir: dir.path().to_path_buf(),
            ..Default::default()
        };
        common.auth.hs256_secret = Some(base64::engine::general_purpose::STANDARD.encode(&secret));
        let settings = yizhan_document::Settings {
            port: 0,
            max_upload_bytes,
            ..Default::default()
        };
        let broker = EmbeddedBroker::start(&[]).unwrap();
        let backbone = Backbone::connect(
            broker.bootstrap_servers(),
            "document",
            RelayConfig::default(),
        )
        .unwrap();
        let producer = backbone.producer.clone();
        let auth = Authenticator::new(AuthConfig::new(
            "yizhan-dev",
            "yizhan",
            AuthMode::Hs256 {
                secret: secret.clone(),
            },
        ));
        let app = yizhan_document::Application::build(&common, &settings, backbone, auth)
            .await
            .unwrap();
        let base = format!("http://127.0.0.1:{}", app.port());
        let cancel = CancellationToken::new();
        let server = tokio::spawn(app.run(cancel.clone()));
        let token = yizhan_auth::mint_hs256(
            &secret,
            "yizhan-dev",
            "yizhan",
            &TokenRequest {
                sub: "bench".into(),
                roles: vec![Role::Applicant],
                uscc: Some(USCC.into()),
                ttl_secs: 3600,
                ..Default::default()
            },
        );
        Self {
            base,
            token,
            producer,
            cancel,
            server,
            _broker: broker,
            _dir: dir,
        }
    }

    /// Publishes an envelope to `topic` as its producing service would.
    #[allow(dead_code)]
    pub async fn publish(&self, topic: &str, envelope: &Envelope) {
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

    /// Stops the service.
    pub async fn stop(self) {
        self.cancel.cancel();
        self.server.await.unwrap().unwrap();
    }
}

/// The `p`-quantile of sorted milliseconds.
pub fn quantile(sorted_ms: &[f64], p: f64) -> f64 {
    sorted_ms[((sorted_ms.len() - 1) as f64 * p).round() as usize]
}
