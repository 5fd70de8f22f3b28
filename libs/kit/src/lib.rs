//! yizhan service kit: what every service needs and nothing domain-specific.
//!
//! Settings, database connection and migrations, telemetry, problem+json errors,
//! health endpoints, idempotency keys and HTTP plumbing live here so that the
//! four services differ only in their domain.

pub mod conditional;
pub mod db;
pub mod health;
pub mod http;
pub mod http_client;
pub mod idempotency;
pub mod metrics;
pub mod openapi;
#[cfg(feature = "testing")]
pub mod outage;
pub mod pagination;
pub mod problem;
pub mod rate_limit;
pub mod response_cookies;
pub mod settings;
pub mod shutdown;
pub mod telemetry;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;

pub use problem::{FieldError, Problem};
