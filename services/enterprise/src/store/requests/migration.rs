//! Tables of 诉求 (requests, dispatch rules) and 好差评 (rateable cases,
//! ratings with their follow-ups).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use yizhan_workflow::migration::index;

/// Creates the 诉求 and 好差评 tables and their indexes.
pub struct CreateRequestsAndRatings;

impl MigrationName for CreateRequestsAndRatings {
    fn name(&self) -> &str {
        "m1100_enterprise_requests_ratings"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateRequestsAndRatings {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("enterprise_requests")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("enterprise_uscc"))
                    .col(string("category"))
                    .col(string("channel"))
                    .col(text("description"))
                    .col(text("attachments"))
                    .col(string("filed_by"))
                    .col(string("filed_role"))
                    .col(string("status"))
                    .col(integer("round"))
                    .col(string("department_code"))
                    .col(string("department_name"))
                    .col(integer("answer_limit_days"))
                    .col(timestamp_with_time_zone("filed_at"))
                    .col(string_null("clock_kind"))
                    .col(date_time_null("clock_started_at"))
                    .col(text("clock_events"))
                    .col(boolean("in_queue"))
                    .col(boolean("paused"))
                    .col(string("due_key"))
                    .col(string_null("next_alarm_key"))
                    .col(timestamp_with_time_zone_null("warned_at"))
                    .col(timestamp_with_time_zone_null("overdue_notified_at"))
                    .col(boolean("answered_late"))
                    .col(big_integer_null("handling_half_days"))
                    .col(text_null("answer"))
                    .col(string_null("satisfaction"))
                    .col(integer("transfers"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            // The department queue: equality on department and in_queue,
            // then paused last, earliest due, oldest filing, all from the
            // index (docs/BENCHMARKS.md).
            (
                "enterprise_requests_queue",
                &[
                    "department_code",
                    "in_queue",
                    "paused",
                    "due_key",
                    "filed_at",
                    "id",
                ][..],
            ),
            ("enterprise_requests_uscc", &["enterprise_uscc", "id"][..]),
            ("enterprise_requests_alarm", &["next_alarm_key", "id"][..]),
            ("enterprise_requests_filed", &["filed_at"][..]),
        ] {
            manager
                .create_index(index(name, "enterprise_requests", cols))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("enterprise_dispatch_rules")
                    .if_not_exists()
                    .col(string("category").primary_key())
                    .col(string("department_code"))
                    .col(string("department_name"))
                    .col(integer("answer_limit_days"))
                    .col(string("updated_by"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("enterprise_rateables")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("subject"))
                    .col(string("case_id"))
                    .col(string("enterprise_uscc"))
                    .col(string("department_code"))
                    .col(string("department_name"))
                    .col(string("item_name"))
                    .col(string("channel"))
                    .col(timestamp_with_time_zone_null("concluded_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(index(
                "enterprise_rateables_uscc",
                "enterprise_rateables",
                &["enterprise_uscc"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("enterprise_ratings")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("rateable_id"))
                    .col(string("subject"))
                    .col(string("case_id"))
                    .col(string("enterprise_uscc"))
                    .col(string("department_code"))
                    .col(string("department_name"))
                    .col(string("item_name"))
                    .col(string("channel"))
                    .col(integer("score"))
                    .col(text_null("comment"))
                    .col(string("rated_by"))
                    .col(timestamp_with_time_zone("rated_at"))
                    .col(string_null("follow_up"))
                    .col(date_null("follow_up_due"))
                    .col(text_null("verification"))
                    .col(text_null("rectification"))
                    .col(timestamp_with_time_zone_null("follow_up_closed_at"))
                    .col(boolean_null("follow_up_on_time"))
                    .col(timestamp_with_time_zone_null("due_notified_at"))
                    .to_owned(),
            )
            .await?;
        // Rated once: a second rating loses on this index, whatever races.
        manager
            .create_index(
                index(
                    "enterprise_ratings_once",
                    "enterprise_ratings",
                    &["rateable_id"],
                )
                .unique()
                .to_owned(),
            )
            .await?;
        for (name, cols) in [
            ("enterprise_ratings_uscc", &["enterprise_uscc"][..]),
            (
                "enterprise_ratings_department",
                &["department_code", "follow_up"][..],
            ),
            ("enterprise_ratings_due", &["follow_up_due"][..]),
        ] {
            manager
                .create_index(index(name, "enterprise_ratings", cols))
                .await?;
        }
        Ok(())
    }
}
