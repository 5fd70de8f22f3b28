//! The delivery log: recording, listing and replaying deliveries, and the
//! queries the worker claims and settles attempts with.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
};
use sea_orm_migration::prelude::*;

use super::{delivery, status};

/// A delivery to create.
#[derive(Debug, Clone)]
pub struct NewDelivery {
    /// Subscription.
    pub subscription_id: String,
    /// Its owner.
    pub owner_sub: String,
    /// `ce_source`.
    pub event_source: String,
    /// `ce_id`.
    pub event_id: String,
    /// `ce_type`.
    pub event_type: String,
    /// `ce_subject`.
    pub subject: String,
    /// The structured CloudEvent.
    pub body: String,
    /// Replay number (0 for the first cycle).
    pub replay_seq: i32,
    /// Replayed delivery.
    pub replay_of: Option<String>,
}

/// Inserts a pending delivery, due now.
pub async fn insert_delivery(
    db: &impl ConnectionTrait,
    new: NewDelivery,
) -> Result<delivery::Model, DbErr> {
    let now = Utc::now();
    delivery::Entity::insert(delivery::ActiveModel {
        seq: sea_orm::NotSet,
        id: Set(uuid::Uuid::now_v7().to_string()),
        subscription_id: Set(new.subscription_id),
        owner_sub: Set(new.owner_sub),
        event_source: Set(new.event_source),
        event_id: Set(new.event_id),
        event_type: Set(new.event_type),
        subject: Set(new.subject),
        body: Set(new.body),
        replay_seq: Set(new.replay_seq),
        replay_of: Set(new.replay_of),
        status: Set(status::PENDING.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_attempt_at: Set(None),
        last_status_code: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        delivered_at: Set(None),
    })
    .exec_with_returning(db)
    .await
}

/// A page of the owner's deliveries, newest first.
pub async fn list_deliveries(
    db: &impl ConnectionTrait,
    owner: &str,
    subscription_id: Option<&str>,
    state: Option<&str>,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<delivery::Model>, DbErr> {
    let mut query = delivery::Entity::find().filter(delivery::Column::OwnerSub.eq(owner));
    if let Some(id) = subscription_id {
        query = query.filter(delivery::Column::SubscriptionId.eq(id));
    }
    if let Some(state) = state {
        query = query.filter(delivery::Column::Status.eq(state));
    }
    if let Some(seq) = after {
        query = query.filter(delivery::Column::Seq.lt(seq));
    }
    query
        .order_by_desc(delivery::Column::Seq)
        .limit(limit + 1)
        .all(db)
        .await
}

/// The owner's delivery `id`.
pub async fn find_delivery(
    db: &impl ConnectionTrait,
    owner: &str,
    id: &str,
) -> Result<Option<delivery::Model>, DbErr> {
    delivery::Entity::find()
        .filter(delivery::Column::Id.eq(id))
        .filter(delivery::Column::OwnerSub.eq(owner))
        .one(db)
        .await
}

/// A delivery by id (the worker's view).
pub async fn delivery_by_id(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<delivery::Model>, DbErr> {
    delivery::Entity::find()
        .filter(delivery::Column::Id.eq(id))
        .one(db)
        .await
}

/// The next replay number of `original`'s event for its subscription.
pub async fn next_replay_seq(
    db: &impl ConnectionTrait,
    original: &delivery::Model,
) -> Result<i32, DbErr> {
    let last = delivery::Entity::find()
        .filter(delivery::Column::SubscriptionId.eq(original.subscription_id.as_str()))
        .filter(delivery::Column::EventSource.eq(original.event_source.as_str()))
        .filter(delivery::Column::EventId.eq(original.event_id.as_str()))
        .order_by_desc(delivery::Column::ReplaySeq)
        .one(db)
        .await?;
    Ok(last.map_or(0, |d| d.replay_seq) + 1)
}

/// A delivery the worker may attempt now.
#[derive(Debug, Clone, FromQueryResult)]
pub struct Due {
    /// Delivery id.
    pub id: String,
    /// Its subscription.
    pub subscription_id: String,
}

/// Deliveries due at `now`, oldest first, at most one per (subscription,
/// subject): a delivery waits while an earlier one of the same aggregate for
/// the same subscription is still pending, which keeps per-aggregate order.
/// Subscriptions in `skip` (already at their concurrency bound) are left out,
/// so a slow endpoint's backlog never fills the batch.
pub async fn due_deliveries(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    skip: &[String],
    limit: u64,
) -> Result<Vec<Due>, DbErr> {
    let backend = db.get_database_backend();
    let mut values: Vec<sea_orm::Value> = vec![now.into()];
    let mut placeholders = Vec::new();
    for id in skip {
        values.push(id.clone().into());
        placeholders.push(placeholder(backend, values.len()));
    }
    let skip_clause = if placeholders.is_empty() {
        String::new()
    } else {
        format!(
            "AND d.subscription_id NOT IN ({}) ",
            placeholders.join(", ")
        )
    };
    values.push((limit as i64).into());
    let sql = format!(
        "SELECT d.id, d.subscription_id FROM webhook_deliveries d \
         WHERE d.status = 'pending' AND d.next_attempt_at <= {now} {skip_clause}\
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e \
           WHERE e.subscription_id = d.subscription_id AND e.subject = d.subject \
           AND e.status = 'pending' AND e.seq < d.seq) \
         ORDER BY d.seq LIMIT {limit}",
        now = placeholder(backend, 1),
        limit = placeholder(backend, values.len()),
    );
    Due::find_by_statement(Statement::from_sql_and_values(backend, sql, values))
        .all(db)
        .await
}

fn placeholder(backend: DbBackend, n: usize) -> String {
    match backend {
        DbBackend::Postgres => format!("${n}"),
        _ => "?".to_owned(),
    }
}

/// Claims a due delivery for one attempt: moves `next_attempt_at` to
/// `lease_until`, only if it is still pending and due. `false` means another
/// worker (another replica) took it. If the process dies mid-attempt the
/// lease runs out and the delivery is attempted again.
pub async fn claim(
    db: &impl ConnectionTrait,
    id: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let claimed = delivery::Entity::update_many()
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(lease_until))
        .filter(delivery::Column::Id.eq(id))
        .filter(delivery::Column::Status.eq(status::PENDING))
        .filter(delivery::Column::NextAttemptAt.lte(now))
        .exec(db)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// Gives a claimed delivery back without counting an attempt (shutdown).
pub async fn release(db: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    delivery::Entity::update_many()
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(Utc::now()))
        .filter(delivery::Column::Id.eq(id))
        .filter(delivery::Column::Status.eq(status::PENDING))
        .exec(db)
        .await
        .map(|_| ())
}

/// What one attempt ended in.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    /// Attempts made in the cycle, this one included.
    pub attempts: i32,
    /// New state.
    pub status: &'static str,
    /// Next attempt (pending only).
    pub next_attempt_at: DateTime<Utc>,
    /// HTTP status, if an answer came.
    pub status_code: Option<i32>,
    /// Failure description.
    pub error: Option<String>,
    /// When the attempt started.
    pub attempted_at: DateTime<Utc>,
}

/// Records an attempt, unless the delivery stopped being pending meanwhile
/// (its subscription was deleted).
pub async fn record_attempt(
    db: &impl ConnectionTrait,
    id: &str,
    record: AttemptRecord,
) -> Result<(), DbErr> {
    let mut update = delivery::Entity::update_many()
        .col_expr(delivery::Column::Attempts, Expr::value(record.attempts))
        .col_expr(delivery::Column::Status, Expr::value(record.status))
        .col_expr(
            delivery::Column::NextAttemptAt,
            Expr::value(record.next_attempt_at),
        )
        .col_expr(
            delivery::Column::LastAttemptAt,
            Expr::value(record.attempted_at),
        )
        .col_expr(
            delivery::Column::LastStatusCode,
            Expr::value(record.status_code),
        )
        .col_expr(delivery::Column::LastError, Expr::value(record.error));
    if record.status == status::DELIVERED {
        update = update.col_expr(delivery::Column::DeliveredAt, Expr::value(Utc::now()));
    }
    update
        .filter(delivery::Column::Id.eq(id))
        .filter(delivery::Column::Status.eq(status::PENDING))
        .exec(db)
        .await
        .map(|_| ())
}

/// Ends a pending delivery whose subscription is gone.
pub async fn cancel(db: &impl ConnectionTrait, id: &str) -> Result<(), DbErr> {
    delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(status::CANCELLED))
        .filter(delivery::Column::Id.eq(id))
        .filter(delivery::Column::Status.eq(status::PENDING))
        .exec(db)
        .await
        .map(|_| ())
}
