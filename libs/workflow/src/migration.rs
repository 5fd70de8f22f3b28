//! The engine's tables. A service adds [`CreateWorkflow`] to its migrator
//! (after its own earlier migrations, so existing databases apply it next)
//! and, where it had task and timeline tables of its own before, a
//! migration of its own that copies their rows over (see each service).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// Creates `workflow_tasks` and `workflow_timeline` with their indexes.
pub struct CreateWorkflow;

impl MigrationName for CreateWorkflow {
    fn name(&self) -> &str {
        "m0900_create_workflow"
    }
}

/// A non-unique index `name` on `table(cols…)`, created only if missing
/// (every service's migrations build their plain indexes with it).
pub fn index(name: &str, table: &str, cols: &[&str]) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(Alias::new(table)).if_not_exists();
    for c in cols {
        i.col(Alias::new(*c));
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for CreateWorkflow {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("workflow_tasks")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("subject_id"))
                    .col(string("case_id"))
                    .col(string("enterprise_uscc"))
                    .col(string("item_code"))
                    .col(string("item_name"))
                    .col(string("department_code"))
                    .col(string("department_name"))
                    .col(string("status"))
                    .col(integer("blzt"))
                    .col(big_integer("statutory_half_days"))
                    .col(big_integer("committed_half_days"))
                    .col(date_time("accepted_at"))
                    .col(text("clock_events"))
                    .col(string("due_key"))
                    .col(string_null("permit_number"))
                    .col(text_null("reasons"))
                    .col(string_null("decided_by"))
                    .col(timestamp_with_time_zone_null("decided_at"))
                    .col(text_null("supplement_request"))
                    .col(string_null("next_alarm_key"))
                    .col(timestamp_with_time_zone_null("warned_at"))
                    .col(timestamp_with_time_zone_null("overdue_notified_at"))
                    .col(big_integer_null("used_half_days"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            // The department queue: equality on department and status, then
            // urgency order and the cursor's tie-breaker, all from the index.
            (
                "workflow_tasks_queue",
                &["department_code", "status", "due_key", "id"][..],
            ),
            ("workflow_tasks_case", &["case_id"][..]),
            ("workflow_tasks_subject", &["subject_id"][..]),
            // The deadline sweep reads only rows whose alarm has come.
            ("workflow_tasks_alarm", &["next_alarm_key", "id"][..]),
            // Statistics read decided tasks by decision time.
            ("workflow_tasks_decided", &["decided_at"][..]),
        ] {
            manager
                .create_index(index(name, "workflow_tasks", cols))
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("workflow_timeline")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("subject_id"))
                    .col(integer("seq"))
                    .col(string_null("case_id"))
                    .col(string_null("task_id"))
                    .col(string("action"))
                    .col(text("title"))
                    .col(string("actor_sub"))
                    .col(string("actor_role"))
                    .col(integer_null("blzt"))
                    .col(timestamp_with_time_zone("at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                index(
                    "workflow_timeline_subject_seq",
                    "workflow_timeline",
                    &["subject_id", "seq"],
                )
                .unique()
                .to_owned(),
            )
            .await
    }
}
