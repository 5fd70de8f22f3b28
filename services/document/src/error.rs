//! The document service's one error type, mapped to problem+json once.

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
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
            Self::Db(e) if yizhan_kit::db::is_unique_violation(e) => {
                Problem::conflict("concurrent_update", "同一材料正被并发提交，请稍后重试")
            }
            Self::Db(e) => {
                tracing::error!(error = %e, "database error");
                Problem::internal()
            }
            Self::Io(e) => {
                tracing::error!(error = %e, "storage error");
                Problem::internal()
            }
        }
    }
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        self.problem().status_code()
    }

    fn error_response(&self) -> HttpResponse {
        self.problem().error_response()
    }
}
