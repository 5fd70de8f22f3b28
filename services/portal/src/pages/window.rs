//! 综合窗口 pages: the merged intake queue, intake of one application
//! (accept, accept with tolerance — both confirmed by a checkbox the
//! server checks — or reject with the one-time deficiency list) for either
//! service, and the merged hand-out queue (the hand-out itself, with its
//! confirmation, is in `window_hand_out`).
//!
//! Who may see them: window clerks and administrators (the services
//! themselves refuse intake and hand-out to anyone but clerks).

use actix_web::{HttpResponse, get, post, web};
use serde_json::{Value, json};
use yizhan_auth::Role;
use yizhan_kit::pagination::PageQuery;

use super::construction::{project_of, stage_with_form};
use super::forms::Marked;
use super::licensing::{application, id_path};
use super::{
    Flash, PageError, entries, errors_at_marks, marked_list, refused_with, render, render_status,
    see_other, try_act, value, with_refused,
};
use crate::AppState;
use crate::queues::{Queue, QueueQuery, merged_page, search_text};
use crate::session::Viewer;
use crate::upstream::Upstream;

const WINDOW: [Role; 2] = [Role::WindowClerk, Role::Admin];

/// The query of a queue page: the API's filters plus the cursor.
#[derive(Debug, Default, serde::Deserialize)]
pub struct QueuePageQuery {
    #[serde(rename = "type")]
    source: Option<String>,
    status: Option<String>,
    sla: Option<String>,
    q: Option<String>,
    cursor: Option<String>,
    msg: Option<String>,
}

impl QueuePageQuery {
    /// The API query (an empty select means no filter).
    fn api(&self) -> (QueueQuery, PageQuery) {
        let given = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
        (
            QueueQuery {
                source: given(&self.source),
                status: given(&self.status),
                sla: given(&self.sla),
                dept: None,
                q: given(&self.q),
            },
            PageQuery {
                cursor: given(&self.cursor),
                limit: Some(50),
            },
        )
    }
}

/// Renders a merged queue page, with the counts of the viewer's queues
/// and the search box; a search text the services would refuse is shown
/// at the box (422) without asking them.
pub async fn queue_page(
    state: &AppState,
    viewer: &Viewer,
    queue: Queue,
    query: &QueuePageQuery,
    title: &str,
    base: &str,
) -> Result<HttpResponse, PageError> {
    let kind = match queue {
        Queue::Intake => "intake",
        Queue::Tasks => "tasks",
        Queue::HandOut => "hand_out",
    };
    let counts = super::dashboard::staff_counts(state, viewer).await;
    let filter =
        json!({"type": query.source, "status": query.status, "sla": query.sla, "q": query.q});
    if let Err(bad) = search_text(query.q.as_deref()) {
        return render_status(
            Some(viewer),
            "queue.html",
            json!({
                "title": title,
                "kind": kind,
                "base": base,
                "page": {"items": [], "partial": false, "unavailable": []},
                "filter": filter,
                "counts": counts,
                "errors": {"q": bad.message},
            }),
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let (api, page) = query.api();
    let merged = merged_page(state, &viewer.principal, &viewer.token, queue, &api, &page)
        .await
        .map_err(|p| match p.status {
            403 => PageError::Forbidden(p.detail.unwrap_or_default()),
            503 => PageError::Unavailable(p.detail.unwrap_or_default()),
            s => PageError::Refused(
                s,
                p.errors
                    .first()
                    .map(|e| e.message.clone())
                    .or(p.detail)
                    .unwrap_or(p.title),
            ),
        })?;
    render(
        Some(viewer),
        "queue.html",
        json!({
            "title": title,
            "kind": kind,
            "base": base,
            "page": merged,
            "filter": filter,
            "counts": counts,
            "flash": super::flash_text(query.msg.as_deref()),
        }),
    )
}

/// Page: the merged intake queue.
#[get("/window/intake")]
pub async fn intake_queue(
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<QueuePageQuery>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&WINDOW)?;
    queue_page(
        &state,
        &viewer,
        Queue::Intake,
        &query,
        "综合窗口 · 受理队列",
        "/window/intake",
    )
    .await
}

/// Page: the merged hand-out queue.
#[get("/window/hand-out")]
pub async fn hand_out_queue(
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<QueuePageQuery>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&WINDOW)?;
    queue_page(
        &state,
        &viewer,
        Queue::HandOut,
        &query,
        "综合窗口 · 出件队列",
        "/window/hand-out",
    )
    .await
}

/// Page: one 一业一证 application at the window, with the intake form.
#[get("/window/licensing/{id}")]
pub async fn licensing_application(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&WINDOW)?;
    licensing_page(&state, &viewer, &id, flash.text(), None).await
}

/// The window's page of a 一业一证 application, with a refused intake form
/// shown again when given.
async fn licensing_page(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    flash: Option<String>,
    refused: Option<Value>,
) -> Result<HttpResponse, PageError> {
    let app = application(state, &viewer.token, id).await?;
    let (notice, materials) =
        super::materials::of_application(state, viewer, &app, &format!("/window/licensing/{id}"))
            .await;
    let (context, status) = with_refused(
        json!({
            "title": format!("受理 · {}", app["enterprise_name"].as_str().unwrap_or_default()),
            "app": app,
            "materials": materials,
            "notice": notice,
            "flash": flash,
            "tomorrow_plus": (chrono::Utc::now() + chrono::Duration::days(10)).date_naive().to_string(),
        }),
        refused,
    );
    render_status(Some(viewer), "window_licensing.html", context, status)
}

/// Page: one construction stage application at the window.
#[get("/window/construction/{id}")]
pub async fn stage_application(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&WINDOW)?;
    stage_page(&state, &viewer, &id, flash.text(), None).await
}

/// The window's page of a stage application, with a refused intake form
/// shown again when given.
async fn stage_page(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    flash: Option<String>,
    refused: Option<Value>,
) -> Result<HttpResponse, PageError> {
    let (stage, form) = stage_with_form(state, &viewer.token, id).await?;
    let project = project_of(
        state,
        &viewer.token,
        stage["project_id"].as_str().unwrap_or_default(),
    )
    .await?;
    let materials = super::materials::attached_list(
        state,
        viewer,
        &form["materials"],
        &stage["materials"],
        &format!("/window/construction/{id}"),
    )
    .await;
    let (context, status) = with_refused(
        json!({
            "title": format!("受理 · {}", project["name"].as_str().unwrap_or_default()),
            "materials": materials,
            "stage": stage,
            "project": project,
            "form": form,
            "flash": flash,
        }),
        refused,
    );
    render_status(Some(viewer), "window_stage.html", context, status)
}

/// What the window acts on at a source: an application (一业一证) or a
/// stage application (工程建设).
struct WindowItem {
    service: Upstream,
    /// `/api/v1/<collection>/{id}/…`.
    collection: &'static str,
    /// What it is called in messages.
    name: &'static str,
}

fn window_item(source: &str) -> Result<WindowItem, PageError> {
    match super::source_service(source)? {
        Upstream::Licensing => Ok(WindowItem {
            service: Upstream::Licensing,
            collection: "applications",
            name: "申请",
        }),
        service => Ok(WindowItem {
            service,
            collection: "stages",
            name: "阶段申请",
        }),
    }
}

/// The intake body of a window form, with the one-time list it marks
/// (empty for a plain 受理). The two services take 容缺 in their own
/// terms: licensing owed materials as deficiencies with a due date,
/// construction as material codes with a number of working days. A
/// marked item without its reason is `Ok(Err(refused form))`.
fn intake_body(
    service: Upstream,
    form: &[(String, String)],
) -> Result<Result<(Value, Vec<Marked>), Value>, PageError> {
    let decision = value(form, "decision").unwrap_or_default();
    let mut body = json!({"decision": decision});
    let marked = || marked_list(form, "d.");
    let list = match (decision, service) {
        ("accept", _) => Vec::new(),
        ("reject", _) => match marked() {
            Ok(list) => {
                body["deficiencies"] = json!(entries(&list));
                list
            }
            Err(errors) => return Ok(Err(refused_with(form, errors, Vec::new()))),
        },
        ("accept_with_tolerance", Upstream::Licensing) => match marked() {
            Ok(list) => {
                body["deficiencies"] = json!(entries(&list));
                body["tolerance_due_date"] = json!(value(form, "tolerance_due_date"));
                list
            }
            Err(errors) => return Ok(Err(refused_with(form, errors, Vec::new()))),
        },
        ("accept_with_tolerance", _) => {
            let owed: Vec<&str> = form
                .iter()
                .filter(|(k, _)| k == "owed")
                .map(|(_, v)| v.as_str())
                .collect();
            body["owed_materials"] = json!(owed);
            body["tolerance_days"] =
                super::typed_value("integer", value(form, "tolerance_days").unwrap_or_default());
            Vec::new()
        }
        _ => {
            return Err(PageError::BadRequest(
                "请选择受理、容缺受理或不予受理".into(),
            ));
        }
    };
    Ok(Ok((body, list)))
}

/// The window's page of `id` again with a refused intake form.
async fn intake_again(
    state: &AppState,
    viewer: &Viewer,
    service: Upstream,
    id: &str,
    refused: Value,
) -> Result<HttpResponse, PageError> {
    match service {
        Upstream::Licensing => licensing_page(state, viewer, id, None, Some(refused)).await,
        _ => stage_page(state, viewer, id, None, Some(refused)).await,
    }
}

/// Intake (`decision` = accept, accept_with_tolerance or reject) of a
/// 一业一证 application or a construction stage application. A rejection
/// (and licensing's 容缺) names the items marked "有问题", each with its
/// reason.
#[post("/window/{source}/{id}/intake")]
pub async fn intake(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&WINDOW)?;
    viewer.check_csrf(value(&form, "_csrf"))?;
    let (source, id) = path.into_inner();
    let item = window_item(&source)?;
    let (body, list) = match intake_body(item.service, &form)? {
        Ok(made) => made,
        Err(refused) => return intake_again(&state, &viewer, item.service, &id, refused).await,
    };
    // 受理 starts the clock at every department: the clerk confirms it.
    let refused = match body["decision"].as_str() {
        Some("accept" | "accept_with_tolerance") => {
            super::window_hand_out::unconfirmed(&form, "请勾选确认已核对申请表单与材料，再受理")
        }
        _ => None,
    };
    if let Some(refused) = refused {
        return intake_again(&state, &viewer, item.service, &id, refused).await;
    }
    let path = format!(
        "/api/v1/{}/{}/intake",
        item.collection,
        id_path(&id, item.name)?
    );
    if let Err(refused) = try_act(&state, &viewer, item.service, &path, &body, &form).await? {
        let refused = errors_at_marks(refused, "deficiencies", &list);
        return intake_again(&state, &viewer, item.service, &id, refused).await;
    }
    let message = match body["decision"].as_str() {
        Some("accept") => "已受理，事项已分送各部门并联审批",
        Some("accept_with_tolerance") => "已容缺受理，事项已分送各部门；已告知申请人待补交材料",
        _ => "已不予受理，一次性告知单已送达申请人",
    };
    Ok(see_other("/window/intake", message))
}

/// Mounts the window pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(intake_queue)
        .service(hand_out_queue)
        .service(licensing_application)
        .service(stage_application)
        .service(intake);
}
