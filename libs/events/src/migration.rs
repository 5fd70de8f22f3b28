//! Tables every service's database has for the backbone: the outbox it
//! publishes from and the inbox its consumer dedupes with. Each service lists
//! these migrations in its own migrator.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Creates `outbox_events` with a partial index over unpublished rows, so the
/// relay's claim query stays an index scan however large the history grows.
pub struct CreateOutbox;

impl MigrationName for CreateOutbox {
    fn name(&self) -> &str {
        "m0002_create_outbox_events"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateOutbox {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("outbox_events")
                    .if_not_exists()
                    .col(big_pk_auto("seq"))
                    .col(string_uniq("event_id"))
                    .col(string("topic"))
                    .col(string("partition_key"))
                    .col(string("ce_type"))
                    .col(string("ce_source"))
                    .col(timestamp_with_time_zone("ce_time"))
                    .col(string_null("traceparent"))
                    .col(text("payload"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone_null("published_at"))
                    .col(integer("attempts").default(0))
                    .col(text_null("last_error"))
                    .to_owned(),
            )
            .await?;
        manager
            .get_connection()
            .execute_unprepared(
                "CREATE INDEX IF NOT EXISTS outbox_events_unpublished \
                 ON outbox_events (seq) WHERE published_at IS NULL",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("outbox_events").to_owned())
            .await
    }
}

/// Creates `inbox_events`: one row per applied event, keyed by (source, id).
pub struct CreateInbox;

impl MigrationName for CreateInbox {
    fn name(&self) -> &str {
        "m0003_create_inbox_events"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateInbox {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("inbox_events")
                    .if_not_exists()
                    .col(string("source"))
                    .col(string("event_id"))
                    .col(string("ce_type"))
                    .col(timestamp_with_time_zone("received_at"))
                    .primary_key(Index::create().col("source").col("event_id"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("inbox_events").to_owned())
            .await
    }
}

/// Creates `backbone_state`: small facts the backbone keeps about itself,
/// such as which broker the outbox last published to (see
/// `outbox::redrive_if_new_broker`).
pub struct CreateBackboneState;

impl MigrationName for CreateBackboneState {
    fn name(&self) -> &str {
        "m0004_create_backbone_state"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateBackboneState {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("backbone_state")
                    .if_not_exists()
                    .col(string("key").primary_key())
                    .col(text("value"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("backbone_state").to_owned())
            .await
    }
}

/// The backbone and kit migrations, in order, for a service migrator to prepend.
pub fn backbone_migrations() -> Vec<Box<dyn MigrationTrait>> {
    vec![
        Box::new(yizhan_kit::idempotency::migration::Migration),
        Box::new(CreateOutbox),
        Box::new(CreateInbox),
        Box::new(CreateBackboneState),
        Box::new(crate::audit::migration::CreateAuditLog),
    ]
}
