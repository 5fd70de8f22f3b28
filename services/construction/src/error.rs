//! The construction service's one error type, mapped to problem+json once.

use yizhan_kit::Problem;

use crate::store::StoreError;

/// Everything a construction handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A client-facing problem (validation, auth, not found, conflict).
    #[error("{0}")]
    Problem(#[from] Problem),
    /// Database failure.
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Self::Problem(Problem::not_found("项目、阶段申请或任务不存在")),
            // The approval engine's refusal names the status and the action.
            StoreError::Transition(t) => Self::Problem(Problem::conflict(t.code(), t.message())),
            StoreError::State(p) => Self::Problem(p),
            StoreError::Idempotency(yizhan_kit::idempotency::LookupError::Reused(p)) => {
                Self::Problem(p)
            }
            StoreError::Idempotency(yizhan_kit::idempotency::LookupError::Db(e)) => Self::Db(e),
            StoreError::Db(e) => Self::Db(e),
        }
    }
}

impl Error {
    fn problem(&self) -> Problem {
        match self {
            Self::Problem(p) => p.clone(),
            Self::Db(e) => yizhan_kit::db::problem_for(
                e,
                "concurrent_update",
                "同一项目正被并发修改，请稍后重试",
            ),
        }
    }
}

yizhan_kit::problem_response_error!(Error);
