//! 站内消息: the signed-in person's messages (their own, their
//! enterprise's, their department's) as the notification service keeps
//! them, and marking one read. The header's unread count is fetched with
//! the viewer (see `session`), so every page shows it.

use actix_web::{HttpResponse, get, post, web};
use serde::Deserialize;
use serde_json::{Value, json};
use yizhan_auth::Role;

use super::applications::id_path;
use super::{PageError, act, flash_text, render, see_other, value};
use crate::AppState;
use crate::session::Viewer;
use crate::upstream::Upstream;

/// Messages on one page of the inbox.
const PAGE_SIZE: u32 = 50;

/// A message category by its Chinese name.
fn category_name(category: &str) -> &'static str {
    match category {
        "application" => "办件进度",
        "task" => "审批任务",
        "material" => "材料归档",
        "deadline" => "时限提醒",
        "licence" => "证照",
        _ => "通知",
    }
}

/// The portal page a message's link (a service's API address) is about,
/// for the viewer's role; `None` when the portal has no page for it.
fn page_link(viewer: &Viewer, link: &str) -> Option<String> {
    let has = |role| viewer.principal.has_role(role);
    let filer = has(Role::Applicant) || has(Role::Agent);
    let (kind, id) = link.strip_prefix("/api/v1/")?.split_once('/')?;
    if !yizhan_kit::text::is_plausible_id(id) {
        return None;
    }
    match kind {
        "applications" if filer => Some(format!("/licensing/applications/{id}")),
        "applications" if has(Role::WindowClerk) || has(Role::Admin) => {
            Some(format!("/window/licensing/{id}"))
        }
        "projects" if filer => Some(format!("/construction/projects/{id}")),
        // A task's page is read through its application, which the link
        // does not name: the department's queue lists the task.
        "tasks" if has(Role::DeptReviewer) => Some("/review".to_owned()),
        _ => None,
    }
}

/// The inbox page's query: the cursor of an older page.
#[derive(Debug, Deserialize)]
pub struct InboxQuery {
    cursor: Option<String>,
    msg: Option<String>,
}

/// Page: the viewer's 站内消息, unread first, each group newest first.
/// Who may call: anyone signed in (the service shows each their own).
#[get("/inbox")]
pub async fn inbox(
    state: web::Data<AppState>,
    viewer: Viewer,
    query: web::Query<InboxQuery>,
) -> Result<HttpResponse, PageError> {
    let mut path = format!("/api/v1/inbox/messages?limit={PAGE_SIZE}");
    if let Some(cursor) = &query.cursor {
        path.push_str(&format!("&cursor={}", crate::queues::urlencode(cursor)));
    }
    let list = state
        .upstream
        .get(Upstream::Notification, &path, Some(&viewer.token))
        .await?;
    let messages: Vec<Value> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| {
            let mut m = m.clone();
            m["category_name"] = json!(category_name(m["category"].as_str().unwrap_or("")));
            m["page"] = json!(m["link"].as_str().and_then(|l| page_link(&viewer, l)));
            m
        })
        .collect();
    let next = list["next_cursor"]
        .as_str()
        .map(|c| format!("/inbox?cursor={}", crate::queues::urlencode(c)));
    let flash = flash_text(query.msg.as_deref());
    render(
        Some(&viewer),
        "inbox.html",
        json!({"title": "站内消息", "messages": messages, "next": next, "flash": flash}),
    )
}

/// Marks one message read, then back to the inbox.
/// Who may call: anyone signed in, for their own messages (the service
/// answers 404 for anyone else's).
#[post("/inbox/{id}/read")]
pub async fn mark_read(
    state: web::Data<AppState>,
    viewer: Viewer,
    id: web::Path<String>,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    viewer.check_csrf(value(&form, "_csrf"))?;
    let path = format!("/api/v1/inbox/messages/{}/read", id_path(&id, "消息")?);
    act(&state, &viewer, Upstream::Notification, &path, &json!({})).await?;
    Ok(see_other("/inbox", "已标为已读"))
}

/// Mounts the inbox pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(inbox).service(mark_read);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_category_has_a_chinese_name() {
        for c in [
            "application",
            "task",
            "material",
            "deadline",
            "licence",
            "x",
        ] {
            assert!(!category_name(c).is_ascii(), "{c}");
        }
    }
}
