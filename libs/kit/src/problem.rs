//! RFC 9457 problem details: the one error shape every yizhan endpoint answers with.
//!
//! Every error a client can see is a [`Problem`]: a stable machine `code`, a zh-CN
//! `title`/`detail` for people, and per-field `errors[]` so a form can put each
//! message beside its input. Services map their own error enums into a `Problem`
//! once (one `From` impl); nothing else writes error bodies.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// `Retry-After` of a 503 when the caller names none.
pub const DEFAULT_RETRY_AFTER_SECS: u32 = 5;

/// One problem with one input field (or header, or path segment).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FieldError {
    /// Where the problem is: a JSON pointer-ish dotted path (`form.enterprise_uscc`),
    /// a header name (`Idempotency-Key`) or a multipart part name (`file`).
    pub field: String,
    /// Stable machine code for this field problem, e.g. `required`, `invalid_check_digit`.
    pub code: String,
    /// zh-CN message for the person filling in the form.
    pub message: String,
}

impl FieldError {
    /// A field error; `message` is shown to people, so write it in Chinese.
    pub fn new(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// RFC 9457 problem details body.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "type": "urn:yizhan:problem:validation_failed",
    "title": "请求参数校验未通过",
    "status": 422,
    "detail": "共 1 处错误，请逐项修改后重新提交",
    "code": "validation_failed",
    "errors": [{"field": "enterprise_uscc", "code": "invalid_check_digit", "message": "统一社会信用代码校验位错误"}]
}))]
pub struct Problem {
    /// `urn:yizhan:problem:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    /// Short zh-CN summary of the problem kind.
    pub title: String,
    /// HTTP status code, repeated in the body.
    pub status: u16,
    /// zh-CN explanation of this occurrence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Stable machine-readable code; clients branch on this, never on text.
    pub code: String,
    /// Per-field problems, all of them at once (一次性告知).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// Extra `WWW-Authenticate` challenge for 401 answers; not part of the body.
    #[serde(skip)]
    #[schema(ignore)]
    pub www_authenticate: Option<String>,
    /// Seconds sent as `Retry-After` (503 and 429 answers); not part of the body.
    #[serde(skip)]
    #[schema(ignore)]
    pub retry_after: Option<u32>,
}

impl Problem {
    /// A problem with a status, a stable code and a zh-CN title.
    pub fn new(status: StatusCode, code: impl Into<String>, title: impl Into<String>) -> Self {
        let code = code.into();
        Self {
            type_uri: format!("urn:yizhan:problem:{code}"),
            title: title.into(),
            status: status.as_u16(),
            detail: None,
            code,
            errors: Vec::new(),
            www_authenticate: None,
            retry_after: None,
        }
    }

    /// Adds the zh-CN detail sentence.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Asks the client to retry after `secs` seconds (`Retry-After`).
    pub fn with_retry_after(mut self, secs: u32) -> Self {
        self.retry_after = Some(secs);
        self
    }

    /// Adds one field error.
    pub fn with_field(mut self, error: FieldError) -> Self {
        self.errors.push(error);
        self
    }

    /// 422 carrying every field problem found, reported together.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let count = errors.len();
        Self {
            errors,
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                "请求参数校验未通过",
            )
            .with_detail(format!("共 {count} 处错误，请逐项修改后重新提交"))
        }
    }

    /// 422 for a single field.
    pub fn field(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self::validation(vec![FieldError::new(field, code, message)])
    }

    /// 400 for a body or parameter that could not be read at all.
    pub fn bad_request(
        field: impl Into<String>,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        let message = message.into();
        Self::new(StatusCode::BAD_REQUEST, "bad_request", "请求格式错误")
            .with_detail(message.clone())
            .with_field(FieldError::new(field, code, message))
    }

    /// 401: no credentials, or credentials that are not valid.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        let mut p = Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "未登录或登录凭证无效",
        )
        .with_detail(detail);
        p.www_authenticate = Some("Bearer error=\"invalid_token\"".to_owned());
        p
    }

    /// 403: authenticated, but this caller may not do this.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "无权执行此操作").with_detail(detail)
    }

    /// 404 for a resource (or one the caller may not know exists).
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", "资源不存在").with_detail(detail)
    }

    /// 409 for a state conflict, with a specific code.
    pub fn conflict(code: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, "请求与当前状态冲突").with_detail(detail)
    }

    /// Opaque 500. The cause is logged by the caller, never shown.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal_error",
            "服务器内部错误",
        )
        .with_detail("服务暂时无法处理该请求，请稍后重试；如持续出现请联系管理员")
    }

    /// 503 when a dependency (database, broker, peer service) is
    /// unavailable. It always carries `Retry-After` (default
    /// [`DEFAULT_RETRY_AFTER_SECS`]): the same request may succeed later.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "service_unavailable",
            "服务暂不可用",
        )
        .with_detail(detail)
        .with_retry_after(DEFAULT_RETRY_AFTER_SECS)
    }

    /// The HTTP status as a `StatusCode`.
    pub fn status_code(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status, self.code, self.title)?;
        if let Some(detail) = &self.detail {
            write!(f, " ({detail})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Problem {}

impl ResponseError for Problem {
    fn status_code(&self) -> StatusCode {
        Problem::status_code(self)
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(Problem::status_code(self));
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if let Some(challenge) = &self.www_authenticate
            && let Ok(value) = HeaderValue::from_str(challenge)
        {
            response.insert_header((header::WWW_AUTHENTICATE, value));
        }
        if let Some(secs) = self.retry_after {
            response.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        response.body(serde_json::to_vec(self).unwrap_or_default())
    }
}

#[doc(hidden)]
pub use actix_web as __actix_web;

/// Implements actix's `ResponseError` for a service error type that has a
/// `fn problem(&self) -> Problem` method: the one place where a service's
/// errors become HTTP answers.
#[macro_export]
macro_rules! problem_response_error {
    ($ty:ty) => {
        impl $crate::problem::__actix_web::ResponseError for $ty {
            fn status_code(&self) -> $crate::problem::__actix_web::http::StatusCode {
                self.problem().status_code()
            }

            fn error_response(&self) -> $crate::problem::__actix_web::HttpResponse {
                $crate::problem::__actix_web::ResponseError::error_response(&self.problem())
            }
        }
    };
}

/// A database error at the HTTP edge: a lost race on a unique key is a 409,
/// an unreachable database a 503, anything else an opaque 500 (logged with
/// its cause). See [`crate::db::problem_for`].
impl From<sea_orm::DbErr> for Problem {
    fn from(e: sea_orm::DbErr) -> Self {
        crate::db::problem_for(&e, "concurrent_update", "数据正被并发修改，请稍后重试")
    }
}

/// Merges the field errors of two failed checks into one 422, so every
/// problem is reported at once (一次性告知); any other failure (a 503 from a
/// peer) stands on its own unless there are field errors to fix first.
pub fn merge_checks<T>(
    first: Result<T, Problem>,
    second: Result<(), Problem>,
) -> Result<T, Problem> {
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY.as_u16();
    match (first, second) {
        (Ok(t), Ok(())) => Ok(t),
        (Err(a), Err(b)) if a.status == unprocessable && b.status == unprocessable => {
            let mut errors = a.errors;
            errors.extend(b.errors);
            Err(Problem::validation(errors))
        }
        (Err(a), Err(b)) if b.status == unprocessable => Err(a),
        (Err(a), Err(_)) if a.status == unprocessable => Err(a),
        (Err(e), _) | (Ok(_), Err(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_problem_lists_every_field_and_counts_them() {
        let p = Problem::validation(vec![
            FieldError::new("a", "required", "必填"),
            FieldError::new("b", "invalid", "格式错误"),
        ]);
        assert_eq!(p.status, 422);
        assert_eq!(p.code, "validation_failed");
        assert_eq!(p.errors.len(), 2);
        assert_eq!(
            p.detail.as_deref(),
            Some("共 2 处错误，请逐项修改后重新提交")
        );
        let body = serde_json::to_value(&p).unwrap();
        assert_eq!(body["type"], "urn:yizhan:problem:validation_failed");
        assert_eq!(body["errors"][1]["field"], "b");
    }

    #[test]
    fn unavailable_carries_retry_after_header_but_not_in_body() {
        let p = Problem::unavailable("数据库暂时不可用");
        let resp = p.error_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(
            resp.headers().get(header::RETRY_AFTER).unwrap(),
            &DEFAULT_RETRY_AFTER_SECS.to_string()
        );
        let body = serde_json::to_value(&p).unwrap();
        assert!(body.get("retry_after").is_none());
    }

    #[test]
    fn unauthorized_carries_a_bearer_challenge_header_but_not_in_body() {
        let p = Problem::unauthorized("令牌已过期");
        let resp = p.error_response();
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            resp.headers().get(header::CONTENT_TYPE).unwrap(),
            PROBLEM_JSON
        );
        assert!(resp.headers().contains_key(header::WWW_AUTHENTICATE));
        let body = serde_json::to_value(&p).unwrap();
        assert!(body.get("www_authenticate").is_none());
    }
}
