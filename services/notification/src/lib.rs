//! 消息通知服务 (notification): in-app inboxes fed by every service's events.
//!
//! Consumes the other services' topics idempotently and publishes on
//! `yizhan.notification.v1`; forwards matching events to partner webhooks
//! (see `docs/WEBHOOKS.md`) through a delivery worker that runs beside the
//! relay and the consumer.

pub mod channels;
pub mod construction;
pub mod deadlines;
pub mod enterprise_benefits;
pub mod enterprise_requests;
pub mod error;
pub mod handlers;
pub mod licensing;
pub mod routes;
pub mod store;
pub mod webhooks;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use tokio::sync::Notify;

use actix_web::web;
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use yizhan_auth::Authenticator;
use yizhan_events::consumer::{ConsumerConfig, EventConsumer};
use yizhan_events::outbox::WakeAfterCommit;
use yizhan_events::runtime::Backbone;
use yizhan_kit::health::{DatabaseCheck, Readiness};
use yizhan_kit::settings::CommonSettings;

/// Service name: consumer group, database name, log field.
pub const SERVICE: &str = "notification";

/// The notification service's settings (`[notification]`, `YIZHAN_NOTIFICATION__*`).
#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// HTTP port.
    pub port: u16,
    /// Database URL; defaults to `sqlite://<data_dir>/notification.db`.
    pub database_url: Option<String>,
    /// Let webhook URLs point at loopback, private and link-local addresses
    /// and this service's own host. Only for a trusted network (or tests
    /// with local receivers): it lets partners make this service call
    /// internal endpoints.
    pub allow_private_webhook_targets: bool,
    /// Also sign deliveries with the pre-Standard-Webhooks
    /// `X-Yizhan-Signature` header, for receivers not yet migrated (see
    /// docs/WEBHOOKS.md). Turn off once every partner verifies
    /// `webhook-signature`.
    pub webhook_legacy_signature: bool,
    /// Base64 32-byte key sealing webhook secrets (e.g. from a Kubernetes
    /// Secret through the environment). Every replica must use the same key:
    /// a secret sealed by one is opened by another when it delivers.
    pub webhook_secret_key: Option<String>,
    /// File holding that key in base64 when `webhook_secret_key` is unset
    /// (a mounted Secret, a shared compose volume); generated there when
    /// missing. Defaults to `<data_dir>/webhook-secret-key`.
    pub webhook_secret_key_file: Option<PathBuf>,
    /// Attempts per delivery cycle before it is dead-lettered.
    pub webhook_max_attempts: u32,
    /// First retry delay (ms); doubles per attempt.
    pub webhook_first_retry_ms: u64,
    /// Longest retry delay (ms).
    pub webhook_max_retry_ms: u64,
    /// Longest wait a receiver's `Retry-After` may ask for (s).
    pub webhook_retry_after_cap_secs: u64,
    /// Timeout of one delivery POST (ms).
    pub webhook_timeout_ms: u64,
    /// Fallback poll of the delivery worker (ms).
    pub webhook_poll_interval_ms: u64,
    /// Delivery attempts in flight in all.
    pub webhook_concurrency: usize,
    /// Delivery attempts in flight per subscription.
    pub webhook_concurrency_per_subscription: usize,
    /// SMTP server; email is off while unset.
    pub smtp_host: Option<String>,
    /// SMTP port.
    pub smtp_port: u16,
    /// `starttls`, `tls` (implicit) or `none` (a trusted local relay only).
    pub smtp_tls: String,
    /// SMTP login.
    pub smtp_username: Option<String>,
    /// SMTP password (never logged).
    pub smtp_password: Option<String>,
    /// Sender mailbox.
    pub smtp_from: String,
    /// SMS provider adapter URL (see `channels::sms`); SMS is off while unset.
    pub sms_url: Option<String>,
    /// Bearer token for the SMS provider (never logged).
    pub sms_token: Option<String>,
    /// Attempts per email/SMS before it is marked failed.
    pub channel_max_attempts: u32,
    /// First email/SMS retry delay (ms); doubles per attempt, capped at 1 h.
    pub channel_first_retry_ms: u64,
    /// Timeout of one SMTP conversation or SMS request (ms).
    pub channel_timeout_ms: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            port: 8084,
            database_url: None,
            allow_private_webhook_targets: false,
            webhook_legacy_signature: true,
            webhook_secret_key: None,
            webhook_secret_key_file: None,
            // 5 s doubling to 1 h: the last of 15 attempts is ~5 h after the first.
            webhook_max_attempts: 15,
            webhook_first_retry_ms: 5_000,
            webhook_max_retry_ms: 3_600_000,
            webhook_retry_after_cap_secs: 3_600,
            webhook_timeout_ms: 10_000,
            webhook_poll_interval_ms: 1_000,
            webhook_concurrency: 64,
            webhook_concurrency_per_subscription: 4,
            smtp_host: None,
            smtp_port: 587,
            smtp_tls: "starttls".into(),
            smtp_username: None,
            smtp_password: None,
            smtp_from: "一站通知 <noreply@yizhan.example>".into(),
            sms_url: None,
            sms_token: None,
            channel_max_attempts: 8,
            channel_first_retry_ms: 30_000,
            channel_timeout_ms: 15_000,
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("port", &self.port)
            .field(
                "database_url",
                &self
                    .database_url
                    .as_deref()
                    .map(yizhan_kit::settings::redact_url),
            )
            .field(
                "allow_private_webhook_targets",
                &self.allow_private_webhook_targets,
            )
            .field("webhook_legacy_signature", &self.webhook_legacy_signature)
            .field(
                "webhook_secret_key",
                &self.webhook_secret_key.as_ref().map(|_| "<redacted>"),
            )
            .field("webhook_secret_key_file", &self.webhook_secret_key_file)
            .field("webhook_max_attempts", &self.webhook_max_attempts)
            .field("webhook_first_retry_ms", &self.webhook_first_retry_ms)
            .field("webhook_max_retry_ms", &self.webhook_max_retry_ms)
            .field(
                "webhook_retry_after_cap_secs",
                &self.webhook_retry_after_cap_secs,
            )
            .field("webhook_timeout_ms", &self.webhook_timeout_ms)
            .field("webhook_poll_interval_ms", &self.webhook_poll_interval_ms)
            .field("webhook_concurrency", &self.webhook_concurrency)
            .field(
                "webhook_concurrency_per_subscription",
                &self.webhook_concurrency_per_subscription,
            )
            .field("smtp_host", &self.smtp_host)
            .field("smtp_port", &self.smtp_port)
            .field("smtp_tls", &self.smtp_tls)
            .field("smtp_username", &self.smtp_username)
            .field(
                "smtp_password",
                &self.smtp_password.as_ref().map(|_| "<redacted>"),
            )
            .field("smtp_from", &self.smtp_from)
            .field("sms_url", &self.sms_url)
            .field("sms_token", &self.sms_token.as_ref().map(|_| "<redacted>"))
            .field("channel_max_attempts", &self.channel_max_attempts)
            .field("channel_first_retry_ms", &self.channel_first_retry_ms)
            .field("channel_timeout_ms", &self.channel_timeout_ms)
            .finish()
    }
}

impl Settings {
    fn worker_config(&self) -> webhooks::worker::WorkerConfig {
        webhooks::worker::WorkerConfig {
            retry: webhooks::retry::RetryPolicy {
                max_attempts: self.webhook_max_attempts.max(1),
                first_delay: Duration::from_millis(self.webhook_first_retry_ms),
                max_delay: Duration::from_millis(self.webhook_max_retry_ms),
                retry_after_cap: Duration::from_secs(self.webhook_retry_after_cap_secs),
            },
            request_timeout: Duration::from_millis(self.webhook_timeout_ms.max(1)),
            poll_interval: Duration::from_millis(self.webhook_poll_interval_ms.max(1)),
            concurrency: self.webhook_concurrency.max(1),
            per_subscription: self.webhook_concurrency_per_subscription.max(1),
            allow_private: self.allow_private_webhook_targets,
            legacy_signature: self.webhook_legacy_signature,
        }
    }

    /// The key sealing webhook secrets: configured, or read from its file
    /// (generated there on first use; two processes starting together on a
    /// shared volume agree on one key).
    fn webhook_key(&self, common: &CommonSettings) -> anyhow::Result<Vec<u8>> {
        match &self.webhook_secret_key {
            Some(b64) => Ok(base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| anyhow::anyhow!("notification.webhook_secret_key is not base64"))?),
            None => {
                let path = self
                    .webhook_secret_key_file
                    .clone()
                    .unwrap_or_else(|| common.data_dir.join("webhook-secret-key"));
                yizhan_auth::load_or_create_dev_secret(&path).map_err(|e| {
                    anyhow::anyhow!(
                        "notification.webhook_secret_key_file {}: {e}",
                        path.display()
                    )
                })
            }
        }
    }

    /// The channel worker (senders only for configured channels).
    fn channel_worker(
        &self,
        db: DatabaseConnection,
        wake: Arc<Notify>,
    ) -> anyhow::Result<(channels::worker::ChannelWorker, channels::Enabled)> {
        let timeout = Duration::from_millis(self.channel_timeout_ms.max(1));
        let email = match &self.smtp_host {
            Some(host) => Some(channels::email::EmailSender::new(
                &channels::email::SmtpConfig {
                    host: host.clone(),
                    port: self.smtp_port,
                    tls: self.smtp_tls.clone(),
                    username: self.smtp_username.clone(),
                    password: self.smtp_password.clone(),
                    from: self.smtp_from.clone(),
                    timeout,
                },
            )?),
            None => None,
        };
        let sms = match &self.sms_url {
            Some(url) => Some(channels::sms::SmsSender::new(
                url.clone(),
                self.sms_token.clone(),
                timeout,
            )?),
            None => None,
        };
        let enabled = channels::Enabled {
            email: email.is_some(),
            sms: sms.is_some(),
        };
        let retry = webhooks::retry::RetryPolicy {
            max_attempts: self.channel_max_attempts.max(1),
            first_delay: Duration::from_millis(self.channel_first_retry_ms),
            max_delay: Duration::from_secs(3600),
            retry_after_cap: Duration::from_secs(self.webhook_retry_after_cap_secs),
        };
        let worker = channels::worker::ChannelWorker::new(
            db,
            email,
            sms,
            retry,
            timeout,
            Duration::from_millis(self.webhook_poll_interval_ms.max(1)),
            wake,
        );
        Ok((worker, enabled))
    }

    fn target_policy(&self, common: &CommonSettings) -> webhooks::target::TargetPolicy {
        let mut own_hosts = vec![common.http.host.clone()];
        if let Some(host) = common
            .http
            .public_base_url
            .as_deref()
            .and_then(|u| reqwest::Url::parse(u).ok())
            .and_then(|u| u.host_str().map(str::to_owned))
        {
            own_hosts.push(host);
        }
        webhooks::target::TargetPolicy {
            allow_private: self.allow_private_webhook_targets,
            own_hosts,
        }
    }
}

/// Shared handler state.
pub struct AppState {
    /// Database pool.
    pub db: DatabaseConnection,
    /// Seals webhook secrets.
    pub secrets: Arc<webhooks::secret::SecretBox>,
    /// Which webhook URLs are acceptable.
    pub targets: webhooks::target::TargetPolicy,
    /// Wakes the delivery worker (replays).
    pub webhook_wake: Arc<Notify>,
}

/// The OpenAPI document (also written to `openapi/notification.json`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut api = yizhan_events::runtime::openapi_of(
        yizhan_kit::openapi::base(
            "notification",
            "站内消息（按用户与企业）与合作系统事件推送（webhook）。推送内容与签名见 webhooks 一节。所有错误均为 RFC 9457 problem+json。",
        ),
        true,
        routes::configure,
    );
    webhooks::payloads::add_webhooks(&mut api);
    api
}

/// A built, bound, not yet running service.
pub struct Application {
    port: u16,
    server: actix_web::dev::Server,
    db: DatabaseConnection,
    backbone: Backbone,
    consumer: ConsumerConfig,
    // Boxed: the workers are large and the stack keeps every service's
    // `Application` in one enum.
    workers: Box<Workers>,
}

/// The background senders beside the relay and the consumer.
struct Workers {
    webhooks: webhooks::worker::DeliveryWorker,
    webhook_wake: Arc<Notify>,
    channels: channels::worker::ChannelWorker,
    enabled: channels::Enabled,
    channel_wake: Arc<Notify>,
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
        let secrets = Arc::new(webhooks::secret::SecretBox::new(
            &settings.webhook_key(common)?,
        )?);
        let webhook_wake = Arc::new(Notify::new());
        let worker = webhooks::worker::DeliveryWorker::new(
            db.clone(),
            secrets.clone(),
            settings.worker_config(),
            webhook_wake.clone(),
        )?;
        let channel_wake = Arc::new(Notify::new());
        let (channel_worker, channels) =
            settings.channel_worker(db.clone(), channel_wake.clone())?;
        let state = web::Data::new(AppState {
            db: db.clone(),
            secrets,
            targets: settings.target_policy(common),
            webhook_wake: webhook_wake.clone(),
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
            yizhan_events::runtime::Guards {
                limited: &[],
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
            consumer: ConsumerConfig::new(SERVICE, &webhooks::payloads::FORWARDED_TOPICS),
            workers: Box::new(Workers {
                webhooks: worker,
                webhook_wake,
                channels: channel_worker,
                enabled: channels,
                channel_wake,
            }),
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

    /// Serves HTTP, relays the outbox, consumes events and delivers webhooks
    /// until `cancel`.
    pub async fn run(self, cancel: CancellationToken) -> anyhow::Result<()> {
        let relay = self.backbone.relay(self.db.clone());
        let handlers = Arc::new(handlers::Handlers {
            relay: WakeAfterCommit::new(self.backbone.signal.clone()),
            webhooks: WakeAfterCommit::notifying(self.workers.webhook_wake.clone()),
            channels: self.workers.enabled,
            channel_deliveries: WakeAfterCommit::notifying(self.workers.channel_wake.clone()),
        });
        let consumer =
            EventConsumer::new(self.db.clone(), &self.backbone, self.consumer, handlers)?;
        let task: yizhan_events::runtime::ConsumerTask = Box::pin(consumer.run(cancel.clone()));
        let Workers {
            webhooks, channels, ..
        } = *self.workers;
        let worker = tokio::spawn(webhooks.run(cancel.clone()));
        let channel_worker = tokio::spawn(channels.run(cancel.clone()));
        let served =
            yizhan_events::runtime::run(self.server, relay, Some(task), cancel.clone()).await;
        // `runtime::run` cancels when the server ends on its own; make sure.
        cancel.cancel();
        let _ = worker.await;
        let _ = channel_worker.await;
        served
    }
}
