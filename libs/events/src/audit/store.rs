//! Queries over `audit_log`: the in-transaction insert, a row of its own,
//! the admins' filtered search, export batches and pruning.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::entity::{self, Column, Entity};

/// Inserts `row` unless a row with its key exists (in this transaction or
/// committed): repeated calls within one request leave one row.
pub async fn insert_once(
    txn: &impl ConnectionTrait,
    row: entity::ActiveModel,
) -> Result<(), DbErr> {
    Entity::insert(row)
        .on_conflict(OnConflict::column(Column::EntryKey).do_nothing().to_owned())
        .exec_without_returning(txn)
        .await
        .map(|_| ())
}

/// What the admins filter by; every field narrows the result.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// Exact subject id.
    pub actor: Option<String>,
    /// An enterprise USCC the actor acted for.
    pub enterprise: Option<String>,
    /// Exact department code.
    pub department: Option<String>,
    /// Part of the action (method and route template).
    pub action: Option<String>,
    /// Exact object id.
    pub object: Option<String>,
    /// Exact outcome.
    pub outcome: Option<String>,
    /// Recorded at or after.
    pub from: Option<DateTime<Utc>>,
    /// Recorded before.
    pub to: Option<DateTime<Utc>>,
}

impl Filter {
    fn condition(&self) -> Condition {
        let mut c = Condition::all();
        if let Some(v) = &self.actor {
            c = c.add(Column::Actor.eq(v.clone()));
        }
        if let Some(v) = &self.enterprise {
            c = c.add(Column::Enterprise.contains(v));
        }
        if let Some(v) = &self.department {
            c = c.add(Column::Department.eq(v.clone()));
        }
        if let Some(v) = &self.action {
            c = c.add(Column::Action.contains(v));
        }
        if let Some(v) = &self.object {
            c = c.add(Column::Object.eq(v.clone()));
        }
        if let Some(v) = &self.outcome {
            c = c.add(Column::Outcome.eq(v.clone()));
        }
        if let Some(v) = self.from {
            c = c.add(Column::At.gte(v));
        }
        if let Some(v) = self.to {
            c = c.add(Column::At.lt(v));
        }
        c
    }
}

/// Up to `limit` rows matching `filter`, newest first, older than `before`
/// (an id from the previous page).
pub async fn search(
    db: &impl ConnectionTrait,
    filter: &Filter,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<entity::Model>, DbErr> {
    let mut q = Entity::find().filter(filter.condition());
    if let Some(before) = before {
        q = q.filter(Column::Id.lt(before));
    }
    q.order_by_desc(Column::Id).limit(limit).all(db).await
}

/// Up to `limit` rows matching `filter`, oldest first, after id `after`: one
/// export batch.
pub async fn batch_after(
    db: &impl ConnectionTrait,
    filter: &Filter,
    after: i64,
    limit: u64,
) -> Result<Vec<entity::Model>, DbErr> {
    Entity::find()
        .filter(filter.condition())
        .filter(Column::Id.gt(after))
        .order_by_asc(Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Deletes rows older than `retention_days` (raised to the minimum
/// retention when lower), returning how many went.
pub async fn prune(db: &impl ConnectionTrait, retention_days: u32) -> Result<u64, DbErr> {
    let days = super::effective_retention_days(retention_days);
    let cutoff = Utc::now() - chrono::Duration::days(i64::from(days));
    Ok(Entity::delete_many()
        .filter(Column::At.lt(cutoff))
        .exec(db)
        .await?
        .rows_affected)
}
