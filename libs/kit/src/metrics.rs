//! Prometheus metrics: one recorder per process (the `metrics` facade and
//! its Prometheus exporter), rendered on every service's `GET /metrics`.
//!
//! Every series carries a `service` label, because `yizhan all` runs every
//! service in one process and one recorder. Series (all prefixed `yizhan_`):
//!
//! | series | type | labels |
//! |---|---|---|
//! | `http_requests_total` | counter | service, method, route (template), status |
//! | `http_request_duration_seconds` | histogram | service, method, route, status |
//! | `http_request_errors_total` | counter | service, method, route, class (`client`/`server`) |
//! | `idempotent_replays_total` | counter | service, route |
//! | `consumer_messages_total` | counter | service, outcome (`applied`/`duplicate`/`dead_lettered`) |
//! | `consumer_lag_messages` | gauge | service, topic, partition |
//! | `outbox_backlog` | gauge | service |
//! | `outbox_oldest_unpublished_age_seconds` | gauge | service |
//! | `webhook_deliveries_total` | counter | service, outcome (`delivered`/`retrying`/`dead`) |
//! | `open_tasks` | gauge | service, department, sla_state (`on_time`/`warning`/`overdue`/`paused`) |
//!
//! Who may call `/metrics`: anyone who reaches the service port, like
//! `/healthz`. It carries counts by route template and status only, no
//! identifiers or personal data, and the service port is not exposed
//! outside the cluster (the portal's public route is its pages; the
//! ingress does not route `/metrics`).

use std::sync::OnceLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, get, web};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Requests answered, by route template and status.
pub const HTTP_REQUESTS: &str = "yizhan_http_requests_total";
/// Time to answer, seconds.
pub const HTTP_DURATION: &str = "yizhan_http_request_duration_seconds";
/// 4xx and 5xx answers.
pub const HTTP_ERRORS: &str = "yizhan_http_request_errors_total";
/// Answers replayed from an earlier `Idempotency-Key` request.
pub const IDEMPOTENT_REPLAYS: &str = "yizhan_idempotent_replays_total";
/// Consumed messages by outcome.
pub const CONSUMER_MESSAGES: &str = "yizhan_consumer_messages_total";
/// Messages on a partition not yet consumed (high watermark minus the
/// consumer's stored offset), from librdkafka's statistics.
pub const CONSUMER_LAG: &str = "yizhan_consumer_lag_messages";
/// Outbox rows not yet published.
pub const OUTBOX_BACKLOG: &str = "yizhan_outbox_backlog";
/// Age of the oldest unpublished outbox row, seconds (0 when none).
pub const OUTBOX_OLDEST_AGE: &str = "yizhan_outbox_oldest_unpublished_age_seconds";
/// Webhook delivery attempts by what came of them.
pub const WEBHOOK_DELIVERIES: &str = "yizhan_webhook_deliveries_total";
/// Open workflow tasks by department and SLA state.
pub const OPEN_TASKS: &str = "yizhan_open_tasks";

/// Counts one webhook delivery attempt: `delivered`, `retrying` (failed,
/// another attempt is scheduled) or `dead` (failed, attempts exhausted).
pub fn webhook_attempt(service: &str, outcome: &'static str) {
    metrics::counter!(WEBHOOK_DELIVERIES, "service" => service.to_owned(), "outcome" => outcome)
        .increment(1);
}

/// Sets the open-task gauge of one department and SLA state.
pub fn open_tasks(service: &str, department: &str, sla_state: &'static str, count: usize) {
    metrics::gauge!(OPEN_TASKS, "service" => service.to_owned(),
        "department" => department.to_owned(), "sla_state" => sla_state)
    .set(count as f64);
}

/// Route label of a request no route matched: unknown paths must not each
/// become a series.
const UNMATCHED: &str = "unmatched";

/// The process's recorder, installed on first use. `None` when another
/// recorder was installed first (then nothing is exported here).
pub fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Full(HTTP_DURATION.to_owned()),
                    &[
                        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
                    ],
                )
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => Some(handle),
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed");
                    None
                }
            }
        })
        .as_ref()
}

/// The service name the middleware labels series with (app data).
#[derive(Debug, Clone)]
pub struct ServiceLabel(pub String);

/// Middleware: counts and times every request by route template.
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let service = req
        .app_data::<web::Data<ServiceLabel>>()
        .map_or_else(String::new, |l| l.0.clone());
    let method = req.method().as_str().to_owned();
    let route = req.match_pattern().unwrap_or_else(|| UNMATCHED.to_owned());
    let response = next.call(req).await?;
    let status = response.status();
    let labels = [
        ("service", service.clone()),
        ("method", method.clone()),
        ("route", route.clone()),
        ("status", status.as_u16().to_string()),
    ];
    metrics::counter!(HTTP_REQUESTS, &labels).increment(1);
    metrics::histogram!(HTTP_DURATION, &labels).record(started.elapsed().as_secs_f64());
    if status.is_client_error() || status.is_server_error() {
        let class = if status.is_server_error() {
            "server"
        } else {
            "client"
        };
        metrics::counter!(HTTP_ERRORS, "service" => service.clone(), "method" => method,
            "route" => route.clone(), "class" => class)
        .increment(1);
    }
    if response.headers().contains_key("idempotent-replayed") {
        metrics::counter!(IDEMPOTENT_REPLAYS, "service" => service, "route" => route).increment(1);
    }
    Ok(response)
}

/// Prometheus text exposition of every series of this process.
///
/// 调用方：任何能访问服务端口的调用方（与 /healthz 相同，不经网关对外暴露）。
#[get("/metrics")]
pub async fn metrics_endpoint() -> HttpResponse {
    let body = handle().map(|h| {
        h.run_upkeep();
        h.render()
    });
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4; charset=utf-8")
        .body(body.unwrap_or_default())
}
