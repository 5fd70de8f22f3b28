//! `GET /api/v1/material-types`: the material vocabulary, public, so
//! partners and the approval services know every type a material may be
//! uploaded as and what each is called.

use actix_web::{HttpResponse, get};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain;

/// One material type.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"code": "floor_plan", "name": "经营场所平面布局图", "accepts": ["application/pdf", "application/ofd", "image/png", "image/jpeg"]}))]
pub struct MaterialTypeView {
    /// Code: the `material_type` of an upload, and the material code a
    /// catalog files it under.
    pub code: String,
    /// 中文名称.
    pub name: String,
    /// Accepted content types (judged by the bytes at upload).
    pub accepts: Vec<String>,
}

/// Every material type, in list order. A catalog (licensing or
/// construction) may only ask for these codes; an upload is stored under
/// exactly one of them.
///
/// 调用方：任何人（公开，无需登录）。
#[utoipa::path(
    tag = "materials",
    responses(
        (status = 200, description = "材料类型清单", body = Vec<MaterialTypeView>),
    ),
)]
#[get("/material-types")]
pub async fn material_types() -> HttpResponse {
    let list: Vec<MaterialTypeView> = domain::material_types()
        .map(|t| MaterialTypeView {
            code: t.code.into(),
            name: t.name.into(),
            accepts: t
                .accepts
                .iter()
                .map(|k| k.content_type().to_owned())
                .collect(),
        })
        .collect();
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .json(list)
}
