//! 工程建设项目审批 (construction): projects, four stages, parallel items and joint acceptance.
//!
//! Standing service: database with the backbone tables, outbox relay, health,
//! auth and OpenAPI. The domain (catalog, applications, tasks, SLA clocks)
//! arrives with its own issue.

use sea_orm::DatabaseConnection;
use sea_orm_migration::prelude::*;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use yizhan_auth::Authenticator;
use yizhan_events::runtime::Backbone;
use yizhan_kit::health::{DatabaseCheck, Readiness};
use yizhan_kit::settings::CommonSettings;

/// Service name: consumer group, database name, log field.
pub const SERVICE: &str = "construction";

/// Settings (`[construction]`, `YIZHAN_CONSTRUCTION__*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// HTTP port.
    pub port: u16,
    /// Database URL; defaults to `sqlite://<data_dir>/construction.db`.
    pub database_url: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            port: 8082,
            database_url: None,
        }
    }
}

/// Migrations of this service.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        yizhan_events::migration::backbone_migrations()
    }
}

/// The OpenAPI document (also written to `openapi/construction.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    yizhan_events::runtime::openapi_of(
        yizhan_kit::openapi::base(
            "construction",
            "工程建设项目四阶段并联审批。所有错误均为 RFC 9457 problem+json。",
        ),
        |_| {},
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
        let db = yizhan_kit::db::connect_and_migrate::<Migrator>(&url).await?;
        let readiness = Readiness::default()
            .with(DatabaseCheck(db.clone()))
            .with(backbone.readiness());
        let (port, server) = yizhan_events::runtime::http_server(
            common,
            settings.port,
            openapi(),
            readiness,
            auth,
            |_| {},
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

    /// The database pool.
    pub fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Serves HTTP and relays the outbox until `cancel`.
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<()> {
        let relay = self.backbone.relay(self.db.clone());
        yizhan_events::runtime::run(self.server, relay, None, cancel).await
    }
}
