//! Running a service: its HTTP server, its outbox relay and (if it consumes)
//! its consumer side by side, all stopped by one cancellation token. HTTP
//! drains in-flight requests, the relay finishes its batch and flushes the
//! producer, the consumer commits its stored offsets.

use std::future::Future;
use std::pin::Pin;

use sea_orm::DatabaseConnection;
use tokio_util::sync::CancellationToken;

use actix_web::{App, HttpServer, web};
use utoipa_actix_web::AppExt;
use utoipa_actix_web::service_config::ServiceConfig;
use yizhan_auth::Authenticator;
use yizhan_kit::health::{IntoChecks, Readiness, ReadinessCheck};
use yizhan_kit::settings::CommonSettings;

use crate::audit::middleware::AuditLog;
use crate::kafka::KafkaConfig;
use crate::outbox::{OutboxSignal, Relay, RelayConfig};

/// A consumer loop, boxed so services with and without one share `run`.
pub type ConsumerTask = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>;

/// What every service needs from the backbone.
#[derive(Clone)]
pub struct Backbone {
    /// Broker connection settings.
    pub kafka: KafkaConfig,
    /// One producer per service process (the relay's).
    pub producer: rdkafka::producer::FutureProducer,
    /// Wakes the relay after commits.
    pub signal: OutboxSignal,
    /// Relay tuning.
    pub relay: RelayConfig,
    /// The consumer's state, shown by `/readyz`.
    pub consumer_status: crate::consumer::ConsumerStatus,
    /// The service's name, the `service` label of the relay's gauges.
    pub service: String,
    /// When every producer of the broker is in this process (an embedded
    /// broker it owns): the relay says when it published, the consumer
    /// pauses while nothing is (see [`crate::traffic`]).
    pub traffic: Option<crate::traffic::LocalTraffic>,
    /// Waiters for news of a subject, told by this process's relay (see
    /// [`crate::outbox::SubjectWatch`]).
    pub subjects: crate::outbox::SubjectWatch,
}

impl Backbone {
    /// Connects a producer for `service` to `brokers`.
    pub fn connect(brokers: &str, service: &str, relay: RelayConfig) -> anyhow::Result<Self> {
        let kafka = KafkaConfig {
            brokers: brokers.to_owned(),
            client_id: format!("yizhan-{service}"),
        };
        let producer = kafka.producer()?;
        Ok(Self {
            kafka,
            producer,
            signal: OutboxSignal::default(),
            relay,
            consumer_status: Default::default(),
            service: service.to_owned(),
            traffic: None,
            subjects: Default::default(),
        })
    }

    /// Shares `traffic` with the other services of this process, which
    /// must be the only producers of the broker.
    pub fn with_local_traffic(mut self, traffic: crate::traffic::LocalTraffic) -> Self {
        self.traffic = Some(traffic);
        self
    }

    /// The relay over `db`'s outbox.
    pub fn relay(&self, db: DatabaseConnection) -> Relay {
        Relay::new(
            db,
            self.producer.clone(),
            self.signal.clone(),
            self.relay.clone(),
        )
        .labelled(&self.service)
        .announcing(self.traffic.clone())
        .telling(self.subjects.clone())
    }

    /// `/readyz` entries of the backbone: the broker (through this
    /// producer) and the consumer. Neither is critical (see
    /// `yizhan_kit::health`).
    pub fn readiness(&self) -> BackboneChecks {
        BackboneChecks {
            broker: crate::kafka::BrokerCheck::new(self.producer.clone()),
            consumer: crate::consumer::ConsumerCheck(self.consumer_status.clone()),
        }
    }
}

/// The backbone's readiness checks, registered together.
pub struct BackboneChecks {
    broker: crate::kafka::BrokerCheck,
    consumer: crate::consumer::ConsumerCheck,
}

impl IntoChecks for BackboneChecks {
    fn into_checks(self) -> Vec<std::sync::Arc<dyn ReadinessCheck>> {
        vec![
            std::sync::Arc::new(self.broker),
            std::sync::Arc::new(self.consumer),
        ]
    }
}

/// How long the relay and the consumer get to finish after the stop signal.
/// With the broker up they need milliseconds; with it gone, the relay's
/// batch would wait for acks for the full message timeout. Past this the
/// batch is abandoned: its rows stay unpublished (on PostgreSQL the claim
/// rolls back) and leave after the restart, which the inboxes absorb.
pub const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Runs the parts until `cancel`, then stops them: HTTP drains its
/// in-flight requests (up to its own shutdown timeout), the relay and the
/// consumer get [`STOP_GRACE`].
pub async fn run(
    server: actix_web::dev::Server,
    relay: Relay,
    consumer: Option<ConsumerTask>,
    cancel: CancellationToken,
) -> anyhow::Result<()> {
    let handle = server.handle();
    let stopper = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            cancel.cancelled().await;
            handle.stop(true).await;
        })
    };
    let relay = tokio::spawn(relay.run(cancel.clone()));
    let consumer = consumer.map(tokio::spawn);
    let served = server.await;
    // The server can also end on its own (bind loss): stop the rest too.
    cancel.cancel();
    let _ = stopper.await;
    let deadline = tokio::time::Instant::now() + STOP_GRACE;
    if finish_by(deadline, relay).await.is_none() {
        tracing::warn!(
            "outbox relay did not stop in time (broker gone?); its batch is left for the restart"
        );
    }
    if let Some(consumer) = consumer {
        match finish_by(deadline, consumer).await {
            Some(result) => result?,
            None => {
                tracing::warn!("consumer did not stop in time; uncommitted offsets are redelivered")
            }
        }
    }
    served?;
    Ok(())
}

/// The task's result if it ends by `deadline`; otherwise it is aborted.
async fn finish_by<T: 'static>(
    deadline: tokio::time::Instant,
    mut task: tokio::task::JoinHandle<T>,
) -> Option<T> {
    match tokio::time::timeout_at(deadline, &mut task).await {
        Ok(Ok(value)) => Some(value),
        Ok(Err(e)) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Ok(Err(_)) => None,
        Err(_) => {
            task.abort();
            None
        }
    }
}

/// A service's OpenAPI document: its routes (from `configure`) plus the
/// endpoints every service has (health, `/api/v1/me`).
/// `audited`: the service has a database and serves its audit log.
pub fn openapi_of<F>(
    base: utoipa::openapi::OpenApi,
    audited: bool,
    configure: F,
) -> utoipa::openapi::OpenApi
where
    F: FnOnce(&mut ServiceConfig<'_>),
{
    let (_, api) = App::new()
        .into_utoipa_app()
        .openapi(base)
        .service(yizhan_auth::routes::me)
        .configure(|cfg| audit_routes(cfg, audited))
        .configure(configure)
        .service(yizhan_kit::health::healthz)
        .service(yizhan_kit::health::readyz)
        .split_for_parts();
    let mut api = api;
    yizhan_kit::openapi::finish(&mut api);
    api
}

fn audit_routes(cfg: &mut ServiceConfig<'_>, audited: bool) {
    if audited {
        cfg.service(crate::audit::routes::search)
            .service(crate::audit::routes::export);
    }
}

/// What a service's HTTP edge guards beyond authentication.
pub struct Guards<'a> {
    /// Routes rate-limited per client address (public reads, sign-in).
    pub limited: &'a [yizhan_kit::rate_limit::Rule],
    /// The service's audit log (every service with a database):
    /// state-changing requests are recorded, and admins may search and
    /// export it.
    pub audit: Option<AuditLog>,
}

/// Binds and builds a service's HTTP server: the shared middleware and
/// error handling, health, `/api/v1/me`, Swagger UI, a problem+json 404, and
/// the service's own state and routes from `configure`, behind its
/// [`Guards`]. Signals are not handled here: the caller's cancellation
/// token stops the server.
pub fn http_server<F>(
    common: &CommonSettings,
    port: u16,
    api: utoipa::openapi::OpenApi,
    readiness: Readiness,
    auth: Authenticator,
    guards: Guards<'_>,
    configure: F,
) -> anyhow::Result<(u16, actix_web::dev::Server)>
where
    F: Fn(&mut ServiceConfig<'_>) + Clone + Send + 'static,
{
    let Guards { limited, audit } = guards;
    let listener = yizhan_kit::http::bind(&common.http.host, port)?;
    let port = listener.local_addr()?.port();
    let readiness = web::Data::new(readiness);
    let auth = web::Data::new(auth);
    let json_limit = common.http.json_limit_bytes;
    let served = web::Data::new(yizhan_kit::openapi::ServedPaths::of(&api));
    let limits = web::Data::new(yizhan_kit::rate_limit::RateLimits::new(
        &common.http.rate_limit,
        limited,
    )?);
    // Installed before the first request, so no early count is lost.
    let _ = yizhan_kit::metrics::handle();
    let service_label = web::Data::new(yizhan_kit::metrics::ServiceLabel(
        api.info
            .title
            .strip_prefix("yizhan ")
            .unwrap_or(&api.info.title)
            .to_owned(),
    ));
    let body_deadline = web::Data::new(crate::http_guards::BodyDeadline(
        std::time::Duration::from_secs(common.http.body_timeout_secs.max(1)),
    ));
    let audited = audit.is_some();
    let audit = audit.map(web::Data::new);
    let server = HttpServer::new(move || {
        let mut app = App::new();
        if let Some(audit) = &audit {
            app = app.app_data(audit.clone());
        }
        // The audit middleware sits inside `request_context`, which gives it
        // the request id, and inside the rate limit, so a flood answered 429
        // writes no audit rows (the rows would be the flood's amplifier).
        // The rate limit is inside `request_context` too, so a 429 carries
        // the request id and trace context like any other answer.
        // Innermost: cookies an extractor queued reach the handler's answer.
        app.wrap(actix_web::middleware::from_fn(
            yizhan_kit::response_cookies::apply,
        ))
        // Then: a body that does not arrive in time is a 408 whatever the
        // handler made of the failed read; the audit row records that.
        .wrap(actix_web::middleware::from_fn(
            crate::http_guards::body_deadline,
        ))
        .wrap(actix_web::middleware::from_fn(
            crate::audit::middleware::audit,
        ))
        .wrap(actix_web::middleware::from_fn(
            yizhan_kit::rate_limit::limit,
        ))
        .wrap(actix_web::middleware::from_fn(
            yizhan_kit::http::request_context,
        ))
        // On every answer, rewritten errors and 429s included.
        .wrap(actix_web::middleware::from_fn(
            crate::http_guards::security_headers,
        ))
        // Outermost: counts the final answer (429s and rewritten errors too).
        .wrap(actix_web::middleware::from_fn(yizhan_kit::metrics::record))
        .app_data(body_deadline.clone())
        .app_data(limits.clone())
        .app_data(service_label.clone())
        .app_data(yizhan_kit::http::json_config(json_limit))
        .app_data(yizhan_kit::http::query_config())
        .app_data(yizhan_kit::http::path_config())
        .app_data(readiness.clone())
        .app_data(auth.clone())
        .app_data(served.clone())
        .into_utoipa_app()
        // Before the service's `/api/v1` scope, which would shadow it.
        .service(yizhan_auth::routes::me)
        .configure(|cfg| audit_routes(cfg, audited))
        .configure(configure.clone())
        .service(yizhan_kit::health::healthz)
        .service(yizhan_kit::health::readyz)
        .into_app()
        // Not part of the API document: an operator's endpoint.
        .service(yizhan_kit::metrics::metrics_endpoint)
        .service(yizhan_kit::openapi::swagger_ui(api.clone()))
        .default_service(web::to(yizhan_kit::http::fallback))
    })
    .listen(listener)?
    .keep_alive(std::time::Duration::from_secs(
        common.http.keep_alive_secs.max(1),
    ))
    .shutdown_timeout(common.http.shutdown_timeout_secs)
    .disable_signals()
    .run();
    Ok((port, server))
}
