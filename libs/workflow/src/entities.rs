//! The engine's tables, the same in every service's database.

/// `workflow_tasks`: one item task (事项实例) in one department's queue.
pub mod task {
    use sea_orm::entity::prelude::*;

    /// One item task.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "workflow_tasks")]
    pub struct Model {
        /// Task id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The subject whose lock guards the task and whose timeline records
        /// it (a licensing application, a construction project).
        pub subject_id: String,
        /// The case the task was created for (the application, or one stage
        /// application of a project).
        pub case_id: String,
        /// The applicant enterprise (统一社会信用代码).
        pub enterprise_uscc: String,
        /// 事项编码.
        pub item_code: String,
        /// 事项名称.
        pub item_name: String,
        /// The deciding department's code (its queue).
        pub department_code: String,
        /// Its name.
        pub department_name: String,
        /// `yizhan_approval::Status` wire name.
        pub status: String,
        /// The national 办理状态 (BLZT) code.
        pub blzt: i32,
        /// 法定时限, half days.
        pub statutory_half_days: i64,
        /// 承诺时限, half days.
        pub committed_half_days: i64,
        /// Acceptance, China local time (the clock starts the next working day).
        pub accepted_at: DateTime,
        /// Clock events after acceptance, JSON array of `ClockEvent`.
        #[sea_orm(column_type = "Text")]
        pub clock_events: String,
        /// Sort key of the committed deadline (`YYYY-MM-DD am|pm`): the
        /// queue's urgency order.
        pub due_key: String,
        /// Permit (or record) number once approved.
        pub permit_number: Option<String>,
        /// Reasons (rejection, withdrawal, revocation).
        #[sea_orm(column_type = "Text", nullable)]
        pub reasons: Option<String>,
        /// Deciding reviewer (`sub`).
        pub decided_by: Option<String>,
        /// Decision time.
        pub decided_at: Option<DateTimeUtc>,
        /// The open 补正 request's one-time list, JSON array.
        #[sea_orm(column_type = "Text", nullable)]
        pub supplement_request: Option<String>,
        /// The half-day key from which the task has a deadline alarm to
        /// announce; `None` when decided, paused or everything is announced.
        pub next_alarm_key: Option<String>,
        /// When `DeadlineApproaching` was announced.
        pub warned_at: Option<DateTimeUtc>,
        /// When `DeadlineOverdue` was announced.
        pub overdue_notified_at: Option<DateTimeUtc>,
        /// Working time used, half days, once the clock stopped.
        pub used_half_days: Option<i64>,
        /// Created.
        pub created_at: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `workflow_timeline`: every step of a subject, with who and when.
pub mod timeline {
    use sea_orm::entity::prelude::*;

    /// One step.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "workflow_timeline")]
    pub struct Model {
        /// Entry id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The subject (application, project).
        pub subject_id: String,
        /// Position within the subject, from 1.
        pub seq: i32,
        /// The case concerned, if any (a construction stage application).
        pub case_id: Option<String>,
        /// The task concerned, if any.
        pub task_id: Option<String>,
        /// Machine action code (`task_approved` …).
        pub action: String,
        /// zh-CN description.
        #[sea_orm(column_type = "Text")]
        pub title: String,
        /// Actor `sub`.
        pub actor_sub: String,
        /// Actor role.
        pub actor_role: String,
        /// BLZT code after the step, where one applies.
        pub blzt: Option<i32>,
        /// When.
        pub at: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
