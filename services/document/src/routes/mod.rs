//! HTTP routes of the document service.

pub mod checks;
pub mod materials;

/// Registers every route under `/api/v1`.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(
        utoipa_actix_web::scope::scope("/api/v1")
            .service(checks::check)
            .service(materials::upload)
            .service(materials::get_material)
            .service(materials::download)
            .service(materials::archive),
    );
}
