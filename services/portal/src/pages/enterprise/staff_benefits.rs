//! 免申即享 review: the policy catalog for officers, and a policy's
//! candidates with the rule that matched each (in words), exclusion with a
//! reason, a batch confirmed within the budget (used and left shown), and
//! a batch marked paid.
//!
//! Who may see them: 部门审批人员 and 管理员. The catalog is open to both;
//! a policy's candidates only to its department's reviewers and admins
//! (the enterprise service answers others 403, shown as a 403 page).

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, post, web};
use serde_json::{Value, json};
use yizhan_auth::Role;

use super::staff_names::{Names, amount_words, rule_words, yuan};
use crate::AppState;
use crate::pages::applications::id_path;
use crate::pages::{
    Flash, PageError, field_errors, refused_with, render, render_status, see_other, try_act, value,
    with_refused,
};
use crate::session::Viewer;
use crate::upstream::{Upstream, UpstreamError};

/// Who reviews candidates (the service narrows it to the policy's
/// department).
pub(crate) const OFFICERS: [Role; 2] = [Role::DeptReviewer, Role::Admin];

/// A policy as the pages show it: department by name, rules in words,
/// budget used and left in 元.
pub(crate) fn policy_for_page(names: &Names, p: &Value) -> Value {
    let mut p = p.clone();
    let budget = p["budget_fen"].as_i64().unwrap_or_default();
    let committed = p["committed_fen"].as_i64().unwrap_or_default();
    p["department_name"] = json!(names.department(p["department"].as_str().unwrap_or_default()));
    p["rule_words"] = json!(rule_words(names, &p["eligibility"]));
    p["amount_words"] = json!(amount_words(names, &p["amount"]));
    p["used"] = json!(yuan(committed));
    p["left"] = json!(yuan(budget - committed));
    p["used_percent"] = json!(if budget > 0 {
        committed * 100 / budget
    } else {
        0
    });
    p
}

/// Every policy, newest first.
pub(crate) async fn policies(state: &AppState, viewer: &Viewer) -> Result<Vec<Value>, PageError> {
    let list = state
        .upstream
        .get(
            Upstream::Enterprise,
            "/api/v1/policies",
            Some(&viewer.token),
        )
        .await?;
    Ok(list["items"].as_array().cloned().unwrap_or_default())
}

/// Page: the policy catalog; reviewers open their department's policies
/// to review candidates, admins publish new ones.
#[get("/enterprise/staff/policies")]
pub async fn catalog(
    state: web::Data<AppState>,
    viewer: Viewer,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&OFFICERS)?;
    let names = Names::load(&state, &viewer).await;
    let items: Vec<Value> = policies(&state, &viewer)
        .await?
        .iter()
        .map(|p| policy_for_page(&names, p))
        .collect();
    render(
        Some(&viewer),
        "ent_staff_policies.html",
        json!({
            "title": "免申即享政策",
            "policies": items,
            "admin": viewer.principal.has_role(Role::Admin),
            "flash": flash.text(),
        }),
    )
}

async fn policy_page(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    flash: Option<String>,
    refused: Option<Value>,
) -> Result<HttpResponse, PageError> {
    let path = id_path(id, "政策")?;
    let candidates = state
        .upstream
        .get(
            Upstream::Enterprise,
            &format!("/api/v1/policies/{path}/candidates"),
            Some(&viewer.token),
        )
        .await?;
    let names = Names::load(state, viewer).await;
    let policy = policies(state, viewer)
        .await?
        .into_iter()
        .find(|p| p["id"] == id)
        .ok_or_else(|| PageError::NotFound("政策不存在".into()))?;
    let items = candidates["items"].as_array().cloned().unwrap_or_default();
    // Confirmed candidates grouped by their batch, to mark each paid.
    let mut batches: BTreeMap<String, (i64, Vec<Value>)> = BTreeMap::new();
    for c in &items {
        if let (Some(batch), "confirmed") = (
            c["batch_id"].as_str(),
            c["state"].as_str().unwrap_or_default(),
        ) {
            let entry = batches.entry(batch.to_owned()).or_default();
            entry.0 += c["amount_fen"].as_i64().unwrap_or_default();
            entry.1.push(c.clone());
        }
    }
    let batches: Vec<Value> = batches
        .into_iter()
        .enumerate()
        .map(|(n, (id, (total, members)))| {
            json!({"id": id, "number": n + 1, "total": yuan(total), "members": members})
        })
        .collect();
    let (context, status) = with_refused(
        json!({
            "title": policy["title"],
            "policy": policy_for_page(&names, &policy),
            "excludable": items.iter().filter(|c| c["state"] == "matched").cloned().collect::<Vec<_>>(),
            "candidates": items,
            "batches": batches,
            "flash": flash,
        }),
        refused,
    );
    render_status(Some(viewer), "ent_staff_candidates.html", context, status)
}

/// Page: a policy's candidates, why each matched, budget used and left.
#[get("/enterprise/staff/policies/{id}")]
pub async fn policy_get(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&OFFICERS)?;
    policy_page(&state, &viewer, &id, flash.text(), None).await
}

/// A refusal of a batch: every message at the candidate list (the service
/// names `candidate_ids[i]`; over budget is a detail with both sums).
fn batch_refusal(form: &[(String, String)], error: &UpstreamError) -> Value {
    let (by_field, mut general) = field_errors(error);
    let mut errors = BTreeMap::new();
    let lines: Vec<String> = by_field.into_values().collect();
    if !lines.is_empty() {
        errors.insert("candidates".to_owned(), lines.join("；"));
    } else if !general.is_empty() {
        errors.insert("candidates".to_owned(), general.join("；"));
        general.clear();
    }
    refused_with(form, errors, general)
}

/// Confirms the ticked candidates as one disbursement batch.
#[post("/enterprise/staff/policies/{id}/batches")]
pub async fn confirm_batch(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&OFFICERS)?;
    viewer.check_csrf(value(&form, "_csrf"))?;
    let path = id_path(&id, "政策")?;
    let ids: Vec<&str> = form
        .iter()
        .filter(|(k, _)| k == "candidate")
        .map(|(_, v)| v.as_str())
        .collect();
    if ids.is_empty() {
        let errors =
            BTreeMap::from([("candidates".to_owned(), "请勾选要确认发放的企业".to_owned())]);
        let refused = refused_with(&form, errors, Vec::new());
        return policy_page(&state, &viewer, &id, None, Some(refused)).await;
    }
    let body = json!({"candidate_ids": ids});
    let answer = state
        .upstream
        .send(
            Upstream::Enterprise,
            reqwest::Method::POST,
            &format!("/api/v1/policies/{path}/batches"),
            Some(&viewer.token),
            &body,
        )
        .await;
    match answer {
        Ok(_) => Ok(see_other(
            &format!("/enterprise/staff/policies/{path}"),
            "已确认发放批次",
        )),
        Err(
            e @ UpstreamError::Refused {
                status: 409 | 422, ..
            },
        ) => {
            let mut refused = batch_refusal(&form, &e);
            // The ticks stay as they were (`posted` keeps one value a name).
            refused["picked"] = json!(ids);
            policy_page(&state, &viewer, &id, None, Some(refused)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Excludes a candidate with a reason; the message goes to that
/// candidate's reason field.
#[post("/enterprise/staff/candidates/{id}/exclude")]
pub async fn exclude(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&OFFICERS)?;
    viewer.check_csrf(value(&form, "_csrf"))?;
    let policy = value(&form, "policy").unwrap_or_default().to_owned();
    let policy_path = id_path(&policy, "政策")?;
    let key = format!("reason-{id}");
    let reason = value(&form, &key).unwrap_or_default();
    let api = format!("/api/v1/candidates/{}/exclude", id_path(&id, "候选企业")?);
    match try_act(
        &state,
        &viewer,
        Upstream::Enterprise,
        &api,
        &json!({"reason": reason}),
        &form,
    )
    .await?
    {
        Ok(_) => Ok(see_other(
            &format!("/enterprise/staff/policies/{policy_path}"),
            "已排除该企业",
        )),
        Err(mut refused) => {
            // The service names `reason`; this page has one per candidate.
            let message = refused["errors"]["reason"].take();
            if !message.is_null() {
                let mut errors = serde_json::Map::new();
                errors.insert(key, message);
                refused["errors"] = Value::Object(errors);
            }
            policy_page(&state, &viewer, &policy, None, Some(refused)).await
        }
    }
}

/// Records a batch as paid.
#[post("/enterprise/staff/batches/{id}/paid")]
pub async fn mark_paid(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&OFFICERS)?;
    viewer.check_csrf(value(&form, "_csrf"))?;
    let policy = value(&form, "policy").unwrap_or_default().to_owned();
    let policy_path = id_path(&policy, "政策")?;
    let api = format!("/api/v1/batches/{}/paid", id_path(&id, "批次")?);
    match try_act(
        &state,
        &viewer,
        Upstream::Enterprise,
        &api,
        &json!({}),
        &form,
    )
    .await?
    {
        Ok(_) => Ok(see_other(
            &format!("/enterprise/staff/policies/{policy_path}"),
            "批次已标记为已发放",
        )),
        Err(refused) => policy_page(&state, &viewer, &policy, None, Some(refused)).await,
    }
}

/// Registers these pages (`new` is registered by the admin pages before
/// `{id}`).
pub fn configure(c: &mut web::ServiceConfig) {
    c.service(catalog)
        .service(policy_get)
        .service(confirm_batch)
        .service(exclude)
        .service(mark_paid);
}
