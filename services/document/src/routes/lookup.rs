//! `GET /api/v1/materials?ids=…`: several materials' metadata in one
//! request, each under the rules of `GET /api/v1/materials/{id}`.
//!
//! Licensing and construction check every material a form references
//! before they record it (12 for a hotel). One request for all of them,
//! rather than one each, spares eleven round trips, token checks and
//! queries per submission.
//!
//! Who may call: any signed-in caller; the answer holds only the materials
//! that caller may see (the owner enterprise's applicants and agents,
//! admins; window clerks and department reviewers of a case referencing
//! them). Absent and hidden ids are left out alike, so ids cannot be probed.

use actix_web::{HttpResponse, get, web};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yizhan_auth::Principal;
use yizhan_kit::{FieldError, Problem};

use crate::AppState;
use crate::error::Error;
use crate::routes::materials::{Material, may_see};
use crate::store;

/// Most ids one lookup may name.
pub const MAX_IDS: usize = 100;

/// The ids to look up.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LookupQuery {
    /// Material ids, comma-separated: 1 to 100, each up to 64 letters,
    /// digits or `-`.
    // The pattern keeps the request line within what the HTTP server
    // reads (ids are ASCII; 6,500 multi-byte characters, percent-encoded,
    // are not).
    #[param(
        max_length = 6500,
        pattern = r"^[0-9A-Za-z,\-]*$",
        example = "01937a4e-7c1a-7d3e-9a55-0f3c2b1e4d5a"
    )]
    pub ids: Option<String>,
}

/// The materials found that the caller may see, in the order asked.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = lookup_example)]
pub struct Lookup {
    /// Found and visible materials; an id that is absent or hidden is left out.
    pub items: Vec<Material>,
}

/// The documented example: one material found.
fn lookup_example() -> serde_json::Value {
    serde_json::json!({"items": [super::materials::material_example()]})
}

/// The distinct ids of `raw`, in order, or the field error naming `ids`.
fn parse_ids(raw: Option<&str>) -> Result<Vec<String>, FieldError> {
    let raw = raw.unwrap_or("").trim();
    if raw.is_empty() {
        return Err(FieldError::new(
            "ids",
            "required",
            "请提供至少一个材料编号（以逗号分隔）",
        ));
    }
    let mut ids: Vec<String> = Vec::new();
    for id in raw.split(',').map(str::trim) {
        if !yizhan_kit::text::is_plausible_id(id) {
            return Err(FieldError::new(
                "ids",
                "invalid_format",
                "材料编号格式不正确：每个编号为 1-64 位字母、数字或连字符，以逗号分隔",
            ));
        }
        if !ids.iter().any(|seen| seen == id) {
            ids.push(id.to_owned());
        }
    }
    if ids.len() > MAX_IDS {
        return Err(FieldError::new(
            "ids",
            "too_many",
            format!("一次最多查询 {MAX_IDS} 个材料"),
        ));
    }
    Ok(ids)
}

/// Several materials' metadata at once.
///
/// 调用方：任何已登录的调用者；只答复其有权查看的材料（规则同 `GET /api/v1/materials/{id}`：材料所属企业的申请人或其授权的帮办代办员、管理员；引用该材料的申请的综合窗口人员和有审批任务的部门审批人员）。不存在与无权查看的编号同样略去。
#[utoipa::path(
    tag = "materials",
    params(LookupQuery),
    responses(
        (status = 200, description = "找到且有权查看的材料，按所问顺序", body = Lookup),
        (status = 401, description = "未登录", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "材料编号缺失、格式不正确或过多，`errors` 指明字段 `ids`", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/materials")]
pub async fn lookup(
    principal: Principal,
    state: web::Data<AppState>,
    query: web::Query<LookupQuery>,
) -> Result<HttpResponse, Error> {
    let ids = parse_ids(query.ids.as_deref()).map_err(|e| Problem::validation(vec![e]))?;
    let found = store::find_materials(&state.db, &ids).await?;
    let mut items = Vec::with_capacity(found.len());
    for id in &ids {
        if let Some(m) = found.iter().find(|m| &m.id == id)
            && may_see(&state, &principal, m).await?
        {
            items.push(Material::from(m));
        }
    }
    Ok(HttpResponse::Ok().json(Lookup { items }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_distinct_in_order_and_bounded() {
        assert_eq!(parse_ids(Some("b, a,b")).unwrap(), vec!["b", "a"]);
        assert_eq!(parse_ids(None).unwrap_err().field, "ids");
        assert_eq!(parse_ids(Some(" ")).unwrap_err().code, "required");
        assert_eq!(parse_ids(Some("a,,b")).unwrap_err().code, "invalid_format");
        assert_eq!(parse_ids(Some("a;b")).unwrap_err().code, "invalid_format");
        let many: Vec<String> = (0..=MAX_IDS).map(|i| format!("m{i}")).collect();
        assert_eq!(
            parse_ids(Some(&many.join(","))).unwrap_err().code,
            "too_many"
        );
        assert_eq!(
            parse_ids(Some(&many[..MAX_IDS].join(","))).unwrap().len(),
            MAX_IDS
        );
    }
}
