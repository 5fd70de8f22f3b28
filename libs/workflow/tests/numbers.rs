//! 申请编号 at the store level, on SQLite and PostgreSQL: the migration
//! numbers the rows already there by creation time, filings continue the
//! day's sequence, concurrent filings get distinct consecutive numbers,
//! and the unique index refuses a duplicate.

use chrono::{DateTime, TimeZone, Utc};
use sea_orm::sea_query::{Alias, Expr, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use yizhan_kit::testing::Backend;
use yizhan_workflow::numbers::{self, NumberRows, Series};

const SERIES: Series = Series {
    prefix: "YZ",
    table: "things",
};

/// A table like the services' numbered ones, before numbers existed.
struct CreateThings;

impl MigrationName for CreateThings {
    fn name(&self) -> &str {
        "m0001_things"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateThings {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("things")
                    .col(string("id").primary_key())
                    .col(timestamp_with_time_zone("created_at"))
                    .to_owned(),
            )
            .await
    }
}

struct Before;

impl MigratorTrait for Before {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateThings)]
    }
}

struct After;

impl MigratorTrait for After {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(CreateThings),
            Box::new(NumberRows {
                name: "m0002_number_things",
                series: SERIES,
            }),
        ]
    }
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

async fn insert(db: &DatabaseConnection, id: &str, created: DateTime<Utc>, number: Option<&str>) {
    let mut q = Query::insert();
    q.into_table(Alias::new("things"));
    match number {
        None => {
            q.columns([Alias::new("id"), Alias::new("created_at")])
                .values_panic([id.into(), created.into()]);
        }
        Some(n) => {
            q.columns([
                Alias::new("id"),
                Alias::new("created_at"),
                Alias::new("number"),
            ])
            .values_panic([id.into(), created.into(), n.into()]);
        }
    }
    db.execute(&q).await.unwrap();
}

async fn number_of(db: &DatabaseConnection, id: &str) -> String {
    let q = Query::select()
        .column(Alias::new("number"))
        .from(Alias::new("things"))
        .and_where(Expr::col(Alias::new("id")).eq(id))
        .to_owned();
    db.query_one(&q)
        .await
        .unwrap()
        .unwrap()
        .try_get("", "number")
        .unwrap()
}

async fn existing_rows_are_numbered_by_creation_time_and_filings_continue(backend: Backend) {
    let t = backend.fresh_database("numbers").await;
    let db = yizhan_kit::db::connect_and_migrate::<Before>(&t.url)
        .await
        .unwrap();
    // Ids out of creation order; "d" is 23:30 UTC on the 2nd, already the
    // 3rd in China.
    insert(&db, "a", utc(2026, 12, 2, 3, 0), None).await;
    insert(&db, "b", utc(2026, 12, 2, 1, 0), None).await;
    insert(&db, "c", utc(2026, 12, 2, 9, 0), None).await;
    insert(&db, "d", utc(2026, 12, 2, 23, 30), None).await;
    After::up(&db, None).await.unwrap();
    for (id, number) in [
        ("b", "YZ2026120200001"),
        ("a", "YZ2026120200002"),
        ("c", "YZ2026120200003"),
        ("d", "YZ2026120300001"),
    ] {
        assert_eq!(number_of(&db, id).await, number, "{id}");
    }
    // The next filing of the 3rd continues after the migrated row.
    let txn = yizhan_kit::db::begin_write(&db).await.unwrap();
    let next = numbers::next(&txn, SERIES, utc(2026, 12, 3, 2, 0))
        .await
        .unwrap();
    txn.commit().await.unwrap();
    assert_eq!(next, "YZ2026120300002");
    // A rolled-back filing gives its number back.
    let txn = yizhan_kit::db::begin_write(&db).await.unwrap();
    let lost = numbers::next(&txn, SERIES, utc(2026, 12, 3, 2, 0))
        .await
        .unwrap();
    assert_eq!(lost, "YZ2026120300003");
    txn.rollback().await.unwrap();
    let txn = yizhan_kit::db::begin_write(&db).await.unwrap();
    let again = numbers::next(&txn, SERIES, utc(2026, 12, 3, 4, 0))
        .await
        .unwrap();
    txn.commit().await.unwrap();
    assert_eq!(again, "YZ2026120300003");
    // The unique index is the backstop.
    insert(&db, "e", utc(2026, 12, 3, 5, 0), Some("YZ2026120300002")).await;
    let mut dup = Query::insert();
    dup.into_table(Alias::new("things"))
        .columns([
            Alias::new("id"),
            Alias::new("created_at"),
            Alias::new("number"),
        ])
        .values_panic([
            "f".into(),
            utc(2026, 12, 3, 5, 0).into(),
            "YZ2026120300002".into(),
        ]);
    let err = db.execute(&dup).await.unwrap_err();
    assert!(yizhan_kit::db::is_unique_violation(&err), "{err}");
}

async fn concurrent_filings_get_distinct_consecutive_numbers(backend: Backend) {
    let t = backend.fresh_database("numbers").await;
    let db = yizhan_kit::db::connect_and_migrate::<After>(&t.url)
        .await
        .unwrap();
    let at = utc(2026, 12, 3, 1, 0);
    let filings = (0..12).map(|i| {
        let db = db.clone();
        tokio::spawn(async move {
            let txn = yizhan_kit::db::begin_write(&db).await.unwrap();
            let number = numbers::next(&txn, SERIES, at).await.unwrap();
            insert_in(&txn, &format!("t{i}"), at, &number).await;
            txn.commit().await.unwrap();
            number
        })
    });
    let mut got: Vec<String> = futures_util::future::join_all(filings)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    got.sort();
    let want: Vec<String> = (1..=12).map(|n| format!("YZ20261203{n:05}")).collect();
    assert_eq!(got, want);
}

async fn insert_in(txn: &impl ConnectionTrait, id: &str, created: DateTime<Utc>, number: &str) {
    let mut q = Query::insert();
    q.into_table(Alias::new("things"))
        .columns([
            Alias::new("id"),
            Alias::new("created_at"),
            Alias::new("number"),
        ])
        .values_panic([id.into(), created.into(), number.into()]);
    txn.execute(&q).await.unwrap();
}

yizhan_kit::backend_tests!(
    existing_rows_are_numbered_by_creation_time_and_filings_continue,
    concurrent_filings_get_distinct_consecutive_numbers,
);
