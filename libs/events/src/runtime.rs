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
use yizhan_kit::health::Readiness;
use yizhan_kit::settings::CommonSettings;

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
        })
    }

    /// The relay over `db`'s outbox.
    pub fn relay(&self, db: DatabaseConnection) -> Relay {
        Relay::new(
            db,
            self.producer.clone(),
            self.signal.clone(),
            self.relay.clone(),
        )
    }

    /// Readiness check through this producer.
    pub fn readiness(&self) -> crate::kafka::BrokerCheck {
        crate::kafka::BrokerCheck::new(self.producer.clone())
    }
}

/// Runs the parts until `cancel`, then stops them in order.
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
    let _ = relay.await;
    if let Some(consumer) = consumer {
        consumer.await??;
    }
    served?;
    Ok(())
}

/// A service's OpenAPI document: its routes (from `configure`) plus the
/// endpoints every service has (health, `/api/v1/me`).
pub fn openapi_of<F>(base: utoipa::openapi::OpenApi, configure: F) -> utoipa::openapi::OpenApi
where
    F: FnOnce(&mut ServiceConfig<'_>),
{
    let (_, api) = App::new()
        .into_utoipa_app()
        .openapi(base)
        .service(yizhan_auth::routes::me)
        .configure(configure)
        .service(yizhan_kit::health::healthz)
        .service(yizhan_kit::health::readyz)
        .split_for_parts();
    let mut api = api;
    yizhan_kit::openapi::add_shared_error_responses(&mut api);
    api
}

/// Binds and builds a service's HTTP server: the shared middleware and
/// error handling, health, `/api/v1/me`, Swagger UI, a problem+json 404, and
/// the service's own state and routes from `configure`. Signals are not
/// handled here: the caller's cancellation token stops the server.
pub fn http_server<F>(
    common: &CommonSettings,
    port: u16,
    api: utoipa::openapi::OpenApi,
    readiness: Readiness,
    auth: Authenticator,
    configure: F,
) -> anyhow::Result<(u16, actix_web::dev::Server)>
where
    F: Fn(&mut ServiceConfig<'_>) + Clone + Send + 'static,
{
    let listener = yizhan_kit::http::bind(&common.http.host, port)?;
    let port = listener.local_addr()?.port();
    let readiness = web::Data::new(readiness);
    let auth = web::Data::new(auth);
    let json_limit = common.http.json_limit_bytes;
    let server = HttpServer::new(move || {
        App::new()
            .wrap(actix_web::middleware::from_fn(
                yizhan_kit::http::request_context,
            ))
            .app_data(yizhan_kit::http::json_config(json_limit))
            .app_data(yizhan_kit::http::query_config())
            .app_data(yizhan_kit::http::path_config())
            .app_data(readiness.clone())
            .app_data(auth.clone())
            .into_utoipa_app()
            // Before the service's `/api/v1` scope, which would shadow it.
            .service(yizhan_auth::routes::me)
            .configure(configure.clone())
            .service(yizhan_kit::health::healthz)
            .service(yizhan_kit::health::readyz)
            .into_app()
            .service(yizhan_kit::openapi::swagger_ui(api.clone()))
            .default_service(web::to(yizhan_kit::http::not_found))
    })
    .listen(listener)?
    .shutdown_timeout(common.http.shutdown_timeout_secs)
    .disable_signals()
    .run();
    Ok((port, server))
}
