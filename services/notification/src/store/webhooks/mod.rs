//! Webhook persistence: subscriptions, deliveries (the delivery log), the
//! queries the worker claims work with, and their migration (split across this module and its children).
//!
//! A delivery row is the whole state of one attempt cycle: `pending` with
//! `next_attempt_at` (which also serves as the claim lease while an attempt
//! is in flight), then `delivered`, `dead` or `cancelled`. A replay is a new
//! row (`replay_of`, `replay_seq`) so the earlier cycle's record stays as it was.

use chrono::Utc;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
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

mod deliveries;
mod migration;

pub use deliveries::*;
pub use migration::CreateWebhooks;
