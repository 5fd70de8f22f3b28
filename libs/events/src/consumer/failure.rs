//! Why a handler failed, and so what the consumer does with the message.
//!
//! The distinction is typed, not guessed from text: a database error is
//! classified by `yizhan_kit::db::is_transient`, an envelope or payload that
//! cannot be decoded is a rejection, and a handler can say either outright
//! by returning [`Unavailable`] or [`Rejected`] (anywhere in its error's
//! cause chain, so `.context(..)` keeps the meaning). Handlers keep returning
//! `anyhow::Result`, so services mark only the failures they know about.

use sea_orm::DbErr;

use crate::envelope::EnvelopeError;

/// What a failure means for the message that caused it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// A dependency is unavailable (database down, pool timed out, peer
    /// unreachable). The message is fine: the partition waits and retries
    /// until the dependency is back, for as long as that takes. Never
    /// dead-lettered.
    Transient,
    /// The message can never be applied (undecodable, or the handler
    /// refuses it): dead-lettered at once, so it does not block its
    /// partition.
    Rejected,
    /// Neither is known: retried a bounded number of times, then
    /// dead-lettered.
    Unknown,
}

/// A handler's way of saying "this message can never be applied".
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Rejected(pub String);

/// A handler's way of saying "a dependency is down; try this message again
/// later" (e.g. a peer service that did not answer).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unavailable(pub String);

/// Classifies a handler error by the first cause in its chain that says
/// something about it.
pub fn classify(error: &anyhow::Error) -> Failure {
    for cause in error.chain() {
        if cause.is::<Unavailable>() {
            return Failure::Transient;
        }
        if cause.is::<Rejected>() || cause.is::<EnvelopeError>() || cause.is::<serde_json::Error>()
        {
            return Failure::Rejected;
        }
        if let Some(db) = cause.downcast_ref::<DbErr>() {
            return if yizhan_kit::db::is_transient(db) {
                Failure::Transient
            } else {
                Failure::Unknown
            };
        }
    }
    Failure::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn an_unavailable_database_is_transient_even_behind_context() {
        let e = anyhow::Error::from(DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout))
            .context("recording the licence");
        assert_eq!(classify(&e), Failure::Transient);
        let e: anyhow::Result<()> = Err(Unavailable("peer down".into())).context("calling");
        assert_eq!(classify(&e.unwrap_err()), Failure::Transient);
    }

    #[test]
    fn undecodable_and_refused_messages_are_rejected() {
        let bad = serde_json::from_str::<u32>("x").unwrap_err();
        assert_eq!(classify(&anyhow::Error::from(bad)), Failure::Rejected);
        let e = anyhow::Error::from(EnvelopeError::MissingHeader("ce_id"));
        assert_eq!(classify(&e), Failure::Rejected);
        assert_eq!(
            classify(&anyhow::Error::from(Rejected("no such holder".into()))),
            Failure::Rejected
        );
    }

    #[test]
    fn other_errors_are_unknown() {
        assert_eq!(classify(&anyhow::anyhow!("boom")), Failure::Unknown);
        assert_eq!(
            classify(&anyhow::Error::from(DbErr::Custom("bad".into()))),
            Failure::Unknown
        );
    }
}
