//! `/api/v1/facts`: the facts a 免申即享 eligibility rule may name, with
//! their Chinese names, kinds and units, so that an admin writing a rule
//! (and the portal's policy form) reads names, not keys.
//!
//! Who may call: anyone (public reference data, rate limited).

use actix_web::{HttpResponse, get};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::facts::{FACTS, FactKind};

/// One choice of a coded fact.
#[derive(Debug, Serialize, ToSchema)]
pub struct FactChoice {
    /// Code used in rules (`small`).
    pub code: &'static str,
    /// Chinese name (`小型`).
    pub name: &'static str,
}

/// One fact of the catalog.
#[derive(Debug, Serialize, ToSchema)]
pub struct FactInfo {
    /// Key used in rules and in the profile (`employee_count`).
    pub key: &'static str,
    /// Chinese name (`从业人数`).
    pub name: &'static str,
    /// `integer`, `text`, `code`, `date` or `flag`: which comparisons a
    /// rule may make (`lt`…`ge` on integers and dates only).
    pub kind: &'static str,
    /// Unit after a number (`人`, `万元`), empty when none.
    pub unit: &'static str,
    /// The choices of a `code` fact; empty otherwise.
    pub choices: Vec<FactChoice>,
}

/// The fact catalog.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = example)]
pub struct FactCatalog {
    /// Every fact a rule may name, in display order.
    pub facts: Vec<FactInfo>,
}

/// The served catalog itself (it is code, so the example cannot drift).
fn example() -> serde_json::Value {
    serde_json::to_value(catalog()).unwrap_or_default()
}

fn catalog() -> FactCatalog {
    let facts = FACTS
        .iter()
        .map(|def| {
            let (kind, choices) = match def.kind {
                FactKind::Integer => ("integer", Vec::new()),
                FactKind::Text => ("text", Vec::new()),
                FactKind::Date => ("date", Vec::new()),
                FactKind::Flag => ("flag", Vec::new()),
                FactKind::Code(list) => (
                    "code",
                    list.iter()
                        .map(|&(code, name)| FactChoice { code, name })
                        .collect(),
                ),
            };
            FactInfo {
                key: def.key,
                name: def.name,
                kind,
                unit: def.unit,
                choices,
            }
        })
        .collect();
    FactCatalog { facts }
}

/// The facts a 免申即享 eligibility rule may name (see
/// docs/ENTERPRISE.md for the rule language).
///
/// 调用方：任何人（公开参考数据，按来源地址限流）。
#[utoipa::path(
    tag = "facts",
    responses(
        (status = 200, description = "事实目录", body = FactCatalog),
    )
)]
#[get("/facts")]
pub async fn list_facts() -> HttpResponse {
    HttpResponse::Ok().json(catalog())
}
