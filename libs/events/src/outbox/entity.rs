//! The `outbox_events` table.

use sea_orm::entity::prelude::*;

/// One event waiting for (or done with) publication.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox_events")]
pub struct Model {
    /// Commit order.
    #[sea_orm(primary_key)]
    pub seq: i64,
    /// `ce_id`.
    #[sea_orm(unique)]
    pub event_id: String,
    /// Kafka topic.
    pub topic: String,
    /// Kafka key and `ce_subject`.
    pub partition_key: String,
    /// `ce_type`.
    pub ce_type: String,
    /// `ce_source`.
    pub ce_source: String,
    /// `ce_time`.
    pub ce_time: DateTimeUtc,
    /// W3C trace context.
    pub traceparent: Option<String>,
    /// JSON payload.
    #[sea_orm(column_type = "Text")]
    pub payload: String,
    /// Insert time.
    pub created_at: DateTimeUtc,
    /// Set once Kafka acknowledged it.
    pub published_at: Option<DateTimeUtc>,
    /// Publication attempts.
    pub attempts: i32,
    /// Last publication error.
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
