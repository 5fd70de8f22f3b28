//! The yizhan stack: wiring the four services to a broker, databases and an
//! authenticator, in one process (`cargo run --release`) or one service per
//! process (`yizhan serve <service>`). The CLI in `main.rs` and the
//! cross-service tests in `tests/` both start services through here.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use base64::Engine;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use yizhan_auth::{AuthConfig, AuthMode, Authenticator};
use yizhan_events::broker::EmbeddedBroker;
use yizhan_events::contracts::topics;
use yizhan_events::outbox::RelayConfig;
use yizhan_events::runtime::Backbone;
use yizhan_kit::settings::CommonSettings;

mod broker;
#[cfg(test)]
mod contract_checks;
pub use broker::{
    broker_address_file, read_broker_address, serve_following_broker, write_broker_address,
};

/// The services of the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, clap::ValueEnum)]
pub enum Service {
    /// 一业一证联办.
    Licensing,
    /// 工程建设项目审批.
    Construction,
    /// 材料与电子证照.
    Document,
    /// 消息通知.
    Notification,
    /// 企业服务: 一企一档, 诉求, 免申即享, 好差评.
    Enterprise,
    /// 办事门户: the web pages and the merged queues.
    Portal,
}

impl Service {
    /// All services, in start order (producers before consumers, the
    /// portal, which calls the others, last).
    pub const ALL: [Service; 6] = [
        Service::Document,
        Service::Licensing,
        Service::Construction,
        Service::Notification,
        Service::Enterprise,
        Service::Portal,
    ];

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Licensing => "licensing",
            Self::Construction => "construction",
            Self::Document => "document",
            Self::Notification => "notification",
            Self::Enterprise => "enterprise",
            Self::Portal => "portal",
        }
    }

    /// Whether the service keeps data and events of its own (the portal
    /// only calls the others).
    pub fn has_database(self) -> bool {
        self != Self::Portal
    }

    /// Chinese name for the start-up banner.
    pub fn title(self) -> &'static str {
        match self {
            Self::Licensing => "一业一证联办",
            Self::Construction => "工程建设项目审批",
            Self::Document => "材料与电子证照",
            Self::Notification => "消息通知",
            Self::Enterprise => "企业服务",
            Self::Portal => "办事门户",
        }
    }

    /// The service's OpenAPI document as committed for partners: what it
    /// serves, plus `servers` defaulting to its address in the one-process
    /// stack. (The served copy has no `servers`: it is read where it lives.)
    pub fn openapi(self) -> utoipa::openapi::OpenApi {
        let mut api = match self {
            Self::Licensing => yizhan_licensing::openapi(),
            Self::Construction => yizhan_construction::openapi(),
            Self::Document => yizhan_document::openapi(),
            Self::Notification => yizhan_notification::openapi(),
            Self::Enterprise => yizhan_enterprise::openapi(),
            Self::Portal => yizhan_portal::openapi(),
        };
        let port = ServiceSettings::default().port(self);
        yizhan_kit::openapi::set_server(&mut api, &format!("http://127.0.0.1:{port}"));
        api
    }
}

/// Per-service settings sections.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct ServiceSettings {
    /// `[licensing]`.
    pub licensing: yizhan_licensing::Settings,
    /// `[construction]`.
    pub construction: yizhan_construction::Settings,
    /// `[document]`.
    pub document: yizhan_document::Settings,
    /// `[notification]`.
    pub notification: yizhan_notification::Settings,
    /// `[enterprise]`.
    pub enterprise: yizhan_enterprise::Settings,
    /// `[portal]`.
    pub portal: yizhan_portal::Settings,
}

impl ServiceSettings {
    /// The configured port of `service`.
    pub fn port(&self, service: Service) -> u16 {
        match service {
            Service::Licensing => self.licensing.port,
            Service::Construction => self.construction.port,
            Service::Document => self.document.port,
            Service::Notification => self.notification.port,
            Service::Enterprise => self.enterprise.port,
            Service::Portal => self.portal.port,
        }
    }
}

/// Everything configurable, loaded in layers (defaults, file, env).
#[derive(Debug, Clone, Default)]
pub struct StackSettings {
    /// Shared settings.
    pub common: CommonSettings,
    /// Per-service settings.
    pub services: ServiceSettings,
}

impl StackSettings {
    /// Loads defaults, then `yizhan.toml` (or `YIZHAN_CONFIG`), then env.
    pub fn load() -> anyhow::Result<Self> {
        let mut common: CommonSettings = yizhan_kit::settings::load()?;
        common.apply_well_known_env();
        Ok(Self {
            common,
            services: yizhan_kit::settings::load()?,
        })
    }
}

/// File holding the generated dev HS256 secret.
pub fn dev_secret_file(data_dir: &Path) -> PathBuf {
    data_dir.join("dev-jwt-secret")
}

/// The HS256 secret of this deployment (configured, or generated under data/).
pub fn hs256_secret(common: &CommonSettings) -> anyhow::Result<Vec<u8>> {
    match &common.auth.hs256_secret {
        Some(b64) => base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .context("auth.hs256_secret is not valid base64"),
        None => Ok(yizhan_auth::load_or_create_dev_secret(&dev_secret_file(
            &common.data_dir,
        ))?),
    }
}

/// The signer of the portal's demo-user login: only in `hs256` mode (a
/// deployment on a real IdP has no secret to sign with, and must not).
pub fn dev_signer(common: &CommonSettings) -> anyhow::Result<Option<yizhan_portal::DevSigner>> {
    if common.auth.mode != "hs256" {
        return Ok(None);
    }
    Ok(Some(yizhan_portal::DevSigner {
        secret: hs256_secret(common)?,
        issuer: common.auth.issuer.clone(),
        audience: common.auth.audience.clone(),
    }))
}

/// The authenticator the settings describe.
pub fn authenticator(common: &CommonSettings) -> anyhow::Result<Authenticator> {
    let mode = match common.auth.mode.as_str() {
        "hs256" => AuthMode::Hs256 {
            secret: hs256_secret(common)?,
        },
        "jwks" => AuthMode::Jwks {
            url: common
                .auth
                .jwks_url
                .clone()
                .context("auth.mode = jwks needs auth.jwks_url (YIZHAN_AUTH__JWKS_URL)")?,
        },
        other => anyhow::bail!("auth.mode must be hs256 or jwks, not {other}"),
    };
    Ok(Authenticator::new(AuthConfig::new(
        common.auth.issuer.clone(),
        common.auth.audience.clone(),
        mode,
    )))
}

/// The broker a process talks to.
pub enum Broker {
    /// Kafka given by `KAFKA_BROKERS`.
    External(String),
    /// An embedded mock cluster owned by this process.
    Owned(EmbeddedBroker),
    /// An embedded mock cluster run by `yizhan broker` (address file).
    Shared(String),
    /// None: the process runs only services that neither send nor consume
    /// events (`yizhan serve portal`).
    Unused,
}

impl Broker {
    /// Bootstrap servers.
    pub fn bootstrap(&self) -> &str {
        match self {
            Self::External(b) | Self::Shared(b) => b,
            Self::Owned(b) => b.bootstrap_servers(),
            Self::Unused => "",
        }
    }

    /// The publish signal shared by this process's services when it owns
    /// the broker: then they are its only producers (the all-in-one stack),
    /// so consumers may sleep until a relay of theirs publishes.
    pub fn local_traffic(&self) -> Option<yizhan_events::traffic::LocalTraffic> {
        match self {
            Self::Owned(b) => Some(b.local_traffic()),
            _ => None,
        }
    }

    /// Whether it is a mock cluster that forgets everything when it stops.
    pub fn is_embedded(&self) -> bool {
        matches!(self, Self::Owned(_) | Self::Shared(_))
    }
}

/// A service built and bound, ready to run.
pub enum Built {
    /// 一业一证联办.
    Licensing(yizhan_licensing::Application),
    /// 工程建设项目审批.
    Construction(yizhan_construction::Application),
    /// 材料与电子证照.
    Document(yizhan_document::Application),
    /// 消息通知.
    Notification(yizhan_notification::Application),
    /// 企业服务.
    Enterprise(yizhan_enterprise::Application),
    /// 办事门户.
    Portal(yizhan_portal::Application),
}

impl Built {
    /// Bound port.
    pub fn port(&self) -> u16 {
        match self {
            Self::Licensing(a) => a.port(),
            Self::Construction(a) => a.port(),
            Self::Document(a) => a.port(),
            Self::Notification(a) => a.port(),
            Self::Enterprise(a) => a.port(),
            Self::Portal(a) => a.port(),
        }
    }

    fn db(&self) -> Option<&sea_orm::DatabaseConnection> {
        match self {
            Self::Licensing(a) => Some(a.db()),
            Self::Construction(a) => Some(a.db()),
            Self::Document(a) => Some(a.db()),
            Self::Notification(a) => Some(a.db()),
            Self::Enterprise(a) => Some(a.db()),
            Self::Portal(_) => None,
        }
    }

    /// Runs until `cancel`.
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<()> {
        match self {
            Self::Licensing(a) => a.run(cancel).await,
            Self::Construction(a) => a.run(cancel).await,
            Self::Document(a) => a.run(cancel).await,
            Self::Notification(a) => a.run(cancel).await,
            Self::Enterprise(a) => a.run(cancel).await,
            Self::Portal(a) => a.run(cancel).await,
        }
    }
}

/// Builds one service against `broker`. When the broker is not the one the
/// service's outbox last published to (a restarted embedded broker starts
/// empty), every retained outbox event is re-driven.
pub async fn build_service(
    service: Service,
    settings: &StackSettings,
    broker: &Broker,
    auth: Authenticator,
) -> anyhow::Result<Built> {
    if service == Service::Portal {
        return Ok(Built::Portal(yizhan_portal::Application::build(
            &settings.common,
            &settings.services.portal,
            auth,
            dev_signer(&settings.common)?,
        )?));
    }
    let relay = RelayConfig {
        poll_interval: Duration::from_millis(settings.common.outbox.poll_interval_ms),
        batch_size: settings.common.outbox.batch_size,
        retention: Duration::from_secs(
            u64::from(settings.common.outbox.retention_days) * 24 * 3600,
        ),
        audit_retention_days: settings.common.audit.retention_days,
    };
    let mut backbone = Backbone::connect(broker.bootstrap(), service.name(), relay)?;
    if let Some(traffic) = broker.local_traffic() {
        backbone = backbone.with_local_traffic(traffic);
    }
    let backbone_kafka = backbone.kafka.clone();
    let common = &settings.common;
    let s = &settings.services;
    let built = match service {
        Service::Licensing => Built::Licensing(
            yizhan_licensing::Application::build(common, &s.licensing, backbone, auth).await?,
        ),
        Service::Construction => Built::Construction(
            yizhan_construction::Application::build(common, &s.construction, backbone, auth)
                .await?,
        ),
        Service::Document => Built::Document(
            yizhan_document::Application::build(common, &s.document, backbone, auth).await?,
        ),
        Service::Notification => Built::Notification(
            yizhan_notification::Application::build(common, &s.notification, backbone, auth)
                .await?,
        ),
        Service::Enterprise => Built::Enterprise(
            yizhan_enterprise::Application::build(common, &s.enterprise, backbone, auth).await?,
        ),
        Service::Portal => unreachable!("the portal is built above"),
    };
    if let Some(db) = built.db() {
        redrive_for_new_broker(service, db, &backbone_kafka).await?;
    }
    Ok(built)
}

/// Re-drives `db`'s retained outbox if the broker is new to it. A broker
/// that does not answer within the wait is checked at the next start (or
/// the next broker change a `serve` process follows).
async fn redrive_for_new_broker(
    service: Service,
    db: &sea_orm::DatabaseConnection,
    kafka: &yizhan_events::kafka::KafkaConfig,
) -> anyhow::Result<()> {
    let Some(identity) = kafka.broker_identity(Duration::from_secs(10)).await? else {
        tracing::warn!(
            service = service.name(),
            "broker did not tell its cluster id; retained events are not re-driven"
        );
        return Ok(());
    };
    let redriven = yizhan_events::outbox::redrive_if_new_broker(db, &identity).await?;
    if redriven > 0 {
        tracing::info!(
            service = service.name(),
            redriven,
            broker = %identity,
            "new broker: re-driving retained outbox events"
        );
    }
    Ok(())
}

/// Creates the service and dead-letter topics on a real Kafka cluster.
pub async fn ensure_topics(bootstrap: &str) -> anyhow::Result<()> {
    let kafka = yizhan_events::kafka::KafkaConfig {
        brokers: bootstrap.to_owned(),
        client_id: "yizhan-admin".into(),
    };
    kafka.ensure_topics(&topics::ALL, 6).await?;
    let dead: Vec<String> = Service::ALL
        .iter()
        .filter(|s| s.has_database())
        .map(|s| topics::dead_letter(s.name()))
        .collect();
    let dead: Vec<&str> = dead.iter().map(String::as_str).collect();
    kafka.ensure_topics(&dead, 1).await
}

/// The address to reach a server bound to `host` from this machine: a
/// wildcard bind is reached on loopback.
fn reachable_host(host: &str) -> String {
    match host {
        "0.0.0.0" | "" => "127.0.0.1".into(),
        "::" => "[::1]".into(),
        h if h.contains(':') && !h.starts_with('[') => format!("[{h}]"),
        h => h.into(),
    }
}

/// A running set of services in this process.
pub struct Stack {
    /// (service, bound port).
    pub ports: Vec<(Service, u16)>,
    /// The broker (kept alive while the stack runs).
    pub broker: Broker,
    tasks: tokio::task::JoinSet<anyhow::Result<()>>,
}

impl Stack {
    /// Starts `services` with `settings`. Without configured brokers an
    /// embedded broker is started and owned by the stack.
    pub async fn start(
        services: &[Service],
        settings: &StackSettings,
        cancel: CancellationToken,
    ) -> anyhow::Result<Self> {
        let broker = match &settings.common.kafka.brokers {
            Some(b) => {
                ensure_topics(b).await?;
                Broker::External(b.clone())
            }
            None => Broker::Owned(EmbeddedBroker::start(&[])?),
        };
        Self::start_with(services, settings, broker, cancel).await
    }

    /// Starts `services` against a given broker.
    pub async fn start_with(
        services: &[Service],
        settings: &StackSettings,
        broker: Broker,
        cancel: CancellationToken,
    ) -> anyhow::Result<Self> {
        let auth = authenticator(&settings.common)?;
        let mut settings = settings.clone();
        let mut ports = Vec::new();
        let mut tasks = tokio::task::JoinSet::new();
        // The document service first: services that check material
        // references against it learn its address here when none is set.
        // The portal last: it learns every other service's address.
        let mut order = services.to_vec();
        order.sort_by_key(|s| match s {
            Service::Document => 0,
            Service::Portal => 2,
            _ => 1,
        });
        for service in order {
            let built = build_service(service, &settings, &broker, auth.clone())
                .await
                .with_context(|| format!("starting {}", service.name()))?;
            let url = format!(
                "http://{}:{}",
                reachable_host(&settings.common.http.host),
                built.port()
            );
            let portal = &mut settings.services.portal;
            match service {
                Service::Document => {
                    settings
                        .services
                        .licensing
                        .document_url
                        .get_or_insert(url.clone());
                    settings
                        .services
                        .construction
                        .document_url
                        .get_or_insert(url.clone());
                    portal.document_url.get_or_insert(url);
                }
                Service::Licensing => {
                    portal.licensing_url.get_or_insert(url);
                }
                Service::Construction => {
                    portal.construction_url.get_or_insert(url);
                }
                Service::Notification => {
                    portal.notification_url.get_or_insert(url);
                }
                Service::Enterprise => {
                    portal.enterprise_url.get_or_insert(url);
                }
                Service::Portal => {}
            }
            ports.push((service, built.port()));
            tasks.spawn(built.run(cancel.clone()));
        }
        Ok(Self {
            ports,
            broker,
            tasks,
        })
    }

    /// Port of `service`, if it runs here.
    pub fn port(&self, service: Service) -> Option<u16> {
        self.ports
            .iter()
            .find(|(s, _)| *s == service)
            .map(|(_, p)| *p)
    }

    /// Waits for every service to stop; the first failure cancels nothing
    /// by itself, so callers cancel the token on errors they see.
    pub async fn wait(mut self) -> anyhow::Result<()> {
        let mut first_error = None;
        while let Some(result) = self.tasks.join_next().await {
            let outcome = result.map_err(anyhow::Error::from).and_then(|r| r);
            if let Err(e) = outcome {
                tracing::error!(error = %format!("{e:#}"), "service stopped with an error");
                first_error.get_or_insert(e);
            }
        }
        drop(self.broker);
        first_error.map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests;
