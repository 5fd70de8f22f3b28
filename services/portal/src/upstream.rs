//! Calls to the other services' REST APIs, always with the signed-in
//! person's token, always with a timeout, always carrying the trace
//! (`traceparent`) of the page request they serve.
//!
//! Two kinds of failure are kept apart because callers treat them
//! differently: a service that did not answer (down, timed out, a 5xx) is
//! `Unavailable` — a merged queue shows the rest and says what is missing —
//! while a 4xx is the service's answer (`Refused`) and its problem body is
//! passed on to the person as is.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::Settings;

/// The services behind the portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Upstream {
    /// 一业一证联办.
    Licensing,
    /// 工程建设项目审批.
    Construction,
    /// 材料与电子证照.
    Document,
    /// 消息通知.
    Notification,
    /// 企业服务 (诉求, 免申即享, 好差评, 一企一档).
    Enterprise,
}

impl Upstream {
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Licensing => "licensing",
            Self::Construction => "construction",
            Self::Document => "document",
            Self::Notification => "notification",
            Self::Enterprise => "enterprise",
        }
    }

    /// zh-CN name for messages.
    pub fn zh_name(self) -> &'static str {
        match self {
            Self::Licensing => "一业一证联办服务",
            Self::Construction => "工程建设项目审批服务",
            Self::Document => "材料与电子证照服务",
            Self::Notification => "消息通知服务",
            Self::Enterprise => "企业服务",
        }
    }

    fn default_port(self) -> u16 {
        match self {
            Self::Licensing => 8081,
            Self::Construction => 8082,
            Self::Document => 8083,
            Self::Notification => 8084,
            Self::Enterprise => 8085,
        }
    }
}

/// Why a call did not give a 2xx.
#[derive(Debug, Clone)]
pub enum UpstreamError {
    /// No usable answer: connection refused, timeout, 5xx, unreadable body.
    Unavailable {
        /// Which service.
        service: Upstream,
        /// What happened, in Chinese.
        detail: String,
    },
    /// A 4xx answer, with its problem+json body.
    Refused {
        /// HTTP status.
        status: u16,
        /// The problem body (`{}` when it was not JSON).
        problem: Value,
    },
}

impl UpstreamError {
    /// The field errors of a refusal (`errors[]` of a 422), as
    /// (field, message) pairs.
    pub fn field_errors(&self) -> Vec<(String, String)> {
        match self {
            Self::Refused { problem, .. } => problem["errors"]
                .as_array()
                .map(|errors| {
                    errors
                        .iter()
                        .map(|e| {
                            (
                                e["field"].as_str().unwrap_or_default().to_owned(),
                                e["message"].as_str().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default(),
            Self::Unavailable { .. } => Vec::new(),
        }
    }

    /// One line for a person: the problem's detail or title, or what went
    /// wrong reaching the service.
    pub fn message(&self) -> String {
        match self {
            Self::Refused { problem, status } => problem["detail"]
                .as_str()
                .or_else(|| problem["title"].as_str())
                .map(str::to_owned)
                .unwrap_or_else(|| format!("请求被拒绝（HTTP {status}）")),
            Self::Unavailable { detail, .. } => detail.clone(),
        }
    }

    /// The problem `code` of a refusal.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Refused { problem, .. } => problem["code"].as_str(),
            Self::Unavailable { .. } => None,
        }
    }
}

/// A file to upload to the document service.
pub struct Upload {
    /// Material type code.
    pub material_type: String,
    /// Original file name.
    pub filename: String,
    /// Content, read from its start.
    pub content: tokio::fs::File,
    /// Its length in bytes.
    pub len: u64,
}

/// How long a page waits for its header's unread count: the count is an
/// extra, so a slow notification service must not hold every page up to
/// the full upstream timeout.
pub const UNREAD_TIMEOUT: Duration = Duration::from_millis(800);

/// The HTTP client and the base URL of every service.
pub struct Upstreams {
    client: reqwest::Client,
    bases: [(Upstream, String); 5],
}

impl Upstreams {
    /// Base URLs from settings (default: this machine's default ports).
    pub fn new(settings: &Settings, timeout: Duration) -> anyhow::Result<Self> {
        let base = |service: Upstream, configured: &Option<String>| {
            let url = configured
                .clone()
                .unwrap_or_else(|| format!("http://127.0.0.1:{}", service.default_port()));
            (service, url.trim_end_matches('/').to_owned())
        };
        Ok(Self {
            client: reqwest::Client::builder()
                .timeout(timeout)
                .connect_timeout(timeout)
                .pool_idle_timeout(yizhan_kit::http::PEER_POOL_IDLE)
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            bases: [
                base(Upstream::Licensing, &settings.licensing_url),
                base(Upstream::Construction, &settings.construction_url),
                base(Upstream::Document, &settings.document_url),
                base(Upstream::Notification, &settings.notification_url),
                base(Upstream::Enterprise, &settings.enterprise_url),
            ],
        })
    }

    /// The absolute URL of `path` at `service`.
    pub fn url(&self, service: Upstream, path: &str) -> String {
        let base = self
            .bases
            .iter()
            .find(|(s, _)| *s == service)
            .map(|(_, b)| b.as_str())
            .unwrap_or_default();
        format!("{base}{path}")
    }

    /// GET `path` (with its query) and read the JSON answer.
    pub async fn get(
        &self,
        service: Upstream,
        path: &str,
        token: Option<&str>,
    ) -> Result<Value, UpstreamError> {
        self.call(service, Method::GET, path, token, None).await
    }

    /// Send a JSON body (`POST`, `PUT`) and read the JSON answer.
    pub async fn send(
        &self,
        service: Upstream,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: &Value,
    ) -> Result<Value, UpstreamError> {
        self.call(service, method, path, token, Some(body)).await
    }

    /// POST a JSON body with an `Idempotency-Key`, so a form posted twice
    /// (double click, reload) files one thing.
    pub async fn send_idempotent(
        &self,
        service: Upstream,
        path: &str,
        token: &str,
        key: &str,
        body: &Value,
    ) -> Result<Value, UpstreamError> {
        let request = self
            .client
            .post(self.url(service, path))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(body);
        read(service, traced(request).await).await
    }

    async fn call(
        &self,
        service: Upstream,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Result<Value, UpstreamError> {
        let mut request = self.client.request(method, self.url(service, path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        read(service, traced(request).await).await
    }

    /// Fetch a file (certificate print page, QR code) to pass through:
    /// content type and bytes.
    pub async fn fetch(
        &self,
        service: Upstream,
        path: &str,
        token: Option<&str>,
    ) -> Result<(String, bytes::Bytes), UpstreamError> {
        let (content_type, response) = self.fetch_response(service, path, token).await?;
        let bytes = response
            .bytes()
            .await
            .map_err(|e| unavailable(service, &e))?;
        Ok((content_type, bytes))
    }

    /// [`Self::fetch`] without holding the body: the content type, the
    /// length when the service gave it, and the bytes as they arrive. A
    /// material may be hundreds of megabytes; the portal passes it on
    /// without keeping it.
    pub async fn fetch_stream(
        &self,
        service: Upstream,
        path: &str,
        token: Option<&str>,
    ) -> Result<
        (
            String,
            Option<u64>,
            impl futures_util::Stream<Item = Result<bytes::Bytes, reqwest::Error>> + use<>,
        ),
        UpstreamError,
    > {
        let (content_type, response) = self.fetch_response(service, path, token).await?;
        let length = response.content_length();
        Ok((content_type, length, response.bytes_stream()))
    }

    /// A successful answer to a GET of `path` and its content type; any
    /// other answer as the refusal or outage it is.
    async fn fetch_response(
        &self,
        service: Upstream,
        path: &str,
        token: Option<&str>,
    ) -> Result<(String, reqwest::Response), UpstreamError> {
        let mut request = self.client.get(self.url(service, path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = traced(request)
            .await
            .map_err(|e| unavailable(service, &e))?;
        let status = response.status();
        if !status.is_success() {
            return Err(refusal(service, response).await);
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        Ok((content_type, response))
    }

    /// How many unread messages the token's person has, or `None` when the
    /// notification service does not answer in [`UNREAD_TIMEOUT`]: the
    /// header then just leaves the count out, the page still answers.
    pub async fn unread_count(&self, token: &str) -> Option<u64> {
        let request = self
            .client
            .get(self.url(Upstream::Notification, "/api/v1/inbox/unread-count"))
            .bearer_auth(token)
            .timeout(UNREAD_TIMEOUT);
        match read(Upstream::Notification, traced(request).await).await {
            Ok(answer) => answer["unread"].as_u64(),
            Err(_) => None,
        }
    }

    /// Upload one material for `enterprise` to the document service.
    pub async fn upload(
        &self,
        token: &str,
        enterprise: &str,
        file: Upload,
    ) -> Result<Value, UpstreamError> {
        let form = reqwest::multipart::Form::new()
            .text("material_type", file.material_type)
            .text("enterprise_uscc", enterprise.to_owned())
            .part(
                "file",
                // Streamed from the spooled file, never held in memory.
                reqwest::multipart::Part::stream_with_length(
                    reqwest::Body::from(file.content),
                    file.len,
                )
                .file_name(file.filename),
            );
        let request = self
            .client
            .post(self.url(Upstream::Document, "/api/v1/materials"))
            .bearer_auth(token)
            .multipart(form);
        read(Upstream::Document, traced(request).await).await
    }
}

/// Sends in a client span whose context goes out as `traceparent`: the
/// service's request span continues the portal's trace (which itself
/// continues the browser's or the ingress's, see `yizhan_kit::http`).
async fn traced(request: reqwest::RequestBuilder) -> Result<reqwest::Response, reqwest::Error> {
    yizhan_kit::http_client::send(request, None).await
}

fn unavailable(service: Upstream, error: &reqwest::Error) -> UpstreamError {
    let what = if error.is_timeout() {
        "未在时限内答复"
    } else if error.is_connect() {
        "无法连接"
    } else {
        "答复无法读取"
    };
    tracing::warn!(service = service.as_str(), error = %error, "upstream call failed");
    UpstreamError::Unavailable {
        service,
        detail: format!("{}{what}", service.zh_name()),
    }
}

async fn refusal(service: Upstream, response: reqwest::Response) -> UpstreamError {
    let status = response.status();
    if status == StatusCode::SERVICE_UNAVAILABLE {
        // A 503 with a code of its own says what is missing and how to fix
        // it (e.g. no font for the licence PDF): pass that on. A plain
        // "unavailable" says nothing more than the status does.
        let problem = response.json::<Value>().await.unwrap_or_default();
        let code = problem["code"].as_str().unwrap_or("service_unavailable");
        let detail = match problem["detail"].as_str() {
            Some(detail) if code != "service_unavailable" => {
                format!("{}暂不可用：{detail}", service.zh_name())
            }
            _ => format!("{}暂不可用（HTTP 503）", service.zh_name()),
        };
        return UpstreamError::Unavailable { service, detail };
    }
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        return UpstreamError::Unavailable {
            service,
            detail: format!("{}暂不可用（HTTP {}）", service.zh_name(), status.as_u16()),
        };
    }
    let problem = response
        .json::<Value>()
        .await
        .unwrap_or_else(|_| Value::Object(Default::default()));
    UpstreamError::Refused {
        status: status.as_u16(),
        problem,
    }
}

async fn read(
    service: Upstream,
    sent: Result<reqwest::Response, reqwest::Error>,
) -> Result<Value, UpstreamError> {
    let response = sent.map_err(|e| unavailable(service, &e))?;
    if !response.status().is_success() {
        return Err(refusal(service, response).await);
    }
    // 204 (marked read, deleted …) is an answer with nothing in it.
    if response.status() == StatusCode::NO_CONTENT {
        return Ok(Value::Null);
    }
    response
        .json::<Value>()
        .await
        .map_err(|e| unavailable(service, &e))
}
