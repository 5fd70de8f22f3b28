//! 统一窗口出件 with a confirmation step: the hand-out queue links to a
//! page naming what is handed out (number, holder, certificate), and the
//! hand-out is done only when the clerk ticks that the holder received it.
//! The server checks the tick: without it the page comes back (422) with
//! the message at the checkbox and nothing is sent to the service.
//!
//! Who may see them: window clerks and administrators (the services
//! themselves refuse hand-out to anyone but clerks).

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, post, web};
use serde_json::{Value, json};
use yizhan_auth::Role;

use super::construction::{project_of, stage_with_form};
use super::forms::refused_with;
use super::licensing::{application, id_path};
use super::{PageError, act, render_status, see_other, value, with_refused};
use crate::AppState;
use crate::session::Viewer;
use crate::upstream::Upstream;

const WINDOW: [Role; 2] = [Role::WindowClerk, Role::Admin];

/// The value of the confirmation checkbox (`confirm`).
pub const CONFIRMED: &str = "yes";

/// What the confirmation page shows of the item handed out, read from its
/// service; `ready` is false when it is not (or no longer) waiting for
/// hand-out.
async fn item(
    state: &AppState,
    viewer: &Viewer,
    service: Upstream,
    id: &str,
) -> Result<Value, PageError> {
    match service {
        Upstream::Licensing => {
            let app = application(state, &viewer.token, id).await?;
            Ok(json!({
                "source": "licensing",
                "id": app["id"],
                "number": app["number"],
                "title": format!(
                    "{} · {}",
                    app["enterprise_name"].as_str().unwrap_or_default(),
                    app["licence_name"].as_str().unwrap_or_default()
                ),
                "holder": app["enterprise_name"],
                "uscc": app["enterprise_uscc"],
                "certificate_id": app["certificate_id"],
                "ready": app["status"] == "licence_issued",
                "back": format!("/window/licensing/{id}"),
            }))
        }
        _ => {
            let (stage, _) = stage_with_form(state, &viewer.token, id).await?;
            let project = project_of(
                state,
                &viewer.token,
                stage["project_id"].as_str().unwrap_or_default(),
            )
            .await?;
            Ok(json!({
                "source": "construction",
                "id": stage["id"],
                "number": stage["number"],
                "title": format!(
                    "{} · {}",
                    project["name"].as_str().unwrap_or_default(),
                    stage["stage_name"].as_str().unwrap_or_default()
                ),
                "holder": project["builder_name"],
                "uscc": project["builder_uscc"],
                "certificate_id": stage["certificate_id"],
                "ready": stage["status"] == "completed"
                    && !stage["certificate_id"].is_null()
                    && stage["handed_out_at"].is_null(),
                "back": format!("/window/construction/{id}"),
            }))
        }
    }
}

/// The confirmation page, with a refused form drawn again when given.
async fn confirm_page(
    state: &AppState,
    viewer: &Viewer,
    service: Upstream,
    id: &str,
    refused: Option<Value>,
) -> Result<HttpResponse, PageError> {
    let item = item(state, viewer, service, id).await?;
    let (context, status) = with_refused(
        json!({
            "title": format!("出件确认 · {}", item["title"].as_str().unwrap_or_default()),
            "item": item,
        }),
        refused,
    );
    render_status(Some(viewer), "window_hand_out.html", context, status)
}

/// Page: confirm the hand-out of an issued licence or stage certificate.
#[get("/window/{source}/{id}/hand-out")]
pub async fn confirm(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&WINDOW)?;
    let (source, id) = path.into_inner();
    let service = super::source_service(&source)?;
    confirm_page(&state, &viewer, service, &id, None).await
}

/// Hand-out (统一窗口出件) of an issued licence or stage certificate, once
/// the clerk confirmed it (`confirm=yes`).
#[post("/window/{source}/{id}/hand-out")]
pub async fn hand_out(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&WINDOW)?;
    viewer.check_csrf(value(&form, "_csrf"))?;
    let (source, id) = path.into_inner();
    let service = super::source_service(&source)?;
    let (collection, name) = match service {
        Upstream::Licensing => ("applications", "申请"),
        _ => ("stages", "阶段申请"),
    };
    let path = format!("/api/v1/{collection}/{}/hand-out", id_path(&id, name)?);
    if let Some(refused) = unconfirmed(&form, "请勾选确认已核验领取人身份并交付证照，再出件")
    {
        return confirm_page(&state, &viewer, service, &id, Some(refused)).await;
    }
    act(&state, &viewer, service, &path, &json!({})).await?;
    Ok(see_other("/window/hand-out", "已出件，办件完结"))
}

/// Whether a window form's confirmation box was ticked; the message at the
/// box when not (a refusal drawn like the services' own).
pub fn unconfirmed(form: &[(String, String)], message: &str) -> Option<Value> {
    (value(form, "confirm") != Some(CONFIRMED)).then(|| {
        refused_with(
            form,
            BTreeMap::from([("confirm".to_owned(), message.to_owned())]),
            Vec::new(),
        )
    })
}

/// Mounts the hand-out pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(confirm).service(hand_out);
}
