//! 申请编号: the number a person reads, says on the phone and types into a
//! search box, e.g. `YZ2026120300012` — a series prefix, the China-local
//! day of filing and that day's sequence (five digits, wider past 99999).
//!
//! The sequence comes from one counter row per series and day
//! (`workflow_number_counters`), bumped by `INSERT … ON CONFLICT DO UPDATE
//! … RETURNING` inside the filing transaction: the row lock (PostgreSQL)
//! or the write lock `begin_write` holds (SQLite) serialises concurrent
//! filings, so each gets the next number and a rolled-back filing gives
//! its number back. A unique index on the numbered table's `number` is the
//! backstop. Because the number is taken in the filing's own transaction,
//! an idempotent replay answers the stored response and its number.
//!
//! [`NumberRows`] is the migration a service adds for its table: it
//! creates the counters, adds the column, numbers the rows already there
//! (by creation time, then id, so every database numbers them the same
//! way) and adds the unique index.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::{Expr, OnConflict, Query};
use sea_orm::{ConnectionTrait, DbErr, Statement};
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The counters' table.
const COUNTERS: &str = "workflow_number_counters";

/// One service's numbers: its prefix and the table whose rows carry them
/// (in a `number` column).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Series {
    /// Two capital letters, e.g. `YZ`.
    pub prefix: &'static str,
    /// The numbered table.
    pub table: &'static str,
}

/// The number `seq` of `day` in the series with `prefix`.
pub fn format(prefix: &str, day: NaiveDate, seq: i64) -> String {
    format!("{prefix}{}{seq:05}", day.format("%Y%m%d"))
}

/// The China-local day of `at`: a number says the day the applicant saw
/// on the wall clock when filing.
fn local_day(at: DateTime<Utc>) -> NaiveDate {
    yizhan_approval::calendar::china_local(at).date()
}

/// Takes the next number of `series` for a filing at `at`, in the caller's
/// transaction (begun with `begin_write`).
pub async fn next(
    txn: &impl ConnectionTrait,
    series: Series,
    at: DateTime<Utc>,
) -> Result<String, DbErr> {
    let day = local_day(at);
    let key = day.format("%Y%m%d").to_string();
    let last = (Alias::new(COUNTERS), Alias::new("last"));
    let stmt = Query::insert()
        .into_table(Alias::new(COUNTERS))
        .columns([Alias::new("prefix"), Alias::new("day"), Alias::new("last")])
        .values_panic([series.prefix.into(), key.into(), 1i64.into()])
        .on_conflict(
            OnConflict::columns([Alias::new("prefix"), Alias::new("day")])
                .value(Alias::new("last"), Expr::col(last).add(1))
                .to_owned(),
        )
        .returning_col(Alias::new("last"))
        .to_owned();
    let row = txn
        .query_one(&stmt)
        .await?
        .ok_or_else(|| DbErr::Custom("number counter returned no row".into()))?;
    let seq: i64 = row.try_get("", "last")?;
    Ok(format(series.prefix, day, seq))
}

/// The migration that numbers `series.table`: counters, the `number`
/// column, numbers for the rows already there, and the unique index
/// `<table>_number`.
pub struct NumberRows {
    /// The migration's name (each service's own, in its order).
    pub name: &'static str,
    /// What it numbers.
    pub series: Series,
}

impl MigrationName for NumberRows {
    fn name(&self) -> &str {
        self.name
    }
}

#[async_trait::async_trait]
impl MigrationTrait for NumberRows {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(COUNTERS)
                    .if_not_exists()
                    .col(string("prefix"))
                    .col(string("day"))
                    .col(big_integer("last"))
                    .primary_key(Index::create().col("prefix").col("day"))
                    .to_owned(),
            )
            .await?;
        let table = self.series.table;
        // Empty until numbered just below; SQLite adds a NOT NULL column
        // only with a default.
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new(table))
                    .add_column(string("number").default(""))
                    .to_owned(),
            )
            .await?;
        let db = manager.get_connection();
        let backend = db.get_database_backend();
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                format!("SELECT id, created_at FROM {table} ORDER BY created_at, id"),
            ))
            .await?;
        let mut day_seq: Vec<(NaiveDate, i64)> = Vec::new();
        for row in rows {
            let id: String = row.try_get("", "id")?;
            let created: DateTime<Utc> = row.try_get("", "created_at")?;
            let day = local_day(created);
            let seq = match day_seq.iter_mut().find(|(d, _)| *d == day) {
                Some((_, n)) => {
                    *n += 1;
                    *n
                }
                None => {
                    day_seq.push((day, 1));
                    1
                }
            };
            let update = Query::update()
                .table(Alias::new(table))
                .value(Alias::new("number"), format(self.series.prefix, day, seq))
                .and_where(Expr::col(Alias::new("id")).eq(id))
                .to_owned();
            db.execute(&update).await?;
        }
        for (day, seq) in day_seq {
            let insert = Query::insert()
                .into_table(Alias::new(COUNTERS))
                .columns([Alias::new("prefix"), Alias::new("day"), Alias::new("last")])
                .values_panic([
                    self.series.prefix.into(),
                    day.format("%Y%m%d").to_string().into(),
                    seq.into(),
                ])
                .to_owned();
            db.execute(&insert).await?;
        }
        manager
            .create_index(
                Index::create()
                    .name(format!("{table}_number"))
                    .table(Alias::new(table))
                    .col(Alias::new("number"))
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_prefix_local_day_and_five_digit_sequence() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        assert_eq!(format("YZ", day, 12), "YZ2026120300012");
        assert_eq!(format("GC", day, 123_456), "GC20261203123456");
        // 23:30 UTC is already the next day in China.
        let late: DateTime<Utc> = "2026-12-02T23:30:00Z".parse().unwrap();
        assert_eq!(local_day(late), day);
    }
}
