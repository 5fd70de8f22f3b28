//! Audit log: who did what to which object, when, from where, and how it
//! ended — one append-only `audit_log` row per state-changing request.
//!
//! Contract:
//! - a request that changes state writes its row **in the change's
//!   transaction**: the middleware ([`middleware::audit`]) puts the request's
//!   [`RequestAudit`] in scope, and [`record_change`] (called by
//!   `outbox::enqueue`, which every state change already goes through) inserts
//!   it next to the event. A rolled-back transaction leaves no row; several
//!   events in one transaction leave one row (the insert is keyed by the
//!   request and ignores its own repeats), and a transaction retried after a
//!   conflict writes it again;
//! - a refused request (4xx) and a failed one (5xx) are recorded too, in a
//!   transaction of their own after the answer is known, and so is a
//!   successful change that announced no event;
//! - reads (`GET`, `HEAD`, `OPTIONS`) are not recorded;
//! - rows are never updated (a trigger refuses it) and are deleted only by
//!   [`store::prune`], past a retention that cannot go below
//!   [`MIN_RETENTION_DAYS`], independent of the outbox's pruning;
//! - changes made by consumers and jobs run outside any request and write no
//!   row: the request that caused them was recorded where it arrived.
//!
//! The table lives in every service's database (it is a backbone migration),
//! so the row can share the change's transaction; each service serves its own
//! `GET /api/v1/audit` and `/api/v1/audit/export` ([`routes`]) to admins.

pub mod entity;
pub mod middleware;
pub mod migration;
pub mod routes;
pub mod store;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use chrono::Utc;
use sea_orm::{ConnectionTrait, DbErr, Set};

/// Shortest retention the audit log accepts, in days.
pub const MIN_RETENTION_DAYS: u32 = 180;
/// Retention when none is configured, in days.
pub const DEFAULT_RETENTION_DAYS: u32 = 365;

/// The configured retention, raised to [`MIN_RETENTION_DAYS`] when set lower.
pub fn effective_retention_days(configured: u32) -> u32 {
    configured.max(MIN_RETENTION_DAYS)
}

/// How a recorded request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The change committed.
    Succeeded,
    /// Refused with a 4xx (bad input, not allowed, conflict, ...).
    Refused,
    /// Failed with a 5xx.
    Failed,
}

impl Outcome {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Refused => "refused",
            Outcome::Failed => "failed",
        }
    }

    /// The outcome an HTTP status means.
    pub fn of_status(status: u16) -> Self {
        match status {
            400..=499 => Outcome::Refused,
            500.. => Outcome::Failed,
            _ => Outcome::Succeeded,
        }
    }
}

/// Who made a request, as far as its token tells (all `None` when it carried
/// no valid token).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Actor {
    /// The token's `sub`.
    pub id: Option<String>,
    /// Display name.
    pub name: Option<String>,
    /// Role wire names, comma-separated.
    pub roles: String,
    /// The enterprise(s) acted for: the applicant's USCC or the agent's
    /// authorising enterprises, comma-separated.
    pub enterprise: Option<String>,
    /// A reviewer's department code.
    pub department: Option<String>,
}

impl Actor {
    /// The actor a verified principal is.
    pub fn of(principal: &yizhan_auth::Principal) -> Self {
        let enterprises = principal
            .uscc
            .iter()
            .chain(principal.enterprises.iter())
            .cloned()
            .collect::<Vec<_>>();
        Self {
            id: Some(principal.sub.clone()),
            name: principal.name.clone(),
            roles: principal
                .roles
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(","),
            enterprise: (!enterprises.is_empty()).then(|| enterprises.join(",")),
            department: principal.dept.clone(),
        }
    }
}

/// What the audit log knows about the request in progress.
#[derive(Debug)]
pub struct RequestAudit {
    /// Key of the in-transaction row: unique per request, so repeated
    /// inserts in one transaction collapse into one row.
    pub key: String,
    /// The service answering.
    pub service: String,
    /// The request id (`x-request-id`).
    pub request_id: String,
    /// The caller.
    pub actor: Actor,
    /// Method and route template, e.g. `POST /api/v1/tasks/{id}/decision`.
    pub action: String,
    /// The request path, the object when no event names one.
    pub path: String,
    /// The client address (the proxy's `X-Forwarded-For`/`Forwarded` when
    /// present, else the peer).
    pub client_addr: Option<String>,
    /// Whether a change in this request tried to write its row.
    /// Start it `false`; [`record_change`] sets it.
    pub change_recorded: AtomicBool,
}

impl RequestAudit {
    /// The row for this request.
    pub fn row(
        &self,
        key: String,
        object: &str,
        outcome: Outcome,
        status: u16,
    ) -> entity::ActiveModel {
        entity::ActiveModel {
            id: sea_orm::NotSet,
            entry_key: Set(key),
            at: Set(Utc::now()),
            service: Set(self.service.clone()),
            request_id: Set(self.request_id.clone()),
            actor: Set(self.actor.id.clone()),
            actor_name: Set(self.actor.name.clone()),
            roles: Set(self.actor.roles.clone()),
            enterprise: Set(self.actor.enterprise.clone()),
            department: Set(self.actor.department.clone()),
            action: Set(self.action.clone()),
            object: Set(object.to_owned()),
            outcome: Set(outcome.as_str().to_owned()),
            status: Set(i32::from(status)),
            client_addr: Set(self.client_addr.clone()),
        }
    }
}

tokio::task_local! {
    /// The request being served on this task, set by the middleware.
    static CURRENT: Arc<RequestAudit>;
}

/// Runs `fut` with `audit` as the current request.
pub async fn scope<F: std::future::Future>(audit: Arc<RequestAudit>, fut: F) -> F::Output {
    CURRENT.scope(audit, fut).await
}

/// Records the current request's change on `object` inside the caller's
/// transaction `txn` (no-op outside a request: consumers and jobs). Called
/// by `outbox::enqueue`; a service changing state without an event may call
/// it directly.
pub async fn record_change(txn: &impl ConnectionTrait, object: &str) -> Result<(), DbErr> {
    // Take what the row needs before awaiting: the task-local is not held
    // across the insert.
    let Ok(row) = CURRENT.try_with(|audit| {
        audit.change_recorded.store(true, Ordering::SeqCst);
        audit.row(audit.key.clone(), object, Outcome::Succeeded, 200)
    }) else {
        return Ok(());
    };
    store::insert_once(txn, row).await
}
