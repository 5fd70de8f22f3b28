//! 一业一证联办 (licensing): industry scenarios, the merged form, parallel
//! review and the comprehensive licence.
//!
//! Publishes every state change of an application on `yizhan.licensing.v1`
//! (and the licence request the document service answers); consumes
//! `CertificateIssued` from `yizhan.document.v1`. Layers: `domain` (catalog,
//! notice, form validation, bundle rule; no I/O), `store` (sea-orm),
//! `routes` (HTTP + OpenAPI), `seed` (the
//! catalog an empty database starts with).

pub mod domain;
pub mod jobs;
pub mod routes;
pub mod seed;
pub mod store;

use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use actix_web::web;
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use yizhan_approval::Calendar;
use yizhan_auth::Authenticator;
use yizhan_events::consumer::ConsumerConfig;
use yizhan_events::contracts::topics;
use yizhan_events::outbox::OutboxSignal;
use yizhan_events::runtime::Backbone;
use yizhan_kit::health::{DatabaseCheck, Readiness};
use yizhan_kit::settings::CommonSettings;

use crate::domain::catalog::Catalog;

/// Service name: consumer group, database name, log field.
pub const SERVICE: &str = "licensing";

/// Settings (`[licensing]`, `YIZHAN_LICENSING__*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// HTTP port.
    pub port: u16,
    /// Database URL; defaults to `sqlite://<data_dir>/licensing.db`.
    pub database_url: Option<String>,
    /// Directory of `*.toml` holiday schedules that add to or replace the
    /// built-in years (see `libs/approval/calendars/README.md`).
    pub calendar_dir: Option<PathBuf>,
    /// Base URL of the document service, for checking the materials an
    /// application references (e.g. `http://document:8083`). The
    /// all-in-one binary fills it in; unset, references are not checked.
    pub document_url: Option<String>,
    /// Timeout of one material check, milliseconds.
    pub document_timeout_ms: u64,
    /// Seconds between runs of the background jobs (deadline alarms,
    /// 容缺 expiry, catalog refresh).
    pub jobs_interval_secs: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            port: 8081,
            database_url: None,
            calendar_dir: None,
            document_url: None,
            document_timeout_ms: 3000,
            jobs_interval_secs: 30,
        }
    }
}

/// Migrations of this service.
pub use store::Migrator;

/// Shared handler state.
pub struct AppState {
    /// Database pool.
    pub db: DatabaseConnection,
    /// Wakes the outbox relay after commits.
    pub signal: OutboxSignal,
    /// Waiting reads of an application, woken when its events are relayed.
    pub subjects: yizhan_events::outbox::SubjectWatch,
    /// The working-day calendar every deadline is computed with.
    pub calendar: Calendar,
    /// The current catalog version (new notices and applications use it);
    /// replaced when an admin publishes a new one (see [`AppState::catalog`]).
    pub current_catalog: RwLock<Arc<Catalog>>,
    /// Checks material references against the document service.
    pub materials: yizhan_workflow::materials::MaterialCheck,
}

impl AppState {
    /// The current catalog.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.current_catalog
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Makes `catalog` current if it is newer than the one held.
    pub fn adopt_catalog(&self, catalog: Catalog) {
        let mut held = self
            .current_catalog
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if catalog.version > held.version {
            *held = Arc::new(catalog);
        }
    }
}

/// The OpenAPI document (also written to `openapi/licensing.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut api = yizhan_events::runtime::openapi_of(
        yizhan_kit::openapi::base(
            "licensing",
            "一业一证：一单告知、一表申请、综合受理、并联审批、一证准营与办理进度；工作日历。所有错误均为 RFC 9457 problem+json。",
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
    /// Connects, migrates, seeds the catalog if empty, binds (port 0 = any
    /// free port) and builds the server.
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
        store::catalog::ensure_seeded(&db, &seed::catalog()).await?;
        let catalog = Arc::new(store::catalog::latest(&db).await?);
        // The catalog in use is checked again at every start: a material
        // code that is not (or no longer) a material type is refused.
        let problems = catalog.problems();
        if !problems.is_empty() {
            anyhow::bail!(
                "licensing catalog v{} cannot be used: {}",
                catalog.version,
                problems
                    .iter()
                    .map(|p| format!("{}: {}", p.field, p.message))
                    .collect::<Vec<_>>()
                    .join("; ")
            );
        }
        let mut calendar = Calendar::builtin();
        if let Some(dir) = &settings.calendar_dir {
            let years = calendar.load_dir(dir)?;
            tracing::info!(?years, dir = %dir.display(), "holiday schedules loaded");
        }
        if settings.document_url.is_none() {
            tracing::warn!(
                "licensing.document_url is not set: material references are not checked"
            );
        }
        let state = web::Data::new(AppState {
            db: db.clone(),
            signal: backbone.signal.clone(),
            subjects: backbone.subjects.clone(),
            calendar,
            current_catalog: RwLock::new(catalog),
            materials: yizhan_workflow::materials::MaterialCheck::new(
                settings.document_url.clone(),
                Duration::from_millis(settings.document_timeout_ms),
            )?,
        });
        let routes_state = state.clone();
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
                cfg.app_data(routes_state.clone());
                routes::configure(cfg);
            },
        )?;
        Ok(Self {
            port,
            server,
            db,
            backbone,
            consumer: ConsumerConfig::new(SERVICE, &[topics::DOCUMENT]),
            state,
            jobs_interval: Duration::from_secs(settings.jobs_interval_secs.max(1)),
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

    /// Serves HTTP, relays the outbox, consumes certificate answers and
    /// runs the background jobs until `cancel`.
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<()> {
        let relay = self.backbone.relay(self.db.clone());
        // The document service's answers to this service's certificate
        // requests, recorded on the case (`yizhan_workflow::answers`).
        let answers = yizhan_workflow::answers::CertificateAnswers {
            service: SERVICE,
            record: |txn, issued| {
                Box::pin(crate::store::record_licence(
                    txn,
                    &issued.request_id,
                    &issued.certificate_id,
                ))
            },
            signal: self.backbone.signal.clone(),
        };
        let jobs = jobs::run(self.state.clone(), self.jobs_interval, cancel.clone());
        let task = answers.into_task(
            self.db.clone(),
            &self.backbone,
            self.consumer,
            jobs,
            cancel.clone(),
        )?;
        yizhan_events::runtime::run(self.server, relay, Some(task), cancel).await
    }
}
