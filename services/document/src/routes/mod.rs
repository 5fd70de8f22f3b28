//! HTTP routes of the document service.

pub mod certificates;
pub mod checks;
pub mod lookup;
pub mod materials;
pub mod pages;
pub mod types;
mod upload_parts;
pub mod verify;

use yizhan_kit::rate_limit::Rule;

/// Routes anyone may call, limited per client address: verification (the
/// API and the page a QR code opens), the key set and the material types.
pub const RATE_LIMITED: &[Rule] = &[
    Rule::public("/api/v1/verify"),
    Rule::public("/verify"),
    Rule::public("/.well-known/jwks.json"),
    Rule::public("/api/v1/material-types"),
];

/// Registers every route: the API under `/api/v1`, and the public
/// verification page and key set at the root.
pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig<'_>) {
    cfg.service(
        utoipa_actix_web::scope::scope("/api/v1")
            .service(checks::check)
            .service(materials::upload)
            .service(lookup::lookup)
            .service(materials::get_material)
            .service(materials::download)
            .service(materials::archive)
            .service(types::material_types)
            .service(certificates::get_certificate)
            .service(certificates::qr_svg)
            .service(certificates::qr_png)
            .service(certificates::print)
            .service(certificates::pdf)
            .service(verify::verify_by_id)
            .service(verify::verify_jws),
    );
    // Outside `/api/v1`: the page a scanned QR code opens, and the key set
    // at the well-known path verifiers look for.
    cfg.service(verify::verify_page).service(verify::jwks);
}
