//! Prefill of the merged form (预填): what the centre already knows is not
//! typed again. The enterprise's registered name comes from its record
//! (一企一档 at the enterprise service); its name and legal representative
//! as given on its latest application (the licensing service); and values
//! the questionnaire already asked (the floor area) from the answers.
//! Only empty fields are filled, and each says where its value came from;
//! a service that does not answer only means less is filled in.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::AppState;
use crate::queues::urlencode;
use crate::session::Viewer;
use crate::upstream::Upstream;

/// Form fields taken from the enterprise's latest application.
const FROM_LAST_APPLICATION: [&str; 3] = ["enterprise_name", "legal_rep_name", "legal_rep_id_no"];

/// Questionnaire answers that are also form fields under another key
/// (question key, field key); a question and a field of the same key are
/// the same value too.
const ANSWERED_AS: [(&str, &str); 1] = [("floor_area_m2", "building_area_m2")];

/// Where a prefilled value came from, as its hint says.
const FROM_RECORD: &str = "已按企业档案预填，请核对";
const FROM_APPLICATION: &str = "已按本企业上次申请预填，请核对";
const FROM_ANSWERS: &str = "已按情形问答预填";

/// The enterprise's registered name from its record, if known.
async fn registered_name(state: &AppState, viewer: &Viewer, uscc: &str) -> Option<String> {
    let profile = state
        .upstream
        .get(
            Upstream::Enterprise,
            &format!("/api/v1/enterprises/{}/profile", urlencode(uscc)),
            Some(&viewer.token),
        )
        .await
        .ok()?;
    profile["name"]
        .as_str()
        .filter(|n| !n.trim().is_empty())
        .map(str::to_owned)
}

/// The form of the enterprise's latest application, if it has one.
async fn last_form(state: &AppState, viewer: &Viewer, uscc: &str) -> Option<Value> {
    let list = state
        .upstream
        .get(
            Upstream::Licensing,
            &format!("/api/v1/applications?limit=1&q={}", urlencode(uscc)),
            Some(&viewer.token),
        )
        .await
        .ok()?;
    let id = list["items"][0]["id"].as_str()?;
    let app = state
        .upstream
        .get(
            Upstream::Licensing,
            &format!("/api/v1/applications/{}", urlencode(id)),
            Some(&viewer.token),
        )
        .await
        .ok()?;
    Some(app["form"].clone())
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Fills the empty `values` of the form `fields` (the notice's `form`)
/// for enterprise `uscc` and the questionnaire's `answers`; answers each
/// prefilled field's hint by key.
pub async fn prefill(
    state: &AppState,
    viewer: &Viewer,
    uscc: &str,
    fields: &Value,
    answers: &BTreeMap<String, String>,
    values: &mut BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let keys: Vec<&str> = fields
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["key"].as_str())
        .collect();
    let mut found: Vec<(String, String, &str)> = Vec::new();
    for (key, answer) in answers {
        let field = ANSWERED_AS
            .iter()
            .find(|(q, _)| q == key)
            .map_or(key.as_str(), |(_, f)| f);
        found.push((field.to_owned(), answer.clone(), FROM_ANSWERS));
    }
    if !uscc.is_empty() {
        let (name, last) = futures_util::join!(
            registered_name(state, viewer, uscc),
            last_form(state, viewer, uscc)
        );
        if let Some(name) = name {
            found.push(("enterprise_name".into(), name, FROM_RECORD));
        }
        for key in FROM_LAST_APPLICATION {
            if let Some(v) = last.as_ref().and_then(|f| text(&f[key])) {
                found.push((key.into(), v, FROM_APPLICATION));
            }
        }
    }
    let mut hints = BTreeMap::new();
    for (key, v, hint) in found {
        if keys.contains(&key.as_str()) && !values.contains_key(&key) {
            values.insert(key.clone(), v);
            hints.insert(key, hint.to_owned());
        }
    }
    hints
}
