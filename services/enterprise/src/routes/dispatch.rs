//! `/api/v1/dispatch-rules`: which department each 诉求 category goes to,
//! and its answer limit; replaced whole by an admin.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, put, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yizhan_auth::{Principal, Role};
use yizhan_kit::Problem;

use crate::AppState;
use crate::domain::requests::Category;
use crate::store::dispatch::{self, RouteInput};
use crate::store::requests::dispatch_rule;

/// One category's route.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RouteBody {
    /// Department code.
    pub department: String,
    /// Department name.
    pub department_name: String,
    /// Working days to answer (1-60), from acceptance.
    pub answer_limit_days: i32,
}

/// A whole rule set: every category routed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({"routes": {
    "policy": {"department": "development_reform", "department_name": "发展和改革局", "answer_limit_days": 5},
    "finance": {"department": "finance_bureau", "department_name": "金融服务中心", "answer_limit_days": 5},
    "talent": {"department": "talent_office", "department_name": "人才工作办公室", "answer_limit_days": 5},
    "land_planning": {"department": "natural_resources", "department_name": "自然资源和规划局", "answer_limit_days": 10},
    "approvals": {"department": "approval_bureau", "department_name": "行政审批局", "answer_limit_days": 3},
    "utilities": {"department": "utilities_office", "department_name": "水电气报装服务专班", "answer_limit_days": 5},
    "legal": {"department": "justice", "department_name": "司法局", "answer_limit_days": 5},
    "other": {"department": "business_environment", "department_name": "营商环境办公室", "answer_limit_days": 5}
}}))]
pub struct RuleSet {
    /// Category code → route.
    pub routes: BTreeMap<String, RouteBody>,
}

/// The stored rules with Chinese category names.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"rules": [{"category": "finance", "category_name": "融资服务", "department": "finance_bureau", "department_name": "金融服务中心", "answer_limit_days": 5, "updated_by": "admin-1", "updated_at": "2026-12-03T02:00:00Z"}]}))]
pub struct RulesView {
    /// One per category, in display order (empty before an admin set them).
    pub rules: Vec<RuleView>,
}

/// One stored route.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleView {
    /// Category code.
    pub category: String,
    /// 类别.
    pub category_name: String,
    /// Department code.
    pub department: String,
    /// Department name.
    pub department_name: String,
    /// Working days to answer.
    pub answer_limit_days: i32,
    /// Who set it.
    pub updated_by: String,
    /// When.
    pub updated_at: DateTime<Utc>,
}

fn rules_view(rows: Vec<dispatch_rule::Model>) -> RulesView {
    RulesView {
        rules: rows
            .into_iter()
            .map(|r| RuleView {
                category_name: Category::from_code(&r.category)
                    .map_or("", Category::name)
                    .to_owned(),
                category: r.category,
                department: r.department_code,
                department_name: r.department_name,
                answer_limit_days: r.answer_limit_days,
                updated_by: r.updated_by,
                updated_at: r.updated_at,
            })
            .collect(),
    }
}

/// The dispatch rules.
///
/// 调用方：管理员、部门审批人员、营商专员、12345热线话务员；其他角色答复 403。
#[utoipa::path(
    tag = "requests",
    responses(
        (status = 200, description = "派单规则", body = RulesView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "角色无权查看", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/dispatch-rules")]
pub async fn get_rules(
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&[
        Role::Admin,
        Role::DeptReviewer,
        Role::Specialist,
        Role::HotlineOperator,
    ])?;
    Ok(HttpResponse::Ok().json(rules_view(dispatch::rules(&state.db).await?)))
}

/// Replace the dispatch rules whole: every category routed to a department
/// with an answer limit of 1-60 working days. Requests already filed keep
/// their department and limit.
///
/// 调用方：管理员；其他角色答复 403。
#[utoipa::path(
    tag = "requests",
    request_body = RuleSet,
    responses(
        (status = 200, description = "已保存", body = RulesView),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "仅管理员", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "规则不完整或有误（指明字段）", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/dispatch-rules")]
pub async fn put_rules(
    principal: Principal,
    state: web::Data<AppState>,
    body: web::Json<RuleSet>,
) -> Result<HttpResponse, Problem> {
    principal.require_any(&[Role::Admin])?;
    let routes = body
        .routes
        .iter()
        .map(|(k, r)| {
            (
                k.clone(),
                RouteInput {
                    department_code: r.department.clone(),
                    department_name: r.department_name.clone(),
                    answer_limit_days: r.answer_limit_days,
                },
            )
        })
        .collect();
    let rows = dispatch::replace(&state.db, &routes, &principal.sub, Utc::now()).await?;
    Ok(HttpResponse::Ok().json(rules_view(rows)))
}
