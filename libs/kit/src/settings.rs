//! Layered typed settings: compiled-in defaults, then an optional TOML file, then
//! `YIZHAN_`-prefixed environment variables (`__` separates sections, so
//! `YIZHAN_DOCUMENT__DATABASE_URL` sets `document.database_url`).
//!
//! Two well-known unprefixed variables are honoured as well because operators
//! already know them: `KAFKA_BROKERS` and `OTEL_EXPORTER_OTLP_ENDPOINT`.
//! Secrets (the HS256 secret, database passwords) are never logged: the
//! `Debug` impls here redact them.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Environment variable naming an optional settings file.
pub const CONFIG_FILE_ENV: &str = "YIZHAN_CONFIG";
/// Settings file read when present and `YIZHAN_CONFIG` is unset.
pub const DEFAULT_CONFIG_FILE: &str = "yizhan.toml";

/// Loads any settings type in the three layers. `T`'s serde defaults are the
/// first layer, so every field needs `#[serde(default)]` or a default impl.
pub fn load<T: DeserializeOwned>() -> anyhow::Result<T> {
    let mut builder = config::Config::builder();
    let file = std::env::var(CONFIG_FILE_ENV).ok();
    match &file {
        Some(path) => {
            builder = builder.add_source(config::File::with_name(path).required(true));
        }
        None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
            builder = builder.add_source(config::File::with_name(DEFAULT_CONFIG_FILE));
        }
        None => {}
    }
    builder = builder.add_source(
        config::Environment::with_prefix("YIZHAN")
            .prefix_separator("_")
            .separator("__")
            .try_parsing(true),
    );
    let loaded = builder.build()?;
    Ok(loaded.try_deserialize()?)
}

/// Settings shared by every service.
#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct CommonSettings {
    /// Where embedded-mode state lives: SQLite files, dev secrets, stored files.
    pub data_dir: PathBuf,
    /// HTTP listener settings.
    pub http: HttpSettings,
    /// Kafka connection.
    pub kafka: KafkaSettings,
    /// Token validation.
    pub auth: AuthSettings,
    /// Logs and traces.
    pub log: LogSettings,
    /// Outbox relay tuning.
    pub outbox: OutboxSettings,
    /// Audit log retention.
    pub audit: AuditSettings,
}

impl Default for CommonSettings {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("data"),
            http: HttpSettings::default(),
            kafka: KafkaSettings::default(),
            auth: AuthSettings::default(),
            log: LogSettings::default(),
            outbox: OutboxSettings::default(),
            audit: AuditSettings::default(),
        }
    }
}

impl CommonSettings {
    /// Applies the unprefixed variables operators expect (`KAFKA_BROKERS`,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`). Prefixed settings win when both exist.
    pub fn apply_well_known_env(&mut self) {
        if self.kafka.brokers.is_none()
            && let Ok(brokers) = std::env::var("KAFKA_BROKERS")
            && !brokers.trim().is_empty()
        {
            self.kafka.brokers = Some(brokers);
        }
        if self.log.otlp_endpoint.is_none()
            && let Ok(endpoint) = std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT")
            && !endpoint.trim().is_empty()
        {
            self.log.otlp_endpoint = Some(endpoint);
        }
    }

    /// The SQLite URL a service uses when none is configured: `data/<service>.db`.
    pub fn default_database_url(&self, service: &str) -> String {
        let path = self.data_dir.join(format!("{service}.db"));
        format!("sqlite://{}?mode=rwc", path.display())
    }
}

impl std::fmt::Debug for CommonSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommonSettings")
            .field("data_dir", &self.data_dir)
            .field("http", &self.http)
            .field("kafka", &self.kafka)
            .field("auth", &self.auth)
            .field("log", &self.log)
            .field("outbox", &self.outbox)
            .field("audit", &self.audit)
            .finish()
    }
}

/// HTTP listener settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct HttpSettings {
    /// Bind address; `0.0.0.0` in containers.
    pub host: String,
    /// Seconds in-flight requests get to finish on SIGTERM.
    pub shutdown_timeout_secs: u64,
    /// JSON body limit in bytes.
    pub json_limit_bytes: usize,
    /// Seconds a request body may take to arrive once its head has: a
    /// slower body is answered 408 and its connection closed.
    pub body_timeout_secs: u64,
    /// Seconds an idle keep-alive connection stays open. Longer than the
    /// idle pools of common HTTP clients (most drop a connection after
    /// 30-60 s unused), because when the server closes first, a request the
    /// client sent on that connection at the same moment fails with no
    /// answer at all, and a client cannot know whether a POST took effect.
    pub keep_alive_secs: u64,
    /// Base URL other services and people use to reach this deployment's
    /// services, when they sit behind a gateway; defaults to `http://host:port`.
    pub public_base_url: Option<String>,
    /// Quotas per client address on public and login endpoints.
    pub rate_limit: crate::rate_limit::RateLimitSettings,
}

impl Default for HttpSettings {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".into(),
            shutdown_timeout_secs: 30,
            json_limit_bytes: 1024 * 1024,
            // A 20 MB upload needs about 1.4 Mbit/s to make it.
            body_timeout_secs: 120,
            // nginx's default; see the field.
            keep_alive_secs: 75,
            public_base_url: None,
            rate_limit: crate::rate_limit::RateLimitSettings::default(),
        }
    }
}

/// Kafka connection settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct KafkaSettings {
    /// Bootstrap servers. `None` means the embedded mock broker.
    pub brokers: Option<String>,
}

/// How bearer tokens are checked.
#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct AuthSettings {
    /// `hs256` (dev: a secret the stack generates) or `jwks` (production IdP).
    pub mode: String,
    /// Expected `iss`.
    pub issuer: String,
    /// Expected `aud`.
    pub audience: String,
    /// JWKS URL in `jwks` mode.
    pub jwks_url: Option<String>,
    /// Base64 HS256 secret; when unset one is generated under `data_dir`.
    pub hs256_secret: Option<String>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            mode: "hs256".into(),
            issuer: "yizhan-dev".into(),
            audience: "yizhan".into(),
            jwks_url: None,
            hs256_secret: None,
        }
    }
}

impl std::fmt::Debug for AuthSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthSettings")
            .field("mode", &self.mode)
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("jwks_url", &self.jwks_url)
            .field(
                "hs256_secret",
                &self.hs256_secret.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

/// Log output format.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    #[default]
    Pretty,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Logging and tracing settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct LogSettings {
    /// Output format.
    pub format: LogFormat,
    /// OTLP gRPC endpoint; traces are exported only when set.
    pub otlp_endpoint: Option<String>,
}

/// Outbox relay tuning.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct OutboxSettings {
    /// Fallback poll interval when no commit wakes the relay. Every commit
    /// that enqueues events wakes it, so this only bounds how late an event
    /// leaves when a wake-up was missed; short values cost idle CPU (each
    /// poll is a query).
    pub poll_interval_ms: u64,
    /// Rows claimed and published per round.
    pub batch_size: u64,
    /// Days a published event stays in the outbox (what an embedded-broker
    /// restart re-drives) before the relay prunes it.
    pub retention_days: u32,
}

impl Default for OutboxSettings {
    fn default() -> Self {
        Self {
            poll_interval_ms: 5_000,
            batch_size: 200,
            retention_days: 7,
        }
    }
}

/// Audit log settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AuditSettings {
    /// Days audit rows are kept before pruning (default 365). A value below
    /// 180 is raised to 180: the log must answer for at least half a year.
    pub retention_days: u32,
}

impl Default for AuditSettings {
    fn default() -> Self {
        Self {
            retention_days: 365,
        }
    }
}

/// Redacts the password part of a database URL for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_database_passwords() {
        assert_eq!(
            redact_url("postgres://yizhan:s3cret@db:5432/document"),
            "postgres://yizhan:***@db:5432/document"
        );
        assert_eq!(
            redact_url("sqlite://data/x.db?mode=rwc"),
            "sqlite://data/x.db?mode=rwc"
        );
    }

    #[test]
    fn default_database_url_is_a_sqlite_file_under_data_dir() {
        let s = CommonSettings::default();
        assert_eq!(
            s.default_database_url("document"),
            "sqlite://data/document.db?mode=rwc"
        );
    }

    #[test]
    fn secrets_are_not_in_debug_output() {
        let s = AuthSettings {
            hs256_secret: Some("dG9wc2VjcmV0".into()),
            ..AuthSettings::default()
        };
        assert!(!format!("{s:?}").contains("dG9wc2VjcmV0"));
    }
}
