//! The audit middleware: puts each state-changing request in scope for
//! [`super::record_change`], and after the answer records what the change's
//! transaction did not: refusals (4xx), failures (5xx) and successful
//! requests that announced no event, each in a transaction of its own.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use sea_orm::DatabaseConnection;
use yizhan_auth::Authenticator;
use yizhan_kit::http::RequestId;

use super::{Actor, Outcome, RequestAudit, store};

/// What the middleware needs: the service's database and name. Registered
/// as app data by `runtime::http_server` for services with a database.
#[derive(Clone)]
pub struct AuditLog {
    /// The service's database, which holds its `audit_log`.
    pub db: DatabaseConnection,
    /// The service's name, stored on each row.
    pub service: String,
}

/// Middleware: see the module documentation. Without [`AuditLog`] app data
/// (the portal) it does nothing.
pub async fn audit(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let log = req.app_data::<web::Data<AuditLog>>().cloned();
    let Some(log) = log.filter(|_| changes_state(req.method())) else {
        return next.call(req).await;
    };
    // Each read of the request's extensions in its own statement: a borrow
    // kept alive across the next one would panic.
    let request_id = req
        .extensions()
        .get::<RequestId>()
        .map(|id| id.0.clone())
        .unwrap_or_default();
    let client_addr = req
        .connection_info()
        .realip_remote_addr()
        .map(str::to_owned);
    let action = format!(
        "{} {}",
        req.method(),
        req.match_pattern().unwrap_or_else(|| req.path().to_owned())
    );
    let actor = actor(&req).await;
    let audit = Arc::new(RequestAudit {
        key: uuid::Uuid::now_v7().to_string(),
        service: log.service.clone(),
        request_id,
        actor,
        action,
        path: req.path().to_owned(),
        client_addr,
        change_recorded: AtomicBool::new(false),
    });
    let response = super::scope(audit.clone(), next.call(req)).await?;
    let status = response.status().as_u16();
    let outcome = Outcome::of_status(status);
    if outcome != Outcome::Succeeded || !audit.change_recorded.load(Ordering::SeqCst) {
        let row = audit.row(
            uuid::Uuid::now_v7().to_string(),
            &audit.path,
            outcome,
            status,
        );
        let action = audit.action.clone();
        let write = async move {
            if let Err(e) = store::insert_once(&log.db, row).await {
                tracing::warn!(error = %e, %action, "audit row not written");
            }
        };
        if outcome == Outcome::Failed {
            // Usually the database is gone: the 503 must not wait out the
            // pool's timeout for a row that is written if it comes back.
            actix_web::rt::spawn(write);
        } else {
            // Written before the answer, so whoever reads the log next sees it.
            write.await;
        }
    }
    Ok(response)
}

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The caller as its bearer token says, if the token checks out. The
/// handler verifies it again for itself; this only names who asked.
async fn actor(req: &ServiceRequest) -> Actor {
    let Some(auth) = req.app_data::<web::Data<Authenticator>>().cloned() else {
        return Actor::default();
    };
    match yizhan_auth::bearer_token(req.headers()) {
        Ok(Some(token)) => match auth.authenticate(&token).await {
            Ok(principal) => Actor::of(&principal),
            Err(_) => Actor::default(),
        },
        _ => Actor::default(),
    }
}
