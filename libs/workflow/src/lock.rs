//! The subject lock. Every write transaction that changes a subject's cases
//! or tasks starts with `kit::db::begin_write` and takes the subject's lock
//! first: two reviewers deciding the last two tasks of one case at once
//! must not both miss the other's decision, and one subject's events must
//! enter the outbox in commit order (docs/ARCHITECTURE.md, outbox).
//! PostgreSQL: a transaction-scoped advisory lock; SQLite: the one writer.

use sea_orm::{DatabaseTransaction, DbErr};

use crate::{Error, Result};

/// Takes the lock of subject `id` until `txn` ends.
pub async fn subject(txn: &DatabaseTransaction, id: &str) -> Result<(), DbErr> {
    yizhan_kit::db::lock_key(txn, &format!("workflow-subject:{id}")).await
}

/// A row that belongs to one subject, whose lock guards it.
pub trait OfSubject {
    /// The subject's id.
    fn subject_id(&self) -> &str;
}

impl OfSubject for crate::task_row::Model {
    fn subject_id(&self) -> &str {
        &self.subject_id
    }
}

/// Reads a row with `read` (`None`: not found, or not the caller's to see),
/// takes its subject's lock and reads it again, so whatever committed
/// before the lock is seen. `what` names the row in a 404.
pub async fn read_locked<M: OfSubject>(
    txn: &DatabaseTransaction,
    what: &'static str,
    read: impl AsyncFn() -> Result<Option<M>, DbErr>,
) -> Result<M> {
    let found = read().await?.ok_or(Error::NotFound(what))?;
    subject(txn, found.subject_id()).await?;
    read().await?.ok_or(Error::NotFound(what))
}
