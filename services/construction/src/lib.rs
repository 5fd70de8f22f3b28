//! 工程建设项目审批 (construction): projects, four stages, parallel items,
//! 容缺受理, 告知承诺制, 拿地即开工, 联合验收 and the whole-process budget.
//!
//! Publishes every state change of a project on `yizhan.construction.v1`
//! (and, as `ByConstruction(CertificateIssueRequested)`, the construction
//! permit request the document service answers); consumes
//! `CertificateIssued` from `yizhan.document.v1`. Layers: `domain` (catalog,
//! stage form, stage and inspection rules, budget clock; no I/O), `store`
//! (sea-orm), `routes` (HTTP + OpenAPI), `handlers` (consumed events),
//! `jobs` (the daily 容缺 expiry and budget scan), `seed` (the catalog an
//! empty database starts with).

pub mod domain;
pub mod jobs;
pub mod routes;
pub mod seed;
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
use yizhan_events::consumer::ConsumerConfig;
use yizhan_events::contracts::topics;
use yizhan_events::outbox::OutboxSignal;
use yizhan_events::runtime::Backbone;
use yizhan_kit::health::{DatabaseCheck, Readiness};
use yizhan_kit::settings::CommonSettings;

use crate::domain::catalog::{Catalog, Category};

/// Service name: consumer group, database name, log field.
pub const SERVICE: &str = "construction";

/// Whole-process budgets per category, in working days
/// (`[construction.budgets]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Budgets {
    /// 政府投资项目.
    pub government_investment: u16,
    /// 社会投资项目.
    pub social_investment: u16,
    /// 社会投资小型低风险项目.
    pub small_low_risk: u16,
}

impl Default for Budgets {
    fn default() -> Self {
        Self {
            government_investment: 60,
            social_investment: 50,
            small_low_risk: 24,
        }
    }
}

impl Budgets {
    /// The budget of `category`.
    pub fn of(&self, category: Category) -> u16 {
        match category {
            Category::GovernmentInvestment => self.government_investment,
            Category::SocialInvestment => self.social_investment,
            Category::SmallLowRisk => self.small_low_risk,
        }
    }
}

/// Settings (`[construction]`, `YIZHAN_CONSTRUCTION__*`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// HTTP port.
    pub port: u16,
    /// Database URL; defaults to `sqlite://<data_dir>/construction.db`.
    pub database_url: Option<String>,
    /// Directory of `*.toml` holiday schedules that add to or replace the
    /// built-in years.
    pub calendar_dir: Option<PathBuf>,
    /// Whole-process budgets per category.
    pub budgets: Budgets,
    /// Working days a department has to verify a 告知承诺 approval.
    pub commitment_verification_days: u32,
    /// Longest 容缺 period the window may grant, in working days.
    pub tolerance_max_days: u32,
    /// Seconds between runs of the background jobs (deadline alarms, 容缺
    /// expiry, budget scan); 0 disables the background loop (the admin
    /// endpoint still runs the daily ones).
    pub job_interval_secs: u64,
    /// Base URL of the document service, for checking the materials a
    /// stage references (e.g. `http://document:8083`). Unset: references
    /// are not checked (a lone construction service in development).
    pub document_url: Option<String>,
    /// Timeout of one material lookup, in milliseconds.
    pub document_timeout_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            port: 8082,
            database_url: None,
            calendar_dir: None,
            budgets: Budgets::default(),
            commitment_verification_days: 20,
            tolerance_max_days: 20,
            job_interval_secs: 60,
            document_url: None,
            document_timeout_ms: 3000,
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
    /// The working-day calendar.
    pub calendar: Calendar,
    /// The current catalog version.
    pub catalog: Arc<Catalog>,
    /// The service settings (budgets, periods).
    pub settings: Settings,
    /// Checks material references with the document service.
    pub materials: yizhan_workflow::materials::MaterialCheck,
}

/// The OpenAPI document (also written to `openapi/construction.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut api = yizhan_events::runtime::openapi_of(
        yizhan_kit::openapi::base(
            "construction",
            "工程建设项目审批：项目登记、四阶段一表申请、并联审批、容缺受理、告知承诺制、拿地即开工、联合验收、征求意见、全流程时限与统计。所有错误均为 RFC 9457 problem+json。",
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
        let catalog = Arc::new(store::catalog::publish_seed(&db, &seed::catalog()).await?);
        let mut calendar = Calendar::builtin();
        if let Some(dir) = &settings.calendar_dir {
            let years = calendar.load_dir(dir)?;
            tracing::info!(?years, dir = %dir.display(), "holiday schedules loaded");
        }
        if settings.document_url.is_none() {
            tracing::warn!(
                "construction.document_url is not set: material references are not checked"
            );
        }
        let state = web::Data::new(AppState {
            db: db.clone(),
            signal: backbone.signal.clone(),
            calendar,
            catalog,
            settings: settings.clone(),
            materials: yizhan_workflow::materials::MaterialCheck::new(
                settings.document_url.clone(),
                Duration::from_millis(settings.document_timeout_ms),
            )?,
        });
        let readiness = Readiness::default()
            .with(DatabaseCheck(db.clone()))
            .with(backbone.readiness());
        let routes_state = state.clone();
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

    /// Serves HTTP, relays the outbox, consumes certificate answers and runs
    /// the daily jobs until `cancel`.
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<()> {
        let relay = self.backbone.relay(self.db.clone());
        // The document service's answers to this service's certificate
        // requests, recorded on the case (`yizhan_workflow::answers`).
        let answers = yizhan_workflow::answers::CertificateAnswers {
            service: SERVICE,
            record: |txn, issued| {
                Box::pin(crate::store::record_certificate(
                    txn,
                    &issued.request_id,
                    &issued.certificate_id,
                    &issued.certificate_type,
                ))
            },
            signal: self.backbone.signal.clone(),
        };
        let interval = self.state.settings.job_interval_secs;
        let state = self.state.clone();
        let job_cancel = cancel.clone();
        let jobs = async move {
            if interval > 0 {
                jobs::run_periodically(state, Duration::from_secs(interval), job_cancel).await;
            }
        };
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
