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
}

/// The checked filters of a [`QueueQuery`].
#[derive(Debug, Default)]
struct Filters {
    source: Option<Source>,
    status: Option<Status>,
    sla: Option<SlaState>,
    dept: Option<String>,
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
pub struct QueueEntry {
    /// The service it comes from.
    pub source: Upstream,
    /// `application` (一业一证), `stage_application` (工程建设阶段) or `task`.
    pub kind: String,
    /// Its id at that service.
    pub id: String,
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

/// Every source's position: the cursor after the last item taken from it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Positions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    licensing: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    construction: Option<String>,
}

impl Positions {
    fn get(&self, source: Source) -> Option<&String> {
        match source {
            Source::Licensing => self.licensing.as_ref(),
            Source::Construction => self.construction.as_ref(),
        }
    }

    fn set(&mut self, source: Source, cursor: Option<String>) {
        match source {
            Source::Licensing => self.licensing = cursor,
            Source::Construction => self.construction = cursor,
        }
    }
}

/// What one source gave for one merged page.
struct Scan {
    source: Source,
    /// Items passing every filter, in the source's order, with their cursors.
    items: Vec<(QueueEntry, String)>,
    /// Cursor of the last item looked at (filtered out or not).
    scanned_to: Option<String>,
    /// Whether the source has items after `scanned_to`.
    more: bool,
}

/// The merge order: the queue's urgency key, then the source (licensing
/// first), and within a source the source's own order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Urgency {
    /// Earlier deadline first; no deadline last.
    Due(bool, Option<Deadline>),
    /// Older first.
    Waiting(Option<DateTime<Utc>>),
}

fn urgency(queue: Queue, entry: &QueueEntry) -> Urgency {
    match queue {
        Queue::Tasks => Urgency::Due(entry.due.is_none(), entry.due),
        Queue::Intake | Queue::HandOut => Urgency::Waiting(entry.created_at),
    }
}

/// Who may read `queue`, and the department a partner's task queue is for
/// (a reviewer's comes from their token).
fn authorise(
    queue: Queue,
    principal: &Principal,
    query: &Filters,
) -> Result<Option<String>, Problem> {
    let partner = principal.has_role(Role::Partner) && principal.has_scope(QUEUES_READ);
    match queue {
        Queue::Intake | Queue::HandOut => {
            if !partner {
                principal.require_any(&[Role::WindowClerk, Role::Admin])?;
            }
            Ok(None)
        }
        Queue::Tasks => {
            if principal.has_role(Role::DeptReviewer) {
                let own = principal.dept.clone().ok_or_else(|| {
                    Problem::forbidden("令牌未载明所属部门（dept），无法确定审批队列")
                })?;
                if query.dept.as_deref().is_some_and(|d| d != own) {
                    return Err(Problem::forbidden("部门审批人员只能查看本部门的队列"));
                }
                // The sources read the reviewer's department from the token.
                return Ok(None);
            }
            if partner {
                let dept = query
                    .dept
                    .clone()
                    .filter(|d| !d.trim().is_empty())
                    .ok_or_else(|| {
                        Problem::field("dept", "required", "合作系统读取审批队列须指明部门（dept）")
                    })?;
                if !crate::pages::is_code(&dept) {
                    return Err(Problem::field("dept", "invalid", "部门编码格式不正确"));
                }
                return Ok(Some(dept));
            }
            Err(Problem::forbidden(
                "此操作仅限部门审批人员或持有 queues:read 权限的合作系统执行",
            ))
        }
    }
}

/// The source list endpoint for `queue`, after `position`.
fn source_path(
    queue: Queue,
    source: Source,
    query: &Filters,
    dept: Option<&str>,
    position: Option<&str>,
    limit: u64,
) -> String {
    let mut params: Vec<(&str, String)> = vec![("limit", limit.to_string())];
    let path = match (queue, source) {
        (Queue::Intake, Source::Licensing) => {
            params.push(("status", "submitted".into()));
            params.push(("order", "oldest_first".into()));
            "/api/v1/applications"
        }
        (Queue::HandOut, Source::Licensing) => {
            params.push(("status", "licence_issued".into()));
            params.push(("order", "oldest_first".into()));
            "/api/v1/applications"
        }
        (Queue::Intake, Source::Construction) => {
            params.push(("status", "submitted".into()));
            "/api/v1/stages"
        }
        (Queue::HandOut, Source::Construction) => {
            params.push(("awaiting", "hand_out".into()));
            "/api/v1/stages"
        }
        (Queue::Tasks, _) => {
            if let Some(status) = query.status {
                params.push(("status", wire(&status)));
            }
            if let Some(dept) = dept {
                params.push(("dept", dept.to_owned()));
            }
            "/api/v1/tasks"
        }
    };
    if let Some(position) = position {
        params.push(("cursor", position.to_owned()));
    }
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    format!("{path}?{}", query.join("&"))
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

/// What a merged page asks every source for.
struct Ask<'a> {
    queue: Queue,
    filters: &'a Filters,
    /// A partner's department (reviewers' come from their token).
    dept: Option<&'a str>,
    limit: u64,
}

/// Reads one source for one merged page: up to `limit` items passing the
/// filters, paging the source at most `MAX_SCAN_ROUNDS` times.
async fn scan(
    upstreams: &Upstreams,
    token: &str,
    ask: &Ask<'_>,
    source: Source,
    from: Option<String>,
) -> Result<Scan, UpstreamError> {
    let Ask {
        queue,
        filters: query,
        dept,
        limit,
    } = *ask;
    let mut out = Scan {
        source,
        items: Vec::new(),
        scanned_to: from,
        more: true,
    };
    for _ in 0..MAX_SCAN_ROUNDS {
        let path = source_path(queue, source, query, dept, out.scanned_to.as_deref(), limit);
        let page = upstreams.get(source.upstream(), &path, Some(token)).await?;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        for item in &items {
            let Some(cursor) = text(item, "cursor") else {
                continue;
            };
            out.scanned_to = Some(cursor.clone());
            let Some(entry) = entry(queue, source, item) else {
                continue;
            };
            let wanted = query
                .sla
                .is_none_or(|sla| entry.sla_state.as_deref() == Some(wire(&sla).as_str()));
            if wanted {
                out.items.push((entry, cursor));
            }
        }
        out.more = page["next_cursor"].is_string();
        if !out.more || out.items.len() as u64 >= limit {
            break;
        }
    }
    Ok(out)
}

/// Merges the scans: the `limit` most urgent entries and every source's
/// new position. Pure, so the paging rules are tested without servers.
fn merge(
    queue: Queue,
    scans: Vec<Scan>,
    mut positions: Positions,
    limit: usize,
) -> (Vec<QueueEntry>, Positions, bool) {
    let mut heads: Vec<(Source, std::collections::VecDeque<(QueueEntry, String)>)> = scans
        .iter()
        .map(|s| (s.source, s.items.iter().cloned().collect()))
        .collect();
    let mut taken: Vec<QueueEntry> = Vec::new();
    let mut last: Vec<(Source, String)> = Vec::new();
    while taken.len() < limit {
        let next = heads
            .iter()
            .enumerate()
            .filter_map(|(i, (_, q))| q.front().map(|(e, _)| (i, urgency(queue, e))))
            .min_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        let Some((i, _)) = next else { break };
        let source = heads[i].0;
        if let Some((entry, cursor)) = heads[i].1.pop_front() {
            last.retain(|(s, _)| *s != source);
            last.push((source, cursor));
            taken.push(entry);
        }
    }
    let mut more = false;
    for scan in &scans {
        let left = heads
            .iter()
            .find(|(s, _)| *s == scan.source)
            .is_some_and(|(_, q)| !q.is_empty());
        match last.iter().find(|(s, _)| *s == scan.source) {
            Some((_, cursor)) => positions.set(scan.source, Some(cursor.clone())),
            // Nothing of this source passed the filters: skip what was
            // looked at, or the next page would look at it again.
            None if scan.items.is_empty() && scan.scanned_to.is_some() => {
                positions.set(scan.source, scan.scanned_to.clone())
            }
            None => {}
        }
        more |= left || scan.more;
    }
    (taken, positions, more)
}

/// Builds one merged page for `principal` (whose token is `token`).
pub async fn merged_page(
    state: &AppState,
    principal: &Principal,
    token: &str,
    queue: Queue,
    query: &QueueQuery,
    page: &PageQuery,
) -> Result<MergedPage, Problem> {
    let query = &query.filters(queue)?;
    let dept = authorise(queue, principal, query)?;
    let limit = page.limit()?;
    let positions = page.position::<Positions>()?.unwrap_or_default();
    let sources: Vec<Source> = Source::ALL
        .into_iter()
        .filter(|s| query.source.is_none_or(|only| only == *s))
        .collect();
    let ask = Ask {
        queue,
        filters: query,
        dept: dept.as_deref(),
        limit,
    };
    let scans = futures_util::future::join_all(sources.iter().map(|source| {
        scan(
            &state.upstream,
            token,
            &ask,
            *source,
            positions.get(*source).cloned(),
        )
    }))
    .await;
    let mut answered = Vec::new();
    let mut unavailable = Vec::new();
    for (source, result) in sources.iter().zip(scans) {
        match result {
            Ok(scan) => answered.push(scan),
            Err(UpstreamError::Unavailable { detail, .. }) => unavailable.push(Unavailable {
                source: source.upstream(),
                detail,
            }),
            // A refusal is the caller's answer, not an outage: pass it on.
            Err(refused @ UpstreamError::Refused { .. }) => {
                return Err(refusal_problem(&refused));
            }
        }
    }
    if answered.is_empty() {
        let detail = unavailable
            .iter()
            .map(|u| u.detail.as_str())
            .collect::<Vec<_>>()
            .join("；");
        return Err(Problem::unavailable(format!("队列来源均不可用：{detail}")));
    }
    let (items, positions, more) = merge(queue, answered, positions, limit as usize);
    Ok(MergedPage {
        items,
        next_cursor: more.then(|| encode_cursor(&positions)),
        partial: !unavailable.is_empty(),
        unavailable,
    })
}

/// A source's 4xx as this service's problem (status, code and fields kept).
pub(crate) fn refusal_problem(error: &UpstreamError) -> Problem {
    match error {
        UpstreamError::Refused { status, problem } => {
            serde_json::from_value::<Problem>(problem.clone()).unwrap_or_else(|_| {
                Problem::new(
                    actix_web::http::StatusCode::from_u16(*status)
                        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
                    "upstream_refused",
                    "请求被拒绝",
                )
                .with_detail(error.message())
            })
        }
        UpstreamError::Unavailable { detail, .. } => Problem::unavailable(detail.clone()),
    }
}

fn bearer(req: &actix_web::HttpRequest) -> String {
    yizhan_auth::bearer_token(req.headers())
        .ok()
        .flatten()
        .unwrap_or_default()
}

async fn respond(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    principal: Principal,
    queue: Queue,
    query: web::Query<QueueQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, Problem> {
    let token = bearer(&req);
    let merged = merged_page(&state, &principal, &token, queue, &query, &page).await?;
    Ok(HttpResponse::Ok().json(merged))
}

/// 综合窗口受理队列: every submitted application waiting for intake, from
/// 一业一证 (applications) and 工程建设项目 (stage applications), oldest
/// first, cursor-paginated. Built by fan-out with a timeout per source:
/// when one does not answer the page says `partial: true` and names it in
/// `unavailable`, and its items follow on later pages.
///
/// 调用方：综合窗口人员、管理员、持有 `queues:read` 的合作系统；其他角色答复 403。
#[utoipa::path(
    tag = "queues",
    params(PageQuery, QueueQuery),
    responses(
        (status = 200, description = "合并受理队列（可能为部分结果）", body = MergedPage),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权查看", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "查询参数错误", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "所有来源均不可用", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/queues/intake")]
pub async fn intake_queue(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    principal: Principal,
    query: web::Query<QueueQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, Problem> {
    respond(state, req, principal, Queue::Intake, query, page).await
}

/// 部门审批队列: the department's tasks from both services, most urgent
/// first (least committed working time left, i.e. the earliest committed
/// deadline; no deadline last), cursor-paginated, filtered by `type`,
/// `status` and `sla`. Partial results as for the intake queue.
///
/// 调用方：部门审批人员（本部门，令牌 dept）、持有 `queues:read` 的合作系统（须给出 dept）；其他角色答复 403。
#[utoipa::path(
    tag = "queues",
    params(PageQuery, QueueQuery),
    responses(
        (status = 200, description = "合并审批队列（可能为部分结果）", body = MergedPage),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权查看或非本部门", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "查询参数错误", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "所有来源均不可用", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/queues/tasks")]
pub async fn task_queue(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    principal: Principal,
    query: web::Query<QueueQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, Problem> {
    respond(state, req, principal, Queue::Tasks, query, page).await
}

/// 统一出件队列: issued results waiting to be handed out at the window —
/// comprehensive licences (一业一证) and stage certificates (工程建设) —
/// oldest first, cursor-paginated. Partial results as for the intake queue.
///
/// 调用方：综合窗口人员、管理员、持有 `queues:read` 的合作系统；其他角色答复 403。
#[utoipa::path(
    tag = "queues",
    params(PageQuery, QueueQuery),
    responses(
        (status = 200, description = "合并出件队列（可能为部分结果）", body = MergedPage),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权查看", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "查询参数错误", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "所有来源均不可用", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/queues/hand-out")]
pub async fn hand_out_queue(
    state: web::Data<AppState>,
    req: actix_web::HttpRequest,
    principal: Principal,
    query: web::Query<QueueQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, Problem> {
    respond(state, req, principal, Queue::HandOut, query, page).await
}

/// Mounts the merged queues under `/api/v1`.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(
        utoipa_actix_web::scope("/api/v1")
            .service(intake_queue)
            .service(task_queue)
            .service(hand_out_queue),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use yizhan_approval::sla::Half;

    fn task(source: Source, id: &str, due: Option<(u32, Half)>) -> (QueueEntry, String) {
        let item = serde_json::json!({
            "id": id,
            "item_name": id,
            "status": "in_review",
            "due": due.map(|(day, half)| Deadline {
                date: NaiveDate::from_ymd_opt(2026, 12, day).unwrap(),
                half,
            }),
        });
        (
            entry(Queue::Tasks, source, &item).unwrap(),
            format!("after-{id}"),
        )
    }

    fn scan(source: Source, items: Vec<(QueueEntry, String)>, more: bool) -> Scan {
        Scan {
            source,
            scanned_to: items.last().map(|(_, c)| c.clone()),
            items,
            more,
        }
    }

    #[test]
    fn merge_orders_by_deadline_across_sources_and_keeps_each_position() {
        let lic = scan(
            Source::Licensing,
            vec![
                task(Source::Licensing, "l1", Some((1, Half::Afternoon))),
                task(Source::Licensing, "l2", Some((3, Half::Morning))),
                task(Source::Licensing, "l3", None),
            ],
            false,
        );
        let con = scan(
            Source::Construction,
            vec![
                task(Source::Construction, "c1", Some((1, Half::Morning))),
                task(Source::Construction, "c2", Some((3, Half::Morning))),
                task(Source::Construction, "c3", Some((9, Half::Morning))),
            ],
            true,
        );
        let (items, positions, more) = merge(Queue::Tasks, vec![lic, con], Positions::default(), 4);
        let ids: Vec<&str> = items.iter().map(|e| e.id.as_str()).collect();
        // Morning before afternoon; an equal deadline goes to licensing first.
        assert_eq!(ids, ["c1", "l1", "l2", "c2"]);
        assert_eq!(positions.licensing.as_deref(), Some("after-l2"));
        assert_eq!(positions.construction.as_deref(), Some("after-c2"));
        assert!(more);
    }

    #[test]
    fn a_source_with_nothing_taken_keeps_its_position_unless_it_had_nothing_wanted() {
        let start = Positions {
            licensing: Some("old-l".into()),
            construction: Some("old-c".into()),
        };
        let lic = scan(
            Source::Licensing,
            vec![task(Source::Licensing, "l9", Some((20, Half::Morning)))],
            false,
        );
        let con = scan(
            Source::Construction,
            vec![task(Source::Construction, "c1", Some((1, Half::Morning)))],
            false,
        );
        let (items, positions, more) = merge(Queue::Tasks, vec![lic, con], start.clone(), 1);
        assert_eq!(items.len(), 1);
        assert_eq!(positions.licensing.as_deref(), Some("old-l"));
        assert_eq!(positions.construction.as_deref(), Some("after-c1"));
        assert!(more, "l9 is still to come");

        // Everything looked at was filtered out: skip past it.
        let filtered = Scan {
            source: Source::Licensing,
            items: Vec::new(),
            scanned_to: Some("after-l50".into()),
            more: true,
        };
        let (_, positions, more) = merge(Queue::Tasks, vec![filtered], start, 5);
        assert_eq!(positions.licensing.as_deref(), Some("after-l50"));
        assert!(more);
    }

    #[test]
    fn intake_is_oldest_first() {
        let app = |source: Source, id: &str, at: &str| {
            let item = serde_json::json!({"id": id, "created_at": at, "status": "submitted"});
            (
                entry(Queue::Intake, source, &item).unwrap(),
                format!("after-{id}"),
            )
        };
        let lic = scan(
            Source::Licensing,
            vec![app(Source::Licensing, "l1", "2026-11-23T02:00:00Z")],
            false,
        );
        let con = scan(
            Source::Construction,
            vec![app(Source::Construction, "c1", "2026-11-23T01:00:00Z")],
            false,
        );
        let (items, _, more) = merge(Queue::Intake, vec![lic, con], Positions::default(), 10);
        assert_eq!(items[0].id, "c1");
        assert_eq!(items[0].page, "/window/construction/c1");
        assert_eq!(items[1].page, "/window/licensing/l1");
        assert!(!more);
    }

    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(urlencode("a-z_0.9~"), "a-z_0.9~");
        assert_eq!(urlencode("a b&c=d/e"), "a%20b%26c%3Dd%2Fe");
        assert_eq!(urlencode("受理"), "%E5%8F%97%E7%90%86");
    }

    #[test]
    fn every_bad_filter_is_named_at_once() {
        let query = QueueQuery {
            source: Some("everything".into()),
            sla: Some("late".into()),
            status: Some("in_review".into()),
            dept: None,
        };
        let problem = query.filters(Queue::Tasks).unwrap_err();
        let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["type", "sla"]);
        let intake = QueueQuery {
            sla: Some("overdue".into()),
            ..Default::default()
        };
        assert_eq!(
            intake.filters(Queue::Intake).unwrap_err().errors[0].field,
            "sla"
        );
        assert_eq!(
            QueueQuery {
                source: Some("construction".into()),
                ..Default::default()
            }
            .filters(Queue::Intake)
            .unwrap()
            .source,
            Some(Source::Construction)
        );
    }

    #[test]
    fn a_partner_needs_the_scope_and_a_department() {
        let partner = |scopes: &[&str]| Principal {
            sub: "p".into(),
            name: None,
            roles: vec![Role::Partner],
            uscc: None,
            enterprises: vec![],
            dept: None,
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        };
        let none = Filters::default();
        assert_eq!(
            authorise(Queue::Intake, &partner(&[]), &none)
                .unwrap_err()
                .status,
            403
        );
        assert!(authorise(Queue::Intake, &partner(&[QUEUES_READ]), &none).is_ok());
        let err = authorise(Queue::Tasks, &partner(&[QUEUES_READ]), &none).unwrap_err();
        assert_eq!(err.errors[0].field, "dept");
        let with_dept = Filters {
            dept: Some("market_regulation".into()),
            ..Default::default()
        };
        assert_eq!(
            authorise(Queue::Tasks, &partner(&[QUEUES_READ]), &with_dept).unwrap(),
            Some("market_regulation".into())
        );
    }
}
