//! The migration creating the subscription and delivery tables.

use sea_orm_migration::prelude::*;

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
