//! 企业服务 (enterprise): the 一企一档 profile, 诉求 dispatch, 免申即享
//! policy benefits and 好差评 ratings.
//!
//! Layers as in every service: `domain` (facts, the eligibility rule
//! language, amounts and budgets, policies and candidates, the 一企一档
//! projection, 诉求 states and dispatch, statistics, ratings; no I/O),
//! `store` (sea-orm; every write beside its outbox event), `routes` (HTTP +
//! OpenAPI), `handlers` (what each consumed event does). Consumes the
//! licensing, construction and document topics (the profile is built from
//! them) and publishes on `yizhan.enterprise.v1`. See `docs/ENTERPRISE.md`.

#![forbid(unsafe_code)]

pub mod domain;
pub mod handlers;
pub mod jobs;
pub mod routes;
pub mod store;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use actix_web::web;
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use yizhan_approval::Calendar;
use yizhan_auth::Authenticator;
use yizhan_events::consumer::{ConsumerConfig, EventConsumer};
use yizhan_events::contracts::topics;
use yizhan_events::outbox::OutboxSignal;
use yizhan_events::runtime::Backbone;
use yizhan_kit::health::{DatabaseCheck, Readiness};
use yizhan_kit::settings::CommonSettings;

/// Service name: consumer group, database name, log field.
pub const SERVICE: &str = "enterprise";

/// Settings (`[enterprise]`, `YIZHAN_ENTERPRISE__*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// HTTP port.
    pub port: u16,
    /// Database URL; defaults to `sqlite://<data_dir>/enterprise.db`.
    pub database_url: Option<String>,
    /// Directory of `*.toml` holiday schedules that add to or replace the
    /// built-in years (see `libs/approval/calendars/README.md`).
    pub calendar_dir: Option<PathBuf>,
    /// Seconds between runs of the background jobs (deadline alarms).
    pub jobs_interval_secs: u64,
    /// Working days a department has to follow up a 差评 (1-2).
    pub follow_up_days: i32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            port: 8085,
            database_url: None,
            calendar_dir: None,
            jobs_interval_secs: 30,
            follow_up_days: domain::ratings::DEFAULT_FOLLOW_UP_DAYS,
        }
    }
}

/// The day in China (UTC+8) at `now`: policies' windows, licence validity
/// and "issued after" are all China-local days.
pub fn today(now: chrono::DateTime<chrono::Utc>) -> chrono::NaiveDate {
    yizhan_approval::calendar::china_local(now).date()
}

/// Migrations of this service.
pub use store::Migrator;

/// Shared handler state.
pub struct AppState {
    /// Database pool.
    pub db: DatabaseConnection,
    /// Wakes the outbox relay after commits.
    pub signal: OutboxSignal,
    /// The working-day calendar every time limit is computed with.
    pub calendar: Arc<Calendar>,
    /// Working days a department has to follow up a 差评.
    pub follow_up_days: i32,
}

/// The OpenAPI document (also written to `openapi/enterprise.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut api = yizhan_events::runtime::openapi_of(
        yizhan_kit::openapi::base(
            "enterprise",
            "企业服务：一企一档、诉求派单与答复、免申即享政策兑现、好差评及其整改。所有错误均为 RFC 9457 problem+json。",
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
    consumer: ConsumerConfig,
    state: web::Data<AppState>,
    jobs_interval: Duration,
}

impl Application {
    /// Connects, migrates, binds (port 0 = any free port) and builds the
    /// server.
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
        let mut calendar = Calendar::builtin();
        if let Some(dir) = &settings.calendar_dir {
            let years = calendar.load_dir(dir)?;
            tracing::info!(?years, dir = %dir.display(), "holiday schedules loaded");
        }
        if !(1..=60).contains(&settings.follow_up_days) {
            anyhow::bail!(
                "enterprise.follow_up_days must be 1-60 working days, not {}",
                settings.follow_up_days
            );
        }
        let state = web::Data::new(AppState {
            db: db.clone(),
            signal: backbone.signal.clone(),
            calendar: Arc::new(calendar),
            follow_up_days: settings.follow_up_days,
        });
        let jobs_state = state.clone();
        let readiness = Readiness::default()
            .with(DatabaseCheck(db.clone()))
            .with(backbone.readiness());
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
                &[topics::LICENSING, topics::CONSTRUCTION, topics::DOCUMENT],
            ),
            state: jobs_state,
            jobs_interval: Duration::from_secs(settings.jobs_interval_secs.max(1)),
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

    /// The shared handler state (tests run the background jobs on it at a
    /// chosen moment).
    pub fn state(&self) -> web::Data<AppState> {
        self.state.clone()
    }

    /// Serves HTTP, relays the outbox, consumes the other services' events
    /// and runs the background jobs until `cancel`.
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<()> {
        let relay = self.backbone.relay(self.db.clone());
        let handlers = Arc::new(handlers::Handlers {
            relay: yizhan_events::outbox::WakeAfterCommit::new(self.backbone.signal.clone()),
        });
        let consumer =
            EventConsumer::new(self.db.clone(), &self.backbone, self.consumer, handlers)?;
        let jobs = jobs::run(self.state.clone(), self.jobs_interval, cancel.clone());
        let consuming = consumer.run(cancel.clone());
        // Both on the consumer's task: the jobs end with `cancel` as the
        // consumer does, and the service ends when the consumer does.
        let (mut jobs, mut consuming) = (Box::pin(jobs), Box::pin(consuming));
        let mut jobs_done = false;
        let task: yizhan_events::runtime::ConsumerTask =
            Box::pin(std::future::poll_fn(move |cx| {
                if !jobs_done && jobs.as_mut().poll(cx).is_ready() {
                    jobs_done = true;
                }
                consuming.as_mut().poll(cx)
            }));
        yizhan_events::runtime::run(self.server, relay, Some(task), cancel).await
    }
}
