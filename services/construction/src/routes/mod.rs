//! HTTP routes of the construction service. Every handler's doc comment
//! ends with a "调用方：…" paragraph saying who may call it.

pub mod admin;
pub mod catalog;
pub mod consultations;
pub mod examples;
pub mod inspections;
pub mod projects;
pub mod stage_intake;
pub mod stages;
pub mod task_steps;
pub mod tasks;
pub mod timeliness;
pub mod views;

use yizhan_kit::rate_limit::Rule;

/// Routes anyone may call, limited per client address: the catalog and
/// the project categories.
pub const RATE_LIMITED: &[Rule] = &[
    Rule::public("/api/v1/catalog"),
    Rule::public("/api/v1/categories"),
];

/// Registers every route under `/api/v1`.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(
        utoipa_actix_web::scope::scope("/api/v1")
            .service(catalog::current)
            .service(catalog::version)
            .service(catalog::categories)
            .service(projects::register)
            .service(projects::list)
            .service(projects::get_project)
            .service(projects::stage_form_of)
            .service(projects::land_grant)
            .service(stages::submit)
            .service(stages::list_stages)
            .service(stages::get_stage)
            .service(stage_intake::intake)
            .service(stage_intake::supply_owed)
            .service(stages::hand_out)
            .service(inspections::schedule)
            .service(inspections::get_inspection)
            .service(inspections::record_result)
            .service(inspections::rectify)
            .service(tasks::queue)
            .service(tasks::get_task)
            .service(tasks::decide)
            .service(tasks::verify)
            .service(task_steps::request_supplement)
            .service(task_steps::supply)
            .service(task_steps::special_procedure)
            .service(consultations::consult)
            .service(consultations::consultations)
            .service(consultations::reply)
            .service(admin::statistics)
            .service(timeliness::timeliness)
            .service(admin::run_daily),
    );
}
