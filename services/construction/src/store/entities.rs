//! sea-orm entities of the construction tables. Task rows, timelines and
//! catalog versions are the approval engine's (`yizhan_workflow`);
//! `task_details` holds what construction adds to a task.

/// `projects`: one construction project (工程建设项目).
pub mod project {
    use sea_orm::entity::prelude::*;

    /// One project.
    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "projects")]
    pub struct Model {
        /// Project id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// 投资项目代码 (unique).
        pub project_code: String,
        /// Project name.
        pub name: String,
        /// Builder (建设单位) USCC.
        pub builder_uscc: String,
        /// Builder name.
        pub builder_name: String,
        /// 建设地点.
        pub location: String,
        /// `Category` wire name.
        pub category: String,
        /// 总建筑面积, m².
        pub floor_area_m2: f64,
        /// 总投资, 万元.
        pub total_investment_wan: f64,
        /// Whole-process budget in working days (from settings at registration).
        pub budget_days: i32,
        /// Whether the land grant is recorded.
        pub land_granted: bool,
        /// 土地出让合同编号.
        pub land_contract_no: Option<String>,
        /// Day of the grant.
        pub land_granted_on: Option<Date>,
        /// `ProjectStatus` wire name.
        pub status: String,
        /// Last budget alert sent (`warning`, `overdue`).
        pub budget_alert: Option<String>,
        /// Who registered (`sub`).
        pub registered_by: String,
        /// Created.
        pub created_at: DateTimeUtc,
        /// Last change.
        pub updated_at: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `stage_applications`: one stage's merged application (分阶段一件事).
pub mod stage_application {
    use sea_orm::entity::prelude::*;

    /// One stage application.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "stage_applications")]
    pub struct Model {
        /// Id (UUID v7); also the certificate request id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The project.
        pub project_id: String,
        /// Builder (denormalised for scoping and events).
        pub builder_uscc: String,
        /// `Stage` wire name.
        pub stage: String,
        /// `Category` wire name (the project's).
        pub category: String,
        /// Catalog version of the form.
        pub catalog_version: i32,
        /// `StageStatus` wire name.
        pub status: String,
        /// Filed for pre-review before the land grant (拿地即开工).
        pub pre_review: bool,
        /// Form values, JSON object.
        #[sea_orm(column_type = "Text")]
        pub form: String,
        /// Material code → id, JSON object.
        #[sea_orm(column_type = "Text")]
        pub materials: String,
        /// Items under 告知承诺制, JSON array of item codes.
        #[sea_orm(column_type = "Text")]
        pub commitments: String,
        /// The signed commitment text.
        #[sea_orm(column_type = "Text", nullable)]
        pub commitment_statement: Option<String>,
        /// The one-time notice when returned, JSON array.
        #[sea_orm(column_type = "Text", nullable)]
        pub deficiencies: Option<String>,
        /// Non-key materials still owed under 容缺受理, JSON array of codes.
        #[sea_orm(column_type = "Text")]
        pub owed_materials: String,
        /// Last day to supply them.
        pub tolerance_due: Option<Date>,
        /// Who submitted (`sub`).
        pub submitted_by: String,
        /// Their role (`applicant`, `agent`).
        pub submitted_role: String,
        /// Acceptance, China local time.
        pub accepted_at: Option<DateTime>,
        /// Completion or stop, China local time.
        pub concluded_at: Option<DateTime>,
        /// Why it stopped.
        #[sea_orm(column_type = "Text", nullable)]
        pub stop_reason: Option<String>,
        /// 电子证照标识 once issued.
        pub certificate_id: Option<String>,
        /// Created.
        pub created_at: DateTimeUtc,
        /// Last change.
        pub updated_at: DateTimeUtc,
        /// 统一窗口出件: when the window handed the result out.
        pub handed_out_at: Option<DateTimeUtc>,
        /// The clerk who handed it out (`sub`).
        pub handed_out_by: Option<String>,
        /// 申请编号, e.g. `GC2026120300012` (unique; taken at filing).
        pub number: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `task_details`: what construction adds to the approval engine's task
/// row (`yizhan_workflow`, `workflow_tasks`) of the same id.
pub mod task_detail {
    use sea_orm::entity::prelude::*;

    /// Construction's facts about one item task (事项实例).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "task_details")]
    pub struct Model {
        /// The engine task's id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub task_id: String,
        /// `Stage` wire name.
        pub stage: String,
        /// `Category` wire name (the project's).
        pub category: String,
        /// Pre-review task (拿地即开工).
        pub pre_review: bool,
        /// Approved ahead of the land grant; final when it arrives.
        pub pre_approved: bool,
        /// Approved on commitment (告知承诺制).
        pub commitment: bool,
        /// Verification deadline of a commitment approval.
        pub verification_due: Option<Date>,
        /// `passed` / `failed` once verified.
        pub verification: Option<String>,
        /// Decided in the joint inspection (联合验收).
        pub joint_inspection: bool,
        /// Certificate type the item bears (requested when its stage completes).
        pub certificate: Option<String>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `consultations`: 征求意见 between departments about one task.
pub mod consultation {
    use sea_orm::entity::prelude::*;

    /// One consultation.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "consultations")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The task.
        pub task_id: String,
        /// The project.
        pub project_id: String,
        /// Asking department.
        pub from_department: String,
        /// Asked department.
        pub to_department: String,
        /// The question.
        #[sea_orm(column_type = "Text")]
        pub question: String,
        /// Reply due by.
        pub due_date: Date,
        /// The opinion once answered.
        #[sea_orm(column_type = "Text", nullable)]
        pub opinion: Option<String>,
        /// Asking reviewer.
        pub requested_by: String,
        /// Answering reviewer.
        pub answered_by: Option<String>,
        /// Answer time.
        pub answered_at: Option<DateTimeUtc>,
        /// Created.
        pub created_at: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `inspections`: 联合验收 rounds of a completion stage.
pub mod inspection {
    use sea_orm::entity::prelude::*;

    /// One inspection round.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "inspections")]
    pub struct Model {
        /// Id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The project.
        pub project_id: String,
        /// The completion stage application.
        pub stage_application_id: String,
        /// Round, from 1.
        pub round: i32,
        /// The slot.
        pub slot: DateTimeUtc,
        /// Where.
        pub location: String,
        /// Invited departments, JSON array.
        #[sea_orm(column_type = "Text")]
        pub departments: String,
        /// Results so far, JSON array of `DepartmentResult`.
        #[sea_orm(column_type = "Text")]
        pub results: String,
        /// `InspectionStatus` wire name.
        pub status: String,
        /// Rectification list when failed, JSON array.
        #[sea_orm(column_type = "Text")]
        pub rectification: String,
        /// The builder's rectification report.
        #[sea_orm(column_type = "Text", nullable)]
        pub rectification_statement: Option<String>,
        /// Scheduling clerk.
        pub scheduled_by: String,
        /// Created.
        pub created_at: DateTimeUtc,
        /// Last change.
        pub updated_at: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
