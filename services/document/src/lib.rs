//! 材料与电子证照服务 (document): applicants' materials, the enterprise
//! archive (一企一档) and signed e-certificates (电子证照).
//!
//! Publishes on `yizhan.document.v1`; consumes certificate issue and status
//! requests from `yizhan.licensing.v1` and `yizhan.construction.v1`, and
//! licensing's application and task facts (who may read which material). Built
//! as a library so tests start it in-process on port 0; `main` only wires
//! settings and telemetry.

pub mod certificates;
pub mod domain;
pub mod error;
pub mod handlers;
pub mod licence_pdf;
pub mod qr;
pub mod routes;
pub mod store;

use std::path::PathBuf;
use std::sync::Arc;

use actix_web::web;
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use yizhan_auth::Authenticator;
use yizhan_events::consumer::{ConsumerConfig, EventConsumer};
use yizhan_events::contracts::topics;
use yizhan_events::outbox::{OutboxSignal, WakeAfterCommit};
use yizhan_events::runtime::Backbone;
use yizhan_kit::health::{DatabaseCheck, Readiness};
use yizhan_kit::settings::CommonSettings;

use crate::certificates::{CertificateSettings, Certificates};
use crate::store::storage::{BlobStore, StorageSettings};

/// Service name: consumer group, database name, log field.
pub const SERVICE: &str = "document";

/// The document service's own settings (`[document]`, `YIZHAN_DOCUMENT__*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// HTTP port.
    pub port: u16,
    /// Database URL; defaults to `sqlite://<data_dir>/document.db`.
    pub database_url: Option<String>,
    /// Upload size cap in bytes.
    pub max_upload_bytes: u64,
    /// Local blob and temp-file directory; defaults to `<data_dir>/documents`.
    pub storage_dir: Option<PathBuf>,
    /// Where blobs live: local files (default) or S3-compatible storage.
    pub storage: StorageSettings,
    /// E-certificates: issuer, types, keys, verification URL.
    pub certificates: CertificateSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            port: 8083,
            database_url: None,
            max_upload_bytes: 50 * 1024 * 1024,
            storage_dir: None,
            storage: StorageSettings::default(),
            certificates: CertificateSettings::default(),
        }
    }
}

/// Shared handler state.
pub struct AppState {
    /// Database pool.
    pub db: DatabaseConnection,
    /// File bytes.
    pub store: Arc<dyn BlobStore>,
    /// Wakes the outbox relay after commits.
    pub signal: OutboxSignal,
    /// Upload size cap.
    pub max_upload_bytes: u64,
}

/// The OpenAPI document (also written to `openapi/document.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut api = yizhan_events::runtime::openapi_of(
        yizhan_kit::openapi::base(
            "document",
            "材料上传与企业档案（一企一档）；电子证照的签发记录、二维码、打印版、公开核验与签名公钥集（JWKS）。所有错误均为 RFC 9457 problem+json。",
        ),
        true,
        routes::configure,
    );
    yizhan_kit::rate_limit::document(&mut api, routes::RATE_LIMITED);
    api
}

/// A built, bound, not yet running service.
pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    db: DatabaseConnection,
    backbone: Backbone,
    certificates: Arc<Certificates>,
    consumer: ConsumerConfig,
}

impl Application {
    /// Connects, migrates, binds (port 0 = any free port) and builds the server.
    pub async fn build(
        common: &CommonSettings,
        settings: &Settings,
        backbone: Backbone,
        auth: Authenticator,
    ) -> anyhow::Result<Self> {
        let url = settings
            .database_url
            .clone()
            .unwrap_or_else(|| common.default_database_url(SERVICE));
        let db = yizhan_kit::db::connect_and_migrate::<store::Migrator>(&url).await?;
        let storage_dir = settings
            .storage_dir
            .clone()
            .unwrap_or_else(|| common.data_dir.join("documents"));
        let certificates = web::Data::new(Certificates::new(common, &settings.certificates)?);
        let state = web::Data::new(AppState {
            db: db.clone(),
            store: store::storage::build(&settings.storage, &storage_dir)?,
            signal: backbone.signal.clone(),
            max_upload_bytes: settings.max_upload_bytes,
        });
        let readiness = Readiness::default()
            .with(DatabaseCheck(db.clone()))
            .with(backbone.readiness());
        let routes_certificates = certificates.clone();
        let (port, server) = yizhan_events::runtime::http_server(
            common,
            settings.port,
            openapi(),
            readiness,
            auth,
            yizhan_events::runtime::Guards {
                limited: routes::RATE_LIMITED,
                audit: Some(yizhan_events::audit::middleware::AuditLog {
                    db: db.clone(),
                    service: SERVICE.to_owned(),
                }),
            },
            move |cfg| {
                cfg.app_data(state.clone());
                cfg.app_data(routes_certificates.clone());
                routes::configure(cfg);
            },
        )?;
        certificates.default_base_url(&common.http.host, port);
        Ok(Self {
            port,
            server,
            db,
            backbone,
            certificates: certificates.into_inner(),
            consumer: ConsumerConfig::new(SERVICE, &[topics::LICENSING, topics::CONSTRUCTION]),
        })
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The database pool (tests inspect it).
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Serves HTTP, relays the outbox and consumes certificate requests until `cancel`.
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<()> {
        let relay = self.backbone.relay(self.db.clone());
        let handlers = Arc::new(handlers::Handlers {
            certificates: self.certificates,
            relay: WakeAfterCommit::new(self.backbone.signal.clone()),
        });
        let consumer =
            EventConsumer::new(self.db.clone(), &self.backbone, self.consumer, handlers)?;
        let task: yizhan_events::runtime::ConsumerTask = Box::pin(consumer.run(cancel.clone()));
        yizhan_events::runtime::run(self.server, relay, Some(task), cancel).await
    }
}
