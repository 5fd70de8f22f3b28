//! HTTP plumbing shared by every service: request ids and trace context
//! (a server span per request, see [`request_context`]),
//! problem+json for every error actix itself produces (bad JSON, wrong content
//! type, oversized bodies, unknown routes), and the listener/server handle.

use std::net::TcpListener;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, ResponseError, web};
use tracing::Instrument;

use crate::problem::{PROBLEM_JSON, Problem};
use crate::telemetry::{self, TRACEPARENT};

/// Header carrying the request id, echoed on every response.
pub const REQUEST_ID: &str = "x-request-id";

/// How long a client of ours keeps an unused connection to a peer service
/// pooled: well under the peers' keep-alive (`http.keep_alive_secs`, 75 s
/// by default), so the client always lets go of an idle connection first.
/// Were the server to close it first, a request sent on it at that moment
/// would fail with no answer, and for a POST nobody could say whether it
/// took effect.
pub const PEER_POOL_IDLE: std::time::Duration = std::time::Duration::from_secs(30);

/// The request's id, in the request's extensions for inner middleware.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Middleware: a request span (child of an incoming `traceparent`), a request
/// id, the trace context on the response, and problem+json for any error
/// response that is not one already.
pub async fn request_context(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let span = server_span(&req, &request_id);
    req.extensions_mut().insert(RequestId(request_id.clone()));
    telemetry::set_parent_from_traceparent(
        &span,
        req.headers().get(TRACEPARENT).and_then(|v| v.to_str().ok()),
    );
    let response = next.call(req).instrument(span.clone()).await?;
    let status = response.status();
    span.record("http.response.status_code", status.as_u16());
    // For a server only a 5xx is its own failure; a 4xx is the caller's.
    if status.is_server_error() {
        span.record("error.type", status.as_str());
        span.record("otel.status_code", "ERROR");
    }
    if status.is_server_error()
        && let Some(error) = response.response().error()
    {
        tracing::error!(parent: &span, error = %error, debug = ?error, "request failed");
    }
    // An HTML error page (the portal's) is an answer for a person, made on
    // purpose; everything else becomes problem+json.
    let mut response = if (status.is_client_error() || status.is_server_error())
        && !has_content_type(&response, PROBLEM_JSON)
        && !has_content_type(&response, "text/html")
    {
        let problem = problem_for_status(status);
        let (req, _) = response.into_parts();
        ServiceResponse::new(req, problem.error_response()).map_into_right_body()
    } else {
        response.map_into_left_body()
    };
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        headers.insert(HeaderName::from_static(REQUEST_ID), value);
    }
    let _entered = span.enter();
    if let Some(traceparent) = telemetry::current_traceparent()
        && let Ok(value) = HeaderValue::from_str(&traceparent)
    {
        headers.insert(HeaderName::from_static(TRACEPARENT), value);
    }
    drop(_entered);
    Ok(response)
}

/// The request's server span, named `{method} {route template}` (just the
/// method when no route matched, so unknown paths do not each become a
/// span name), with the current OpenTelemetry HTTP server attributes.
/// `url.query` is left out: a query may carry identifiers of people.
fn server_span(req: &ServiceRequest, request_id: &str) -> tracing::Span {
    let method = method_name(req.method());
    let route = req.match_pattern();
    let name = match &route {
        Some(route) => format!("{method} {route}"),
        None => method.to_owned(),
    };
    let connection = req.connection_info();
    let (server_address, server_port) = split_host(connection.host());
    // Behind a proxy, the client it names (`Forwarded`, `X-Forwarded-For`);
    // the TCP peer is `network.peer.address`.
    let client_address = connection.realip_remote_addr().map(|a| {
        a.parse::<std::net::SocketAddr>()
            .map_or_else(|_| a.to_owned(), |s| s.ip().to_string())
    });
    let peer = req.peer_addr();
    tracing::info_span!(
        "http.server",
        otel.name = %name,
        otel.kind = "server",
        http.request.method = method,
        http.route = route.as_deref(),
        url.path = req.path(),
        url.scheme = connection.scheme(),
        server.address = server_address,
        server.port = server_port,
        client.address = client_address.as_deref(),
        network.peer.address = peer.map(|p| p.ip().to_string()).as_deref(),
        network.peer.port = peer.map(|p| p.port()),
        network.protocol.name = "http",
        network.protocol.version = protocol_version(req.version()),
        user_agent.original = req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok()),
        request_id = %request_id,
        http.response.status_code = tracing::field::Empty,
        "error.type" = tracing::field::Empty,
        otel.status_code = tracing::field::Empty,
    )
}

/// The method as the conventions name it: `_OTHER` for a method outside
/// the HTTP standard set (an attacker's made-up methods would otherwise
/// each name a span).
fn method_name(method: &actix_web::http::Method) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method.as_str())
        .unwrap_or("_OTHER")
}

fn protocol_version(version: actix_web::http::Version) -> &'static str {
    use actix_web::http::Version;
    [
        (Version::HTTP_09, "0.9"),
        (Version::HTTP_10, "1.0"),
        (Version::HTTP_2, "2"),
        (Version::HTTP_3, "3"),
    ]
    .into_iter()
    .find(|(v, _)| *v == version)
    .map_or("1.1", |(_, name)| name)
}

/// `host[:port]` (IPv6 in brackets) as address and port.
fn split_host(host: &str) -> (&str, Option<u16>) {
    let (address, port) = match host.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((address, tail)) => (address, tail.strip_prefix(':')),
            None => (host, None),
        },
        None => match host.rsplit_once(':') {
            Some((address, port)) => (address, Some(port)),
            None => (host, None),
        },
    };
    match port.map(str::parse::<u16>) {
        Some(Ok(port)) => (address, Some(port)),
        Some(Err(_)) => (host, None),
        None => (address, None),
    }
}

fn has_content_type<B>(response: &ServiceResponse<B>, content_type: &str) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with(content_type))
}

/// The problem for an error status actix produced without a body of ours.
pub fn problem_for_status(status: StatusCode) -> Problem {
    match status {
        StatusCode::NOT_FOUND => Problem::not_found("请求的地址不存在，请检查路径"),
        StatusCode::METHOD_NOT_ALLOWED => {
            Problem::new(status, "method_not_allowed", "请求方法不被允许")
                .with_detail("该地址不支持此 HTTP 方法")
        }
        StatusCode::PAYLOAD_TOO_LARGE => payload_too_large(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => unsupported_media_type(),
        s if s.is_server_error() => Problem::internal(),
        s => Problem::new(s, "bad_request", "请求无法处理")
            .with_detail(s.canonical_reason().unwrap_or("请求无法处理")),
    }
}

fn payload_too_large() -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "请求体过大",
    )
    .with_detail("请求体超过允许的大小")
}

fn unsupported_media_type() -> Problem {
    Problem::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "不支持的内容类型",
    )
    .with_detail("请求体须为 application/json")
}

/// JSON extractor settings: size limit and problem+json for every failure,
/// naming the field serde could not read.
pub fn json_config(limit: usize) -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(limit)
        .error_handler(|err, _req: &HttpRequest| json_problem(err).into())
}

fn json_problem(err: JsonPayloadError) -> Problem {
    match err {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            payload_too_large()
        }
        JsonPayloadError::ContentType => unsupported_media_type(),
        JsonPayloadError::Deserialize(e) => deserialize_problem(&e),
        other => Problem::bad_request(
            "body",
            "unreadable_body",
            format!("无法读取请求体：{other}"),
        ),
    }
}

/// Turns a serde_json error into a field problem. Syntax errors are 400 (the
/// body is not JSON at all); shape errors are 422 naming the field.
fn deserialize_problem(e: &serde_json::Error) -> Problem {
    use serde_json::error::Category;
    let text = e.to_string();
    match e.classify() {
        Category::Syntax | Category::Eof | Category::Io => Problem::bad_request(
            "body",
            "malformed_json",
            format!(
                "请求体不是合法的 JSON（第 {} 行第 {} 列）",
                e.line(),
                e.column()
            ),
        ),
        Category::Data => {
            let field = field_from_serde_message(&text).unwrap_or_else(|| "body".to_owned());
            let code = if text.starts_with("missing field") {
                "required"
            } else if text.starts_with("unknown field") {
                "unknown_field"
            } else {
                "invalid_type"
            };
            let message = match code {
                "required" => format!("缺少必填字段 {field}"),
                "unknown_field" => format!("不认识的字段 {field}"),
                _ => format!("字段取值或类型不正确：{}", strip_position(&text)),
            };
            Problem::field(field, code, message)
        }
    }
}

/// serde messages name fields in backticks: "missing field `name` at line 1".
fn field_from_serde_message(text: &str) -> Option<String> {
    if text.starts_with("missing field") || text.starts_with("unknown field") {
        let start = text.find('`')? + 1;
        let end = start + text[start..].find('`')?;
        return Some(text[start..end].to_owned());
    }
    None
}

fn strip_position(text: &str) -> &str {
    text.split(" at line ").next().unwrap_or(text)
}

/// Query-string extractor settings with problem+json errors.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _req| {
        let text = match &err {
            QueryPayloadError::Deserialize(e) => e.to_string(),
            other => other.to_string(),
        };
        let field = field_from_serde_message(&text).unwrap_or_else(|| "query".to_owned());
        Problem::field(field, "invalid_query", format!("查询参数不正确：{text}")).into()
    })
}

/// Path extractor settings with problem+json errors.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err, _req| {
        let text = match &err {
            PathError::Deserialize(e) => e.to_string(),
            other => other.to_string(),
        };
        Problem::new(StatusCode::NOT_FOUND, "not_found", "资源不存在")
            .with_detail(format!("路径参数不正确：{text}"))
            .into()
    })
}

/// Default service: unknown routes answer 404 problem+json.
pub async fn not_found() -> actix_web::HttpResponse {
    Problem::not_found("请求的地址不存在，请检查路径").error_response()
}

/// Default service: a path the API serves (see
/// [`crate::openapi::ServedPaths`], in app data) asked with another method
/// answers 405 with `Allow`; anything else 404.
pub async fn fallback(
    req: HttpRequest,
    served: Option<web::Data<crate::openapi::ServedPaths>>,
) -> actix_web::HttpResponse {
    let Some(methods) = served.as_ref().and_then(|s| s.allowed(req.path())) else {
        return not_found().await;
    };
    let allow = methods
        .iter()
        .map(|m| m.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let mut response = problem_for_status(StatusCode::METHOD_NOT_ALLOWED).error_response();
    if let Ok(value) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

/// Binds a listener; port 0 picks a free port (tests).
pub fn bind(host: &str, port: u16) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind((host, port))?;
    listener.set_nonblocking(true)?;
    Ok(listener)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_field_names_the_field() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Body {
            name: String,
        }
        let err = serde_json::from_str::<Body>("{}").unwrap_err();
        let p = deserialize_problem(&err);
        assert_eq!(p.status, 422);
        assert_eq!(p.errors[0].field, "name");
        assert_eq!(p.errors[0].code, "required");
    }

    #[test]
    fn host_splits_into_address_and_port() {
        assert_eq!(
            split_host("portal.example:8443"),
            ("portal.example", Some(8443))
        );
        assert_eq!(split_host("portal.example"), ("portal.example", None));
        assert_eq!(split_host("[::1]:8080"), ("::1", Some(8080)));
        assert_eq!(split_host("[::1]"), ("::1", None));
        assert_eq!(split_host("odd:port"), ("odd:port", None));
    }

    #[test]
    fn syntax_error_is_400() {
        let err = serde_json::from_str::<serde_json::Value>("{").unwrap_err();
        let p = deserialize_problem(&err);
        assert_eq!(p.status, 400);
        assert_eq!(p.errors[0].code, "malformed_json");
    }
}
