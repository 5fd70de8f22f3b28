//! The document service's one error type, mapped to problem+json once.

use yizhan_kit::Problem;

/// Everything a document handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A client-facing problem (validation, auth, not found, size cap).
    #[error("{0}")]
    Problem(#[from] Problem),
    /// Database failure.
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// File storage failure.
    #[error("storage: {0}")]
    Io(#[from] std::io::Error),
}

impl From<crate::store::RecordError> for Error {
    fn from(e: crate::store::RecordError) -> Self {
        match e {
            crate::store::RecordError::Idempotency(
                yizhan_kit::idempotency::LookupError::Reused(p),
            ) => Self::Problem(p),
            crate::store::RecordError::Idempotency(yizhan_kit::idempotency::LookupError::Db(e)) => {
                Self::Db(e)
            }
            crate::store::RecordError::Db(e) => Self::Db(e),
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
                "同一材料正被并发提交，请稍后重试",
            ),
            Self::Io(e) => {
                tracing::error!(error = %e, "storage error");
                Problem::internal()
            }
        }
    }
}

yizhan_kit::problem_response_error!(Error);
