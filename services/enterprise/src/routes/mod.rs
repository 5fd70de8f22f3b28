//! HTTP routes of the enterprise service. Every handler's doc comment ends
//! with a "调用方：…" paragraph saying who may call it.

pub mod facts;

use yizhan_kit::rate_limit::Rule;

/// Routes anyone may call, limited per client address: the fact catalog.
pub const RATE_LIMITED: &[Rule] = &[Rule::public("/api/v1/facts")];

/// Registers every route under `/api/v1`.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(utoipa_actix_web::scope::scope("/api/v1").service(facts::list_facts));
}
