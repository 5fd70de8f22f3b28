//! sea-orm entities of the 诉求 and 好差评 tables (timelines are the
//! approval engine's `workflow_timeline`).

/// `enterprise_requests`: one 诉求.
pub mod request {
    use sea_orm::entity::prelude::*;

    /// One request.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "enterprise_requests")]
    pub struct Model {
        /// Request id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The enterprise.
        pub enterprise_uscc: String,
        /// `Category` code.
        pub category: String,
        /// `Channel` code.
        pub channel: String,
        /// What the enterprise asks.
        #[sea_orm(column_type = "Text")]
        pub description: String,
        /// Document-service material ids, JSON array.
        #[sea_orm(column_type = "Text")]
        pub attachments: String,
        /// Who filed (`sub`).
        pub filed_by: String,
        /// The role they filed in.
        pub filed_role: String,
        /// `Status` code.
        pub status: String,
        /// Handling round, 1 or 2.
        pub round: i32,
        /// Responsible department now.
        pub department_code: String,
        /// Its name.
        pub department_name: String,
        /// Answer limit of the category when dispatched, working days.
        pub answer_limit_days: i32,
        /// Filed.
        pub filed_at: DateTimeUtc,
        /// Which clock runs: `accept`, `answer`, or none.
        pub clock_kind: Option<String>,
        /// Start of that clock, China local time.
        pub clock_started_at: Option<DateTime>,
        /// Its pauses and stop, JSON array of `ClockEvent`.
        #[sea_orm(column_type = "Text")]
        pub clock_events: String,
        /// In the department's queue (已派单, 办理中, 待企业补充).
        pub in_queue: bool,
        /// Waiting on the enterprise (the clock is paused).
        pub paused: bool,
        /// The running clock's due half-day (`9999-12-31 pm` when none):
        /// the queue's urgency order.
        pub due_key: String,
        /// Half-day from which the running clock has an alarm to announce.
        pub next_alarm_key: Option<String>,
        /// The running clock's warning was announced.
        pub warned_at: Option<DateTimeUtc>,
        /// The running clock's overdue alarm was announced.
        pub overdue_notified_at: Option<DateTimeUtc>,
        /// Some answer came after its limit.
        pub answered_late: bool,
        /// Working time used until the answers, half days, pauses excluded.
        pub handling_half_days: Option<i64>,
        /// The last answer.
        #[sea_orm(column_type = "Text", nullable)]
        pub answer: Option<String>,
        /// The last rating (`Satisfaction` code).
        pub satisfaction: Option<String>,
        /// Times transferred.
        pub transfers: i32,
        /// Last change.
        pub updated_at: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `enterprise_dispatch_rules`: where each category goes.
pub mod dispatch_rule {
    use sea_orm::entity::prelude::*;

    /// One category's route.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "enterprise_dispatch_rules")]
    pub struct Model {
        /// `Category` code.
        #[sea_orm(primary_key, auto_increment = false)]
        pub category: String,
        /// Responsible department.
        pub department_code: String,
        /// Its name.
        pub department_name: String,
        /// Working days to answer.
        pub answer_limit_days: i32,
        /// Who set the rule set.
        pub updated_by: String,
        /// When.
        pub updated_at: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `enterprise_rateables`: a concluded case its applicant may rate.
pub mod rateable {
    use sea_orm::entity::prelude::*;

    /// One rateable case.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "enterprise_rateables")]
    pub struct Model {
        /// `<subject>:<case id>`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// `Subject` code.
        pub subject: String,
        /// The case.
        pub case_id: String,
        /// The applicant enterprise.
        pub enterprise_uscc: String,
        /// Responsible department.
        pub department_code: String,
        /// Its name.
        pub department_name: String,
        /// Item, stage or category, in Chinese.
        pub item_name: String,
        /// 渠道 code (requests), or `window` (the service centre).
        pub channel: String,
        /// Concluded; `None` while still under way (not yet rateable).
        pub concluded_at: Option<DateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `enterprise_ratings`: one rating and its follow-up.
pub mod rating {
    use sea_orm::entity::prelude::*;

    /// One rating.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "enterprise_ratings")]
    pub struct Model {
        /// Rating id (UUID v7).
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// What was rated (unique: once).
        pub rateable_id: String,
        /// `Subject` code.
        pub subject: String,
        /// The case.
        pub case_id: String,
        /// The enterprise.
        pub enterprise_uscc: String,
        /// Responsible department.
        pub department_code: String,
        /// Its name.
        pub department_name: String,
        /// Item, stage or category, in Chinese.
        pub item_name: String,
        /// Channel code.
        pub channel: String,
        /// 1-5.
        pub score: i32,
        /// Optional comment.
        #[sea_orm(column_type = "Text", nullable)]
        pub comment: Option<String>,
        /// Who rated.
        pub rated_by: String,
        /// When.
        pub rated_at: DateTimeUtc,
        /// `FollowUp` code of a 差评's follow-up.
        pub follow_up: Option<String>,
        /// Its last working day.
        pub follow_up_due: Option<Date>,
        /// The department's verification.
        #[sea_orm(column_type = "Text", nullable)]
        pub verification: Option<String>,
        /// The department's rectification.
        #[sea_orm(column_type = "Text", nullable)]
        pub rectification: Option<String>,
        /// Concluded.
        pub follow_up_closed_at: Option<DateTimeUtc>,
        /// Concluded by its due date.
        pub follow_up_on_time: Option<bool>,
        /// The due-day reminder was announced.
        pub due_notified_at: Option<DateTimeUtc>,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
