//! Notification persistence: inbox messages, webhooks and their migrations.

pub mod channels;
pub mod webhooks;

use chrono::Utc;
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
};
use sea_orm_migration::prelude::*;
use yizhan_auth::{Principal, Role};

/// `ce_source` of notification events.
pub const SOURCE: &str = "/yizhan/notification";

/// The `inbox_messages` table.
pub mod message {
    use sea_orm::entity::prelude::*;

    /// One in-app message (站内消息).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "inbox_messages")]
    pub struct Model {
        /// Insertion order; the list cursor.
        #[sea_orm(primary_key)]
        pub seq: i64,
        /// Public id.
        #[sea_orm(unique)]
        pub id: String,
        /// Addressed person (`sub`), if any.
        pub recipient_user: Option<String>,
        /// Addressed enterprise (USCC), if any: every member sees it.
        pub recipient_uscc: Option<String>,
        /// Addressed department (code), if any: its reviewers see it.
        pub recipient_dept: Option<String>,
        /// Message category (`material`, `application`, `deadline` ...).
        pub category: String,
        /// zh-CN title.
        pub title: String,
        /// zh-CN body.
        #[sea_orm(column_type = "Text")]
        pub body: String,
        /// Where the message points to (an API path).
        pub link: Option<String>,
        /// Event that caused it: `ce_source`.
        pub cause_source: String,
        /// Event that caused it: `ce_id`.
        pub cause_id: String,
        /// Creation time.
        pub created_at: DateTimeUtc,
        /// Read flag (sorts unread first).
        pub is_read: bool,
        /// When it was read.
        pub read_at: Option<DateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A message to place.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// Person.
    pub recipient_user: Option<String>,
    /// Enterprise.
    pub recipient_uscc: Option<String>,
    /// Department.
    pub recipient_dept: Option<String>,
    /// Category.
    pub category: &'static str,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Link.
    pub link: Option<String>,
}

/// Inserts a message (inside the consumer's transaction).
pub async fn insert_message(
    db: &impl ConnectionTrait,
    new: NewMessage,
    cause_source: &str,
    cause_id: &str,
) -> Result<message::Model, DbErr> {
    let model = message::ActiveModel {
        seq: sea_orm::NotSet,
        id: Set(uuid::Uuid::now_v7().to_string()),
        recipient_user: Set(new.recipient_user),
        recipient_uscc: Set(new.recipient_uscc),
        recipient_dept: Set(new.recipient_dept),
        category: Set(new.category.to_owned()),
        title: Set(new.title),
        body: Set(new.body),
        link: Set(new.link),
        cause_source: Set(cause_source.to_owned()),
        cause_id: Set(cause_id.to_owned()),
        created_at: Set(Utc::now()),
        is_read: Set(false),
        read_at: Set(None),
    };
    message::Entity::insert(model).exec_with_returning(db).await
}

/// Who the caller is, for inbox visibility: their own messages, their
/// enterprise's (applicants) or their authorising enterprises' (agents), and
/// their department's (department reviewers). Each claim counts only with
/// its role: an `enterprises` claim on a clerk's or an applicant's token
/// (a misissued token, or an IdP mapping gone wrong) opens no enterprise's
/// messages, as `may_act_for` opens none of its cases.
fn visible_to(principal: &Principal) -> Condition {
    let mut enterprises: Vec<String> = if principal.has_role(Role::Agent) {
        principal.enterprises.clone()
    } else {
        Vec::new()
    };
    if principal.has_role(Role::Applicant)
        && let Some(own) = &principal.uscc
    {
        enterprises.push(own.clone());
    }
    let mut any = Condition::any().add(message::Column::RecipientUser.eq(principal.sub.clone()));
    if !enterprises.is_empty() {
        any = any.add(message::Column::RecipientUscc.is_in(enterprises));
    }
    if principal.has_role(Role::DeptReviewer)
        && let Some(dept) = &principal.dept
    {
        any = any.add(message::Column::RecipientDept.eq(dept.clone()));
    }
    any
}

/// A page of the caller's messages, unread first, newest first within each.
/// `after` is the (is_read, seq) of the last row of the previous page.
pub async fn list_messages(
    db: &impl ConnectionTrait,
    principal: &Principal,
    unread_only: bool,
    after: Option<(bool, i64)>,
    limit: u64,
) -> Result<Vec<message::Model>, DbErr> {
    let mut query = message::Entity::find().filter(visible_to(principal));
    if unread_only {
        query = query.filter(message::Column::IsRead.eq(false));
    }
    if let Some((read, seq)) = after {
        let later = if read {
            Condition::all()
                .add(message::Column::IsRead.eq(true))
                .add(message::Column::Seq.lt(seq))
        } else {
            Condition::any().add(message::Column::IsRead.eq(true)).add(
                Condition::all()
                    .add(message::Column::IsRead.eq(false))
                    .add(message::Column::Seq.lt(seq)),
            )
        };
        query = query.filter(later);
    }
    query
        .order_by_asc(message::Column::IsRead)
        .order_by_desc(message::Column::Seq)
        .limit(limit + 1)
        .all(db)
        .await
}

/// Unread messages the caller can see.
pub async fn unread_count(db: &impl ConnectionTrait, principal: &Principal) -> Result<u64, DbErr> {
    message::Entity::find()
        .filter(visible_to(principal))
        .filter(message::Column::IsRead.eq(false))
        .count(db)
        .await
}

/// Marks a visible message read; `false` when it is not the caller's.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    principal: &Principal,
    id: &str,
) -> Result<bool, DbErr> {
    let visible = message::Entity::find()
        .filter(visible_to(principal))
        .filter(message::Column::Id.eq(id))
        .one(db)
        .await?;
    let Some(found) = visible else {
        return Ok(false);
    };
    if !found.is_read {
        message::Entity::update_many()
            .col_expr(message::Column::IsRead, Expr::value(true))
            .col_expr(message::Column::ReadAt, Expr::value(Utc::now()))
            .filter(message::Column::Seq.eq(found.seq))
            .exec(db)
            .await?;
    }
    Ok(true)
}

/// Messages caused by one event (tests check idempotency with it).
pub async fn count_caused_by(db: &impl ConnectionTrait, cause_id: &str) -> Result<u64, DbErr> {
    message::Entity::find()
        .filter(message::Column::CauseId.eq(cause_id))
        .count(db)
        .await
}

/// The notification service's migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = yizhan_events::migration::backbone_migrations();
        all.push(Box::new(CreateInboxMessages));
        all.push(Box::new(webhooks::CreateWebhooks));
        all.push(Box::new(AddRecipientDept));
        all.push(Box::new(channels::CreateChannels));
        all
    }
}

struct CreateInboxMessages;

impl MigrationName for CreateInboxMessages {
    fn name(&self) -> &str {
        "m0100_create_inbox_messages"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateInboxMessages {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::*;
        manager
            .create_table(
                Table::create()
                    .table("inbox_messages")
                    .if_not_exists()
                    .col(big_pk_auto("seq"))
                    .col(string_uniq("id"))
                    .col(string_null("recipient_user"))
                    .col(string_null("recipient_uscc"))
                    .col(string("category"))
                    .col(string("title"))
                    .col(text("body"))
                    .col(string_null("link"))
                    .col(string("cause_source"))
                    .col(string("cause_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(boolean("is_read").default(false))
                    .col(timestamp_with_time_zone_null("read_at"))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("inbox_messages_user", "recipient_user"),
            ("inbox_messages_uscc", "recipient_uscc"),
            ("inbox_messages_cause", "cause_id"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table("inbox_messages")
                        .col(col)
                        .col("is_read")
                        .col("seq")
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

/// Messages addressed to a department (deadline warnings to its reviewers).
struct AddRecipientDept;

impl MigrationName for AddRecipientDept {
    fn name(&self) -> &str {
        "m0300_add_inbox_recipient_dept"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddRecipientDept {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use sea_orm_migration::schema::*;
        manager
            .alter_table(
                Table::alter()
                    .table("inbox_messages")
                    .add_column(string_null("recipient_dept"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("inbox_messages_dept")
                    .table("inbox_messages")
                    .col("recipient_dept")
                    .col("is_read")
                    .col("seq")
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }
}
