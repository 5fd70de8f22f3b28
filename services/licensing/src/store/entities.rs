//! sea-orm entities of the licensing tables.

/// `catalog_versions`: every published catalog, whole, as JSON. Immutable
/// once written; applications name the version they were made on.
pub mod catalog_version {
    use sea_orm::entity::prelude::*;

    /// One catalog version.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "catalog_versions")]
    pub struct Model {
        /// Version, from 1.
        #[sea_orm(primary_key, auto_increment = false)]
        pub version: i32,
        /// The `Catalog` as JSON.
        #[sea_orm(column_type = "Text")]
        pub content: String,
        /// When it was published.
        pub created_at: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `applications`: one combined application (联办申请).
pub mod application {
    use sea_orm::entity::prelude::*;

    /// One application.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "applications")]
    pub struct Model {
        /// Application id (UUID v7, so ids sort by creation).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// 情形编码.
        pub scenario_code: String,
        /// Catalog version of the snapshot.
        pub catalog_version: i32,
        /// Applicant enterprise.
        pub enterprise_uscc: String,
        /// Its name as filled in.
        pub enterprise_name: String,
        /// `ApplicationStatus` wire name.
        pub status: String,
        /// The `Notice` it was made on (snapshot: items, fields, limits).
        #[sea_orm(column_type = "Text")]
        pub notice: String,
        /// Form values, JSON object.
        #[sea_orm(column_type = "Text")]
        pub form: String,
        /// Material code → material id, JSON object.
        #[sea_orm(column_type = "Text")]
        pub materials: String,
        /// The last one-time notice of deficiencies, JSON array.
        #[sea_orm(column_type = "Text", nullable)]
        pub deficiencies: Option<String>,
        /// Who submitted (`sub`).
        pub submitted_by: String,
        /// Bundle 法定时限 in half days.
        pub statutory_half_days: i64,
        /// Bundle 承诺时限 in half days.
        pub committed_half_days: i64,
        /// Acceptance, China local time (the clock's start).
        pub accepted_at: Option<DateTime>,
        /// Bundle outcome, China local time (the clock's stop).
        pub concluded_at: Option<DateTime>,
        /// 电子证照标识 once issued.
        pub certificate_id: Option<String>,
        /// Created.
        pub created_at: DateTimeUtc,
        /// Last change.
        pub updated_at: DateTimeUtc,
        /// `ApplicationKind` wire name: `new`, `change`, `renewal` or
        /// `cancellation`.
        pub kind: String,
        /// For a change, renewal or cancellation: the application whose
        /// licence it concerns.
        pub predecessor_id: Option<String>,
        /// 容缺受理: the non-key materials still missing (JSON array of
        /// `IntakeDeficiency`); `None` or `[]` when nothing is owed.
        #[sea_orm(column_type = "Text", nullable)]
        pub tolerance_missing: Option<String>,
        /// 容缺受理: the day by which they must arrive (inclusive); cleared
        /// when they do.
        pub tolerance_due: Option<Date>,
        /// Bundle working time used at the outcome, in half days
        /// (statistics).
        pub used_half_days: Option<i64>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `tasks`: one item of an accepted application in one department's queue.
pub mod task {
    use sea_orm::entity::prelude::*;

    /// One item task (事项实例).
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tasks")]
    pub struct Model {
        /// Task id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// Its application.
        pub application_id: String,
        /// Applicant enterprise (denormalised for events).
        pub enterprise_uscc: String,
        /// 事项编码.
        pub item_code: String,
        /// 事项名称.
        pub item_name: String,
        /// Department code (queue).
        pub department_code: String,
        /// Department name.
        pub department_name: String,
        /// `yizhan_approval::Status` wire name.
        pub status: String,
        /// BLZT code of `status`.
        pub blzt: i32,
        /// 法定时限 in half days.
        pub statutory_half_days: i64,
        /// 承诺时限 in half days.
        pub committed_half_days: i64,
        /// Acceptance, China local time.
        pub accepted_at: DateTime,
        /// Clock events after acceptance, JSON array of `ClockEvent`.
        #[sea_orm(column_type = "Text")]
        pub clock_events: String,
        /// Sort key of the committed deadline (`YYYY-MM-DD am|pm`): the
        /// queue's urgency order.
        pub due_key: String,
        /// Permit number once approved.
        pub permit_number: Option<String>,
        /// Reasons once rejected.
        #[sea_orm(column_type = "Text", nullable)]
        pub reasons: Option<String>,
        /// Deciding reviewer.
        pub decided_by: Option<String>,
        /// Decision time.
        pub decided_at: Option<DateTimeUtc>,
        /// Created.
        pub created_at: DateTimeUtc,
        /// The open 补正 list (JSON array of `IntakeDeficiency`) while the
        /// supplement is awaited (BLZT 6); the last one afterwards.
        #[sea_orm(column_type = "Text", nullable)]
        pub supplement_request: Option<String>,
        /// The half-day key (as `due_key`) from which the deadline
        /// scheduler has something to announce; `None` when nothing is
        /// pending (decided, paused, or both notices sent).
        pub next_alarm_key: Option<String>,
        /// When `DeadlineApproaching` was emitted.
        pub warned_at: Option<DateTimeUtc>,
        /// When `DeadlineOverdue` was emitted.
        pub overdue_notified_at: Option<DateTimeUtc>,
        /// Working time used at the decision, in half days (statistics).
        pub used_half_days: Option<i64>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `timeline_entries`: every step of an application with who and when.
pub mod timeline {
    use sea_orm::entity::prelude::*;

    /// One step.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "timeline_entries")]
    pub struct Model {
        /// Entry id.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The application.
        pub application_id: String,
        /// Position within the application, from 1.
        pub seq: i32,
        /// The task concerned, if any.
        pub task_id: Option<String>,
        /// Machine action code, e.g. `task_approved`.
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
