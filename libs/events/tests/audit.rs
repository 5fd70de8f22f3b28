//! The audit log's transaction contract on a real database (SQLite, and
//! PostgreSQL when configured): a request's change writes one row in its
//! own transaction, a rolled-back change none, work outside a request none;
//! rows cannot be updated, and pruning never goes below the minimum
//! retention.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, EntityTrait, PaginatorTrait, Set, TransactionTrait,
};
use yizhan_events::audit::{self, Actor, RequestAudit, entity};
use yizhan_events::contracts::ProbeRecorded;
use yizhan_events::outbox;
use yizhan_events::probe::Migrator;
use yizhan_kit::testing::{Backend, TestDatabase};

async fn database(backend: &Backend) -> (DatabaseConnection, TestDatabase) {
    yizhan_kit::telemetry::init_for_tests();
    let database = backend.fresh_database("audit").await;
    let db = yizhan_kit::db::connect_and_migrate::<Migrator>(&database.url)
        .await
        .unwrap();
    (db, database)
}

fn request(key: &str) -> Arc<RequestAudit> {
    Arc::new(RequestAudit {
        key: key.into(),
        service: "test".into(),
        request_id: format!("req-{key}"),
        actor: Actor {
            id: Some("reviewer-tobacco".into()),
            name: None,
            roles: "dept_reviewer".into(),
            enterprise: None,
            department: Some("tobacco".into()),
        },
        action: "POST /api/v1/tasks/{id}/decision".into(),
        path: "/api/v1/tasks/t-1/decision".into(),
        client_addr: Some("10.0.0.9".into()),
        change_recorded: AtomicBool::new(false),
    })
}

fn probe(key: &str, seq: u64) -> ProbeRecorded {
    ProbeRecorded {
        key: key.into(),
        seq,
        sent_at_micros: 0,
        poison: false,
    }
}

async fn rows(db: &DatabaseConnection) -> u64 {
    entity::Entity::find().count(db).await.unwrap()
}

async fn a_change_writes_one_row_in_its_transaction(backend: Backend) {
    let (db, _guard) = database(&backend).await;
    // Two events in one committed transaction: one row, naming the aggregate.
    audit::scope(request("a"), async {
        let txn = db.begin().await.unwrap();
        outbox::enqueue(&txn, "/yizhan/test", &probe("task-1", 1))
            .await
            .unwrap();
        outbox::enqueue(&txn, "/yizhan/test", &probe("task-1", 2))
            .await
            .unwrap();
        txn.commit().await.unwrap();
    })
    .await;
    let all = entity::Entity::find().all(&db).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].object, "task-1");
    assert_eq!(all[0].outcome, "succeeded");
    assert_eq!(all[0].actor.as_deref(), Some("reviewer-tobacco"));
    assert_eq!(all[0].department.as_deref(), Some("tobacco"));
    assert_eq!(all[0].request_id, "req-a");

    // A rolled-back transaction leaves no row; its retry writes one.
    audit::scope(request("b"), async {
        let txn = db.begin().await.unwrap();
        outbox::enqueue(&txn, "/yizhan/test", &probe("task-2", 1))
            .await
            .unwrap();
        txn.rollback().await.unwrap();
        assert_eq!(rows(&db).await, 1, "rolled back: no row");
        let retry = db.begin().await.unwrap();
        outbox::enqueue(&retry, "/yizhan/test", &probe("task-2", 1))
            .await
            .unwrap();
        retry.commit().await.unwrap();
    })
    .await;
    assert_eq!(rows(&db).await, 2);

    // Outside a request (a consumer, a job): no row.
    let txn = db.begin().await.unwrap();
    outbox::enqueue(&txn, "/yizhan/test", &probe("task-3", 1))
        .await
        .unwrap();
    txn.commit().await.unwrap();
    assert_eq!(rows(&db).await, 2);
}

async fn rows_cannot_be_updated(backend: Backend) {
    let (db, _guard) = database(&backend).await;
    audit::scope(request("c"), async {
        audit::record_change(&db, "task-9").await.unwrap();
    })
    .await;
    let row = entity::Entity::find().one(&db).await.unwrap().unwrap();
    let mut changed: entity::ActiveModel = row.into();
    changed.outcome = Set("refused".into());
    let refused = changed.update(&db).await;
    assert!(refused.is_err(), "an audit row was updated");
}

async fn pruning_keeps_the_minimum_retention(backend: Backend) {
    let (db, _guard) = database(&backend).await;
    let at_days = |days: i64| Utc::now() - chrono::Duration::days(days);
    for (key, days) in [
        ("new", 1),
        ("half-year", 170),
        ("old", 200),
        ("ancient", 400),
    ] {
        let mut row = request(key).row(key.into(), "x", audit::Outcome::Succeeded, 200);
        row.at = Set(at_days(days));
        audit::store::insert_once(&db, row).await.unwrap();
    }
    // Asking for 30 days still keeps 180.
    assert_eq!(audit::store::prune(&db, 30).await.unwrap(), 2);
    assert_eq!(rows(&db).await, 2);
    assert_eq!(audit::store::prune(&db, 365).await.unwrap(), 0);
    let left: Vec<String> = entity::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.entry_key)
        .collect();
    assert_eq!(left, ["new", "half-year"]);
}

yizhan_kit::backend_tests!(
    a_change_writes_one_row_in_its_transaction,
    rows_cannot_be_updated,
    pruning_keeps_the_minimum_retention,
);
