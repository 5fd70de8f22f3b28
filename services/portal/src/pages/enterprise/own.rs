//! Pages for the enterprise, its agent, its 营商专员 and the 12345
//! operator: the 企业服务 overview and the 一企一档 profile here; 诉求 in
//! [`super::own_requests`], 免申即享 in [`super::own_benefits`], 好差评 in
//! [`super::own_ratings`], the specialist's enterprises in
//! [`super::own_specialist`].
//!
//! Who may see them: the overview anyone signed in with one of these roles;
//! the profile the enterprise itself (applicant, authorised agent). The
//! enterprise service decides what is theirs: another enterprise's profile
//! is its 403, shown as a page.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use serde_json::{Value, json};
use yizhan_auth::Role;

use crate::AppState;
use crate::pages::{PageError, render};
use crate::session::Viewer;
use crate::upstream::Upstream;

/// The enterprise's own side: applicants and the agents it authorised.
pub const ENTERPRISE: [Role; 2] = [Role::Applicant, Role::Agent];
/// Everyone these pages serve.
pub const OWN_SIDE: [Role; 4] = [
    Role::Applicant,
    Role::Agent,
    Role::Specialist,
    Role::HotlineOperator,
];

/// `?uscc=`: which enterprise (an agent or specialist serving several
/// picks one; default the first).
#[derive(Debug, Default, Deserialize)]
pub struct Which {
    /// The enterprise's 统一社会信用代码.
    pub uscc: Option<String>,
    /// A redirect's flash message.
    pub msg: Option<String>,
}

/// A 统一社会信用代码 fit for a path or query (18 letters and digits), or
/// a 404 page: the service checks it properly.
pub(crate) fn uscc_path(uscc: &str) -> Result<String, PageError> {
    let uscc = uscc.trim();
    if uscc.len() == 18 && uscc.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(uscc.to_ascii_uppercase())
    } else {
        Err(PageError::NotFound("该企业不存在".into()))
    }
}

/// The enterprises the viewer acts for (applicant: its own; agent: those
/// that authorised it; specialist: those assigned), in the token's order.
pub(crate) fn enterprises_of(viewer: &Viewer) -> Vec<String> {
    let p = &viewer.principal;
    let mut all = Vec::new();
    if p.has_role(Role::Applicant)
        && let Some(u) = &p.uscc
    {
        all.push(u.clone());
    }
    for e in &p.enterprises {
        if !all.contains(e) {
            all.push(e.clone());
        }
    }
    all
}

/// The enterprise a page is about: `?uscc=` when given (the service
/// refuses one that is not the viewer's), else the viewer's first.
pub(crate) fn chosen_enterprise(viewer: &Viewer, which: &Which) -> Result<String, PageError> {
    match which.uscc.as_deref().filter(|u| !u.trim().is_empty()) {
        Some(u) => uscc_path(u),
        None => enterprises_of(viewer)
            .into_iter()
            .next()
            .ok_or_else(|| PageError::Forbidden("当前账号未关联企业，无法查看企业服务".into())),
    }
}

/// GETs `path` at the enterprise service as the viewer.
pub(crate) async fn ent_get(
    state: &AppState,
    viewer: &Viewer,
    path: &str,
) -> Result<Value, PageError> {
    Ok(state
        .upstream
        .get(Upstream::Enterprise, path, Some(&viewer.token))
        .await?)
}

/// The other enterprises the viewer may switch to (links on the page).
pub(crate) fn switcher(viewer: &Viewer, current: &str) -> Vec<String> {
    let all = enterprises_of(viewer);
    if all.len() > 1 {
        all.into_iter().filter(|u| u != current).collect()
    } else {
        Vec::new()
    }
}

/// Page: 企业服务 — what the viewer can do here, by role.
#[get("/enterprise")]
pub async fn overview(viewer: Viewer) -> Result<HttpResponse, PageError> {
    viewer.require(&OWN_SIDE)?;
    let p = &viewer.principal;
    render(
        Some(&viewer),
        "ent_own_home.html",
        json!({
            "title": "企业服务",
            "enterprise_side": ENTERPRISE.iter().any(|r| p.has_role(*r)),
            "specialist": p.has_role(Role::Specialist),
            "hotline": p.has_role(Role::HotlineOperator),
        }),
    )
}

/// The Chinese name of a certificate type (the profile lists codes).
pub(crate) fn certificate_type_name(code: &str) -> &'static str {
    match code {
        "industry_comprehensive_licence" => "行业综合许可证",
        "construction_permit" => "建筑工程施工许可证",
        _ => "电子证照",
    }
}

/// The Chinese name of a construction project's status.
fn project_status_name(code: &str) -> &'static str {
    match code {
        "active" => "审批中",
        "completed" => "全流程办结",
        _ => "—",
    }
}

/// The profile's licences with their type named.
fn named_licences(profile: &Value) -> Vec<Value> {
    profile["licences"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|l| {
            let mut l = l.clone();
            let name = certificate_type_name(l["certificate_type"].as_str().unwrap_or_default());
            l["type_name"] = json!(name);
            l
        })
        .collect()
}

/// Every fact of the catalog, with what the profile holds (none when not
/// on file): the enterprise sees what is known and what is not.
fn facts_with_catalog(catalog: &Value, profile: &Value) -> Vec<Value> {
    let on_file = profile["facts"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    catalog["facts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|def| {
            let known = on_file.iter().find(|f| f["key"] == def["key"]);
            json!({
                "name": def["name"],
                "fact": known,
            })
        })
        .collect()
}

/// The enterprise's construction projects, or `None` when the
/// construction service could not be asked (the rest of the profile still
/// shows).
async fn projects_of(state: &AppState, viewer: &Viewer, uscc: &str) -> Option<Vec<Value>> {
    let list = state
        .upstream
        .get(
            Upstream::Construction,
            "/api/v1/projects?limit=50",
            Some(&viewer.token),
        )
        .await
        .ok()?;
    Some(
        list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["builder_uscc"].as_str() == Some(uscc))
            .map(|p| {
                let mut p = p.clone();
                p["status_name"] = json!(project_status_name(p["status"].as_str().unwrap_or("")));
                p
            })
            .collect(),
    )
}

/// Page: 一企一档 — licences and permits with validity, construction
/// projects, materials on file, facts with source and date, requests and
/// ratings.
#[get("/enterprise/profile")]
pub async fn profile_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    which: web::Query<Which>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&ENTERPRISE)?;
    let uscc = chosen_enterprise(&viewer, &which)?;
    let profile = ent_get(
        &state,
        &viewer,
        &format!("/api/v1/enterprises/{uscc}/profile"),
    )
    .await?;
    let catalog = state
        .upstream
        .get(Upstream::Enterprise, "/api/v1/facts", None)
        .await?;
    // The newest ten of each (the page shows ten and links to the lists).
    let requests = ent_get(
        &state,
        &viewer,
        &format!("/api/v1/requests?uscc={uscc}&limit=10"),
    )
    .await?;
    // Ratings are listed for all the viewer's enterprises: the newest
    // page, this one's picked out.
    let ratings = ent_get(&state, &viewer, "/api/v1/ratings?limit=100").await?;
    let ratings: Vec<&Value> = ratings["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| r["enterprise_uscc"].as_str() == Some(uscc.as_str()))
        .collect();
    let projects = projects_of(&state, &viewer, &uscc).await;
    render(
        Some(&viewer),
        "ent_own_profile.html",
        json!({
            "title": "一企一档",
            "uscc": uscc,
            "profile": profile,
            "licences": named_licences(&profile),
            "facts": facts_with_catalog(&catalog, &profile),
            "projects": projects,
            "requests": requests["items"],
            "ratings": ratings,
            "others": switcher(&viewer, &uscc),
        }),
    )
}

/// Registers these pages.
pub fn configure(c: &mut web::ServiceConfig) {
    c.service(overview)
        .service(profile_page)
        .configure(super::own_requests::configure)
        .configure(super::own_benefits::configure)
        .configure(super::own_ratings::configure)
        .configure(super::own_specialist::configure);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn certificate_types_and_project_states_have_names() {
        assert_eq!(
            certificate_type_name("industry_comprehensive_licence"),
            "行业综合许可证"
        );
        assert_eq!(
            certificate_type_name("construction_permit"),
            "建筑工程施工许可证"
        );
        assert_eq!(certificate_type_name("fishing_licence"), "电子证照");
        assert_eq!(project_status_name("active"), "审批中");
        assert_eq!(project_status_name("completed"), "全流程办结");
    }

    #[test]
    fn every_catalog_fact_is_listed_known_or_not() {
        let catalog = json!({"facts": [
            {"key": "industry_code", "name": "行业代码"},
            {"key": "employee_count", "name": "从业人数"},
        ]});
        let profile = json!({"facts": [
            {"key": "employee_count", "name": "从业人数", "display": "12人", "source": "年报"}
        ]});
        let facts = facts_with_catalog(&catalog, &profile);
        assert_eq!(facts.len(), 2);
        assert!(facts[0]["fact"].is_null());
        assert_eq!(facts[1]["fact"]["display"], "12人");
    }

    #[test]
    fn only_plausible_codes_go_into_a_path() {
        assert_eq!(
            uscc_path(" 91350100m000100y43 ").unwrap(),
            "91350100M000100Y43"
        );
        assert!(uscc_path("../admin").is_err());
        assert!(uscc_path("91350100M000100Y4").is_err());
    }
}
