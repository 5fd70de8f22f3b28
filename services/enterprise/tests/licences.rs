//! 一企一档 licence entries at the store level, on SQLite and PostgreSQL:
//! the migration moves the entries records held in their JSON into rows of
//! their own without changing any profile, and an event about one entry
//! then changes that entry and the record's counts alone.

use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, Set};
use sea_orm_migration::MigratorTrait;
use serde_json::json;
use yizhan_enterprise::domain::profile::CertificateState;
use yizhan_enterprise::store::benefits_schema::record;
use yizhan_enterprise::store::licences::{self, Which};
use yizhan_enterprise::store::{Migrator, profile};
use yizhan_kit::testing::Backend;

const USCC: &str = "91350100M000100Y43";

/// A record as stored before licence entries had a table: two entries
/// issued on the same day for the same item (one held twice), and one
/// still requested; the matcher's column lists what is held once.
async fn old_record(db: &DatabaseConnection) -> serde_json::Value {
    let held = json!([{
        "item": "special_trade_permit_hotel", "issued_on": "2026-11-30",
        "valid_until": null, "revoked": false
    }]);
    let entry = |request: &str, certificate: Option<&str>, state: &str| {
        json!({
            "request_id": request, "certificate_id": certificate,
            "certificate_type": "industry_comprehensive_licence",
            "items": [["special_trade_permit_hotel", "特种行业许可（旅馆业）"]],
            "issued_on": certificate.map(|_| "2026-11-30"), "valid_until": null, "state": state
        })
    };
    let stored = json!({
        "licences": {
            "app-1": entry("app-1", Some("cert-1"), "valid"),
            "app-2": entry("app-2", Some("cert-2"), "valid"),
            "app-3": entry("app-3", None, "requested"),
        },
        "materials": {},
        "facts": {},
    });
    record::Entity::insert(record::ActiveModel {
        uscc: Set(USCC.into()),
        name: Set(Some("榕城酒店".into())),
        facts: Set("{}".into()),
        licences: Set(held.to_string()),
        record: Set(stored.to_string()),
        updated_at: Set(chrono::Utc::now()),
    })
    .exec_without_returning(db)
    .await
    .unwrap();
    held
}

async fn stored_row(db: &DatabaseConnection) -> record::Model {
    record::Entity::find_by_id(USCC.to_owned())
        .one(db)
        .await
        .unwrap()
        .unwrap()
}

async fn entries_move_out_and_change_one_by_one(backend: Backend) {
    let database = backend.fresh_database("licences").await;
    let db = yizhan_kit::db::connect(&database.url).await.unwrap();
    let all = Migrator::migrations().len() as u32;
    Migrator::up(&db, Some(all - 1)).await.unwrap();
    let held_before = old_record(&db).await;
    Migrator::up(&db, None).await.unwrap();

    let entries = licences::all_of(&db, USCC).await.unwrap();
    let ids: Vec<_> = entries.iter().map(|e| e.request_id.as_str()).collect();
    assert_eq!(ids, ["app-1", "app-2", "app-3"]);
    assert_eq!(entries[2].state, CertificateState::Requested);
    let row = stored_row(&db).await;
    let held_after: serde_json::Value = serde_json::from_str(&row.licences).unwrap();
    assert_eq!(held_after, held_before, "the matcher's column is unchanged");
    let stored: serde_json::Value = serde_json::from_str(&row.record).unwrap();
    assert!(stored.get("licences").is_none(), "{stored}");
    let record = profile::load(&db, USCC).await.unwrap().unwrap();
    assert_eq!(record.held.values().copied().collect::<Vec<_>>(), [2]);

    // Suspending one of the two: one held, one revoked; its entry alone
    // changes, and an unknown certificate changes nothing.
    let txn = yizhan_kit::db::begin_write(&db).await.unwrap();
    let found = profile::apply_licence(&txn, USCC, Which::Certificate("cert-2"), |_, e| {
        e.on_status_changed(CertificateState::Suspended)
    })
    .await
    .unwrap();
    assert!(found);
    let unknown = profile::apply_licence(&txn, USCC, Which::Certificate("cert-9"), |_, e| {
        e.on_status_changed(CertificateState::Ended)
    })
    .await
    .unwrap();
    assert!(!unknown);
    txn.commit().await.unwrap();
    let record = profile::load(&db, USCC).await.unwrap().unwrap();
    let revoked: Vec<_> = record.held.iter().map(|(h, n)| (h.revoked, *n)).collect();
    assert_eq!(revoked, [(false, 1), (true, 1)]);
    let entries = licences::all_of(&db, USCC).await.unwrap();
    assert_eq!(entries[1].state, CertificateState::Suspended);
    assert_eq!(entries[0].state, CertificateState::Valid);
    // One EnterpriseLicenceRecorded for the one changed entry.
    let published = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) AS n FROM outbox_events",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(published, 1);
}

yizhan_kit::backend_tests!(entries_move_out_and_change_one_by_one);
