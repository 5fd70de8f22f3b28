//! 我的企业 for a 营商专员: the enterprises assigned to them, each with its
//! open 诉求 and a link to file one on its behalf (channel 营商专员走访).
//!
//! Who may see it: 营商专员. The enterprise service lists only the open
//! requests of the enterprises in their token.

use actix_web::{HttpResponse, get, web};
use serde_json::{Value, json};
use yizhan_auth::Role;

use super::own::{ent_get, enterprises_of};
use super::paging::{Cursor, api_page, next_link};
use crate::AppState;
use crate::pages::{Flash, PageError, render};
use crate::session::Viewer;

/// Each enterprise with its open requests, in the token's order.
fn by_enterprise(enterprises: &[String], requests: &Value) -> Vec<Value> {
    let all = requests["items"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    enterprises
        .iter()
        .map(|uscc| {
            let open: Vec<&Value> = all
                .iter()
                .filter(|r| r["enterprise_uscc"].as_str() == Some(uscc.as_str()))
                .collect();
            json!({"uscc": uscc, "requests": open})
        })
        .collect()
}

/// Page: 我的企业.
#[get("/enterprise/specialist")]
pub async fn my_enterprises(
    state: web::Data<AppState>,
    viewer: Viewer,
    flash: web::Query<Flash>,
    cursor: web::Query<Cursor>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&[Role::Specialist])?;
    let api = api_page("/api/v1/requests-assigned", &cursor);
    let open = ent_get(&state, &viewer, &api).await?;
    let enterprises = enterprises_of(&viewer);
    render(
        Some(&viewer),
        "ent_own_specialist.html",
        json!({
            "title": "我的企业",
            "enterprises": by_enterprise(&enterprises, &open),
            "next": next_link("/enterprise/specialist", &open),
            "flash": flash.text(),
        }),
    )
}

/// Mounts this page.
pub fn configure(c: &mut web::ServiceConfig) {
    c.service(my_enterprises);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_requests_are_grouped_under_their_enterprise() {
        let open = json!({"items": [
            {"id": "1", "enterprise_uscc": "B"},
            {"id": "2", "enterprise_uscc": "A"},
            {"id": "3", "enterprise_uscc": "B"},
        ]});
        let grouped = by_enterprise(&["A".into(), "B".into(), "C".into()], &open);
        assert_eq!(grouped[0]["requests"].as_array().unwrap().len(), 1);
        assert_eq!(grouped[1]["requests"][1]["id"], "3");
        assert_eq!(grouped[2]["requests"], json!([]));
    }
}
