//! sea-orm entities of the licensing tables (tasks, timelines and catalog
//! versions are the approval engine's, in `yizhan_workflow`).

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
        /// 申请编号, e.g. `YZ2026120300012` (unique; taken at filing).
        pub number: String,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `application_drafts`: 草稿, one per enterprise and scenario.
pub mod draft {
    use sea_orm::entity::prelude::*;

    /// One draft.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "application_drafts")]
    pub struct Model {
        /// The enterprise it is for.
        #[sea_orm(primary_key, auto_increment = false)]
        pub enterprise_uscc: String,
        /// 情形编码.
        #[sea_orm(primary_key, auto_increment = false)]
        pub scenario_code: String,
        /// Questionnaire answers, JSON object.
        #[sea_orm(column_type = "Text")]
        pub answers: String,
        /// Form values so far, JSON object.
        #[sea_orm(column_type = "Text")]
        pub form: String,
        /// Material code → material id picked or uploaded so far, JSON
        /// object.
        #[sea_orm(column_type = "Text")]
        pub materials: String,
        /// Who saved it last (`sub`).
        pub saved_by: String,
        /// Last saved.
        pub updated_at: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
