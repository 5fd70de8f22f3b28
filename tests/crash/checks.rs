//! The end state, read from the services' own databases: nothing lost
//! (every outbox empty), nothing applied twice.

use sea_orm::{ConnectionTrait, Database, Statement};
use yizhan::Service;

use crate::cluster::Cluster;

async fn scalar(url: &str, sql: &str) -> i64 {
    let db = Database::connect(url).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .unwrap()
        .unwrap();
    let n = row.try_get_by_index::<i64>(0).unwrap();
    db.close().await.unwrap();
    n
}

/// Unpublished outbox rows over every service.
pub async fn pending_outbox(cluster: &Cluster) -> i64 {
    let mut total = 0;
    for service in crate::cluster::SERVICES {
        total += scalar(
            cluster.database_url(service),
            "SELECT COUNT(*) FROM outbox_events WHERE published_at IS NULL",
        )
        .await;
    }
    total
}

/// Groups that occur more than once, per check: (what, count). All must be 0.
pub async fn duplicates(cluster: &Cluster) -> Vec<(&'static str, i64)> {
    let checks: [(&str, Service, &str); 6] = [
        (
            "certificates per request",
            Service::Document,
            "SELECT COUNT(*) FROM (SELECT request_id FROM certificates GROUP BY request_id HAVING COUNT(*) > 1) d",
        ),
        (
            "tasks per application item",
            Service::Licensing,
            "SELECT COUNT(*) FROM (SELECT case_id, item_code FROM workflow_tasks GROUP BY case_id, item_code HAVING COUNT(*) > 1) d",
        ),
        (
            "timeline steps",
            Service::Licensing,
            "SELECT COUNT(*) FROM (SELECT subject_id, action, COALESCE(task_id, '') FROM workflow_timeline \
             GROUP BY subject_id, action, COALESCE(task_id, '') HAVING COUNT(*) > 1) d",
        ),
        (
            "licences recorded per application",
            Service::Licensing,
            "SELECT COUNT(*) FROM (SELECT subject_id FROM workflow_timeline WHERE action = 'licence_issued' \
             GROUP BY subject_id HAVING COUNT(*) > 1) d",
        ),
        (
            "inbox messages",
            Service::Notification,
            "SELECT COUNT(*) FROM (SELECT cause_source, cause_id, category, COALESCE(recipient_user, ''), \
             COALESCE(recipient_uscc, ''), COALESCE(recipient_dept, '') FROM inbox_messages \
             GROUP BY 1, 2, 3, 4, 5, 6 HAVING COUNT(*) > 1) d",
        ),
        (
            "webhook deliveries",
            Service::Notification,
            "SELECT COUNT(*) FROM (SELECT subscription_id, event_id, replay_seq FROM webhook_deliveries \
             GROUP BY 1, 2, 3 HAVING COUNT(*) > 1) d",
        ),
    ];
    let mut out = Vec::new();
    for (what, service, sql) in checks {
        out.push((what, scalar(cluster.database_url(service), sql).await));
    }
    out
}

/// Certificates issued for licensing requests.
pub async fn certificates(cluster: &Cluster) -> i64 {
    scalar(
        cluster.database_url(Service::Document),
        "SELECT COUNT(*) FROM certificates WHERE requested_by_service = 'licensing'",
    )
    .await
}

/// Inbox messages the notification service holds (to show it was fed).
pub async fn inbox_messages(cluster: &Cluster) -> i64 {
    scalar(
        cluster.database_url(Service::Notification),
        "SELECT COUNT(*) FROM inbox_messages",
    )
    .await
}
