//! Forms and the services' answers to them: the one-time lists a form
//! posts, actions sent as the viewer, and a refusal turned back into the
//! same page with what was typed and the messages at their fields.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use serde_json::{Map, Value, json};

use super::PageError;
use crate::AppState;
use crate::session::Viewer;
use crate::upstream::{Upstream, UpstreamError};

/// Field errors of a refusal keyed by field (`form.room_count` …), plus
/// the lines that name no field.
pub fn field_errors(error: &UpstreamError) -> (BTreeMap<String, String>, Vec<String>) {
    let mut by_field = BTreeMap::new();
    let mut general = Vec::new();
    for (field, message) in error.field_errors() {
        if field.is_empty() {
            general.push(message);
        } else {
            by_field.entry(field).or_insert(message);
        }
    }
    if by_field.is_empty() && general.is_empty() {
        general.push(error.message());
    }
    (by_field, general)
}

/// A service's refusal of an action as one line on a page (every field
/// message, or the detail); other failures as they are.
fn refusal_line(error: UpstreamError) -> PageError {
    match &error {
        UpstreamError::Refused { status, .. } if *status == 409 || *status == 422 => {
            let problem = crate::queues::refusal_problem(&error);
            let mut lines: Vec<String> = problem.errors.iter().map(|e| e.message.clone()).collect();
            if lines.is_empty() {
                lines.push(problem.detail.unwrap_or(problem.title));
            }
            PageError::Refused(*status, lines.join("；"))
        }
        _ => error.into(),
    }
}

/// A form the service refused, to draw its page again: what was typed
/// (`posted`, by input name) and the service's messages (`errors` by
/// field, `general` for the rest).
pub fn refused_form(form: &[(String, String)], error: &UpstreamError) -> Value {
    let (errors, general) = field_errors(error);
    refused_with(form, errors, general)
}

/// [`refused_form`] with messages the portal found itself.
pub(crate) fn refused_with(
    form: &[(String, String)],
    errors: BTreeMap<String, String>,
    general: Vec<String>,
) -> Value {
    let posted: Map<String, Value> = form
        .iter()
        .filter(|(k, _)| k != "_csrf")
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    json!({"posted": posted, "errors": errors, "general": general})
}

/// POSTs an action as the viewer; a refusal of what was typed (409, 422)
/// comes back as `Ok(Err(refused form))` for the page to show again.
pub(crate) async fn try_act(
    state: &AppState,
    viewer: &Viewer,
    service: Upstream,
    path: &str,
    body: &Value,
    form: &[(String, String)],
) -> Result<Result<Value, Value>, PageError> {
    match post_as(state, viewer, service, path, body).await {
        Ok(answer) => Ok(Ok(answer)),
        Err(
            e @ UpstreamError::Refused {
                status: 409 | 422, ..
            },
        ) => Ok(Err(refused_form(form, &e))),
        Err(e) => Err(e.into()),
    }
}

/// Adds a refused form (see [`refused_form`]) to a page's context; the page
/// is then answered 422.
pub(crate) fn with_refused(mut context: Value, refused: Option<Value>) -> (Value, StatusCode) {
    let Some(refused) = refused else {
        return (context, StatusCode::OK);
    };
    if let (Some(map), Value::Object(extra)) = (context.as_object_mut(), refused) {
        map.extend(extra);
    }
    (context, StatusCode::UNPROCESSABLE_ENTITY)
}

/// POSTs an action (`body`) to `path` at `service` as the viewer.
pub(crate) async fn act(
    state: &AppState,
    viewer: &Viewer,
    service: Upstream,
    path: &str,
    body: &Value,
) -> Result<Value, PageError> {
    post_as(state, viewer, service, path, body)
        .await
        .map_err(refusal_line)
}

/// POSTs `body` to `path` at `service` with the viewer's token.
async fn post_as(
    state: &AppState,
    viewer: &Viewer,
    service: Upstream,
    path: &str,
    body: &Value,
) -> Result<Value, UpstreamError> {
    state
        .upstream
        .send(
            service,
            reqwest::Method::POST,
            path,
            Some(&viewer.token),
            body,
        )
        .await
}

/// A one-time list (deficiencies, 补正 items) from a form: every
/// `<prefix>form.<key>` and `<prefix>m.<code>` given a reason.
pub(crate) fn reason_list(fields: &[(String, String)], prefix: &str) -> Vec<Value> {
    fields
        .iter()
        .filter(|(_, reason)| !reason.trim().is_empty())
        .filter_map(|(name, reason)| {
            let name = name.strip_prefix(prefix)?;
            if let Some(key) = name.strip_prefix("form.") {
                Some(json!({"field": key, "reason": reason.trim()}))
            } else {
                name.strip_prefix("m.")
                    .map(|code| json!({"material": code, "reason": reason.trim()}))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_time_lists_are_the_fields_and_materials_given_a_reason() {
        let form = vec![
            ("_csrf".to_owned(), "x".to_owned()),
            ("d.form.room_count".to_owned(), " 与平面图不符 ".to_owned()),
            ("d.form.bed_count".to_owned(), "  ".to_owned()),
            ("d.m.floor_plan".to_owned(), "未标注消防通道".to_owned()),
            ("s.form.business_scope".to_owned(), "另一张清单".to_owned()),
        ];
        assert_eq!(
            reason_list(&form, "d."),
            vec![
                json!({"field": "room_count", "reason": "与平面图不符"}),
                json!({"material": "floor_plan", "reason": "未标注消防通道"}),
            ]
        );
        assert_eq!(reason_list(&form, "s.").len(), 1);
    }
}
