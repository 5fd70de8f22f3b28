//! 我的政策 (免申即享): the benefits the enterprise was matched to without
//! applying — policy, amount, state and why it matched — and its two
//! answers: decline, or object with a reason (the service files the
//! objection as a 诉求 to the policy's department).
//!
//! Who may see them: the enterprise (applicant, authorised agent). Another
//! enterprise's benefits are the service's 403, its benefit a 404.

use actix_web::{HttpResponse, get, post, web};
use serde_json::{Value, json};

use super::own::{ENTERPRISE, Which, chosen_enterprise, ent_get, switcher, uscc_path};
use super::paging::{Cursor, api_page, next_link};
use crate::AppState;
use crate::pages::licensing::id_path;
use crate::pages::{PageError, flash_text, render_status, see_other, try_act, value, with_refused};
use crate::session::Viewer;
use crate::upstream::Upstream;

/// States in which the enterprise may still decline or object (before it
/// is paid, excluded, or already answered).
const ANSWERABLE: [&str; 2] = ["matched", "confirmed"];

/// Page: 我的政策.
#[get("/enterprise/benefits")]
pub async fn benefits(
    state: web::Data<AppState>,
    viewer: Viewer,
    which: web::Query<Which>,
    cursor: web::Query<Cursor>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&ENTERPRISE)?;
    let uscc = chosen_enterprise(&viewer, &which)?;
    let flash = flash_text(which.msg.as_deref());
    page(&state, &viewer, &uscc, &cursor, flash, None).await
}

/// The page of benefits starting at `cursor` (a refused answer re-renders
/// the page it was given on, which its form carries).
async fn page(
    state: &AppState,
    viewer: &Viewer,
    uscc: &str,
    cursor: &Cursor,
    flash: Option<String>,
    refused: Option<Value>,
) -> Result<HttpResponse, PageError> {
    let api = api_page(&format!("/api/v1/enterprises/{uscc}/benefits"), cursor);
    let list = ent_get(state, viewer, &api).await?;
    let items: Vec<Value> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|b| {
            let mut b = b.clone();
            b["answerable"] = json!(ANSWERABLE.contains(&b["state"].as_str().unwrap_or("")));
            b
        })
        .collect();
    let (context, status) = with_refused(
        json!({
            "title": "我的政策（免申即享）",
            "uscc": uscc,
            "benefits": items,
            "cursor": cursor.cursor,
            "next": next_link(&format!("/enterprise/benefits?uscc={uscc}"), &list),
            "others": switcher(viewer, uscc),
            "flash": flash,
        }),
        refused,
    );
    render_status(Some(viewer), "ent_own_benefits.html", context, status)
}

/// Declines (`decline`, reason optional) or objects to (`objection`,
/// reason required) a benefit.
#[post("/enterprise/benefits/{id}/{answer}")]
pub async fn answer(
    state: web::Data<AppState>,
    viewer: Viewer,
    path: web::Path<(String, String)>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&ENTERPRISE)?;
    viewer.check_csrf(value(&form, "_csrf"))?;
    let (id, answer) = path.into_inner();
    let message = match answer.as_str() {
        "decline" => "已放弃该项政策待遇",
        "objection" => "异议已提交，已转为诉求由承办部门办理，可在“我的诉求”中查看",
        _ => return Err(PageError::NotFound("没有这个操作".into())),
    };
    let uscc = uscc_path(value(&form, "uscc").unwrap_or_default())?;
    // An empty reason is none: optional to decline, asked for (at its
    // field) to object.
    let body = json!({"reason": value(&form, "reason").unwrap_or_default().trim()});
    let api = format!("/api/v1/benefits/{}/{answer}", id_path(&id, "政策待遇")?);
    if let Err(refused) = try_act(&state, &viewer, Upstream::Enterprise, &api, &body, &form).await?
    {
        let cursor = Cursor {
            cursor: value(&form, "cursor")
                .filter(|c| !c.is_empty())
                .map(str::to_owned),
        };
        return page(&state, &viewer, &uscc, &cursor, None, Some(refused)).await;
    }
    Ok(see_other(
        &format!("/enterprise/benefits?uscc={uscc}"),
        message,
    ))
}

/// Mounts these pages.
pub fn configure(c: &mut web::ServiceConfig) {
    c.service(benefits).service(answer);
}
