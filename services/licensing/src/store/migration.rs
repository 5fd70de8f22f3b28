//! The licensing service's migrations (after the backbone's).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use yizhan_workflow::migration::index;

/// The licensing service's migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = yizhan_events::migration::backbone_migrations();
        all.push(Box::new(CreateLicensing));
        all.push(Box::new(AddSupplementRequest));
        all.push(Box::new(AddLifecycleAndAlarms));
        all.push(Box::new(AddApplicationsStatusIndex));
        all.push(Box::new(yizhan_workflow::migration::CreateWorkflow));
        all.push(Box::new(MoveTasksToWorkflow));
        all.push(Box::new(yizhan_workflow::numbers::NumberRows {
            name: "m0902_application_numbers",
            series: super::NUMBERS,
        }));
        all.push(Box::new(CreateDrafts));
        all
    }
}

struct CreateLicensing;

impl MigrationName for CreateLicensing {
    fn name(&self) -> &str {
        "m0100_create_licensing"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateLicensing {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("catalog_versions")
                    .if_not_exists()
                    .col(integer("version").primary_key())
                    .col(text("content"))
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("applications")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("scenario_code"))
                    .col(integer("catalog_version"))
                    .col(string("enterprise_uscc"))
                    .col(string("enterprise_name"))
                    .col(string("status"))
                    .col(text("notice"))
                    .col(text("form"))
                    .col(text("materials"))
                    .col(text_null("deficiencies"))
                    .col(string("submitted_by"))
                    .col(big_integer("statutory_half_days"))
                    .col(big_integer("committed_half_days"))
                    .col(date_time_null("accepted_at"))
                    .col(date_time_null("concluded_at"))
                    .col(string_null("certificate_id"))
                    .col(timestamp_with_time_zone("created_at"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .to_owned(),
            )
            .await?;
        // Scoped lists: an enterprise's applications, newest first.
        manager
            .create_index(index(
                "applications_enterprise_id",
                "applications",
                &["enterprise_uscc", "id"],
            ))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("tasks")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("application_id"))
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
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await?;
        // The department queue: equality on department and status, then
        // urgency order and the cursor's tie-breaker, all from the index.
        manager
            .create_index(index(
                "tasks_queue",
                "tasks",
                &["department_code", "status", "due_key", "id"],
            ))
            .await?;
        manager
            .create_index(index("tasks_application", "tasks", &["application_id"]))
            .await?;
        manager
            .create_table(
                Table::create()
                    .table("timeline_entries")
                    .if_not_exists()
                    .col(string("id").primary_key())
                    .col(string("application_id"))
                    .col(integer("seq"))
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
                    "timeline_application_seq",
                    "timeline_entries",
                    &["application_id", "seq"],
                )
                .unique()
                .to_owned(),
            )
            .await
    }
}

/// The open one-time supplement list (补正) of a task.
struct AddSupplementRequest;

impl MigrationName for AddSupplementRequest {
    fn name(&self) -> &str {
        "m0101_task_supplement_request"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddSupplementRequest {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("tasks")
                    .add_column(text_null("supplement_request"))
                    .to_owned(),
            )
            .await
    }
}

/// 容缺受理, deadline alarms, decision durations for statistics, and the
/// lifecycle (变更/延续/注销) link between applications.
struct AddLifecycleAndAlarms;

impl MigrationName for AddLifecycleAndAlarms {
    fn name(&self) -> &str {
        "m0102_lifecycle_tolerance_alarms"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddLifecycleAndAlarms {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        let columns: [(&str, ColumnDef); 9] = [
            ("applications", string("kind").default("new").to_owned()),
            ("applications", string_null("predecessor_id")),
            ("applications", text_null("tolerance_missing")),
            ("applications", date_null("tolerance_due")),
            ("tasks", string_null("next_alarm_key")),
            ("tasks", timestamp_with_time_zone_null("warned_at")),
            (
                "tasks",
                timestamp_with_time_zone_null("overdue_notified_at"),
            ),
            ("tasks", big_integer_null("used_half_days")),
            ("applications", big_integer_null("used_half_days")),
        ];
        for (table, mut column) in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new(table))
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        // The deadline scheduler wakes on `next_alarm_key <= now`; rows
        // without an alarm (decided, paused) are NULL and never scanned.
        manager
            .create_index(index("tasks_alarm", "tasks", &["next_alarm_key", "id"]))
            .await?;
        // Statistics read decided tasks by decision time and concluded
        // bundles by conclusion time.
        manager
            .create_index(index("tasks_decided", "tasks", &["decided_at"]))
            .await?;
        manager
            .create_index(index(
                "applications_concluded",
                "applications",
                &["concluded_at"],
            ))
            .await?;
        // The tolerance expiry job reads open tolerances by due date.
        manager
            .create_index(index(
                "applications_tolerance_due",
                "applications",
                &["tolerance_due"],
            ))
            .await?;
        manager
            .create_index(index(
                "applications_predecessor",
                "applications",
                &["predecessor_id"],
            ))
            .await
    }
}

/// The window's queues list applications by status in id order (intake:
/// `submitted`, hand-out: `licence_issued`, oldest first), across every
/// enterprise; without this index each page would scan all applications.
struct AddApplicationsStatusIndex;

impl MigrationName for AddApplicationsStatusIndex {
    fn name(&self) -> &str {
        "m0103_applications_status_index"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddApplicationsStatusIndex {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(index(
                "applications_status_id",
                "applications",
                &["status", "id"],
            ))
            .await
    }
}

/// Moves the tasks and timeline entries of the tables this service had
/// before the approval engine owned them into the engine's tables
/// (`workflow_tasks`, `workflow_timeline`), then drops the old tables. An
/// application is both the subject and the case of its tasks. A task left
/// at 特别程序（结束）(BLZT 10) goes back to 部门开始办理 (8), where the
/// engine now puts it, so it is in its department's queue again.
struct MoveTasksToWorkflow;

impl MigrationName for MoveTasksToWorkflow {
    fn name(&self) -> &str {
        "m0901_move_tasks_to_workflow"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for MoveTasksToWorkflow {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            "INSERT INTO workflow_tasks (id, subject_id, case_id, enterprise_uscc, item_code, \
             item_name, department_code, department_name, status, blzt, statutory_half_days, \
             committed_half_days, accepted_at, clock_events, due_key, permit_number, reasons, \
             decided_by, decided_at, supplement_request, next_alarm_key, warned_at, \
             overdue_notified_at, used_half_days, created_at) \
             SELECT id, application_id, application_id, enterprise_uscc, item_code, item_name, \
             department_code, department_name, status, blzt, statutory_half_days, \
             committed_half_days, accepted_at, clock_events, due_key, permit_number, reasons, \
             decided_by, decided_at, supplement_request, next_alarm_key, warned_at, \
             overdue_notified_at, used_half_days, created_at FROM tasks",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE workflow_tasks SET status = 'in_review', blzt = 8 WHERE blzt = 10",
        )
        .await?;
        db.execute_unprepared(
            "INSERT INTO workflow_timeline (id, subject_id, seq, case_id, task_id, action, title, \
             actor_sub, actor_role, blzt, at) \
             SELECT id, application_id, seq, application_id, task_id, action, title, actor_sub, \
             actor_role, blzt, at FROM timeline_entries",
        )
        .await?;
        manager
            .drop_table(Table::drop().table("tasks").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("timeline_entries").to_owned())
            .await
    }
}

/// 草稿: one per enterprise and scenario, what its applicants have
/// answered, filled in and picked so far.
struct CreateDrafts;

impl MigrationName for CreateDrafts {
    fn name(&self) -> &str {
        "m0903_application_drafts"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateDrafts {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("application_drafts")
                    .if_not_exists()
                    .col(string("enterprise_uscc"))
                    .col(string("scenario_code"))
                    .col(text("answers"))
                    .col(text("form"))
                    .col(text("materials"))
                    .col(string("saved_by"))
                    .col(timestamp_with_time_zone("updated_at"))
                    // One draft per enterprise and scenario; the key also
                    // serves the list of an enterprise's drafts.
                    .primary_key(
                        Index::create()
                            .col(Alias::new("enterprise_uscc"))
                            .col(Alias::new("scenario_code")),
                    )
                    .to_owned(),
            )
            .await
    }
}
