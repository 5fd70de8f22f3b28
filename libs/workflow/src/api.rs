//! The request bodies every service takes for work on tasks, and how they
//! become engine commands: one definition, so a partner sends the same
//! JSON to licensing and construction. Serde and OpenAPI schemas only; the
//! handlers that take them are the services'.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use yizhan_approval::calendar::china_local;
use yizhan_approval::{Calendar, Deadline, SlaState};
use yizhan_kit::FieldError;
use yizhan_kit::text::has_control_chars;

use crate::decide::{Decision, SpecialProcedureKind, Step};
use crate::task_row::Model;
use crate::{Error, Result};

/// Longest permit number, in characters.
pub const MAX_PERMIT: usize = 64;
/// Longest reasons text, in characters.
pub const MAX_REASONS: usize = 1000;

/// A reviewer's decision.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// 审批通过.
    Approve,
    /// 审批不通过.
    Reject,
}

/// Decision body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"decision": "approve", "permit_number": "JY13501020000001"}))]
pub struct DecisionRequest {
    /// `approve` or `reject`.
    pub decision: DecisionKind,
    /// 许可证号 / 文号, required to approve (1 to 64 characters).
    #[schema(min_length = 1, max_length = 64)]
    pub permit_number: Option<String>,
    /// Reasons, required to reject (1 to 1000 characters).
    #[schema(min_length = 1, max_length = 1000)]
    pub reasons: Option<String>,
}

fn trimmed(v: &Option<String>) -> Option<String> {
    v.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl DecisionRequest {
    /// The decision (`with_tolerance` is the store's to set, under the
    /// case's lock). Every field problem is a 422 naming the field.
    pub fn decision(&self) -> Result<Decision> {
        // Control characters never belong in a permit number or reasons,
        // and PostgreSQL refuses NUL outright.
        for (field, value) in [
            ("permit_number", &self.permit_number),
            ("reasons", &self.reasons),
        ] {
            if value.as_deref().is_some_and(has_control_chars) {
                return Err(Error::field(
                    field,
                    "invalid_character",
                    "含有不可见的控制字符",
                ));
            }
        }
        match self.decision {
            DecisionKind::Approve => match trimmed(&self.permit_number) {
                Some(p) if p.chars().count() <= MAX_PERMIT => Ok(Decision::Approve {
                    permit_number: p,
                    with_tolerance: false,
                }),
                Some(_) => Err(Error::field(
                    "permit_number",
                    "too_long",
                    format!("许可证号（文号）最多 {MAX_PERMIT} 个字符"),
                )),
                None => Err(Error::field(
                    "permit_number",
                    "required",
                    "审批通过须填写许可证号（文号）",
                )),
            },
            DecisionKind::Reject => match trimmed(&self.reasons) {
                Some(r) if r.chars().count() <= MAX_REASONS => Ok(Decision::Reject { reasons: r }),
                Some(_) => Err(Error::field(
                    "reasons",
                    "too_long",
                    format!("理由最多 {MAX_REASONS} 字"),
                )),
                None => Err(Error::field("reasons", "required", "审批不通过须说明理由")),
            },
        }
    }
}

/// Start or end.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SpecialAction {
    /// 启动特别程序.
    Start,
    /// 结束特别程序.
    End,
}

/// Special procedure body.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"action": "start", "kind": "expert_review", "reason": "消防设计需专家论证"}))]
pub struct SpecialProcedureBody {
    /// `start` or `end`.
    pub action: SpecialAction,
    /// Required with `start`.
    pub kind: Option<SpecialProcedureKind>,
    /// Required with `start` (1 to 1000 characters).
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: Option<String>,
}

impl SpecialProcedureBody {
    /// The engine step; every field problem at once.
    pub fn step(&self) -> Result<Step> {
        match self.action {
            SpecialAction::Start => {
                let mut errors = Vec::new();
                if self.kind.is_none() {
                    errors.push(FieldError::new(
                        "kind",
                        "required",
                        "启动特别程序须说明类型（听证 hearing、检验检测 testing 或专家评审 expert_review）",
                    ));
                }
                let reason = self.reason.as_deref().map(str::trim).unwrap_or_default();
                if reason.is_empty()
                    || reason.chars().count() > MAX_REASONS
                    || has_control_chars(reason)
                {
                    errors.push(FieldError::new(
                        "reason",
                        "invalid_reason",
                        format!("启动特别程序须说明理由（1 至 {MAX_REASONS} 字）"),
                    ));
                }
                match self.kind {
                    Some(kind) if errors.is_empty() => Ok(Step::StartSpecialProcedure {
                        kind,
                        reason: reason.to_owned(),
                    }),
                    _ => Err(Error::Invalid(errors)),
                }
            }
            SpecialAction::End => {
                if self.kind.is_some() || self.reason.is_some() {
                    return Err(Error::field(
                        "kind",
                        "not_allowed",
                        "结束特别程序时不应附带类型或理由",
                    ));
                }
                Ok(Step::EndSpecialProcedure)
            }
        }
    }
}

/// A 补正 request: the one-time list of what the applicant must supply.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"items": [{"material": "floor_plan", "reason": "平面布局图未标注消防通道"}, {"field": "room_count", "reason": "客房数与平面图不符"}]}))]
pub struct SupplementRequestBody {
    /// Every field or material to supply, at once (non-empty).
    #[schema(min_items = 1)]
    pub items: Vec<yizhan_events::one_time::DeficiencyInput>,
}

/// What the applicant supplies against the 补正 list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"form": {"room_count": 82}, "materials": {"floor_plan": "0193aa00-0000-7000-8000-000000000009"}}))]
pub struct SupplyBody {
    /// Form field key → corrected value (only fields on the list).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub form: Map<String, Value>,
    /// Material code → material id at the document service (only
    /// materials on the list).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub materials: Map<String, Value>,
}

/// A task's clock as every task view shows it.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct ClockView {
    /// 承诺时限, working days.
    pub committed_days: f64,
    /// Working days left of the committed limit (negative once overdue;
    /// frozen once the clock stopped).
    pub remaining_working_days: Option<f64>,
    /// Working days left of the statutory limit.
    pub statutory_remaining_working_days: Option<f64>,
    /// Last half-day of the committed limit.
    #[schema(value_type = Option<Object>)]
    pub due: Option<Deadline>,
    /// Committed-limit state: `on_time`, `warning`, `overdue`, `stopped` …
    #[schema(value_type = Option<String>)]
    pub sla_state: Option<SlaState>,
}

impl ClockView {
    /// `t`'s clock read at `now`.
    pub fn of(calendar: &Calendar, t: &Model, now: DateTime<Utc>) -> Self {
        Self::of_reading(
            t.committed_half_days as f64 / 2.0,
            t.clock().map(|c| c.reading_at(calendar, china_local(now))),
        )
    }
}

/// The OpenAPI schema of a task status: the wire names of every 办理状态
/// (`in_review`, `approved` …), listed from the state machine itself.
pub struct TaskStatus;

impl utoipa::PartialSchema for TaskStatus {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(
                yizhan_approval::Status::ALL.map(crate::task::status_name),
            ))
            .description(Some(
                "办理状态：received 已接件、accepted 已受理、supplement_requested 补正（开始）、\
                 supplement_received 补正（结束）、in_review 部门开始办理、special_procedure \
                 特别程序（开始）、special_procedure_ended 特别程序（结束）、approved 办结（通过）、\
                 approved_with_tolerance 办结（容缺通过）、rejected 办结（不通过）、withdrawn 撤回、\
                 revoked 撤销 …",
            ))
            .into()
    }
}

impl ToSchema for TaskStatus {}

/// Who did a step.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActorView {
    /// `sub`.
    pub sub: String,
    /// Role (`agent` for 帮办代办, `system` for automatic steps).
    pub role: String,
}

/// One step of a timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineEntry {
    /// Position, from 1.
    pub seq: i32,
    /// Machine action code.
    pub action: String,
    /// zh-CN description.
    pub title: String,
    /// Who.
    pub actor: ActorView,
    /// The task concerned.
    pub task_id: Option<String>,
    /// 办理状态 code after the step, where one applies.
    pub blzt: Option<i32>,
    /// When.
    pub at: DateTime<Utc>,
}

impl TimelineEntry {
    /// The view of a stored step.
    pub fn of(e: &crate::timeline_row::Model) -> Self {
        Self {
            seq: e.seq,
            action: e.action.clone(),
            title: e.title.clone(),
            actor: ActorView {
                sub: e.actor_sub.clone(),
                role: e.actor_role.clone(),
            },
            task_id: e.task_id.clone(),
            blzt: e.blzt,
            at: e.at,
        }
    }
}

impl ClockView {
    /// A case's clock as read (`None` before acceptance), with its
    /// committed limit of `committed_days`.
    pub fn of_reading(committed_days: f64, reading: Option<yizhan_approval::Reading>) -> Self {
        Self {
            committed_days,
            remaining_working_days: reading.map(|r| r.committed.remaining.as_days_f64()),
            statutory_remaining_working_days: reading.map(|r| r.statutory.remaining.as_days_f64()),
            due: reading.and_then(|r| r.committed.due),
            sla_state: reading.map(|r| r.committed.state),
        }
    }
}

/// Filter of a department queue (`GET /api/v1/tasks`).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueFilter {
    /// Task status: `in_review` by default (the work still to do; a task
    /// is back in it once a 补正 is answered or a 特别程序 ends); also
    /// `supplement_requested`, `special_procedure`, `approved`,
    /// `approved_with_tolerance` (告知承诺 approvals awaiting
    /// verification), `rejected`, `withdrawn`, `revoked` …
    #[param(value_type = Option<TaskStatus>)]
    pub status: Option<yizhan_approval::Status>,
    /// Department code. Partners (`queues:read`) must name the department
    /// whose queue they read; reviewers read their token's department and
    /// may leave it out (naming another is a 403).
    pub dept: Option<String>,
    /// Search: the application's number (exact), the enterprise's
    /// 统一社会信用代码 (exact) or a name — enterprise or project —
    /// (substring); at most 100 characters.
    #[param(max_length = 100)]
    pub q: Option<String>,
}

impl QueueFilter {
    /// The checked `q` (a 422 naming `q` when it is not acceptable).
    pub fn search(&self) -> Result<Option<crate::search::Search>, yizhan_kit::Problem> {
        crate::search::Search::parse(self.q.as_deref())
    }
}
