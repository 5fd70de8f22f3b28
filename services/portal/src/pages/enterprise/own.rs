//! Pages for the enterprise, its agent and its 营商专员.

use actix_web::web;

/// Registers these pages.
pub fn configure(_c: &mut web::ServiceConfig) {}
