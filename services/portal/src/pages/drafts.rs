//! 草稿 of the merged form, kept by the licensing service
//! (`/api/v1/drafts`): saved from the form ("保存草稿", and whenever a
//! submit is refused), filled back in when the form is opened again, and
//! listed in 我的申请 with a link to go on. Filing deletes it (the
//! licensing service does, with the application).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::licensing::{as_texts, carry};
use crate::AppState;
use crate::queues::urlencode;
use crate::session::Viewer;
use crate::upstream::{Upstream, UpstreamError};

/// What a draft holds: the questionnaire answers, the form's values and
/// the materials picked or uploaded, by code.
pub struct DraftContent<'a> {
    /// 情形编码.
    pub scenario: &'a str,
    /// The enterprise it is for.
    pub enterprise: &'a str,
    /// Answers, typed as the questionnaire defines them.
    pub answers: &'a Map<String, Value>,
    /// Form values, typed by the merged form's fields (what would be
    /// submitted), so the service can say what is still missing.
    pub form: Map<String, Value>,
    /// Material code → material id.
    pub picked: &'a BTreeMap<String, String>,
}

fn draft_path(scenario: &str) -> String {
    format!("/api/v1/drafts/{}", urlencode(scenario))
}

/// Saves the draft; answers the saved draft (its `problems`: what a
/// submit would still be refused for). A 422 names the fields the service
/// refused to keep.
pub async fn save(
    state: &AppState,
    viewer: &Viewer,
    draft: DraftContent<'_>,
) -> Result<Value, UpstreamError> {
    state
        .upstream
        .send(
            Upstream::Licensing,
            reqwest::Method::PUT,
            &draft_path(draft.scenario),
            Some(&viewer.token),
            &json!({
                "enterprise_uscc": draft.enterprise,
                "answers": draft.answers,
                "form": draft.form,
                "materials": draft.picked,
            }),
        )
        .await
}

/// Saves the draft on the way (a refused submit): a failure only costs
/// the draft, the page still answers.
pub async fn save_quietly(state: &AppState, viewer: &Viewer, draft: DraftContent<'_>) {
    if let Err(e) = save(state, viewer, draft).await {
        tracing::warn!(error = %e.message(), "draft not saved");
    }
}

/// The saved draft of `scenario` for `enterprise`, if any (`None` too
/// when the service does not answer: the form then starts empty).
pub async fn load(
    state: &AppState,
    viewer: &Viewer,
    scenario: &str,
    enterprise: &str,
) -> Option<Value> {
    let path = format!(
        "{}?enterprise_uscc={}",
        draft_path(scenario),
        urlencode(enterprise)
    );
    match state
        .upstream
        .get(Upstream::Licensing, &path, Some(&viewer.token))
        .await
    {
        Ok(draft) => Some(draft),
        Err(UpstreamError::Refused { status: 404, .. }) => None,
        Err(e) => {
            tracing::warn!(error = %e.message(), "draft not read");
            None
        }
    }
}

/// The form's link for `scenario` with `answers`, for `enterprise`.
pub fn form_link(scenario: &str, answers: &BTreeMap<String, String>, enterprise: &str) -> String {
    format!(
        "/licensing/apply?{}&enterprise_uscc={}",
        carry(&json!({"code": scenario}), answers),
        urlencode(enterprise)
    )
}

/// The viewer's drafts for 我的申请, each with its 继续填写 link and how
/// many fields and materials it holds (empty when the service does not
/// answer: the applications still show).
pub async fn listed(state: &AppState, viewer: &Viewer) -> Vec<Value> {
    let list = match state
        .upstream
        .get(Upstream::Licensing, "/api/v1/drafts", Some(&viewer.token))
        .await
    {
        Ok(list) => list,
        Err(e) => {
            tracing::warn!(error = %e.message(), "drafts not listed");
            return Vec::new();
        }
    };
    list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|d| {
            let link = form_link(
                d["scenario"].as_str().unwrap_or_default(),
                &as_texts(&d["answers"]),
                d["enterprise_uscc"].as_str().unwrap_or_default(),
            );
            json!({
                "scenario": d["scenario"],
                "scenario_name": d["scenario_name"],
                "enterprise_uscc": d["enterprise_uscc"],
                "fields": d["form"].as_object().map_or(0, |m| m.len()),
                "materials": d["materials"].as_object().map_or(0, |m| m.len()),
                "updated_at": d["updated_at"],
                "link": link,
            })
        })
        .collect()
}
