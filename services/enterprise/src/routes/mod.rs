//! HTTP routes of the enterprise service. Every handler's doc comment ends
//! with a "调用方：…" paragraph saying who may call it.

pub mod benefit_views;
pub mod benefits;
pub mod dispatch;
pub mod facts;
pub mod profile;
pub mod ratings;
pub mod request_lists;
pub mod requests;
pub mod statistics;

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
            .service(benefits::raise_objection)
            .service(dispatch::get_rules)
            .service(dispatch::put_rules)
            .service(requests::file_request)
            .service(request_lists::list_requests)
            .service(request_lists::assigned_requests)
            .service(request_lists::request_queue)
            .service(requests::get_request)
            .service(requests::request_step)
            .service(ratings::rateables)
            .service(ratings::rate_service)
            .service(ratings::list_ratings)
            .service(ratings::get_rating)
            .service(ratings::follow_up_rating)
            .service(statistics::request_figures)
            .service(statistics::rating_figures),
    );
}
