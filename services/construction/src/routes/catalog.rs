//! `/api/v1/catalog` and `/api/v1/categories`: the published catalog and
//! the project categories with their budgets. Public: what a project needs
//! is no secret.

use actix_web::{HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;
use yizhan_kit::Problem;

use super::views::State;
use crate::domain::catalog::{Catalog, Category, Stage};

/// The current catalog: departments, fields, materials and every item with
/// its stage, department, statutory and committed limits, materials (key /
/// non-key), whether 告知承诺制 is allowed and the categories it applies to.
///
/// 调用方：任何人（无须登录）。
#[utoipa::path(
    tag = "catalog",
    responses((status = 200, description = "当前事项目录", body = Catalog, example = super::examples::catalog))
)]
#[get("/catalog")]
pub async fn current(state: State) -> HttpResponse {
    HttpResponse::Ok().json(state.catalog.as_ref())
}

/// One stored catalog version (stage applications keep the version they
/// were made on).
///
/// 调用方：任何人（无须登录）。
#[utoipa::path(
    tag = "catalog",
    params(("version" = i32, Path, description = "目录版本")),
    responses(
        (status = 200, description = "事项目录", body = Catalog, example = super::examples::catalog),
        (status = 404, description = "版本不存在", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/catalog/versions/{version}")]
pub async fn version(state: State, version: web::Path<i32>) -> Result<HttpResponse, Problem> {
    let catalog = crate::store::catalog::version(&state.db, *version)
        .await?
        .ok_or_else(|| Problem::not_found("目录版本不存在"))?;
    Ok(HttpResponse::Ok().json(catalog))
}

/// One stage of a category.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryStage {
    /// Stage.
    pub stage: Stage,
    /// zh-CN name.
    pub stage_name: String,
    /// Its item codes.
    pub items: Vec<String>,
}

/// A project category.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = crate::routes::examples::category)]
pub struct CategoryView {
    /// Code.
    pub code: Category,
    /// zh-CN name.
    pub name: String,
    /// Whole-process budget, working days (configurable).
    pub budget_days: u16,
    /// Stages and their items.
    pub stages: Vec<CategoryStage>,
}

/// The project categories with their whole-process budgets (defaults 60 /
/// 50 / 24 working days) and the items each stage holds for them.
///
/// 调用方：任何人（无须登录）。
#[utoipa::path(
    tag = "catalog",
    responses((status = 200, description = "项目分类与全流程时限", body = Vec<CategoryView>))
)]
#[get("/categories")]
pub async fn categories(state: State) -> HttpResponse {
    let views: Vec<CategoryView> = Category::ALL
        .into_iter()
        .map(|c| CategoryView {
            code: c,
            name: c.zh_name().into(),
            budget_days: state.settings.budgets.of(c),
            stages: Stage::ALL
                .into_iter()
                .map(|s| CategoryStage {
                    stage: s,
                    stage_name: s.zh_name().into(),
                    items: state
                        .catalog
                        .items_for(s, c)
                        .iter()
                        .map(|i| i.code.clone())
                        .collect(),
                })
                .collect(),
        })
        .collect();
    HttpResponse::Ok().json(views)
}
