//! Pages for departments: the 诉求 queue and a request's page with the
//! department's steps (签收, 转办 with a confirmation, 请企业补充, 答复).
//! The other staff pages live beside it: [`super::staff_ratings`] (差评
//! follow-ups), [`super::staff_benefits`] (免申即享 review),
//! [`super::staff_admin`] (dispatch rules, policy catalog) and
//! [`super::staff_stats`] (statistics).
//!
//! Who may see them: 部门审批人员 with a department; the enterprise service
//! answers only with that department's requests (another department's is
//! "不存在").

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use reqwest::Method;
use serde_json::{Value, json};
use yizhan_auth::Role;

use super::paging::{Cursor, api_page, next_link};
use super::{staff_admin, staff_benefits, staff_ratings, staff_stats};
use crate::AppState;
use crate::pages::applications::id_path;
use crate::pages::{
    Flash, PageError, render, render_status, see_other, try_act, value, with_refused,
};
use crate::session::Viewer;
use crate::upstream::Upstream;

/// Who works a department's queue.
pub(crate) const REVIEWERS: [Role; 1] = [Role::DeptReviewer];

/// The 诉求 categories by code, with their Chinese names (the service's
/// `domain::requests::Category`).
pub(crate) const CATEGORIES: [(&str, &str); 8] = [
    ("policy", "政策咨询"),
    ("finance", "融资服务"),
    ("talent", "人才服务"),
    ("land_planning", "用地规划"),
    ("approvals", "行政审批"),
    ("utilities", "水电气报装"),
    ("legal", "法律服务"),
    ("other", "其他"),
];

/// Channels of 诉求 and of ratings, with their Chinese names.
pub(crate) const CHANNELS: [(&str, &str); 5] = [
    ("hotline_12345", "12345热线"),
    ("gaoxintong", "高新通亲清在线"),
    ("salon", "政企沙龙"),
    ("specialist_visit", "营商专员走访"),
    ("window", "综合窗口"),
];

/// The Chinese name of `code` in `names`, or a neutral word: a code never
/// reaches the page.
pub(crate) fn name_of(names: &[(&str, &str)], code: &str, unknown: &str) -> String {
    names
        .iter()
        .find(|(c, _)| *c == code)
        .map_or_else(|| unknown.to_owned(), |(_, n)| (*n).to_owned())
}

/// The dispatch rules as stored (empty before an admin set them, or when
/// the service does not answer).
pub(crate) async fn dispatch_rules(state: &AppState, viewer: &Viewer) -> Vec<Value> {
    state
        .upstream
        .get(
            Upstream::Enterprise,
            "/api/v1/dispatch-rules",
            Some(&viewer.token),
        )
        .await
        .ok()
        .and_then(|v| v["rules"].as_array().cloned())
        .unwrap_or_default()
}

/// Page: the department's 诉求 queue, most urgent first, a page at a
/// time (`?cursor=` continues in urgency order).
#[get("/enterprise/staff/requests")]
pub async fn queue_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    flash: web::Query<Flash>,
    cursor: web::Query<Cursor>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&REVIEWERS)?;
    let list = state
        .upstream
        .get(
            Upstream::Enterprise,
            &api_page("/api/v1/request-queue", &cursor),
            Some(&viewer.token),
        )
        .await?;
    render(
        Some(&viewer),
        "ent_staff_queue.html",
        json!({
            "title": "本部门企业诉求",
            "requests": list["items"],
            "next": next_link("/enterprise/staff/requests", &list),
            "flash": flash.text(),
        }),
    )
}

/// The request `id` as the viewer may see it.
async fn request_of(state: &AppState, viewer: &Viewer, id: &str) -> Result<Value, PageError> {
    Ok(state
        .upstream
        .get(
            Upstream::Enterprise,
            &format!("/api/v1/requests/{}", id_path(id, "诉求")?),
            Some(&viewer.token),
        )
        .await?)
}

/// The departments a request may be transferred to: those of the rule
/// set, other than its own, by name.
async fn transfer_targets(
    state: &AppState,
    viewer: &Viewer,
    request: &Value,
) -> Vec<(String, String)> {
    let mut targets: Vec<(String, String)> = Vec::new();
    for rule in dispatch_rules(state, viewer).await {
        if let (Some(code), Some(name)) = (
            rule["department"].as_str(),
            rule["department_name"].as_str(),
        ) && Some(code) != request["department_code"].as_str()
            && !targets.iter().any(|(c, _)| c == code)
        {
            targets.push((code.to_owned(), name.to_owned()));
        }
    }
    targets
}

/// The request page, with a refused form (if any) drawn again.
async fn request_page(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    flash: Option<String>,
    refused: Option<Value>,
) -> Result<HttpResponse, PageError> {
    let request = request_of(state, viewer, id).await?;
    let targets = transfer_targets(state, viewer, &request).await;
    let (context, status) = with_refused(
        json!({
            "title": format!("诉求 · {}", request["category_name"].as_str().unwrap_or_default()),
            "r": request,
            "targets": targets,
            "flash": flash,
        }),
        refused,
    );
    render_status(Some(viewer), "ent_staff_request.html", context, status)
}

/// Page: one request — status, limit, timeline, the department's steps.
#[get("/enterprise/staff/requests/{id}")]
pub async fn request_get(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&REVIEWERS)?;
    request_page(&state, &viewer, &id, flash.text(), None).await
}

/// The message a redirect carries after each step.
fn done_message(step: &str) -> &'static str {
    match step {
        "accept" => "诉求已签收，答复时限开始计时",
        "transfer" => "诉求已转办",
        "ask" => "已请企业补充，答复时限暂停计时",
        _ => "诉求已答复",
    }
}

/// A department step: `accept`, `transfer` (confirmed first), `ask`,
/// `answer`. The service decides; its refusal comes back at the field.
#[post("/enterprise/staff/requests/{id}/{step}")]
pub async fn step_post(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&REVIEWERS)?;
    viewer.check_csrf(value(&form, "_csrf"))?;
    let (id, step) = path.into_inner();
    let field = |k: &str| {
        value(&form, k)
            .map(str::trim)
            .unwrap_or_default()
            .to_owned()
    };
    let body = match step.as_str() {
        "accept" => json!({}),
        "transfer" => json!({"to_department": field("to_department"), "reason": field("reason")}),
        "ask" => json!({"question": field("question")}),
        "answer" => json!({"answer": field("answer")}),
        _ => return Err(PageError::NotFound("没有这个办理环节".into())),
    };
    if step == "transfer" && value(&form, "confirm") != Some("yes") {
        return confirm_transfer(&state, &viewer, &id, &form).await;
    }
    let path = format!("/api/v1/requests/{}/{step}", id_path(&id, "诉求")?);
    match try_act(&state, &viewer, Upstream::Enterprise, &path, &body, &form).await? {
        Ok(_) if step == "transfer" => {
            Ok(see_other("/enterprise/staff/requests", done_message(&step)))
        }
        Ok(_) => Ok(see_other(
            &format!("/enterprise/staff/requests/{}", id_path(&id, "诉求")?),
            done_message(&step),
        )),
        Err(refused) => request_page(&state, &viewer, &id, None, Some(refused)).await,
    }
}

/// The transfer's confirmation: where it goes (by name) and why. A
/// department not among those offered, or no reason, goes back to the
/// form with the message at its field.
async fn confirm_transfer(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    form: &[(String, String)],
) -> Result<HttpResponse, PageError> {
    let request = request_of(state, viewer, id).await?;
    let targets = transfer_targets(state, viewer, &request).await;
    let to = value(form, "to_department").unwrap_or_default();
    let reason = value(form, "reason").map(str::trim).unwrap_or_default();
    let mut errors = BTreeMap::new();
    let target = targets.iter().find(|(c, _)| c == to);
    if target.is_none() {
        errors.insert("to_department".to_owned(), "请选择转办的部门".to_owned());
    }
    if reason.is_empty() {
        errors.insert("reason".to_owned(), "请填写转办理由".to_owned());
    }
    if !errors.is_empty() {
        let refused = crate::pages::refused_with(form, errors, Vec::new());
        return request_page(state, viewer, id, None, Some(refused)).await;
    }
    render_status(
        Some(viewer),
        "ent_staff_transfer.html",
        json!({
            "title": "确认转办",
            "r": request,
            "to": to,
            "to_name": target.map(|(_, n)| n.clone()),
            "reason": reason,
        }),
        StatusCode::OK,
    )
}

/// Sends `body` with `method` to the enterprise service as the viewer.
pub(crate) async fn send(
    state: &AppState,
    viewer: &Viewer,
    method: Method,
    path: &str,
    body: &Value,
) -> Result<Value, crate::upstream::UpstreamError> {
    state
        .upstream
        .send(
            Upstream::Enterprise,
            method,
            path,
            Some(&viewer.token),
            body,
        )
        .await
}

/// Registers these pages.
pub fn configure(c: &mut web::ServiceConfig) {
    c.service(queue_page)
        .service(request_get)
        .service(step_post)
        .configure(staff_ratings::configure)
        .configure(staff_admin::configure)
        .configure(staff_benefits::configure)
        .configure(staff_stats::configure);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_and_channels_have_chinese_names() {
        assert_eq!(name_of(&CATEGORIES, "land_planning", "?"), "用地规划");
        assert_eq!(name_of(&CHANNELS, "window", "?"), "综合窗口");
        assert_eq!(name_of(&CHANNELS, "hotline_12345", "?"), "12345热线");
        assert_eq!(name_of(&CHANNELS, "fax", "其他渠道"), "其他渠道");
    }
}
