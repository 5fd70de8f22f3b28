//! HTTP routes of the enterprise service. Every handler's doc comment ends
//! with a "调用方：…" paragraph saying who may call it.

pub mod benefits;
pub mod facts;
pub mod profile;

use yizhan_kit::rate_limit::Rule;

/// Routes anyone may call, limited per client address: the fact catalog.
pub const RATE_LIMITED: &[Rule] = &[Rule::public("/api/v1/facts")];

/// Registers every route under `/api/v1`.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(
        utoipa_actix_web::scope::scope("/api/v1")
            .service(facts::list_facts)
            .service(profile::get_profile)
            .service(profile::set_fact)
            .service(benefits::publish)
            .service(benefits::list_policies)
            .service(benefits::list_candidates)
            .service(benefits::exclude)
            .service(benefits::create_batch)
            .service(benefits::pay_batch)
            .service(benefits::enterprise_benefits)
            .service(benefits::decline)
            .service(benefits::raise_objection),
    );
}
