//! 材料与电子证照服务 (document): applicants' materials, the enterprise
//! archive (一企一档) and, later, signed e-certificates.
//!
//! Publishes on `yizhan.document.v1`. Built as a library so tests start it
//! in-process on port 0; `main` only wires settings and telemetry.

pub mod domain;
pub mod error;
pub mod routes;
pub mod store;

use std::path::PathBuf;
use std::sync::Arc;

use actix_web::web;
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use yizhan_auth::Authenticator;
use yizhan_events::outbox::OutboxSignal;
use yizhan_events::runtime::Backbone;
use yizhan_kit::health::{DatabaseCheck, Readiness};
use yizhan_kit::settings::CommonSettings;

use crate::store::storage::{BlobStore, LocalStore};

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
    /// Blob storage directory; defaults to `<data_dir>/documents`.
    pub storage_dir: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            port: 8083,
            database_url: None,
            max_upload_bytes: 50 * 1024 * 1024,
            storage_dir: None,
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
    yizhan_events::runtime::openapi_of(
        yizhan_kit::openapi::base(
            "document",
            "材料上传与企业档案（一企一档）、电子证照。所有错误均为 RFC 9457 problem+json。",
        ),
        routes::configure,
    )
}

/// A built, bound, not yet running service.
pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    db: DatabaseConnection,
    backbone: Backbone,
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
        let state = web::Data::new(AppState {
            db: db.clone(),
            store: Arc::new(LocalStore::new(storage_dir)?),
            signal: backbone.signal.clone(),
            max_upload_bytes: settings.max_upload_bytes,
        });
        let readiness = Readiness::default()
            .with(DatabaseCheck(db.clone()))
            .with(backbone.readiness());
        let (port, server) = yizhan_events::runtime::http_server(
            common,
            settings.port,
            openapi(),
            readiness,
            auth,
            move |cfg| {
                cfg.app_data(state.clone());
                routes::configure(cfg);
            },
        )?;
        Ok(Self {
            port,
            server,
            db,
            backbone,
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

    /// Serves HTTP and relays the outbox until `cancel`.
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<()> {
        let relay = self.backbone.relay(self.db.clone());
        yizhan_events::runtime::run(self.server, relay, None, cancel).await
    }
}
