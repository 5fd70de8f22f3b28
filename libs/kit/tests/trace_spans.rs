//! Spans as an OTLP collector would receive them: a call through
//! `http_client::send` to a real HTTP server behind `http::request_context`,
//! captured by an exporter of the test's own (the only fake: it stands in
//! for the collector, not for any product code).

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use actix_web::{App, HttpResponse, HttpServer, web};
use opentelemetry::trace::{SpanKind, Status, TracerProvider as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use yizhan_kit::telemetry::{TRACEPARENT, trace_id_of};

/// The caller's trace, as a browser or an ingress would send it.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_SPAN: &str = "00f067aa0ba902b7";

#[derive(Debug, Clone, Default)]
struct Collected(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Collected {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        self.0.lock().unwrap().extend(batch);
        std::future::ready(Ok(()))
    }
}

/// One global subscriber per test process: the server's worker threads
/// must report to the same exporter as the test's thread.
fn collected() -> &'static Collected {
    static COLLECTED: OnceLock<(Collected, SdkTracerProvider)> = OnceLock::new();
    &COLLECTED
        .get_or_init(|| {
            let exporter = Collected::default();
            let provider = SdkTracerProvider::builder()
                .with_simple_exporter(exporter.clone())
                .build();
            tracing_subscriber::registry()
                .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("kit-test")))
                .init();
            (exporter, provider)
        })
        .0
}

/// Waits (bounded) for the ended span of `trace` that `pick` chooses.
async fn span(trace: &str, what: &str, pick: impl Fn(&SpanData) -> bool) -> SpanData {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = collected()
            .0
            .lock()
            .unwrap()
            .iter()
            .find(|s| s.span_context.trace_id().to_string() == trace && pick(s))
            .cloned();
        if let Some(span) = found {
            return span;
        }
        assert!(Instant::now() < deadline, "no {what} span was exported");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn attr(span: &SpanData, key: &str) -> Option<String> {
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

/// A server on 127.0.0.1:0 with the kit's request middleware; its port.
fn start_server() -> u16 {
    let listener = yizhan_kit::http::bind("127.0.0.1", 0).unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(|| {
        App::new()
            .wrap(actix_web::middleware::from_fn(
                yizhan_kit::http::request_context,
            ))
            .route(
                "/api/v1/things/{id}",
                web::get().to(|| async { HttpResponse::Ok().body("ok") }),
            )
            .route(
                "/boom",
                web::get().to(|| async { HttpResponse::InternalServerError().finish() }),
            )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    tokio::spawn(server);
    port
}

#[tokio::test]
async fn a_call_is_one_trace_from_client_span_to_server_span() {
    collected();
    let port = start_server();
    let parent = format!("00-{TRACE_ID}-{PARENT_SPAN}-01");
    let request = reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{port}/api/v1/things/42?uscc=91350100M000100Y43"
        ))
        .header("user-agent", "trace-test/1");
    let response = yizhan_kit::http_client::send(request, Some(&parent))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let answered = response.headers()[TRACEPARENT].to_str().unwrap().to_owned();
    assert_eq!(trace_id_of(&answered), Some(TRACE_ID));

    // The client span: a child of the given parent, named by its method.
    let client = span(TRACE_ID, "client", |s| s.span_kind == SpanKind::Client).await;
    assert_eq!(client.name, "GET");
    assert_eq!(client.parent_span_id.to_string(), PARENT_SPAN);
    assert_eq!(attr(&client, "http.request.method").as_deref(), Some("GET"));
    assert_eq!(
        attr(&client, "server.address").as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(attr(&client, "server.port"), Some(port.to_string()));
    assert_eq!(
        attr(&client, "url.full"),
        Some(format!("http://127.0.0.1:{port}/api/v1/things/42")),
        "no query in url.full"
    );
    assert_eq!(
        attr(&client, "http.response.status_code").as_deref(),
        Some("200")
    );

    // The server span: a child of the client span (the `traceparent` the
    // client sent), named by method and route template.
    let server = span(TRACE_ID, "server", |s| s.span_kind == SpanKind::Server).await;
    assert_eq!(server.name, "GET /api/v1/things/{id}");
    assert_eq!(server.parent_span_id, client.span_context.span_id());
    assert_eq!(
        answered,
        format!("00-{TRACE_ID}-{}-01", server.span_context.span_id()),
        "the response names the server span"
    );
    for (key, value) in [
        ("http.request.method", "GET".to_owned()),
        ("http.route", "/api/v1/things/{id}".to_owned()),
        ("url.path", "/api/v1/things/42".to_owned()),
        ("url.scheme", "http".to_owned()),
        ("server.address", "127.0.0.1".to_owned()),
        ("server.port", port.to_string()),
        ("client.address", "127.0.0.1".to_owned()),
        ("network.peer.address", "127.0.0.1".to_owned()),
        ("network.protocol.version", "1.1".to_owned()),
        ("user_agent.original", "trace-test/1".to_owned()),
        ("http.response.status_code", "200".to_owned()),
    ] {
        assert_eq!(attr(&server, key), Some(value), "{key}");
    }
    assert!(attr(&server, "request_id").is_some());
    assert!(attr(&server, "url.query").is_none());
    assert!(attr(&server, "error.type").is_none());
    assert_eq!(server.status, Status::Unset);
}

#[tokio::test]
async fn server_errors_and_unknown_paths_are_named_and_marked() {
    collected();
    let port = start_server();
    let client = reqwest::Client::new();
    for (path, trace) in [
        ("/boom", "0af7651916cd43dd8448eb211c80319c"),
        ("/no/such/path/7", "1af7651916cd43dd8448eb211c80319c"),
    ] {
        let response = client
            .get(format!("http://127.0.0.1:{port}{path}"))
            .header(TRACEPARENT, format!("00-{trace}-b7ad6b7169203331-01"))
            .send()
            .await
            .unwrap();
        let header = response.headers()[TRACEPARENT].to_str().unwrap();
        assert_eq!(trace_id_of(header), Some(trace));
    }

    let boom = span("0af7651916cd43dd8448eb211c80319c", "5xx", |s| {
        s.span_kind == SpanKind::Server
    })
    .await;
    assert_eq!(boom.name, "GET /boom");
    assert_eq!(attr(&boom, "error.type").as_deref(), Some("500"));
    assert!(
        matches!(boom.status, Status::Error { .. }),
        "{:?}",
        boom.status
    );

    // No route: the method alone, so unknown paths do not each name a span.
    let unknown = span("1af7651916cd43dd8448eb211c80319c", "404", |s| {
        s.span_kind == SpanKind::Server
    })
    .await;
    assert_eq!(unknown.name, "GET");
    assert!(attr(&unknown, "http.route").is_none());
    assert_eq!(
        attr(&unknown, "http.response.status_code").as_deref(),
        Some("404")
    );
    // A 4xx is the caller's mistake, not the server's failure.
    assert_eq!(unknown.status, Status::Unset);
}
