//! 我的诉求: the enterprise's requests, one request with its status,
//! running time limit and timeline, the filing form, and the enterprise's
//! steps (reply when asked, withdraw, rate the answer).
//!
//! Who may see them: the list and the steps the enterprise (applicant,
//! authorised agent); the filing form and a request's page also its
//! 营商专员 (for its enterprises, channel 营商专员走访) and the 12345
//! operator (any enterprise, channel 12345热线; it reads what it filed).
//! The enterprise service decides which requests are the viewer's: any
//! other is its 404, shown as a page.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use serde_json::{Value, json};
use yizhan_auth::Role;

use super::own::{
    ENTERPRISE, OWN_SIDE, Which, chosen_enterprise, ent_get, enterprises_of, switcher, uscc_path,
};
use super::paging::{Cursor, api_page, next_link};
use crate::AppState;
use crate::pages::licensing::id_path;
use crate::pages::{
    PageError, field_errors, flash_text, render, render_status, see_other, try_act, value,
    with_refused,
};
use crate::session::Viewer;
use crate::upstream::{Upstream, UpstreamError};

/// 诉求类别 (code, name), in the service's order; the service checks them.
pub const CATEGORIES: [(&str, &str); 8] = [
    ("policy", "政策咨询"),
    ("finance", "融资服务"),
    ("talent", "人才服务"),
    ("land_planning", "用地规划"),
    ("approvals", "行政审批"),
    ("utilities", "水电气报装"),
    ("legal", "法律服务"),
    ("other", "其他"),
];

/// 来源渠道 (code, name).
pub const CHANNELS: [(&str, &str); 4] = [
    ("gaoxintong", "高新通亲清在线"),
    ("hotline_12345", "12345热线"),
    ("salon", "政企沙龙"),
    ("specialist_visit", "营商专员走访"),
];

/// 满意度 of an answer (code, name): 不满意 sends it back once.
pub const SATISFACTION: [(&str, &str); 3] = [
    ("satisfied", "满意"),
    ("acceptable", "基本满意"),
    ("dissatisfied", "不满意"),
];

/// The channel a filing starts with: the operator takes 12345 calls, the
/// specialist records visits, the enterprise files online.
fn default_channel(viewer: &Viewer) -> &'static str {
    let p = &viewer.principal;
    if p.has_role(Role::HotlineOperator) {
        "hotline_12345"
    } else if p.has_role(Role::Specialist) && !ENTERPRISE.iter().any(|r| p.has_role(*r)) {
        "specialist_visit"
    } else {
        "gaoxintong"
    }
}

/// Page: 我的诉求 — the enterprise's requests, newest first, a page at a
/// time (`?cursor=`).
#[get("/enterprise/requests")]
pub async fn requests(
    state: web::Data<AppState>,
    viewer: Viewer,
    which: web::Query<Which>,
    cursor: web::Query<Cursor>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&ENTERPRISE)?;
    let uscc = chosen_enterprise(&viewer, &which)?;
    let api = api_page(&format!("/api/v1/requests?uscc={uscc}"), &cursor);
    let list = ent_get(&state, &viewer, &api).await?;
    render(
        Some(&viewer),
        "ent_own_requests.html",
        json!({
            "title": "我的诉求",
            "uscc": uscc,
            "requests": list["items"],
            "next": next_link(&format!("/enterprise/requests?uscc={uscc}"), &list),
            "others": switcher(&viewer, &uscc),
            "flash": flash_text(which.msg.as_deref()),
        }),
    )
}

/// What the filing form shows.
struct FilingPage {
    values: BTreeMap<String, String>,
    errors: BTreeMap<String, String>,
    general: Vec<String>,
    idempotency_key: String,
}

fn filing_page(
    viewer: &Viewer,
    page: FilingPage,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    // The operator files for any enterprise (typed); the others pick one
    // of theirs.
    let free = viewer.principal.has_role(Role::HotlineOperator);
    render_status(
        Some(viewer),
        "ent_own_request_new.html",
        json!({
            "title": "提交诉求",
            "free_uscc": free,
            "enterprises": if free { Vec::new() } else { enterprises_of(viewer) },
            "values": page.values,
            "errors": page.errors,
            "general": page.general,
            "idempotency_key": page.idempotency_key,
            "categories": CATEGORIES,
            "channels": CHANNELS,
        }),
        status,
    )
}

fn fresh_key() -> String {
    format!("{:032x}", rand::random::<u128>())
}

/// Page: the filing form (`?uscc=` preselects an enterprise). Each drawing
/// carries a fresh idempotency key, so posting it twice files once.
#[get("/enterprise/requests/new")]
pub async fn new_request(
    viewer: Viewer,
    which: web::Query<Which>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&OWN_SIDE)?;
    let mut values = BTreeMap::new();
    let uscc = match which.uscc.as_deref() {
        Some(u) if !u.trim().is_empty() => uscc_path(u)?,
        _ => enterprises_of(&viewer)
            .into_iter()
            .next()
            .unwrap_or_default(),
    };
    values.insert("enterprise_uscc".to_owned(), uscc);
    values.insert("channel".to_owned(), default_channel(&viewer).to_owned());
    filing_page(
        &viewer,
        FilingPage {
            values,
            errors: BTreeMap::new(),
            general: Vec::new(),
            idempotency_key: fresh_key(),
        },
        StatusCode::OK,
    )
}

/// Files a request; its problems come back at their fields with what was
/// typed, and the request's page follows on success.
#[post("/enterprise/requests/new")]
pub async fn file_request(
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&OWN_SIDE)?;
    viewer.check_csrf(value(&form, "_csrf"))?;
    let values: BTreeMap<String, String> = form
        .iter()
        .filter(|(k, _)| k != "_csrf" && k != "idempotency_key")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let get = |k: &str| value(&form, k).unwrap_or_default().trim().to_owned();
    let key = value(&form, "idempotency_key")
        .filter(|k| !k.is_empty() && k.len() <= 64)
        .map(str::to_owned)
        .unwrap_or_else(fresh_key);
    let body = json!({
        "enterprise_uscc": get("enterprise_uscc").to_ascii_uppercase(),
        "category": get("category"),
        "channel": get("channel"),
        "description": get("description"),
    });
    match state
        .upstream
        .send_idempotent(
            Upstream::Enterprise,
            "/api/v1/requests",
            &viewer.token,
            &key,
            &body,
        )
        .await
    {
        Ok(filed) => Ok(see_other(
            &format!(
                "/enterprise/requests/{}",
                id_path(filed["id"].as_str().unwrap_or_default(), "诉求")?
            ),
            "诉求已提交，已派单至承办部门",
        )),
        Err(
            e @ UpstreamError::Refused {
                status: 409 | 422, ..
            },
        ) => {
            let (errors, general) = field_errors(&e);
            // The refused request filed nothing: a corrected form is a new
            // one.
            filing_page(
                &viewer,
                FilingPage {
                    values,
                    errors,
                    general,
                    idempotency_key: fresh_key(),
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            )
        }
        Err(e) => Err(e.into()),
    }
}

/// Page: one request — status, time limit, answer, timeline, and the
/// enterprise's steps.
#[get("/enterprise/requests/{id}")]
pub async fn request_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    which: web::Query<Which>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&OWN_SIDE)?;
    let flash = flash_text(which.msg.as_deref());
    detail(&state, &viewer, &id, flash, None).await
}

/// The request page, with a refused step's form shown again when given.
async fn detail(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    flash: Option<String>,
    refused: Option<Value>,
) -> Result<HttpResponse, PageError> {
    let request = ent_get(
        state,
        viewer,
        &format!("/api/v1/requests/{}", id_path(id, "诉求")?),
    )
    .await?;
    let own = ENTERPRISE.iter().any(|r| viewer.principal.has_role(*r));
    let rate_link = if request["status"] == "closed" {
        super::own_ratings::rate_link(state, viewer, "request", id).await
    } else {
        None
    };
    let (context, status) = with_refused(
        json!({
            "title": format!("诉求 · {}", request["category_name"].as_str().unwrap_or_default()),
            "r": request,
            "own": own,
            "specialist": viewer.principal.has_role(Role::Specialist),
            "rate_link": rate_link,
            "satisfaction": SATISFACTION,
            "flash": flash,
        }),
        refused,
    );
    render_status(Some(viewer), "ent_own_request.html", context, status)
}

/// The body of an enterprise step from its form, or a 404 for a step the
/// enterprise does not take.
fn step_body(step: &str, form: &[(String, String)]) -> Result<Value, PageError> {
    let text = |k: &str| value(form, k).unwrap_or_default().trim().to_owned();
    match step {
        "reply" => Ok(json!({"reply": text("reply")})),
        "rate" => Ok(json!({"satisfaction": text("satisfaction")})),
        "withdraw" => Ok(json!({})),
        _ => Err(PageError::NotFound("没有这个办理环节".into())),
    }
}

/// The enterprise's step on a request: `reply`, `rate` or `withdraw`.
#[post("/enterprise/requests/{id}/{step}")]
pub async fn request_step(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&ENTERPRISE)?;
    viewer.check_csrf(value(&form, "_csrf"))?;
    let (id, step) = path.into_inner();
    let body = step_body(&step, &form)?;
    let api = format!("/api/v1/requests/{}/{step}", id_path(&id, "诉求")?);
    let done = match try_act(&state, &viewer, Upstream::Enterprise, &api, &body, &form).await? {
        Ok(done) => done,
        Err(refused) => return detail(&state, &viewer, &id, None, Some(refused)).await,
    };
    let message = match step.as_str() {
        "reply" => "补充内容已提交，承办部门继续办理",
        "withdraw" => "诉求已撤回",
        _ if done["status"] == "closed" => "感谢评价，诉求已办结",
        _ => "已评价为不满意，诉求已退回承办部门再次办理",
    };
    Ok(see_other(
        &format!("/enterprise/requests/{}", id_path(&id, "诉求")?),
        message,
    ))
}

/// Mounts these pages (`new` before `{id}`).
pub fn configure(c: &mut web::ServiceConfig) {
    c.service(requests)
        .service(new_request)
        .service(file_request)
        .service(request_page)
        .service(request_step);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_send_what_the_service_reads() {
        let form = vec![
            ("reply".to_owned(), " 已补充营业执照 ".to_owned()),
            ("satisfaction".to_owned(), "dissatisfied".to_owned()),
        ];
        assert_eq!(
            step_body("reply", &form).unwrap(),
            json!({"reply": "已补充营业执照"})
        );
        assert_eq!(
            step_body("rate", &form).unwrap(),
            json!({"satisfaction": "dissatisfied"})
        );
        assert_eq!(step_body("withdraw", &form).unwrap(), json!({}));
        assert!(step_body("answer", &form).is_err(), "a department's step");
    }

    #[test]
    fn codes_are_named_in_chinese() {
        for (code, name) in CATEGORIES.iter().chain(&CHANNELS).chain(&SATISFACTION) {
            assert!(!name.is_ascii(), "{code} has a Chinese name");
        }
    }
}
