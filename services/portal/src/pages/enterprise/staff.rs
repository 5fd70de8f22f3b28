//! Pages for departments (诉求 queue, follow-ups, benefit review) and
//! admins (dispatch rules, policy catalog).

use actix_web::web;

/// Registers these pages.
pub fn configure(_c: &mut web::ServiceConfig) {}
