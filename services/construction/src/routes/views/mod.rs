//! Response bodies, built from store rows, and the access rules every
//! route shares: who may read a project (404 otherwise, never data) and
//! who is acting. Task, consultation and inspection views are in `task`,
//! stage and project views in `project`.

mod projects;
mod task;

pub use projects::*;
pub use task::*;

use actix_web::web;
use yizhan_auth::{Principal, Role};
use yizhan_kit::Problem;
use yizhan_kit::text::is_plausible_id;

use crate::AppState;
use crate::store::{self, Actor, project};

/// Partner scope that reads every project.
pub const SCOPE_READ: &str = "construction:read";
/// Partner scope that records land grants (a natural-resources system).
pub const SCOPE_LAND: &str = "construction:land_grant";

/// The actor for the timeline and events: the caller in the first of
/// `roles` it holds.
pub fn actor(principal: &Principal, roles: &[Role]) -> Actor {
    Actor {
        sub: principal.sub.clone(),
        role: principal.acting_role(roles).into(),
    }
}

/// `id` when it can be one of ours; 404 `what` otherwise (no query for garbage).
pub fn plausible<'a>(id: &'a str, what: &str) -> Result<&'a str, Problem> {
    if is_plausible_id(id) {
        Ok(id)
    } else {
        Err(Problem::not_found(format!("{what}不存在")))
    }
}

/// The project if the caller may read it: window clerks, admins, partners
/// with `construction:read`, the builder (applicant of the enterprise or an
/// authorised agent), and reviewers of a department with a task in it.
/// Anyone else gets the same 404 as for a project that does not exist.
pub async fn readable_project(
    state: &AppState,
    principal: &Principal,
    id: &str,
) -> Result<project::Model, Problem> {
    let not_found = || Problem::not_found("项目不存在");
    let p = store::projects::find(&state.db, plausible(id, "项目")?)
        .await?
        .ok_or_else(not_found)?;
    if principal.has_role(Role::WindowClerk)
        || principal.has_role(Role::Admin)
        || (principal.has_role(Role::Partner) && principal.has_scope(SCOPE_READ))
        || principal.may_act_for(&p.builder_uscc)
    {
        return Ok(p);
    }
    if principal.has_role(Role::DeptReviewer)
        && let Some(dept) = principal.dept.as_deref()
        && store::projects::has_task_in(&state.db, id, dept).await?
    {
        return Ok(p);
    }
    Err(not_found())
}

/// Shorthand for handlers: the state's data.
pub type State = web::Data<AppState>;
