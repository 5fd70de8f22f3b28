//! Admin pages of the enterprise service: the 诉求 dispatch rules (every
//! category to a department with an answer limit, saved whole) and
//! publishing a 免申即享 policy (the eligibility and amount rules as JSON,
//! the rule language documented beside them; the service's refusal, e.g.
//! an unknown fact, shown at its field).
//!
//! Who may see them: 管理员 only (the service refuses others too).

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use reqwest::Method;
use serde_json::{Map, Value, json};
use yizhan_auth::Role;

use super::staff::{CATEGORIES, dispatch_rules, send};
use super::staff_names::{Names, fen_of};
use crate::AppState;
use crate::pages::{Flash, PageError, field_errors, render_status, see_other, value};
use crate::session::Viewer;
use crate::upstream::{Upstream, UpstreamError};

const ADMIN: [Role; 1] = [Role::Admin];

/// What was typed, by input name.
fn typed(form: &[(String, String)]) -> BTreeMap<String, String> {
    form.iter()
        .filter(|(k, _)| k != "_csrf")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

async fn rules_page(
    state: &AppState,
    viewer: &Viewer,
    posted: Option<BTreeMap<String, String>>,
    errors: BTreeMap<String, String>,
    general: Vec<String>,
    flash: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let names = Names::load(state, viewer).await;
    let stored = dispatch_rules(state, viewer).await;
    let posted = posted.unwrap_or_else(|| {
        let mut values = BTreeMap::new();
        for r in &stored {
            let category = r["category"].as_str().unwrap_or_default();
            values.insert(
                format!("routes.{category}.department"),
                r["department"].as_str().unwrap_or_default().to_owned(),
            );
            values.insert(
                format!("routes.{category}.answer_limit_days"),
                r["answer_limit_days"].to_string(),
            );
        }
        values
    });
    let updated = stored
        .iter()
        .filter_map(|r| r["updated_at"].as_str())
        .max()
        .map(str::to_owned);
    render_status(
        Some(viewer),
        "ent_staff_rules.html",
        json!({
            "title": "诉求派单规则",
            "categories": CATEGORIES,
            "departments": names.departments,
            "posted": posted,
            "errors": errors,
            "general": general,
            "updated_at": updated,
            "empty": stored.is_empty(),
            "flash": flash,
        }),
        status,
    )
}

/// Page: the dispatch rules, every category at once.
#[get("/enterprise/staff/dispatch-rules")]
pub async fn rules(
    state: web::Data<AppState>,
    viewer: Viewer,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&ADMIN)?;
    rules_page(
        &state,
        &viewer,
        None,
        BTreeMap::new(),
        Vec::new(),
        flash.text(),
        StatusCode::OK,
    )
    .await
}

/// The service's field for a route (`routes.finance.department_name`) as
/// this form's input (`routes.finance.department`).
fn rule_field(field: &str) -> String {
    match field.strip_suffix("_name") {
        Some(department) if field.ends_with("department_name") => department.to_owned(),
        _ if field.matches('.').count() == 1 && field.starts_with("routes.") => {
            format!("{field}.department")
        }
        _ => field.to_owned(),
    }
}

/// Saves the whole rule set; any problem comes back at its category.
#[post("/enterprise/staff/dispatch-rules")]
pub async fn save_rules(
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&ADMIN)?;
    viewer.check_csrf(value(&form, "_csrf"))?;
    let names = Names::load(&state, &viewer).await;
    let posted = typed(&form);
    let mut errors = BTreeMap::new();
    let mut routes = Map::new();
    for (category, _) in CATEGORIES {
        let department_key = format!("routes.{category}.department");
        let days_key = format!("routes.{category}.answer_limit_days");
        let department = posted
            .get(&department_key)
            .map(|d| d.trim())
            .unwrap_or_default();
        let Some(department_name) = names.departments.get(department) else {
            errors.insert(department_key, "请选择承办部门".to_owned());
            continue;
        };
        let Ok(days) = posted
            .get(&days_key)
            .map_or("", |d| d.trim())
            .parse::<i32>()
        else {
            errors.insert(days_key, "请填写 1-60 之间的整数".to_owned());
            continue;
        };
        routes.insert(
            category.to_owned(),
            json!({"department": department, "department_name": department_name, "answer_limit_days": days}),
        );
    }
    if !errors.is_empty() {
        return rules_page(
            &state,
            &viewer,
            Some(posted),
            errors,
            Vec::new(),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    match send(
        &state,
        &viewer,
        Method::PUT,
        "/api/v1/dispatch-rules",
        &json!({"routes": routes}),
    )
    .await
    {
        Ok(_) => Ok(see_other(
            "/enterprise/staff/dispatch-rules",
            "派单规则已保存",
        )),
        Err(
            e @ UpstreamError::Refused {
                status: 422 | 409, ..
            },
        ) => {
            let (by_field, general) = field_errors(&e);
            let errors = by_field
                .into_iter()
                .map(|(k, v)| (rule_field(&k), v))
                .collect();
            rules_page(
                &state,
                &viewer,
                Some(posted),
                errors,
                general,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn policy_form(
    state: &AppState,
    viewer: &Viewer,
    posted: BTreeMap<String, String>,
    errors: BTreeMap<String, String>,
    general: Vec<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let names = Names::load(state, viewer).await;
    let facts: Vec<Value> = state
        .upstream
        .get(Upstream::Enterprise, "/api/v1/facts", None)
        .await
        .ok()
        .and_then(|c| c["facts"].as_array().cloned())
        .unwrap_or_default();
    render_status(
        Some(viewer),
        "ent_staff_policy_new.html",
        json!({
            "title": "发布免申即享政策",
            "departments": names.departments,
            "facts": facts,
            "items": names.items,
            "posted": posted,
            "errors": errors,
            "general": general,
            "idempotency_key": format!("{:032x}", rand::random::<u128>()),
        }),
        status,
    )
}

/// Page: the form to publish a policy.
#[get("/enterprise/staff/policies/new")]
pub async fn new_policy(
    state: web::Data<AppState>,
    viewer: Viewer,
) -> Result<HttpResponse, PageError> {
    viewer.require(&ADMIN)?;
    policy_form(
        &state,
        &viewer,
        BTreeMap::new(),
        BTreeMap::new(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

/// The service's field for a policy problem as this form's input: a place
/// inside a rule (`eligibility.all[1].fact`) goes to its rule's textarea,
/// with the place named in the message.
fn policy_field(field: &str, message: &str) -> (String, String) {
    for rule in ["eligibility", "amount"] {
        if let Some(place) = field.strip_prefix(rule).filter(|p| !p.is_empty()) {
            let place = place.trim_start_matches('.');
            return (rule.to_owned(), format!("位置 {place}：{message}"));
        }
    }
    (field.to_owned(), message.to_owned())
}

/// Publishes a policy; a refusal comes back at its field, input kept.
#[post("/enterprise/staff/policies/new")]
pub async fn publish(
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&ADMIN)?;
    viewer.check_csrf(value(&form, "_csrf"))?;
    let posted = typed(&form);
    let get = |k: &str| {
        posted
            .get(k)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    let mut errors = BTreeMap::new();
    let mut json_of = |key: &str| match serde_json::from_str::<Value>(&get(key)) {
        Ok(v) if v.is_object() => v,
        Ok(_) => {
            errors.insert(key.to_owned(), "应为一个 JSON 对象（以 { 开头）".to_owned());
            Value::Null
        }
        Err(e) => {
            errors.insert(
                key.to_owned(),
                format!(
                    "不是有效的 JSON：第 {} 行第 {} 列有误",
                    e.line(),
                    e.column()
                ),
            );
            Value::Null
        }
    };
    let eligibility = json_of("eligibility");
    let amount = json_of("amount");
    let budget = fen_of(&get("budget_fen"));
    if budget.is_none() {
        errors.insert(
            "budget_fen".to_owned(),
            "请填写预算金额（元，最多两位小数）".to_owned(),
        );
    }
    for key in ["valid_from", "valid_until"] {
        if chrono::NaiveDate::parse_from_str(&get(key), "%Y-%m-%d").is_err() {
            errors.insert(key.to_owned(), "请选择日期".to_owned());
        }
    }
    if !errors.is_empty() {
        return policy_form(
            &state,
            &viewer,
            posted,
            errors,
            Vec::new(),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let body = json!({
        "title": get("title"),
        "department": get("department"),
        "eligibility": eligibility,
        "amount": amount,
        "budget_fen": budget,
        "valid_from": get("valid_from"),
        "valid_until": get("valid_until"),
    });
    let key = get("idempotency_key");
    let key = if key.is_empty() {
        format!("{:032x}", rand::random::<u128>())
    } else {
        key
    };
    match state
        .upstream
        .send_idempotent(
            Upstream::Enterprise,
            "/api/v1/policies",
            &viewer.token,
            &key,
            &body,
        )
        .await
    {
        Ok(_) => Ok(see_other(
            "/enterprise/staff/policies",
            "政策已发布，已完成企业匹配",
        )),
        Err(
            e @ UpstreamError::Refused {
                status: 422 | 409, ..
            },
        ) => {
            let (by_field, general) = field_errors(&e);
            let errors = by_field.iter().map(|(k, v)| policy_field(k, v)).collect();
            policy_form(
                &state,
                &viewer,
                posted,
                errors,
                general,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Registers these pages (before the policy pages, so `new` is not taken
/// for an id).
pub fn configure(c: &mut web::ServiceConfig) {
    c.service(rules)
        .service(save_rules)
        .service(new_policy)
        .service(publish);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_fields_land_on_this_forms_inputs() {
        assert_eq!(
            rule_field("routes.finance.department_name"),
            "routes.finance.department"
        );
        assert_eq!(rule_field("routes.finance"), "routes.finance.department");
        assert_eq!(
            rule_field("routes.finance.answer_limit_days"),
            "routes.finance.answer_limit_days"
        );
        assert_eq!(
            policy_field("eligibility.all[1].fact", "未知的事实"),
            (
                "eligibility".to_owned(),
                "位置 all[1].fact：未知的事实".to_owned()
            )
        );
        assert_eq!(
            policy_field("budget_fen", "预算应为正数"),
            ("budget_fen".to_owned(), "预算应为正数".to_owned())
        );
    }
}
