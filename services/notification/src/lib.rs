//! 消息通知服务 (notification): in-app inboxes fed by every service's events.
//!
//! Consumes the other services' topics idempotently and publishes on
//! `yizhan.notification.v1`. Partner webhooks, email/SMS and deadline
//! warnings grow here (see the notification issue).

pub mod error;
pub mod handlers;
pub mod routes;
pub mod store;

use std::sync::Arc;

use actix_web::web;
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use yizhan_auth::Authenticator;
use yizhan_events::consumer::{ConsumerConfig, EventConsumer};
use yizhan_events::contracts::topics;
use yizhan_events::runtime::Backbone;
use yizhan_kit::health::{DatabaseCheck, Readiness};
use yizhan_kit::settings::CommonSettings;

/// Service name: consumer group, database name, log field.
pub const SERVICE: &str = "notification";

/// The notification service's settings (`[notification]`, `YIZHAN_NOTIFICATION__*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// HTTP port.
    pub port: u16,
    /// Database URL; defaults to `sqlite://<data_dir>/notification.db`.
    pub database_url: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            port: 8084,
            database_url: None,
        }
    }
}

/// Shared handler state.
pub struct AppState {
    /// Database pool.
    pub db: DatabaseConnection,
}

/// The OpenAPI document (also written to `openapi/notification.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    yizhan_events::runtime::openapi_of(
        yizhan_kit::openapi::base(
            "notification",
            "站内消息（按用户与企业）。所有错误均为 RFC 9457 problem+json。",
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
        let state = web::Data::new(AppState { db: db.clone() });
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
            consumer: ConsumerConfig::new(
                SERVICE,
                &[topics::DOCUMENT, topics::LICENSING, topics::CONSTRUCTION],
            ),
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

    /// Serves HTTP, relays the outbox and consumes events until `cancel`.
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<()> {
        let relay = self.backbone.relay(self.db.clone());
        let handlers = Arc::new(handlers::Handlers {
            signal: self.backbone.signal.clone(),
        });
        let consumer = EventConsumer::new(
            self.db.clone(),
            self.backbone.kafka.clone(),
            self.consumer,
            handlers,
        )?;
        let task: yizhan_events::runtime::ConsumerTask = Box::pin(consumer.run(cancel.clone()));
        yizhan_events::runtime::run(self.server, relay, Some(task), cancel).await
    }
}
