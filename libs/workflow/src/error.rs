//! The one error every engine and service store operation fails with, and
//! the one place it becomes problem+json (at the HTTP edge).

use sea_orm::DbErr;
use yizhan_approval::TransitionError;
use yizhan_kit::{FieldError, Problem};

/// Why a store operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such row, or not the caller's to see (its existence is not
    /// revealed). The text names what was looked for, e.g. `申请或任务`.
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// The state machine refused the command (409 naming status and action).
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// Another state conflict (409), with a stable code and a zh-CN detail.
    #[error("{code}: {detail}")]
    Conflict {
        /// Machine code, e.g. `stage_locked`.
        code: String,
        /// zh-CN detail for the person.
        detail: String,
    },
    /// Input that is wrong given the stored state (422), field by field.
    #[error("invalid input ({} fields)", .0.len())]
    Invalid(Vec<FieldError>),
    /// The same `Idempotency-Key` was used for a different request (422).
    #[error("idempotency key reused")]
    KeyReused,
    /// A peer the operation depends on did not answer (503); nothing was
    /// recorded.
    #[error("{code}: {detail}")]
    Unavailable {
        /// Machine code, e.g. `document_unavailable`.
        code: &'static str,
        /// zh-CN title, e.g. `材料服务暂不可用`.
        title: &'static str,
        /// zh-CN detail for the person.
        detail: String,
    },
    /// Database failure (503 when the database is unreachable, 409 for a
    /// lost race on a unique key, else an opaque 500).
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl Error {
    /// A 409 with `code` and a zh-CN detail.
    pub fn conflict(code: &str, detail: impl Into<String>) -> Self {
        Self::Conflict {
            code: code.to_owned(),
            detail: detail.into(),
        }
    }

    /// A 422 naming one field.
    pub fn field(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self::Invalid(vec![FieldError::new(field, code, message)])
    }

    /// The problem+json answer. Unexpected errors are logged here with their
    /// cause and answered opaquely.
    pub fn problem(&self) -> Problem {
        match self {
            Self::NotFound(what) => Problem::not_found(format!("{what}不存在")),
            // The engine's refusal names the status and the action.
            Self::Transition(t) => Problem::conflict(t.code(), t.message()),
            Self::Conflict { code, detail } => Problem::conflict(code.as_str(), detail.as_str()),
            Self::Invalid(errors) => Problem::validation(errors.clone()),
            Self::KeyReused => Problem::field(
                yizhan_kit::idempotency::HEADER,
                "idempotency_key_reused",
                "该 Idempotency-Key 已用于另一个不同内容的请求，请换用新的键",
            ),
            Self::Unavailable {
                code,
                title,
                detail,
            } => {
                let mut p = Problem::unavailable(detail.as_str());
                p.code = (*code).to_owned();
                p.type_uri = format!("urn:yizhan:problem:{code}");
                p.title = (*title).to_owned();
                p
            }
            Self::Db(e) => yizhan_kit::db::problem_for(
                e,
                "concurrent_update",
                "同一事项正被并发修改，请稍后重试",
            ),
        }
    }
}

impl From<yizhan_kit::idempotency::LookupError> for Error {
    fn from(e: yizhan_kit::idempotency::LookupError) -> Self {
        match e {
            yizhan_kit::idempotency::LookupError::Reused(_) => Self::KeyReused,
            yizhan_kit::idempotency::LookupError::Db(e) => Self::Db(e),
        }
    }
}

impl From<Error> for Problem {
    fn from(e: Error) -> Self {
        e.problem()
    }
}
