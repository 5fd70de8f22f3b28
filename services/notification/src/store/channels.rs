//! Email/SMS persistence: per-person preferences and the channel delivery
//! log (one row per message, channel and person), and their migration.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};
use sea_orm_migration::prelude::*;

/// Channel delivery states.
pub mod status {
    /// Waiting for its (next) attempt.
    pub const PENDING: &str = "pending";
    /// The SMTP server or SMS provider accepted it.
    pub const SENT: &str = "sent";
    /// Every attempt failed.
    pub const FAILED: &str = "failed";
}

/// The `notification_preferences` table.
pub mod preference {
    use sea_orm::entity::prelude::*;

    /// How one person wants to be told, beyond the inbox.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "notification_preferences")]
    pub struct Model {
        /// The person (`sub`).
        #[sea_orm(primary_key, auto_increment = false)]
        pub sub: String,
        /// Email address.
        pub email: Option<String>,
        /// Mobile number.
        pub phone: Option<String>,
        /// JSON array of categories sent by email.
        #[sea_orm(column_type = "Text")]
        pub email_categories: String,
        /// JSON array of categories sent by SMS.
        #[sea_orm(column_type = "Text")]
        pub sms_categories: String,
        /// Last change.
        pub updated_at: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The `channel_deliveries` table: the email/SMS delivery log.
pub mod delivery {
    use sea_orm::entity::prelude::*;

    /// One message sent (or to send) over one channel to one person.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "channel_deliveries")]
    pub struct Model {
        /// Creation order; the list cursor.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// Public id.
        #[sea_orm(unique)]
        pub id: String,
        /// `email` or `sms`.
        pub channel: String,
        /// The person (`sub`).
        pub recipient_sub: String,
        /// Email address or phone number at the time.
        pub address: String,
        /// The inbox message it carries.
        pub message_id: String,
        /// Message category.
        pub category: String,
        /// Title.
        pub title: String,
        /// Body.
        #[sea_orm(column_type = "Text")]
        pub body: String,
        /// `pending`, `sent` or `failed`.
        pub status: String,
        /// Attempts made.
        pub attempts: i32,
        /// When the next attempt is due (or, while one runs, its lease end).
        pub next_attempt_at: DateTimeUtc,
        /// What went wrong last.
        #[sea_orm(column_type = "Text", nullable)]
        pub last_error: Option<String>,
        /// Creation time.
        pub created_at: DateTimeUtc,
        /// When it was accepted.
        pub sent_at: Option<DateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The person's preferences, if they set any.
pub async fn preferences(
    db: &impl ConnectionTrait,
    sub: &str,
) -> Result<Option<preference::Model>, DbErr> {
    preference::Entity::find_by_id(sub.to_owned()).one(db).await
}

/// Creates or replaces the person's preferences.
pub async fn save_preferences(
    db: &impl ConnectionTrait,
    model: preference::Model,
) -> Result<(), DbErr> {
    let active = preference::ActiveModel {
        sub: Set(model.sub),
        email: Set(model.email),
        phone: Set(model.phone),
        email_categories: Set(model.email_categories),
        sms_categories: Set(model.sms_categories),
        updated_at: Set(model.updated_at),
    };
    preference::Entity::insert(active)
        .on_conflict(
            OnConflict::column(preference::Column::Sub)
                .update_columns([
                    preference::Column::Email,
                    preference::Column::Phone,
                    preference::Column::EmailCategories,
                    preference::Column::SmsCategories,
                    preference::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec(db)
        .await
        .map(|_| ())
}

/// A channel delivery to create.
#[derive(Debug, Clone)]
pub struct NewChannelDelivery {
    /// `email` or `sms`.
    pub channel: &'static str,
    /// The person.
    pub recipient_sub: String,
    /// Address.
    pub address: String,
    /// Inbox message id.
    pub message_id: String,
    /// Category.
    pub category: String,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
}

/// Inserts a pending channel delivery, due now.
pub async fn insert(db: &impl ConnectionTrait, new: NewChannelDelivery) -> Result<(), DbErr> {
    let now = Utc::now();
    delivery::Entity::insert(delivery::ActiveModel {
        seq: sea_orm::NotSet,
        id: Set(uuid::Uuid::now_v7().to_string()),
        channel: Set(new.channel.to_owned()),
        recipient_sub: Set(new.recipient_sub),
        address: Set(new.address),
        message_id: Set(new.message_id),
        category: Set(new.category),
        title: Set(new.title),
        body: Set(new.body),
        status: Set(status::PENDING.to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
    })
    .exec(db)
    .await
    .map(|_| ())
}

/// Pending deliveries due at `now`, oldest first.
pub async fn due(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<delivery::Model>, DbErr> {
    delivery::Entity::find()
        .filter(delivery::Column::Status.eq(status::PENDING))
        .filter(delivery::Column::NextAttemptAt.lte(now))
        .order_by_asc(delivery::Column::Seq)
        .limit(limit)
        .all(db)
        .await
}

/// Claims a due delivery (see the webhook worker's claim: same lease idea).
pub async fn claim(
    db: &impl ConnectionTrait,
    seq: i64,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let claimed = delivery::Entity::update_many()
        .col_expr(delivery::Column::NextAttemptAt, Expr::value(lease_until))
        .filter(delivery::Column::Seq.eq(seq))
        .filter(delivery::Column::Status.eq(status::PENDING))
        .filter(delivery::Column::NextAttemptAt.lte(now))
        .exec(db)
        .await?;
    Ok(claimed.rows_affected == 1)
}

/// Records an attempt.
pub async fn record(
    db: &impl ConnectionTrait,
    seq: i64,
    attempts: i32,
    state: &str,
    next_attempt_at: DateTime<Utc>,
    error: Option<String>,
) -> Result<(), DbErr> {
    let mut update = delivery::Entity::update_many()
        .col_expr(delivery::Column::Attempts, Expr::value(attempts))
        .col_expr(delivery::Column::Status, Expr::value(state))
        .col_expr(
            delivery::Column::NextAttemptAt,
            Expr::value(next_attempt_at),
        )
        .col_expr(delivery::Column::LastError, Expr::value(error));
    if state == status::SENT {
        update = update.col_expr(delivery::Column::SentAt, Expr::value(Utc::now()));
    }
    update
        .filter(delivery::Column::Seq.eq(seq))
        .exec(db)
        .await
        .map(|_| ())
}

/// A page of the person's channel deliveries, newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    sub: &str,
    after: Option<i64>,
    limit: u64,
) -> Result<Vec<delivery::Model>, DbErr> {
    let mut query = delivery::Entity::find().filter(delivery::Column::RecipientSub.eq(sub));
    if let Some(seq) = after {
        query = query.filter(delivery::Column::Seq.lt(seq));
    }
    query
        .order_by_desc(delivery::Column::Seq)
        .limit(limit + 1)
        .all(db)
        .await
}

/// Migration creating both tables.
pub struct CreateChannels;

impl MigrationName for CreateChannels {
    fn name(&self) -> &str {
        "m0400_create_channels"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateChannels {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::*;
        manager
            .create_table(
                Table::create()
                    .table("notification_preferences")
                    .if_not_exists()
                    .col(string("sub").primary_key())
                    .col(string_null("email"))
                    .col(string_null("phone"))
                    .col(text("email_categories"))
                    .col(text("sms_categories"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("channel_deliveries")
                    .if_not_exists()
                    .col(big_pk_auto("seq"))
                    .col(string_uniq("id"))
                    .col(string("channel"))
                    .col(string("recipient_sub"))
                    .col(string("address"))
                    .col(string("message_id"))
                    .col(string("category"))
                    .col(string("title"))
                    .col(text("body"))
                    .col(string("status"))
                    .col(integer("attempts").default(0))
                    .col(timestamp_with_time_zone("next_attempt_at"))
                    .col(text_null("last_error"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("sent_at"))
                    .to_owned(),
            )
            .await?;
        let indexes: [(&str, &[&str], bool); 3] = [
            // One per message, channel and person, whatever happens upstream.
            (
                "channel_deliveries_message",
                &["message_id", "channel", "recipient_sub"],
                true,
            ),
            (
                "channel_deliveries_due",
                &["status", "next_attempt_at"],
                false,
            ),
            (
                "channel_deliveries_recipient",
                &["recipient_sub", "seq"],
                false,
            ),
        ];
        for (name, cols, unique) in indexes {
            let mut index = Index::create();
            index.name(name).table("channel_deliveries").if_not_exists();
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
