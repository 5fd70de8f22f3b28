//! 时限预警: deadline warnings, with the facts both warnings share.

use serde::{Deserialize, Serialize};

use super::{Event, topics};

/// Which time limit a deadline warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineLimit {
    /// 承诺办结时限: the (shorter) limit the centre committed to.
    Committed,
    /// 法定办结时限: the limit the law sets.
    Statutory,
}

impl DeadlineLimit {
    /// The zh-CN name, e.g. `承诺办结时限`.
    pub const fn zh_name(self) -> &'static str {
        match self {
            Self::Committed => "承诺办结时限",
            Self::Statutory => "法定办结时限",
        }
    }
}

/// The facts of a deadline warning (时限预警), shared by
/// [`DeadlineApproaching`] and [`DeadlineOverdue`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct DeadlineNotice {
    /// The item task whose clock runs.
    pub task_id: String,
    /// The application it belongs to (licensing: the combined application;
    /// construction: the stage application).
    pub application_id: String,
    /// The construction project, for construction tasks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    /// 事项编码.
    pub item_code: String,
    /// 事项名称.
    pub item_name: String,
    /// The reviewing department's code.
    pub department_code: String,
    /// The assigned reviewer (`sub`), if any.
    #[serde(default)]
    pub reviewer_sub: Option<String>,
    /// The applicant enterprise's 统一社会信用代码.
    pub applicant_uscc: String,
    /// The person who filed (`sub`), if known.
    #[serde(default)]
    pub applicant_sub: Option<String>,
    /// Last day of the limit.
    pub due_date: chrono::NaiveDate,
    /// Which limit.
    pub limit_kind: DeadlineLimit,
    /// Working days left, today excluded.
    pub working_days_remaining: i32,
}

/// 时限即将届满: a task used the warning share of its limit. Same JSON as
/// [`DeadlineNotice`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct DeadlineApproaching(pub DeadlineNotice);

impl Event for DeadlineApproaching {
    const TYPE: &'static str = "cn.yizhan.licensing.deadline_approaching.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.0.task_id.clone()
    }
}

/// 已超期: a task passed its limit. Same JSON as [`DeadlineNotice`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct DeadlineOverdue(pub DeadlineNotice);

impl Event for DeadlineOverdue {
    const TYPE: &'static str = "cn.yizhan.licensing.deadline_overdue.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.0.task_id.clone()
    }
}
