//! HTTP routes of the notification service.

pub mod deliveries;
pub mod inbox;
pub mod preferences;
pub mod webhooks;

/// Registers every route under `/api/v1`.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(
        utoipa_actix_web::scope::scope("/api/v1")
            .service(inbox::list)
            .service(inbox::unread)
            .service(inbox::mark_read)
            .service(webhooks::create)
            .service(webhooks::list)
            .service(webhooks::show)
            .service(webhooks::remove)
            .service(webhooks::rotate_secret)
            .service(deliveries::list)
            .service(deliveries::show)
            .service(deliveries::replay)
            .service(preferences::show)
            .service(preferences::replace)
            .service(preferences::deliveries),
    );
}
