//! The notification service's one error type, mapped to problem+json once.

use yizhan_kit::Problem;
use yizhan_kit::idempotency::LookupError;

/// Everything a notification handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A client-facing problem.
    #[error("{0}")]
    Problem(#[from] Problem),
    /// Database failure.
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    /// Anything else unexpected (key material, randomness).
    #[error("{0:#}")]
    Other(#[from] anyhow::Error),
}

impl From<LookupError> for Error {
    fn from(e: LookupError) -> Self {
        match e {
            LookupError::Reused(p) => Self::Problem(p),
            LookupError::Db(e) => Self::Db(e),
        }
    }
}

impl Error {
    fn problem(&self) -> Problem {
        match self {
            Self::Problem(p) => p.clone(),
            // Two requests with the same Idempotency-Key raced; the loser
            // retries and gets the winner's answer replayed.
            Self::Db(e) => yizhan_kit::db::problem_for(
                e,
                "concurrent_request",
                "相同的请求正在处理中，请稍后重试",
            ),
            Self::Other(e) => {
                tracing::error!(error = %format!("{e:#}"), "unexpected error");
                Problem::internal()
            }
        }
    }
}

yizhan_kit::problem_response_error!(Error);
