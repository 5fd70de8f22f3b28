//! Creating requests under an `Idempotency-Key`: the stored answer commits
//! in the same transaction as what it describes, so a retry after any
//! failure either replays the answer or creates afresh, never twice.

use sea_orm::{DatabaseConnection, DatabaseTransaction};
use yizhan_kit::idempotency::{self, StoredResponse};

use crate::{Error, Result};

/// Idempotency parameters of a creating request.
#[derive(Debug, Clone, Copy)]
pub struct Idempotent<'a> {
    /// Caller + route.
    pub scope: &'a str,
    /// Client key.
    pub key: &'a str,
    /// Request fingerprint.
    pub fingerprint: &'a str,
}

/// Result of a creating call.
pub enum Recorded<T> {
    /// Created now.
    Created(T),
    /// Replay of an earlier answer.
    Replayed(StoredResponse),
}

/// Runs `create` in a write transaction under the key's lock, storing
/// `respond(&created)` as the 201 answer with it; an earlier answer for the
/// same key and request is replayed instead, a different request with the
/// same key is `KeyReused`. A unique-key violation (a concurrent request
/// with the same key won) is retried, and then finds the winner's answer.
pub async fn create<T, R: serde::Serialize>(
    db: &DatabaseConnection,
    key: Option<Idempotent<'_>>,
    create: impl AsyncFn(&DatabaseTransaction) -> Result<T>,
    respond: impl Fn(&T) -> R,
) -> Result<Recorded<T>> {
    let mut attempt = 1;
    loop {
        match once(db, key, &create, &respond).await {
            Err(Error::Db(e)) if attempt < 3 && yizhan_kit::db::is_unique_violation(&e) => {
                attempt += 1;
            }
            other => return other,
        }
    }
}

async fn once<T, R: serde::Serialize>(
    db: &DatabaseConnection,
    key: Option<Idempotent<'_>>,
    create: &impl AsyncFn(&DatabaseTransaction) -> Result<T>,
    respond: &impl Fn(&T) -> R,
) -> Result<Recorded<T>> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    if let Some(i) = key {
        yizhan_kit::db::lock_key(&txn, &format!("idempotency:{}:{}", i.scope, i.key)).await?;
        if let Some(stored) = idempotency::lookup(&txn, i.scope, i.key, i.fingerprint).await? {
            return Ok(Recorded::Replayed(stored));
        }
    }
    let created = create(&txn).await?;
    if let Some(i) = key {
        idempotency::record_created(&txn, i.scope, i.key, i.fingerprint, &respond(&created))
            .await?;
    }
    txn.commit().await?;
    Ok(Recorded::Created(created))
}
