//! Outgoing HTTP calls as OpenTelemetry client spans: every call one service
//! makes to another (the portal to the services, licensing to the document
//! service) or to a partner (webhook deliveries) goes through [`send`], so
//! the callee sees a `traceparent` naming the caller's span and the trace
//! continues on the other side.
//!
//! Span attributes follow the current HTTP semantic conventions for
//! clients: `http.request.method`, `server.address`, `server.port`,
//! `url.full` (without query, fragment or credentials: a query may carry
//! identifiers of people), `http.response.status_code` and `error.type`.
//! `reqwest-tracing` would do this but supports OpenTelemetry only up to an
//! older release than the workspace's.

use reqwest::header::HeaderValue;
use tracing::Instrument;

use crate::telemetry::{self, TRACEPARENT};

/// Sends `request` in a client span and answers what `reqwest` answers.
///
/// The span is a child of the current span, or of `parent` (a
/// `traceparent` value) when one is given: a worker that sends on behalf of
/// an earlier request (a webhook delivery for an event) names that
/// request's trace. The span's own context goes out as the `traceparent`
/// header, replacing any set on `request`.
pub async fn send(
    request: reqwest::RequestBuilder,
    parent: Option<&str>,
) -> Result<reqwest::Response, reqwest::Error> {
    let (client, request) = request.build_split();
    let mut request = request?;
    let span = client_span(&request);
    if parent.is_some() {
        telemetry::set_parent_from_traceparent(&span, parent);
    }
    if let Some(value) =
        telemetry::traceparent_of(&span).and_then(|tp| HeaderValue::from_str(&tp).ok())
    {
        request.headers_mut().insert(TRACEPARENT, value);
    }
    let sent = client.execute(request).instrument(span.clone()).await;
    match &sent {
        Ok(response) => {
            let status = response.status();
            span.record("http.response.status_code", status.as_u16());
            // For a client every 4xx and 5xx is a failed call.
            if status.is_client_error() || status.is_server_error() {
                span.record("error.type", status.as_str());
                span.record("otel.status_code", "ERROR");
            }
        }
        Err(e) => {
            let kind = if e.is_timeout() {
                "timeout"
            } else if e.is_connect() {
                "connect"
            } else {
                "reqwest::Error"
            };
            span.record("error.type", kind);
            span.record("otel.status_code", "ERROR");
        }
    }
    sent
}

/// The span of one outgoing request, named by its method (no URL template
/// is known on this side).
fn client_span(request: &reqwest::Request) -> tracing::Span {
    let url = request.url();
    let mut full = url.clone();
    full.set_query(None);
    full.set_fragment(None);
    let _ = full.set_username("");
    let _ = full.set_password(None);
    let method = request.method().as_str();
    tracing::info_span!(
        "http.client",
        otel.name = method,
        otel.kind = "client",
        http.request.method = method,
        server.address = url.host_str().unwrap_or_default(),
        server.port = url.port_or_known_default(),
        url.full = full.as_str(),
        network.protocol.name = "http",
        http.response.status_code = tracing::field::Empty,
        "error.type" = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    )
}
