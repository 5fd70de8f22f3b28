//! `GET /api/v1/audit` (search) and `GET /api/v1/audit/export` (JSON lines
//! or CSV, streamed) over the service's own audit log.
//!
//! Who may call: role admin only. Every other role gets 403 and an anonymous
//! caller 401; there is no read-only supervisor role in yizhan's token
//! model, and an audit log readable by the people it records would let them
//! watch who looks at them.

use actix_web::{HttpResponse, get, web};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yizhan_auth::{Principal, Role};
use yizhan_kit::Problem;
use yizhan_kit::pagination::{Page, PageQuery};

use super::entity::Model;
use super::middleware::AuditLog;
use super::store::{self, Filter};

/// Rows fetched per export batch: the export streams batch by batch and
/// holds no connection between them.
const EXPORT_BATCH: u64 = 500;

/// Filters of both endpoints.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// The actor's subject id.
    pub actor: Option<String>,
    /// An enterprise (USCC) the actor acted for.
    pub enterprise: Option<String>,
    /// The actor's department code.
    pub department: Option<String>,
    /// Part of the action, e.g. `decision` or `POST /api/v1/applications`.
    pub action: Option<String>,
    /// The object's id (an application, task, project, document ...).
    pub object: Option<String>,
    /// `succeeded`, `refused` or `failed`.
    #[param(value_type = Option<OutcomeParam>, inline)]
    pub outcome: Option<String>,
    /// Recorded at or after (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-12-01T00:00:00+08:00")]
    pub from: Option<String>,
    /// Recorded before (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime, example = "2026-12-04T00:00:00+08:00")]
    pub to: Option<String>,
    /// Opaque cursor from the previous page (search only).
    pub cursor: Option<String>,
    /// Page size, 1-100 (default 20; search only).
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u64>,
    /// Export format: `jsonl` (default) or `csv` (export only).
    #[param(value_type = Option<ExportFormat>, inline)]
    pub format: Option<String>,
}

/// How a recorded request ended.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeParam {
    /// 成功
    Succeeded,
    /// 被拒绝（4xx）
    Refused,
    /// 失败（5xx）
    Failed,
}

/// Export format.
#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// One JSON object per line (`application/x-ndjson`).
    #[default]
    Jsonl,
    /// Comma-separated values with a header row (`text/csv`).
    Csv,
}

impl AuditQuery {
    // Parsed here rather than by serde, whose messages would not name the
    // parameter.
    #[allow(clippy::result_large_err)]
    fn filter(&self) -> Result<Filter, Problem> {
        let from = instant("from", self.from.as_deref())?;
        let to = instant("to", self.to.as_deref())?;
        if let (Some(from), Some(to)) = (from, to)
            && from >= to
        {
            return Err(Problem::field("to", "before_from", "to 须晚于 from"));
        }
        let outcome = match self.outcome.as_deref() {
            None => None,
            Some(o @ ("succeeded" | "refused" | "failed")) => Some(o.to_owned()),
            Some(_) => {
                return Err(Problem::field(
                    "outcome",
                    "invalid_value",
                    "outcome 须为 succeeded、refused 或 failed",
                ));
            }
        };
        Ok(Filter {
            actor: self.actor.clone(),
            enterprise: self.enterprise.clone(),
            department: self.department.clone(),
            action: self.action.clone(),
            object: self.object.clone(),
            outcome,
            from,
            to,
        })
    }

    #[allow(clippy::result_large_err)]
    fn format(&self) -> Result<ExportFormat, Problem> {
        match self.format.as_deref() {
            None | Some("jsonl") => Ok(ExportFormat::Jsonl),
            Some("csv") => Ok(ExportFormat::Csv),
            Some(_) => Err(Problem::field(
                "format",
                "invalid_value",
                "format 须为 jsonl 或 csv",
            )),
        }
    }
}

#[allow(clippy::result_large_err)]
fn instant(field: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, Problem> {
    value
        .map(|v| {
            DateTime::parse_from_rfc3339(v)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    Problem::field(
                        field,
                        "invalid_datetime",
                        format!("{field} 须为 RFC 3339 时间，如 2026-12-01T00:00:00+08:00"),
                    )
                })
        })
        .transpose()
}

/// One recorded request.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": 42,
    "at": "2026-12-03T08:15:02.114Z",
    "service": "licensing",
    "request_id": "0193aa00-5e1f-7c3a-9d2e-4b1c8f0a7e11",
    "actor": "reviewer-market",
    "actor_name": "市场监管局审批员",
    "roles": ["dept_reviewer"],
    "role_names": ["部门审批人员"],
    "enterprise": null,
    "department": "market",
    "action": "POST /api/v1/tasks/{id}/decision",
    "object": "0193aa00-0000-7000-8000-000000000007",
    "outcome": "succeeded",
    "outcome_name": "成功",
    "status": 200,
    "client_addr": "10.0.3.17"
}))]
pub struct AuditEntry {
    /// Position in the log.
    pub id: i64,
    /// When it was recorded.
    pub at: DateTime<Utc>,
    /// Service that answered.
    pub service: String,
    /// The request id (`x-request-id`).
    pub request_id: String,
    /// The actor's subject id; null for a caller without a valid token.
    pub actor: Option<String>,
    /// The actor's display name.
    pub actor_name: Option<String>,
    /// The actor's roles (wire names).
    pub roles: Vec<String>,
    /// The actor's roles, named in Chinese.
    pub role_names: Vec<String>,
    /// Enterprise(s) (USCC) acted for, comma-separated.
    pub enterprise: Option<String>,
    /// The actor's department code.
    pub department: Option<String>,
    /// Method and route template.
    pub action: String,
    /// The object acted on: the changed aggregate's id, or the request path.
    pub object: String,
    /// `succeeded`, `refused` or `failed`.
    pub outcome: String,
    /// The outcome in Chinese.
    pub outcome_name: String,
    /// HTTP status of the answer (200 for a change recorded in its own
    /// transaction, before the answer was written).
    pub status: i32,
    /// Client address.
    pub client_addr: Option<String>,
}

impl From<Model> for AuditEntry {
    fn from(m: Model) -> Self {
        let roles: Vec<String> = m
            .roles
            .split(',')
            .filter(|r| !r.is_empty())
            .map(str::to_owned)
            .collect();
        let role_names = roles
            .iter()
            .map(|r| Role::from_wire(r).map_or_else(|| r.clone(), |r| r.zh_name().to_owned()))
            .collect();
        let outcome_name = match m.outcome.as_str() {
            "succeeded" => "成功",
            "refused" => "被拒绝",
            _ => "失败",
        }
        .to_owned();
        Self {
            id: m.id,
            at: m.at,
            service: m.service,
            request_id: m.request_id,
            actor: m.actor,
            actor_name: m.actor_name,
            roles,
            role_names,
            enterprise: m.enterprise,
            department: m.department,
            action: m.action,
            object: m.object,
            outcome: m.outcome,
            outcome_name,
            status: m.status,
            client_addr: m.client_addr,
        }
    }
}

/// One CSV record: lists flattened to comma-separated text.
#[derive(Serialize)]
struct CsvRecord {
    id: i64,
    at: String,
    service: String,
    request_id: String,
    actor: Option<String>,
    actor_name: Option<String>,
    roles: String,
    enterprise: Option<String>,
    department: Option<String>,
    action: String,
    object: String,
    outcome: String,
    status: i32,
    client_addr: Option<String>,
}

impl From<Model> for CsvRecord {
    fn from(m: Model) -> Self {
        Self {
            id: m.id,
            at: m.at.to_rfc3339(),
            service: m.service,
            request_id: m.request_id,
            actor: m.actor,
            actor_name: m.actor_name,
            roles: m.roles,
            enterprise: m.enterprise,
            department: m.department,
            action: m.action,
            object: m.object,
            outcome: m.outcome,
            status: m.status,
            client_addr: m.client_addr,
        }
    }
}

fn db_problem(e: &sea_orm::DbErr) -> Problem {
    yizhan_kit::db::problem_for(e, "audit_conflict", "审计日志查询冲突")
}

fn log_of(log: Option<web::Data<AuditLog>>) -> Result<web::Data<AuditLog>, Problem> {
    log.ok_or_else(|| Problem::not_found("本服务没有审计日志"))
}

/// Searches this service's audit log, newest first.
///
/// 调用方：仅管理员（admin）；其他角色 403，未登录 401。
#[utoipa::path(
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "审计记录（新的在前，分页）", body = Page<AuditEntry>),
        (status = 401, description = "未登录或令牌无效", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "仅管理员可查询审计日志", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "查询参数无效（字段名见 errors）", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "数据库暂不可用，稍后重试", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/audit")]
pub async fn search(
    principal: Principal,
    query: web::Query<AuditQuery>,
    log: Option<web::Data<AuditLog>>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&[Role::Admin])?;
    let log = log_of(log)?;
    let page = PageQuery {
        cursor: query.cursor.clone(),
        limit: query.limit,
    };
    let limit = page.limit()?;
    let before = page.position::<i64>()?;
    let filter = query.filter()?;
    let rows = store::search(&log.db, &filter, before, limit + 1)
        .await
        .map_err(|e| db_problem(&e))?;
    let page: Page<AuditEntry> = Page::from_rows(rows, limit, |m| m.id, AuditEntry::from);
    Ok(HttpResponse::Ok().json(page))
}

/// Exports every matching row of this service's audit log, oldest first,
/// streamed as JSON lines or CSV.
///
/// 调用方：仅管理员（admin）；其他角色 403，未登录 401。
#[utoipa::path(
    tag = "audit",
    params(AuditQuery),
    responses(
        (status = 200, description = "审计记录导出（流式）", content(
            (String = "application/x-ndjson", example = json!("{\"id\":1,\"at\":\"2026-12-03T08:15:02Z\",\"service\":\"licensing\",\"action\":\"POST /api/v1/applications\",\"outcome\":\"succeeded\"}\n")),
            (String = "text/csv", example = json!("id,at,service,request_id,actor,actor_name,roles,enterprise,department,action,object,outcome,status,client_addr\n")),
        )),
        (status = 401, description = "未登录或令牌无效", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "仅管理员可导出审计日志", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "查询参数无效（字段名见 errors）", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/audit/export")]
pub async fn export(
    principal: Principal,
    query: web::Query<AuditQuery>,
    log: Option<web::Data<AuditLog>>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&[Role::Admin])?;
    let log = log_of(log)?;
    let filter = query.filter()?;
    let format = query.format()?;
    let content_type = match format {
        ExportFormat::Jsonl => "application/x-ndjson",
        ExportFormat::Csv => "text/csv; charset=utf-8",
    };
    let db = log.db.clone();
    let state = Some(ExportState {
        after: 0,
        header_due: matches!(format, ExportFormat::Csv),
    });
    let stream = futures_util::stream::unfold(state, move |state| {
        let db = db.clone();
        let filter = filter.clone();
        async move {
            let state = state?;
            let rows = match store::batch_after(&db, &filter, state.after, EXPORT_BATCH).await {
                Ok(rows) => rows,
                Err(e) => {
                    // Headers are sent: the client sees a cut-off body.
                    tracing::warn!(error = %e, "audit export stopped");
                    return Some((Err(e), None));
                }
            };
            if rows.is_empty() && !state.header_due {
                return None;
            }
            let chunk = encode(format, &rows, state.header_due);
            // An empty batch (only a CSV header was due) ends the export.
            let next = rows.last().map(|m| ExportState {
                after: m.id,
                header_due: false,
            });
            Some((Ok::<_, sea_orm::DbErr>(chunk), next))
        }
    });
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .streaming(stream))
}

#[derive(Clone, Copy)]
struct ExportState {
    after: i64,
    header_due: bool,
}

fn encode(format: ExportFormat, rows: &[Model], header: bool) -> Bytes {
    match format {
        ExportFormat::Jsonl => {
            let mut out = Vec::new();
            for row in rows {
                // Serialising owned strings and numbers cannot fail.
                if let Ok(line) = serde_json::to_vec(&AuditEntry::from(row.clone())) {
                    out.extend_from_slice(&line);
                    out.push(b'\n');
                }
            }
            Bytes::from(out)
        }
        ExportFormat::Csv => {
            let mut writer = csv::WriterBuilder::new()
                .has_headers(header)
                .from_writer(Vec::new());
            if header && rows.is_empty() {
                let _ = writer.write_record(CSV_HEADER);
            }
            for row in rows {
                let _ = writer.serialize(CsvRecord::from(row.clone()));
            }
            Bytes::from(writer.into_inner().unwrap_or_default())
        }
    }
}

const CSV_HEADER: [&str; 14] = [
    "id",
    "at",
    "service",
    "request_id",
    "actor",
    "actor_name",
    "roles",
    "enterprise",
    "department",
    "action",
    "object",
    "outcome",
    "status",
    "client_addr",
];
