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

/// The one-time list (deficiencies, 补正 items) a form marks: every item
/// whose "有问题" box `<prefix>bad.<kind>.<key>` is ticked (`kind` is
/// `form` for a field, `m` for a material), with its reason
/// `<prefix><kind>.<key>`, in the form's order. Reasons of unticked items
/// are not sent (their boxes are hidden).
///
/// A ticked item without a reason, or with one over the services' limit,
/// is an error at its reason box (keyed by the reason's input name).
pub(crate) fn marked_list(
    fields: &[(String, String)],
    prefix: &str,
) -> Result<Vec<Marked>, BTreeMap<String, String>> {
    let mut list = Vec::new();
    let mut errors = BTreeMap::new();
    for (name, _) in fields {
        let Some(item) = name
            .strip_prefix(prefix)
            .and_then(|rest| rest.strip_prefix("bad."))
        else {
            continue;
        };
        let entry = if let Some(key) = item.strip_prefix("form.") {
            json!({"field": key})
        } else if let Some(code) = item.strip_prefix("m.") {
            json!({"material": code})
        } else {
            continue;
        };
        let input = format!("{prefix}{item}");
        if list.iter().any(|m: &Marked| m.input == input) {
            continue;
        }
        let reason = super::value(fields, &input).unwrap_or_default().trim();
        let count = reason.chars().count();
        if count == 0 {
            errors.insert(input, "已勾选“有问题”，请填写问题与原因".to_owned());
        } else if count > yizhan_events::one_time::MAX_REASON {
            errors.insert(
                input,
                format!("原因最多 {} 字", yizhan_events::one_time::MAX_REASON),
            );
        } else {
            let mut entry = entry;
            entry["reason"] = json!(reason);
            list.push(Marked { input, entry });
        }
    }
    if errors.is_empty() {
        Ok(list)
    } else {
        Err(errors)
    }
}

/// One marked item of a one-time list.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Marked {
    /// The reason's input name (`d.m.floor_plan`), where its errors show.
    pub input: String,
    /// What the service takes: `{field | material, reason}`.
    pub entry: Value,
}

/// The entries of a marked list, as the service's body takes them.
pub(crate) fn entries(list: &[Marked]) -> Vec<Value> {
    list.iter().map(|m| m.entry.clone()).collect()
}

/// Moves a service's messages about list entries (`items[2].reason`) to
/// the reason box of the item they are about, in a refused form (see
/// [`refused_form`]); other messages stay where they are.
pub(crate) fn errors_at_marks(mut refused: Value, name: &str, list: &[Marked]) -> Value {
    let Some(errors) = refused["errors"].as_object_mut() else {
        return refused;
    };
    let moved: Vec<(String, String, Value)> = errors
        .iter()
        .filter_map(|(field, message)| {
            let index = field
                .strip_prefix(name)?
                .strip_prefix('[')?
                .split(']')
                .next()?
                .parse::<usize>()
                .ok()?;
            list.get(index)
                .map(|m| (field.clone(), m.input.clone(), message.clone()))
        })
        .collect();
    for (field, input, message) in moved {
        errors.remove(&field);
        errors.entry(input).or_insert(message);
    }
    refused
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn one_time_lists_are_the_marked_items_with_their_reasons() {
        let form = form(&[
            ("_csrf", "x"),
            ("d.bad.form.room_count", "yes"),
            ("d.form.room_count", " 与平面图不符 "),
            ("d.form.bed_count", "未勾选，不发送"),
            ("d.bad.m.floor_plan", "yes"),
            ("d.m.floor_plan", "未标注消防通道"),
            ("s.bad.form.business_scope", "yes"),
            ("s.form.business_scope", "另一张清单"),
        ]);
        let list = marked_list(&form, "d.").unwrap();
        assert_eq!(
            entries(&list),
            vec![
                json!({"field": "room_count", "reason": "与平面图不符"}),
                json!({"material": "floor_plan", "reason": "未标注消防通道"}),
            ]
        );
        assert_eq!(list[1].input, "d.m.floor_plan");
        assert_eq!(marked_list(&form, "s.").unwrap().len(), 1);
    }

    #[test]
    fn a_marked_item_needs_its_reason() {
        let form = form(&[
            ("d.bad.m.floor_plan", "yes"),
            ("d.m.floor_plan", "  "),
            ("d.bad.m.licence", "yes"),
            ("d.m.licence", "复印件不清晰"),
        ]);
        let errors = marked_list(&form, "d.").unwrap_err();
        assert_eq!(errors.keys().collect::<Vec<_>>(), vec!["d.m.floor_plan"]);
    }

    #[test]
    fn the_services_messages_move_to_their_items() {
        let list = marked_list(
            &form(&[
                ("s.bad.form.a", "yes"),
                ("s.form.a", "x"),
                ("s.bad.m.b", "yes"),
                ("s.m.b", "y"),
            ]),
            "s.",
        )
        .unwrap();
        let refused =
            json!({"errors": {"items[1].material": "本申请不需要材料 b", "items": "须一次性列出"}});
        let moved = errors_at_marks(refused, "items", &list);
        assert_eq!(moved["errors"]["s.m.b"], "本申请不需要材料 b");
        assert_eq!(moved["errors"]["items"], "须一次性列出");
        assert!(moved["errors"]["items[1].material"].is_null());
    }
}
