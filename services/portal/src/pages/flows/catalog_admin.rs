//! 事项目录管理 (`/admin/catalog`): the licensing catalog as people read it
//! (departments, items with their limits, materials and fields, scenarios,
//! all by name), every published version, and an editor: the catalog's
//! JSON with the next version number, published whole with
//! `PUT /api/v1/catalog`. The service's 422 is shown at the editor, each
//! problem named by the item, material or field it concerns.
//!
//! Who may see it: administrators (the only ones the API lets publish);
//! every other role gets the 403 page. Reading a version is public at the
//! API, but the page is the administrator's.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, post, web};
use reqwest::Method;
use serde_json::{Value, json};
use yizhan_auth::Role;

use super::names_of;
use crate::AppState;
use crate::pages::{
    Flash, PageError, field_errors, refused_with, render_status, see_other, value, with_refused,
};
use crate::session::Viewer;
use crate::upstream::{Upstream, UpstreamError};

const ADMINS: [Role; 1] = [Role::Admin];

/// Page: the current catalog, its versions and the editor.
#[get("/admin/catalog")]
pub async fn catalog_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    flash: web::Query<Flash>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&ADMINS)?;
    page(&state, &viewer, flash.text(), None, Vec::new()).await
}

async fn page(
    state: &AppState,
    viewer: &Viewer,
    flash: Option<String>,
    refused: Option<Value>,
    problems: Vec<String>,
) -> Result<HttpResponse, PageError> {
    let catalog = state
        .upstream
        .get(Upstream::Licensing, "/api/v1/catalog", None)
        .await?;
    let version = catalog["version"].as_i64().unwrap_or(1);
    // The editor starts from the current version, numbered as the next.
    let mut draft = catalog.clone();
    draft["version"] = json!(version + 1);
    let (context, status) = with_refused(
        json!({
            "title": "事项目录管理",
            "overview": overview(&catalog),
            "versions": (1..=version).rev().collect::<Vec<_>>(),
            "draft": serde_json::to_string_pretty(&draft).unwrap_or_default(),
            "problems": problems,
            "flash": flash,
        }),
        refused,
    );
    render_status(Some(viewer), "flow_catalog.html", context, status)
}

/// Page: one published version, read only.
#[get("/admin/catalog/versions/{version}")]
pub async fn version_page(
    state: web::Data<AppState>,
    viewer: Viewer,
    version: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&ADMINS)?;
    let version: u32 = version
        .parse()
        .map_err(|_| PageError::NotFound("目录版本不存在".into()))?;
    let catalog = state
        .upstream
        .get(
            Upstream::Licensing,
            &format!("/api/v1/catalog/versions/{version}"),
            None,
        )
        .await?;
    render_status(
        Some(&viewer),
        "flow_catalog_version.html",
        json!({"title": format!("事项目录 · 第 {version} 版"), "overview": overview(&catalog)}),
        actix_web::http::StatusCode::OK,
    )
}

/// Publishes the edited catalog as the next version.
#[post("/admin/catalog")]
pub async fn publish(
    state: web::Data<AppState>,
    viewer: Viewer,
    form: web::Form<Vec<(String, String)>>,
) -> Result<HttpResponse, PageError> {
    viewer.require(&ADMINS)?;
    viewer.check_csrf(value(&form, "_csrf"))?;
    let text = value(&form, "catalog").unwrap_or_default();
    let edited: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => {
            let message = format!("JSON 格式有误：第 {} 行第 {} 列附近", e.line(), e.column());
            return again(&state, &viewer, &form, message, Vec::new()).await;
        }
    };
    match state
        .upstream
        .send(
            Upstream::Licensing,
            Method::PUT,
            "/api/v1/catalog",
            Some(&viewer.token),
            &edited,
        )
        .await
    {
        Ok(_) => Ok(see_other("/admin/catalog", "事项目录新版本已发布")),
        Err(
            e @ UpstreamError::Refused {
                status: 400 | 409 | 422,
                ..
            },
        ) => {
            let (by_field, general) = field_errors(&e);
            let mut problems = general;
            problems.extend(
                by_field
                    .iter()
                    .map(|(path, m)| format!("{}：{m}", locate(&edited, path))),
            );
            let message = format!("目录未发布，有 {} 处问题，请逐项修改", problems.len());
            again(&state, &viewer, &form, message, problems).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The page again, the edited text kept and the problems at the editor.
async fn again(
    state: &AppState,
    viewer: &Viewer,
    form: &[(String, String)],
    message: String,
    problems: Vec<String>,
) -> Result<HttpResponse, PageError> {
    let errors = BTreeMap::from([("catalog".to_owned(), message)]);
    let refused = refused_with(form, errors, Vec::new());
    page(state, viewer, None, Some(refused), problems).await
}

/// The catalog as people read it: every code replaced by its name.
fn overview(catalog: &Value) -> Value {
    let departments = names_of(&catalog["departments"], "code", "name");
    let materials = names_of(&catalog["materials"], "code", "name");
    let fields = names_of(&catalog["fields"], "key", "label");
    let items = names_of(&catalog["items"], "code", "name");
    let named = |list: &Value, key: &str, names: &BTreeMap<String, String>| -> Vec<String> {
        list.as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                let code = e[key].as_str().unwrap_or_default();
                names
                    .get(code)
                    .cloned()
                    .unwrap_or_else(|| "（目录中未定义）".into())
            })
            .collect()
    };
    let list = |key: &str| catalog[key].as_array().cloned().unwrap_or_default();
    json!({
        "version": catalog["version"],
        "departments": departments.values().collect::<Vec<_>>(),
        "items": list("items").iter().map(|i| json!({
            "name": i["name"],
            "department": departments.get(i["department"].as_str().unwrap_or_default()),
            "statutory_limit": i["statutory_limit"],
            "committed_limit": i["committed_limit"],
            "materials": named(&i["materials"], "material", &materials),
            "fields": named(&i["fields"], "field", &fields),
        })).collect::<Vec<_>>(),
        "materials": materials.values().collect::<Vec<_>>(),
        "fields": list("fields").iter().map(|f| json!({
            "label": f["label"],
            "kind": kind_name(f["type"].as_str().unwrap_or_default()),
        })).collect::<Vec<_>>(),
        "scenarios": list("scenarios").iter().map(|s| json!({
            "name": s["name"],
            "licence_name": s["licence_name"],
            "items": named(&s["items"], "item", &items),
            "questions": s["questions"].as_array().map_or(0, Vec::len),
        })).collect::<Vec<_>>(),
    })
}

/// A field type by name.
fn kind_name(kind: &str) -> &'static str {
    match kind {
        "text" => "文本",
        "integer" => "整数",
        "number" => "数值",
        "boolean" => "是/否",
        "date" => "日期",
        "uscc" => "统一社会信用代码",
        "id_card_no" => "身份证号",
        "phone" => "电话",
        "choice" => "选项",
        _ => "其他",
    }
}

/// Where a field error's path (`items[3].department`) points, in words:
/// the entry by its name, then the attribute.
fn locate(catalog: &Value, path: &str) -> String {
    const LISTS: [(&str, &str, &str); 5] = [
        ("departments", "部门", "name"),
        ("fields", "表单字段", "label"),
        ("materials", "材料", "name"),
        ("items", "事项", "name"),
        ("scenarios", "情形", "name"),
    ];
    const ATTRIBUTES: [(&str, &str); 16] = [
        ("version", "版本号"),
        ("code", "编码"),
        ("key", "字段键"),
        ("name", "名称"),
        ("label", "名称"),
        ("type", "类型"),
        ("department", "所属部门"),
        ("statutory_limit", "法定时限"),
        ("committed_limit", "承诺时限"),
        ("materials", "材料"),
        ("material", "材料"),
        ("fields", "字段"),
        ("field", "字段"),
        ("items", "事项"),
        ("item", "事项"),
        ("questions", "问卷"),
    ];
    let mut words = Vec::new();
    let mut node = catalog;
    for segment in path.split('.') {
        let (name, index) = match segment.split_once('[') {
            Some((n, rest)) => (n, rest.trim_end_matches(']').parse::<usize>().ok()),
            None => (segment, None),
        };
        let list = LISTS.iter().find(|(l, ..)| *l == name && words.is_empty());
        match (list, index) {
            (Some((_, what, label)), Some(i)) => {
                node = &node[name][i];
                match node[*label].as_str() {
                    Some(n) => words.push(format!("{what}“{n}”")),
                    None => words.push(format!("第 {} 个{what}", i + 1)),
                }
            }
            _ => {
                node = &node[name];
                let word = ATTRIBUTES
                    .iter()
                    .find(|(a, _)| *a == name)
                    .map_or("内容", |(_, w)| *w);
                match index {
                    Some(i) => words.push(format!("{word}第 {} 项", i + 1)),
                    None => words.push(word.to_owned()),
                }
                if let Some(i) = index {
                    node = &node[i];
                }
            }
        }
    }
    if words.is_empty() {
        "目录".to_owned()
    } else {
        words.join(" · ")
    }
}

/// Mounts the catalog pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(catalog_page)
        .service(version_page)
        .service(publish);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_is_placed_by_the_names_of_what_it_concerns() {
        let catalog = json!({
            "items": [{"name": "营业执照", "materials": [{"material": "x"}, {"material": "y"}]}],
            "fields": [{}],
        });
        assert_eq!(
            locate(&catalog, "items[0].department"),
            "事项“营业执照” · 所属部门"
        );
        assert_eq!(
            locate(&catalog, "items[0].materials[1].material"),
            "事项“营业执照” · 材料第 2 项 · 材料"
        );
        assert_eq!(
            locate(&catalog, "fields[0].key"),
            "第 1 个表单字段 · 字段键"
        );
        assert_eq!(locate(&catalog, "version"), "版本号");
        assert_eq!(locate(&catalog, ""), "内容");
    }

    #[test]
    fn the_overview_names_every_code() {
        let catalog = json!({
            "version": 2,
            "departments": [{"code": "market_supervision", "name": "市场监督管理局"}],
            "materials": [{"code": "floor_plan", "name": "平面图"}],
            "fields": [{"key": "room_count", "label": "客房数", "type": "integer"}],
            "items": [{"code": "business_licence", "name": "营业执照", "department": "market_supervision",
                "materials": [{"material": "floor_plan", "key": true}], "fields": [{"field": "room_count"}]}],
            "scenarios": [{"name": "开办酒店", "items": [{"item": "business_licence"}]}],
        });
        let text = overview(&catalog).to_string();
        for code in [
            "market_supervision",
            "floor_plan",
            "room_count",
            "business_licence",
            "integer",
        ] {
            assert!(!text.contains(code), "{code} in {text}");
        }
        assert!(
            text.contains("市场监督管理局") && text.contains("客房数") && text.contains("整数")
        );
    }
}
