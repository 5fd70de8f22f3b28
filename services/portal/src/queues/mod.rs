//! 合并队列: one intake queue for the window, one task queue per
//! department and one hand-out queue, each across the licensing and the
//! construction service.
//!
//! A merged page is built by fan-out: each source's own list endpoint is
//! asked (in parallel, with the caller's token and a timeout) for the page
//! after that source's own position, and the answers are merged by urgency.
//! The merged cursor is simply every source's position (the per-item
//! `cursor` of the last item taken from it), so paging never skips or
//! repeats an item even though the sources are paged separately. A source
//! that does not answer keeps its position: the page says so (`partial`,
//! `unavailable`) and its items come back on later pages once it answers.
//!
//! Files: this one holds the queue types and how a source's item becomes
//! an entry; `merge` the fan-out and merge; `routes` the HTTP handlers.

mod merge;
mod routes;
#[cfg(test)]
mod tests;

pub use merge::merged_page;
pub(crate) use routes::refusal_problem;
pub use routes::{configure, hand_out_queue, intake_queue, task_queue};

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use yizhan_approval::{Deadline, SlaState, Status};
use yizhan_auth::{Principal, Role};
use yizhan_kit::pagination::{PageQuery, encode_cursor};
use yizhan_kit::{FieldError, Problem};

use crate::AppState;
use crate::upstream::{Upstream, UpstreamError, Upstreams};

/// Scope a partner system needs to read the merged queues.
pub const QUEUES_READ: &str = "queues:read";

/// Rounds of upstream paging per source and merged page when a filter the
/// sources cannot apply themselves (`sla`) drops items.
const MAX_SCAN_ROUNDS: usize = 5;

/// Which merged queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Queue {
    /// 综合窗口受理队列: submitted applications waiting for intake.
    Intake,
    /// 部门审批队列: a department's tasks.
    Tasks,
    /// 统一出件队列: issued results waiting to be handed out.
    HandOut,
}

/// Which service's items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// 一业一证联办.
    Licensing,
    /// 工程建设项目审批.
    Construction,
}

impl Source {
    const ALL: [Source; 2] = [Source::Licensing, Source::Construction];

    fn upstream(self) -> Upstream {
        match self {
            Self::Licensing => Upstream::Licensing,
            Self::Construction => Upstream::Construction,
        }
    }
}

/// Query of a merged queue. Values are read as text and checked here, so
/// a bad one is reported on its own field.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// Only one service's items: `licensing` or `construction`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub source: Option<String>,
    /// Tasks only: task status (`in_review` by default; `approved`,
    /// `rejected`, `supplement_requested` …).
    pub status: Option<String>,
    /// Tasks only: committed-limit state `on_time`, `warning`, `overdue`,
    /// `paused` or `stopped`.
    pub sla: Option<String>,
    /// Tasks, partners only: the department whose queue to read
    /// (reviewers always read their own, from the token).
    pub dept: Option<String>,
    /// Search: an application's number (exact), an enterprise's USCC
    /// (exact), or an enterprise or project name (substring); at most 100
    /// characters. Each source applies it.
    #[param(max_length = 100)]
    pub q: Option<String>,
}

/// Longest search text, in characters (as the services take it).
pub const MAX_SEARCH: usize = 100;

/// The checked search text of `raw`: trimmed, `None` when blank, a field
/// error on `q` when too long or holding control characters.
pub fn search_text(raw: Option<&str>) -> Result<Option<String>, FieldError> {
    let Some(q) = raw.map(str::trim).filter(|q| !q.is_empty()) else {
        return Ok(None);
    };
    if q.chars().count() > MAX_SEARCH {
        return Err(FieldError::new(
            "q",
            "too_long",
            format!("搜索内容最多 {MAX_SEARCH} 个字符"),
        ));
    }
    if yizhan_kit::text::has_control_chars(q) {
        return Err(FieldError::new(
            "q",
            "invalid_character",
            "搜索内容含有不可见的控制字符",
        ));
    }
    Ok(Some(q.to_owned()))
}

/// The checked filters of a [`QueueQuery`].
#[derive(Debug, Default)]
struct Filters {
    source: Option<Source>,
    status: Option<Status>,
    sla: Option<SlaState>,
    dept: Option<String>,
    search: Option<String>,
}

impl QueueQuery {
    /// Every bad value at once, each on its field.
    fn filters(&self, queue: Queue) -> Result<Filters, Problem> {
        fn parse<T: serde::de::DeserializeOwned>(
            raw: &Option<String>,
            field: &str,
            expected: &str,
            errors: &mut Vec<FieldError>,
        ) -> Option<T> {
            let raw = raw.as_deref().filter(|v| !v.is_empty())?;
            match serde_json::from_value(Value::String(raw.to_owned())) {
                Ok(value) => Some(value),
                Err(_) => {
                    errors.push(FieldError::new(
                        field,
                        "invalid_value",
                        format!("{field} 须为 {expected}"),
                    ));
                    None
                }
            }
        }
        let mut errors = Vec::new();
        let filters = Filters {
            source: parse(
                &self.source,
                "type",
                "licensing 或 construction",
                &mut errors,
            ),
            status: parse(
                &self.status,
                "status",
                "任务状态（如 in_review、approved）",
                &mut errors,
            ),
            sla: parse(
                &self.sla,
                "sla",
                "on_time、warning、overdue、paused 或 stopped",
                &mut errors,
            ),
            dept: self.dept.clone().filter(|d| !d.trim().is_empty()),
            search: search_text(self.q.as_deref()).unwrap_or_else(|e| {
                errors.push(e);
                None
            }),
        };
        if queue != Queue::Tasks {
            for (field, given) in [("status", &self.status), ("sla", &self.sla)] {
                if given.as_deref().is_some_and(|v| !v.is_empty()) {
                    errors.push(FieldError::new(
                        field,
                        "not_applicable",
                        "受理队列与出件队列不按办理状态或时限状态筛选",
                    ));
                }
            }
        }
        if errors.is_empty() {
            Ok(filters)
        } else {
            Err(Problem::validation(errors))
        }
    }
}

/// One item of a merged queue, the same shape from either service.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = queue_entry_example)]
pub struct QueueEntry {
    /// The service it comes from.
    pub source: Upstream,
    /// `application` (一业一证), `stage_application` (工程建设阶段) or `task`.
    pub kind: String,
    /// Its id at that service.
    pub id: String,
    /// 申请编号 of the application or stage application (of a task: its
    /// application's), where the source gives one.
    pub number: Option<String>,
    /// What it is, for a person: the item name, or enterprise / project and
    /// stage.
    pub title: String,
    /// Applicant or builder enterprise.
    pub enterprise_uscc: Option<String>,
    /// Its name, where the source gives one.
    pub enterprise_name: Option<String>,
    /// Tasks: department code.
    pub department_code: Option<String>,
    /// Tasks: department name.
    pub department_name: Option<String>,
    /// Status wire name at the source.
    pub status: String,
    /// zh-CN status.
    pub status_name: String,
    /// 办理状态 (BLZT), where the source gives one.
    pub blzt: Option<u8>,
    /// Tasks: committed-limit state.
    pub sla_state: Option<String>,
    /// Tasks: working days left of the committed limit (negative once
    /// overdue) — the urgency the queue is ordered by.
    pub remaining_working_days: Option<f64>,
    /// Tasks: last half-day of the committed limit.
    #[schema(value_type = Option<Object>)]
    pub due: Option<Deadline>,
    /// Submission time (intake and hand-out are ordered by it, oldest first).
    pub created_at: Option<DateTime<Utc>>,
    /// The portal page a person works on it in.
    pub page: String,
    /// The resource at the source's API.
    pub resource: String,
}

/// A source that did not answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Unavailable {
    /// Which service.
    pub source: Upstream,
    /// What happened.
    pub detail: String,
}

/// One page of a merged queue.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(example = merged_page_example)]
pub struct MergedPage {
    /// The entries, most urgent first.
    pub items: Vec<QueueEntry>,
    /// Cursor of the next page; absent when every source answered and has
    /// nothing more.
    pub next_cursor: Option<String>,
    /// Whether a source did not answer: the page holds only the others'
    /// items (theirs come on later pages once it answers).
    pub partial: bool,
    /// The sources that did not answer, and why.
    pub unavailable: Vec<Unavailable>,
}

/// The serde wire name of a unit enum value.
pub(crate) fn wire(value: &impl Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Percent-encodes a query value.
pub(crate) fn urlencode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn text(item: &Value, key: &str) -> Option<String> {
    item[key].as_str().map(str::to_owned)
}

/// The entry of one upstream list item.
fn entry(queue: Queue, source: Source, item: &Value) -> Option<QueueEntry> {
    let id = text(item, "id")?;
    let blzt = item["blzt"].as_u64().and_then(|b| u8::try_from(b).ok());
    let created_at = item["created_at"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let mut entry = QueueEntry {
        source: source.upstream(),
        kind: String::new(),
        id: id.clone(),
        number: text(item, "number").or_else(|| text(item, "application_number")),
        title: String::new(),
        enterprise_uscc: None,
        enterprise_name: None,
        department_code: None,
        department_name: None,
        status: text(item, "status").unwrap_or_default(),
        status_name: text(item, "status_name").unwrap_or_default(),
        blzt,
        sla_state: None,
        remaining_working_days: None,
        due: None,
        created_at,
        page: String::new(),
        resource: String::new(),
    };
    match (queue, source) {
        (Queue::Tasks, _) => {
            entry.kind = "task".into();
            entry.title = text(item, "item_name").unwrap_or_default();
            entry.enterprise_uscc =
                text(item, "enterprise_uscc").or_else(|| text(item, "builder_uscc"));
            entry.department_code = text(item, "department_code");
            entry.department_name = text(item, "department_name");
            entry.sla_state = text(item, "sla_state");
            entry.remaining_working_days = item["remaining_working_days"].as_f64();
            entry.due = serde_json::from_value(item["due"].clone()).ok();
            entry.page = match source {
                // A licensing task is read through its application.
                Source::Licensing => format!(
                    "/review/licensing/tasks/{id}?application={}",
                    urlencode(&text(item, "application_id").unwrap_or_default())
                ),
                Source::Construction => format!("/review/construction/tasks/{id}"),
            };
            entry.resource = format!("/api/v1/tasks/{id}");
        }
        (_, Source::Licensing) => {
            entry.kind = "application".into();
            entry.enterprise_uscc = text(item, "enterprise_uscc");
            entry.enterprise_name = text(item, "enterprise_name");
            entry.title = format!(
                "{} · {}",
                entry.enterprise_name.clone().unwrap_or_default(),
                text(item, "scenario_name")
                    .or_else(|| text(item, "scenario_code"))
                    .unwrap_or_default()
            );
            entry.page = format!("/window/licensing/{id}");
            entry.resource = format!("/api/v1/applications/{id}");
        }
        (_, Source::Construction) => {
            entry.kind = "stage_application".into();
            entry.enterprise_uscc = text(item, "builder_uscc");
            entry.enterprise_name = text(item, "builder_name");
            entry.title = format!(
                "{} · {}",
                text(item, "project_name").unwrap_or_default(),
                text(item, "stage_name").unwrap_or_default()
            );
            entry.page = format!("/window/construction/{id}");
            entry.resource = format!("/api/v1/stages/{id}");
        }
    }
    Some(entry)
}

/// The documented example of a queue entry.
fn queue_entry_example() -> serde_json::Value {
    serde_json::json!({
        "source": "licensing",
        "kind": "task",
        "id": "01937a4f-2a3b-7c4d-8e5f-6a7b8c9d0e1f",
        "number": "YZ2026120300012",
        "title": "食品经营许可",
        "enterprise_uscc": "91350100M000100Y43",
        "enterprise_name": "福州一站酒店有限公司",
        "department_code": "market_supervision",
        "department_name": "市场监督管理局",
        "status": "in_review",
        "status_name": "部门开始办理",
        "blzt": 8,
        "sla_state": "on_time",
        "remaining_working_days": 2.5,
        "due": {"date": "2026-11-27", "half": "afternoon"},
        "created_at": "2026-11-23T08:00:00Z",
        "page": "/review/licensing/tasks/01937a4f-2a3b-7c4d-8e5f-6a7b8c9d0e1f?application=01937a4e-9d10-7b3a-8c51-3e2f1a0b9c8d",
        "resource": "/api/v1/tasks/01937a4f-2a3b-7c4d-8e5f-6a7b8c9d0e1f"
    })
}

/// The documented example of a merged page: one entry, and one source down.
fn merged_page_example() -> serde_json::Value {
    serde_json::json!({
        "items": [queue_entry_example()],
        "next_cursor": "eyJsaWNlbnNpbmciOiJleUp6WlhFaU9qUXlmUSJ9",
        "partial": true,
        "unavailable": [{"source": "construction", "detail": "工程建设项目审批服务暂时无法访问"}]
    })
}
