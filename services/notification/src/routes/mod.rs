//! HTTP routes of the notification service.

pub mod inbox;

/// Registers every route under `/api/v1`.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(
        utoipa_actix_web::scope::scope("/api/v1")
            .service(inbox::list)
            .service(inbox::unread)
            .service(inbox::mark_read),
    );
}
