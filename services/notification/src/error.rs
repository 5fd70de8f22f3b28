//! The notification service's one error type, mapped to problem+json once.

use actix_web::{HttpResponse, ResponseError, http::StatusCode};
use yizhan_kit::Problem;

/// Everything a notification handler can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A client-facing problem.
    #[error("{0}")]
    Problem(#[from] Problem),
    /// Database failure.
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
}

impl Error {
    fn problem(&self) -> Problem {
        match self {
            Self::Problem(p) => p.clone(),
            Self::Db(e) => {
                tracing::error!(error = %e, "database error");
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
