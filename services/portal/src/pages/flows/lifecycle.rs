//! 变更 / 延续 / 注销 of an issued comprehensive licence
//! (`/licensing/applications/{id}/lifecycle`): the licence's form filled in
//! as granted, changed where it changes, materials replaced where they
//! change, and posted as a change or a renewal; or a cancellation,
//! confirmed. The new application then goes
//! through the window like any other.
//!
//! Who may see it: applicants (their own enterprise) and agents (the
//! enterprises that authorised them), as `POST /applications/{id}/lifecycle`
//! allows; another enterprise's application is the service's 404 page,
//! every other role the 403 page.

use std::collections::BTreeMap;

use actix_multipart::Multipart;
use actix_web::{HttpResponse, get, post, web};
use serde_json::{Map, Value, json};

use crate::AppState;
use crate::pages::applications::uploaded;
use crate::pages::licensing::{FILERS, application, as_texts, id_path};
use crate::pages::multipart::read_multipart;
use crate::pages::{
    Flash, PageError, notice_of, prefixed, refused_with, render_status, see_other, try_act,
    typed_map, value, with_refused,
};
use crate::session::Viewer;
use crate::upstream::Upstream;

/// Page: the licence's change, renewal and cancellation.
#[get("/licensing/applications/{id}/lifecycle")]
pub async fn lifecycle_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&FILERS)?;
    page(&state, &viewer, &id, flash.text(), None).await
}

/// The application and the form fields it was granted on.
async fn licence_form(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
) -> Result<(Value, Value), PageError> {
    let app = application(state, &viewer.token, id).await?;
    let answers = app["answers"].as_object().cloned().unwrap_or_default();
    let fields = notice_of(state, &app["scenario_code"], &answers)
        .await
        .map(|n| n["form"].clone())
        .unwrap_or(Value::Null);
    Ok((app, fields))
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    id: &str,
    flash: Option<String>,
    refused: Option<Value>,
) -> Result<HttpResponse, PageError> {
    let (app, fields) = licence_form(state, viewer, id).await?;
    let back = format!("/licensing/applications/{}/lifecycle", id_path(id, "申请")?);
    let (_, materials) = crate::pages::materials::of_application(state, viewer, &app, &back).await;
    let issued = app["certificate_id"].is_string()
        && ["licence_issued", "handed_out"].contains(&app["status"].as_str().unwrap_or_default());
    let (context, status) = with_refused(
        json!({
            "title": format!("变更、延续与注销 · {}", app["licence_name"].as_str().unwrap_or_default()),
            "values": as_texts(&app["form"]),
            "fields": fields,
            "materials": materials,
            "issued": issued,
            "flash": flash,
            "app": app,
        }),
        refused,
    );
    render_status(Some(viewer), "flow_lifecycle.html", context, status)
}

/// The fields whose text differs from what was granted, typed by their
/// definitions: a change names only what changes, and the service carries
/// the rest over.
fn changed(defs: &Value, granted: &Value, form: &[(String, String)]) -> Map<String, Value> {
    let before = as_texts(granted);
    let mut now = prefixed(form, "form.");
    now.retain(|k, v| before.get(k).map(|b| b.trim()) != Some(v.trim()));
    typed_map(defs, &now)
}

/// Applies for a change, a renewal or a cancellation.
#[post("/licensing/applications/{id}/lifecycle")]
pub async fn apply(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    form: Multipart,
) -> Result<HttpResponse, PageError> {
    viewer.require(&FILERS)?;
    let posted = read_multipart(&viewer, form).await?;
    let form = posted.fields.clone();
    // An unknown kind is refused before anything is read or uploaded.
    let kind = value(&form, "kind");
    if !matches!(kind, Some("change" | "renewal" | "cancellation")) {
        return Err(PageError::BadRequest("请选择变更、延续或注销".into()));
    }
    let (app, fields) = licence_form(&state, &viewer, &id).await?;
    // Replaced materials: uploaded to the archive as their slot's type
    // (a cancellation carries none).
    let replaced = if kind == Some("cancellation") {
        BTreeMap::new()
    } else {
        match uploaded(&state, &viewer, &app, &posted, &form).await {
            Ok(replaced) => replaced,
            Err(refused) => return page(&state, &viewer, &id, None, Some(refused)).await,
        }
    };
    let (body, message) = match kind {
        Some("change") => (
            json!({"kind": "change", "form": changed(&fields, &app["form"], &form), "materials": replaced}),
            "变更申请已提交（已接件），请等待综合窗口受理",
        ),
        Some("renewal") => (
            json!({"kind": "renewal", "form": changed(&fields, &app["form"], &form), "materials": replaced}),
            "延续申请已提交（已接件），请等待综合窗口受理",
        ),
        Some("cancellation") if value(&form, "confirm") == Some("yes") => (
            json!({"kind": "cancellation"}),
            "注销申请已提交（已接件），窗口受理后许可证即注销",
        ),
        Some("cancellation") => {
            let errors = BTreeMap::from([(
                "confirm".to_owned(),
                "请确认已知悉注销后许可证即失效".to_owned(),
            )]);
            let refused = refused_with(&form, errors, Vec::new());
            return page(&state, &viewer, &id, None, Some(refused)).await;
        }
        _ => return Err(PageError::BadRequest("请选择变更、延续或注销".into())),
    };
    let api = format!("/api/v1/applications/{}/lifecycle", id_path(&id, "申请")?);
    match try_act(&state, &viewer, Upstream::Licensing, &api, &body, &form).await? {
        Ok(created) => Ok(see_other(
            &format!(
                "/licensing/applications/{}",
                id_path(created["id"].as_str().unwrap_or_default(), "申请")?
            ),
            message,
        )),
        Err(refused) => page(&state, &viewer, &id, None, Some(refused)).await,
    }
}

/// Mounts the page.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(lifecycle_page).service(apply);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_names_only_the_fields_that_change() {
        let defs = json!([
            {"key": "room_count", "type": "integer"},
            {"key": "business_address", "type": "text"},
            {"key": "floor_area_m2", "type": "number"},
        ]);
        let granted =
            json!({"room_count": 80, "business_address": "五四路 1 号", "floor_area_m2": 500.0});
        let form = vec![
            ("_csrf".to_owned(), "x".to_owned()),
            ("form.room_count".to_owned(), "80".to_owned()),
            ("form.business_address".to_owned(), "五四路 8 号".to_owned()),
            ("form.floor_area_m2".to_owned(), "500".to_owned()),
        ];
        let body = changed(&defs, &granted, &form);
        assert_eq!(
            Value::Object(body),
            json!({"business_address": "五四路 8 号"})
        );
    }
}
