//! HTTP routes of the licensing service. Every handler's doc comment ends
//! with a "调用方：…" paragraph saying who may call it.

pub mod applications;
pub mod calendar;
pub mod catalog;
pub mod drafts;
pub mod examples;
pub mod intake;
pub mod lifecycle;
pub mod statistics;
pub mod tasks;
pub mod views;

use yizhan_kit::rate_limit::Rule;

/// Routes anyone may call, limited per client address: scenarios, notices
/// (一次性告知), the catalog and the working-day calendar.
pub const RATE_LIMITED: &[Rule] = &[
    Rule::public("/api/v1/scenarios"),
    Rule::public("/api/v1/notices"),
    Rule::public("/api/v1/catalog"),
    Rule::public("/api/v1/calendar"),
];

/// Registers every route under `/api/v1`.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(
        utoipa_actix_web::scope::scope("/api/v1")
            .service(catalog::list_scenarios)
            .service(catalog::get_scenario)
            .service(catalog::compute_notice)
            .service(catalog::get_catalog)
            .service(catalog::get_catalog_version)
            .service(catalog::publish_catalog)
            .service(applications::submit)
            .service(applications::list_applications)
            .service(applications::get_application)
            .service(applications::resubmit)
            .service(drafts::list_drafts)
            .service(drafts::save_draft)
            .service(drafts::get_draft)
            .service(drafts::delete_draft)
            .service(intake::intake)
            .service(intake::hand_out)
            .service(lifecycle::provide_tolerance_materials)
            .service(lifecycle::apply)
            .service(statistics::statistics)
            .service(tasks::queue)
            .service(tasks::decide)
            .service(tasks::request_supplement)
            .service(tasks::supply)
            .service(tasks::special_procedure)
            .service(calendar::working_days)
            .service(calendar::add),
    );
}
