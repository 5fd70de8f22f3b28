//! The construction service's migrations (after the backbone's).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The construction service's migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = yizhan_events::migration::backbone_migrations();
        all.push(Box::new(CreateConstruction));
        all.push(Box::new(AddStageHandOut));
        all.push(Box::new(yizhan_workflow::migration::CreateWorkflow));
        all.push(Box::new(MoveTasksToWorkflow));
        all.push(Box::new(yizhan_workflow::numbers::NumberRows {
            name: "m0902_stage_application_numbers",
            series: super::NUMBERS,
        }));
        all
    }
}

struct CreateConstruction;

impl MigrationName for CreateConstruction {
    fn name(&self) -> &str {
        "m0200_create_construction"
    }
}

fn index_on(name: &str, table: &str, cols: &[&str], unique: bool) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(name).table(Alias::new(table)).if_not_exists();
    if unique {
        i.unique();
    }
    for c in cols {
        i.col(Alias::new(*c));
    }
    i.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for CreateConstruction {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            Table::create()
                .table("catalog_versions")
                .if_not_exists()
                .col(integer("version").primary_key())
                .col(text("content"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("projects")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("project_code"))
                .col(string("name"))
                .col(string("builder_uscc"))
                .col(string("builder_name"))
                .col(string("location"))
                .col(string("category"))
                .col(double("floor_area_m2"))
                .col(double("total_investment_wan"))
                .col(integer("budget_days"))
                .col(boolean("land_granted"))
                .col(string_null("land_contract_no"))
                .col(date_null("land_granted_on"))
                .col(string("status"))
                .col(string_null("budget_alert"))
                .col(string("registered_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
            Table::create()
                .table("stage_applications")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("project_id"))
                .col(string("builder_uscc"))
                .col(string("stage"))
                .col(string("category"))
                .col(integer("catalog_version"))
                .col(string("status"))
                .col(boolean("pre_review"))
                .col(text("form"))
                .col(text("materials"))
                .col(text("commitments"))
                .col(text_null("commitment_statement"))
                .col(text_null("deficiencies"))
                .col(text("owed_materials"))
                .col(date_null("tolerance_due"))
                .col(string("submitted_by"))
                .col(string("submitted_role"))
                .col(date_time_null("accepted_at"))
                .col(date_time_null("concluded_at"))
                .col(text_null("stop_reason"))
                .col(string_null("certificate_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
            Table::create()
                .table("tasks")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("project_id"))
                .col(string("stage_application_id"))
                .col(string("builder_uscc"))
                .col(string("stage"))
                .col(string("category"))
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
                .col(boolean("pre_review"))
                .col(boolean("pre_approved"))
                .col(boolean("commitment"))
                .col(date_null("verification_due"))
                .col(string_null("verification"))
                .col(boolean("joint_inspection"))
                .col(string_null("certificate"))
                .col(string_null("permit_number"))
                .col(text_null("reasons"))
                .col(string_null("decided_by"))
                .col(timestamp_with_time_zone_null("decided_at"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("timeline_entries")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("project_id"))
                .col(integer("seq"))
                .col(string_null("stage_application_id"))
                .col(string_null("task_id"))
                .col(string("action"))
                .col(text("title"))
                .col(string("actor_sub"))
                .col(string("actor_role"))
                .col(integer_null("blzt"))
                .col(timestamp_with_time_zone("at"))
                .to_owned(),
            Table::create()
                .table("consultations")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("task_id"))
                .col(string("project_id"))
                .col(string("from_department"))
                .col(string("to_department"))
                .col(text("question"))
                .col(date("due_date"))
                .col(text_null("opinion"))
                .col(string("requested_by"))
                .col(string_null("answered_by"))
                .col(timestamp_with_time_zone_null("answered_at"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("inspections")
                .if_not_exists()
                .col(string("id").primary_key())
                .col(string("project_id"))
                .col(string("stage_application_id"))
                .col(integer("round"))
                .col(timestamp_with_time_zone("slot"))
                .col(string("location"))
                .col(text("departments"))
                .col(text("results"))
                .col(string("status"))
                .col(text("rectification"))
                .col(text_null("rectification_statement"))
                .col(string("scheduled_by"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        ];
        for t in tables {
            manager.create_table(t).await?;
        }
        let indexes = [
            // One project per 项目代码: a second registration is a 409.
            index_on("projects_code", "projects", &["project_code"], true),
            // Scoped lists: a builder's projects, newest first.
            index_on(
                "projects_builder_id",
                "projects",
                &["builder_uscc", "id"],
                false,
            ),
            index_on(
                "stages_project",
                "stage_applications",
                &["project_id", "stage"],
                false,
            ),
            // The open 容缺 applications the expiry job scans.
            index_on(
                "stages_tolerance_due",
                "stage_applications",
                &["tolerance_due"],
                false,
            ),
            // The department queue: equality on department and status, then
            // urgency order and the cursor's tie-breaker, all from the index.
            index_on(
                "tasks_queue",
                "tasks",
                &["department_code", "status", "due_key", "id"],
                false,
            ),
            index_on("tasks_stage", "tasks", &["stage_application_id"], false),
            index_on("tasks_project", "tasks", &["project_id"], false),
            index_on(
                "timeline_project_seq",
                "timeline_entries",
                &["project_id", "seq"],
                true,
            ),
            index_on(
                "consultations_to",
                "consultations",
                &["to_department", "id"],
                false,
            ),
            index_on("consultations_task", "consultations", &["task_id"], false),
            index_on(
                "inspections_stage",
                "inspections",
                &["stage_application_id"],
                false,
            ),
        ];
        for i in indexes {
            manager.create_index(i).await?;
        }
        Ok(())
    }
}

/// 统一窗口出件 of a stage's result, and the window's list of stage
/// applications by status.
struct AddStageHandOut;

impl MigrationName for AddStageHandOut {
    fn name(&self) -> &str {
        "m0201_stage_hand_out"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AddStageHandOut {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        let columns = [
            timestamp_with_time_zone_null("handed_out_at"),
            string_null("handed_out_by"),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Alias::new("stage_applications"))
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        // GET /stages?status=…: equality on status, then the id order and
        // the cursor, all from the index.
        manager
            .create_index(index_on(
                "stages_status_id",
                "stage_applications",
                &["status", "id"],
                false,
            ))
            .await
    }
}

/// Moves the tasks and timeline entries of the tables this service had
/// before the approval engine owned them into the engine's tables
/// (`workflow_tasks`, `workflow_timeline`: the project is the subject, the
/// stage application the case), keeps what construction adds to a task in
/// `task_details`, then drops the old tables.
struct MoveTasksToWorkflow;

impl MigrationName for MoveTasksToWorkflow {
    fn name(&self) -> &str {
        "m0901_move_tasks_to_workflow"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for MoveTasksToWorkflow {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("task_details")
                    .if_not_exists()
                    .col(string("task_id").primary_key())
                    .col(string("stage"))
                    .col(string("category"))
                    .col(boolean("pre_review"))
                    .col(boolean("pre_approved"))
                    .col(boolean("commitment"))
                    .col(date_null("verification_due"))
                    .col(string_null("verification"))
                    .col(boolean("joint_inspection"))
                    .col(string_null("certificate"))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        for sql in [
            "INSERT INTO workflow_tasks (id, subject_id, case_id, enterprise_uscc, item_code, \
             item_name, department_code, department_name, status, blzt, statutory_half_days, \
             committed_half_days, accepted_at, clock_events, due_key, permit_number, reasons, \
             decided_by, decided_at, created_at) \
             SELECT id, project_id, stage_application_id, builder_uscc, item_code, item_name, \
             department_code, department_name, status, blzt, statutory_half_days, \
             committed_half_days, accepted_at, clock_events, due_key, permit_number, reasons, \
             decided_by, decided_at, created_at FROM tasks",
            "INSERT INTO task_details (task_id, stage, category, pre_review, pre_approved, \
             commitment, verification_due, verification, joint_inspection, certificate) \
             SELECT id, stage, category, pre_review, pre_approved, commitment, verification_due, \
             verification, joint_inspection, certificate FROM tasks",
            "INSERT INTO workflow_timeline (id, subject_id, seq, case_id, task_id, action, title, \
             actor_sub, actor_role, blzt, at) \
             SELECT id, project_id, seq, stage_application_id, task_id, action, title, actor_sub, \
             actor_role, blzt, at FROM timeline_entries",
            // Construction tasks had no deadline alarms before: the first
            // sweep reads every open one and sets its real next alarm.
            "UPDATE workflow_tasks SET next_alarm_key = '0000-01-01 am' \
             WHERE blzt = 8 AND next_alarm_key IS NULL",
        ] {
            db.execute_unprepared(sql).await?;
        }
        manager
            .drop_table(Table::drop().table("tasks").to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table("timeline_entries").to_owned())
            .await
    }
}
