//! Pages for the flows around the main cases: 征求意见 between departments
//! ([`consultations`]), 联合验收 of a completion stage ([`inspections`]),
//! 变更 / 延续 / 注销 of an issued licence ([`lifecycle`]) and the
//! licensing catalog's administration ([`catalog_admin`]). Like every page
//! they hold no rules: each calls its service's REST API with the viewer's
//! token, and who may do what is the service's answer (shown as the 403 or
//! 404 page); the pages only offer a form to those the API lets post it.

pub mod catalog_admin;
pub mod consultations;
pub mod inspections;
pub mod lifecycle;

use std::collections::BTreeMap;

use actix_web::web;
use serde_json::Value;

use crate::AppState;
use crate::upstream::Upstream;

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../../templates/", $name)))),*]
    };
}

/// The templates of these pages (added to the portal's environment).
pub const TEMPLATES: &[(&str, &str)] = templates![
    "flow_consult.html",
    "flow_consultations.html",
    "flow_inspections.html",
    "flow_lifecycle.html",
    "flow_catalog.html",
    "flow_catalog_version.html",
    "flow_catalog_overview.html",
];

/// The flash messages these pages' redirects may carry (see
/// [`super::see_other`]).
pub const MESSAGES: &[&str] = &[
    "已发出征求意见，等待对方部门答复",
    "意见已答复",
    "联合验收已排期，已通知受邀部门",
    "验收结果已录入",
    "整改情况已报告，等待综合窗口安排复验",
    "变更申请已提交（已接件），请等待综合窗口受理",
    "延续申请已提交（已接件），请等待综合窗口受理",
    "注销申请已提交（已接件），窗口受理后许可证即注销",
    "事项目录新版本已发布",
];

/// Department code → name from a service's public catalog (both catalogs
/// list their departments); empty when the catalog cannot be read, and the
/// pages then say 其他部门 rather than show a code.
pub(crate) async fn department_names(
    state: &AppState,
    service: Upstream,
) -> BTreeMap<String, String> {
    state
        .upstream
        .get(service, "/api/v1/catalog", None)
        .await
        .map(|c| names_of(&c["departments"], "code", "name"))
        .unwrap_or_default()
}

/// `key` → `name` of every entry of a catalog list.
pub(crate) fn names_of(list: &Value, key: &str, name: &str) -> BTreeMap<String, String> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| Some((e[key].as_str()?.to_owned(), e[name].as_str()?.to_owned())))
        .collect()
}

/// Mounts these pages.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.configure(consultations::configure)
        .configure(inspections::configure)
        .configure(lifecycle::configure)
        .configure(catalog_admin::configure);
}
