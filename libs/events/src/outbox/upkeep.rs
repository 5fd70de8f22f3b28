//! Keeping the outbox: how much is pending, pruning what was published
//! long ago, and sending everything retained again to a new broker.

use std::time::Duration;

use chrono::Utc;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, Statement};

use super::entity;

/// Marks every retained published row unpublished again, so the relay
/// re-sends it. Used when the outbox meets a broker it has not published
/// to before ([`redrive_if_new_broker`]): events published to the previous
/// one may not have been consumed, and consumers dedupe, so re-sending is
/// safe. Returns how many rows.
pub async fn redrive_retained(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    let result = db
        .execute_unprepared(
            "UPDATE outbox_events SET published_at = NULL WHERE published_at IS NOT NULL",
        )
        .await?;
    Ok(result.rows_affected())
}

/// `backbone_state` key of the broker the outbox last published to.
const BROKER_KEY: &str = "outbox.broker";

/// Re-drives the retained outbox if `broker` (an identity: the cluster id,
/// plus the address for an embedded broker) is not the one this database
/// last published to, and records it. A service restart on the same broker
/// re-sends nothing; a new, empty embedded broker (or a new cluster) gets
/// every retained event again. Returns how many rows were re-driven.
pub async fn redrive_if_new_broker(db: &DatabaseConnection, broker: &str) -> Result<u64, DbErr> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let backend = txn.get_database_backend();
    let (select, upsert) = match backend {
        DbBackend::Postgres => (
            "SELECT value FROM backbone_state WHERE key = $1",
            "INSERT INTO backbone_state (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        ),
        _ => (
            "SELECT value FROM backbone_state WHERE key = ?",
            "INSERT INTO backbone_state (key, value) VALUES (?, ?) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        ),
    };
    let known: Option<String> = txn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            select,
            [BROKER_KEY.into()],
        ))
        .await?
        .map(|row| row.try_get_by_index(0))
        .transpose()?;
    if known.as_deref() == Some(broker) {
        txn.rollback().await?;
        return Ok(0);
    }
    let redriven = redrive_retained(&txn).await?;
    txn.execute_raw(Statement::from_sql_and_values(
        backend,
        upsert,
        [BROKER_KEY.into(), broker.into()],
    ))
    .await?;
    txn.commit().await?;
    Ok(redriven)
}

/// Deletes published rows older than `retention`. Unpublished rows are never
/// touched, however old: they have not left yet.
pub async fn prune_published(db: &DatabaseConnection, retention: Duration) -> Result<u64, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    let cutoff =
        Utc::now() - chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::days(7));
    let result = entity::Entity::delete_many()
        .filter(entity::Column::PublishedAt.is_not_null())
        .filter(entity::Column::PublishedAt.lt(cutoff))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// The unpublished rows: how many, and when the oldest was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backlog {
    /// Unpublished rows.
    pub rows: u64,
    /// `created_at` of the oldest one.
    pub oldest: Option<chrono::DateTime<Utc>>,
}

/// Measures the backlog in one query.
pub async fn backlog(db: &impl ConnectionTrait) -> Result<Backlog, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter, QuerySelect};
    let (rows, oldest): (i64, Option<chrono::DateTime<Utc>>) = entity::Entity::find()
        .select_only()
        .column_as(entity::Column::Seq.count(), "rows")
        .column_as(entity::Column::CreatedAt.min(), "oldest")
        .filter(entity::Column::PublishedAt.is_null())
        .into_tuple()
        .one(db)
        .await?
        .unwrap_or((0, None));
    Ok(Backlog {
        rows: u64::try_from(rows).unwrap_or(0),
        oldest,
    })
}

/// Unpublished rows (for readiness, metrics and tests).
pub async fn pending_count(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter};
    entity::Entity::find()
        .filter(entity::Column::PublishedAt.is_null())
        .count(db)
        .await
}
