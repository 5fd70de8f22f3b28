//! Webhook persistence: subscriptions, deliveries (the delivery log), the
//! queries the worker claims work with, and their migration.
//!
//! A delivery row is the whole state of one attempt cycle: `pending` with
//! `next_attempt_at` (which also serves as the claim lease while an attempt
//! is in flight), then `delivered`, `dead` or `cancelled`. A replay is a new
//! row (`replay_of`, `replay_seq`) so the earlier cycle's record stays as it was.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Set, Statement,
};
use sea_orm_migration::prelude::*;

/// Delivery states.
pub mod status {
    /// Waiting for its (next) attempt.
    pub const PENDING: &str = "pending";
    /// A 2xx answer was received.
    pub const DELIVERED: &str = "delivered";
    /// Every attempt of the cycle failed (dead-lettered); can be replayed.
    pub const DEAD: &str = "dead";
    /// Its subscription was deleted before it was delivered.
    pub const CANCELLED: &str = "cancelled";
    /// Every state, for validating filters.
    pub const ALL: [&str; 4] = [PENDING, DELIVERED, DEAD, CANCELLED];
}

/// The `webhook_subscriptions` table.
pub mod subscription {
    use sea_orm::entity::prelude::*;

    /// One partner subscription (推送订阅).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_subscriptions")]
    pub struct Model {
        /// Insertion order; the list cursor.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// Public id.
        #[sea_orm(unique)]
        pub id: String,
        /// The partner (`sub` of its token) that owns it.
        pub owner_sub: String,
        /// Where deliveries are POSTed.
        pub url: String,
        /// JSON array of `ce_type`s (or `["*"]`).
        #[sea_orm(column_type = "Text")]
        pub event_types: String,
        /// Department filter.
        pub filter_department: Option<String>,
        /// Enterprise filter.
        pub filter_enterprise: Option<String>,
        /// Partner's own label.
        pub description: Option<String>,
        /// The signing secret, sealed (see `webhooks::secret`).
        #[sea_orm(column_type = "Text")]
        pub secret_sealed: String,
        /// Creation time.
        pub created_at: DateTimeUtc,
        /// Last secret rotation (creation time at first).
        pub secret_rotated_at: DateTimeUtc,
        /// Set when deleted; deleted subscriptions match nothing.
        pub deleted_at: Option<DateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `webhook_deliveries` table.
pub mod delivery {
    use sea_orm::entity::prelude::*;

    /// One delivery cycle of one event to one subscription.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "webhook_deliveries")]
    pub struct Model {
        /// Creation order: per (subscription, subject) deliveries go in this order.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// Public id (`X-Yizhan-Delivery`).
        #[sea_orm(unique)]
        pub id: String,
        /// Subscription.
        pub subscription_id: String,
        /// Owner of the subscription (list and access checks).
        pub owner_sub: String,
        /// `ce_source` of the event.
        pub event_source: String,
        /// `ce_id` of the event.
        pub event_id: String,
        /// `ce_type` of the event.
        pub event_type: String,
        /// `ce_subject` (aggregate id).
        pub subject: String,
        /// The structured CloudEvent, exactly as POSTed.
        #[sea_orm(column_type = "Text")]
        pub body: String,
        /// 0 for the first cycle, 1.. for replays.
        pub replay_seq: i32,
        /// The delivery this one replays.
        pub replay_of: Option<String>,
        /// `pending`, `delivered`, `dead` or `cancelled`.
        pub status: String,
        /// Attempts made in this cycle.
        pub attempts: i32,
        /// When the next attempt is due (or, while one is in flight, its lease end).
        pub next_attempt_at: DateTimeUtc,
        /// Last attempt.
        pub last_attempt_at: Option<DateTimeUtc>,
        /// HTTP status of the last answer.
        pub last_status_code: Option<i32>,
        /// What went wrong last (status line or transport error).
        #[sea_orm(column_type = "Text", nullable)]
        pub last_error: Option<String>,
        /// Creation time.
        pub created_at: DateTimeUtc,
        /// When a 2xx was received.
        pub delivered_at: Option<DateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Inserts a subscription.
pub async fn insert_subscription(
    db: &impl ConnectionTrait,
    model: subscription::ActiveModel,
) -> Result<subscription::Model, DbErr> {
    subscription::Entity::insert(model)
        .exec_with_returning(db)
        .await
}

/// A page of the owner's live subscriptions, newest first.
pub async fn list_subscriptions(
    db: &impl ConnectionTrait,
    owner: &str,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<subscription::Model>, DbErr> {
    let mut query = subscription::Entity::find()
        .filter(subscription::Column::OwnerSub.eq(owner))
        .filter(subscription::Column::DeletedAt.is_null());
    if let Some(seq) = after {
        query = query.filter(subscription::Column::Seq.lt(seq));
    }
    query
        .order_by_desc(subscription::Column::Seq)
        .limit(limit + 1)
        .all(db)
        .await
}

/// The owner's live subscription `id`.
pub async fn find_subscription(
    db: &impl ConnectionTrait,
    owner: &str,
    id: &str,
) -> Result<Option<subscription::Model>, DbErr> {
    subscription::Entity::find()
        .filter(subscription::Column::Id.eq(id))
        .filter(subscription::Column::OwnerSub.eq(owner))
        .filter(subscription::Column::DeletedAt.is_null())
        .one(db)
        .await
}

/// A live subscription by id, whoever owns it (the worker's view).
pub async fn live_subscription(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<subscription::Model>, DbErr> {
    subscription::Entity::find()
        .filter(subscription::Column::Id.eq(id))
        .filter(subscription::Column::DeletedAt.is_null())
        .one(db)
        .await
}

/// Every live subscription (the consumer matches each event against them).
pub async fn live_subscriptions(
    db: &impl ConnectionTrait,
) -> Result<Vec<subscription::Model>, DbErr> {
    subscription::Entity::find()
        .filter(subscription::Column::DeletedAt.is_null())
        .order_by_asc(subscription::Column::Seq)
        .all(db)
        .await
}

/// Marks the subscription deleted and cancels its pending deliveries, in
/// the caller's transaction; `false` when it is not the owner's.
pub async fn delete_subscription(
    db: &impl ConnectionTrait,
    owner: &str,
    id: &str,
) -> Result<bool, DbErr> {
    let now = Utc::now();
    let gone = subscription::Entity::update_many()
        .col_expr(subscription::Column::DeletedAt, Expr::value(now))
        .filter(subscription::Column::Id.eq(id))
        .filter(subscription::Column::OwnerSub.eq(owner))
        .filter(subscription::Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    if gone.rows_affected == 0 {
        return Ok(false);
    }
    delivery::Entity::update_many()
        .col_expr(delivery::Column::Status, Expr::value(status::CANCELLED))
        .filter(delivery::Column::SubscriptionId.eq(id))
        .filter(delivery::Column::Status.eq(status::PENDING))
        .exec(db)
        .await?;
    Ok(true)
}

/// Replaces the sealed secret of the owner's subscription.
pub async fn replace_secret(
    db: &impl ConnectionTrait,
    owner: &str,
    id: &str,
    sealed: String,
) -> Result<Option<subscription::Model>, DbErr> {
    subscription::Entity::update_many()
        .col_expr(subscription::Column::SecretSealed, Expr::value(sealed))
        .col_expr(
            subscription::Column::SecretRotatedAt,
            Expr::value(Utc::now()),
        )
        .filter(subscription::Column::Id.eq(id))
        .filter(subscription::Column::OwnerSub.eq(owner))
        .filter(subscription::Column::DeletedAt.is_null())
        .exec(db)
        .await?;
    find_subscription(db, owner, id).await
}

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

/// Migration creating both tables.
pub struct CreateWebhooks;

impl MigrationName for CreateWebhooks {
    fn name(&self) -> &str {
        "m0200_create_webhooks"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateWebhooks {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::*;
        manager
            .create_table(
                Table::create()
                    .table("webhook_subscriptions")
                    .if_not_exists()
                    .col(big_pk_auto("seq"))
                    .col(string_uniq("id"))
                    .col(string("owner_sub"))
                    .col(text("url"))
                    .col(text("event_types"))
                    .col(string_null("filter_department"))
                    .col(string_null("filter_enterprise"))
                    .col(string_null("description"))
                    .col(text("secret_sealed"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("secret_rotated_at"))
                    .col(timestamp_with_time_zone_null("deleted_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("webhook_deliveries")
                    .if_not_exists()
                    .col(big_pk_auto("seq"))
                    .col(string_uniq("id"))
                    .col(string("subscription_id"))
                    .col(string("owner_sub"))
                    .col(string("event_source"))
                    .col(string("event_id"))
                    .col(string("event_type"))
                    .col(string("subject"))
                    .col(text("body"))
                    .col(integer("replay_seq").default(0))
                    .col(string_null("replay_of"))
                    .col(string("status"))
                    .col(integer("attempts").default(0))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(timestamp_with_time_zone_null("last_attempt_at"))
                    .col(integer_null("last_status_code"))
                    .col(text_null("last_error"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("delivered_at"))
                    .to_owned(),
            )
            .await?;
        let indexes: [(&str, &str, &[&str], bool); 5] = [
            (
                "webhook_subscriptions_owner",
                "webhook_subscriptions",
                &["owner_sub", "seq"],
                false,
            ),
            // One delivery per (subscription, event, cycle), whatever the inbox does.
            (
                "webhook_deliveries_event",
                "webhook_deliveries",
                &["subscription_id", "event_source", "event_id", "replay_seq"],
                true,
            ),
            (
                "webhook_deliveries_due",
                "webhook_deliveries",
                &["status", "next_attempt_at"],
                false,
            ),
            (
                "webhook_deliveries_order",
                "webhook_deliveries",
                &["subscription_id", "subject", "status", "seq"],
                false,
            ),
            (
                "webhook_deliveries_owner",
                "webhook_deliveries",
                &["owner_sub", "seq"],
                false,
            ),
        ];
        for (name, table, cols, unique) in indexes {
            let mut index = Index::create();
            index.name(name).table(table).if_not_exists();
            for col in cols {
                index.col(*col);
            }
            if unique {
                index.unique();
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }
}
