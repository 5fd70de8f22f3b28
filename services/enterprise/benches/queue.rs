//! The department queue of 诉求 at 1,000,000 requests: p99 under 10 ms is
//! the target (docs/BENCHMARKS.md).
//!
//! `cargo bench -p yizhan-enterprise --bench queue [-- --requests N --reads R]`
//! seeds a fresh SQLite database (the service's own migrations) in bulk
//! with N requests over 20 departments, a realistic mix of statuses (most
//! closed, the rest in the queues, some paused), then reads R pages (50
//! rows) of rotating departments' queues through the store, each
//! department's walking deeper by its cursor (back to the first page at
//! the end), and prints the median, p99 and max, and the query plans of a
//! first page and of a page after a cursor.

use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, DatabaseConnection, QueryTrait, Statement};
use yizhan_enterprise::Migrator;
use yizhan_enterprise::store::requests::queries;

const DEPARTMENTS: usize = 20;

/// SplitMix64, so every run seeds the same rows.
struct Seed(u64);

impl Seed {
    fn next(&mut self, below: u64) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        (z ^ (z >> 31)) % below
    }
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn seed(db: &DatabaseConnection, n: usize) {
    let mut seed = Seed(20261203);
    let backend = db.get_database_backend();
    let batch = 500;
    let mut done = 0;
    while done < n {
        let mut values = Vec::with_capacity(batch);
        for i in done..(done + batch).min(n) {
            let dept = seed.next(DEPARTMENTS as u64);
            // 70 % closed, 10 % dispatched, 15 % in handling, 5 % waiting.
            let (status, in_queue, paused) = match seed.next(100) {
                0..70 => ("closed", false, false),
                70..80 => ("dispatched", true, false),
                80..95 => ("in_handling", true, false),
                _ => ("awaiting_enterprise", true, true),
            };
            let due = if paused || !in_queue {
                "9999-12-31 pm".to_owned()
            } else {
                format!(
                    "2026-{:02}-{:02} {}",
                    10 + seed.next(3),
                    1 + seed.next(28),
                    if seed.next(2) == 0 { "am" } else { "pm" }
                )
            };
            // As the service stores it (RFC 3339 with "+00:00"): the
            // queue's cursor compares `filed_at` as stored.
            let filed = format!(
                "2026-{:02}-{:02}T{:02}:{:02}:00+00:00",
                1 + seed.next(11),
                1 + seed.next(28),
                seed.next(24),
                seed.next(60)
            );
            values.push(format!(
                "('{i:012}', '91350100M000{:06}', 'finance', 'gaoxintong', '诉求', '[]', 'seed', 'applicant', \
                 '{status}', 1, 'dept_{dept:02}', '部门{dept}', 5, '{filed}', NULL, NULL, '[]', {}, {}, '{due}', \
                 NULL, NULL, NULL, {}, NULL, NULL, NULL, 0, '{filed}')",
                i % 1_000_000,
                if in_queue { "TRUE" } else { "FALSE" },
                if paused { "TRUE" } else { "FALSE" },
                "FALSE",
            ));
        }
        done += values.len();
        db.execute_raw(Statement::from_string(
            backend,
            format!(
                "INSERT INTO enterprise_requests (id, enterprise_uscc, category, channel, description, \
                 attachments, filed_by, filed_role, status, round, department_code, department_name, \
                 answer_limit_days, filed_at, clock_kind, clock_started_at, clock_events, in_queue, paused, \
                 due_key, next_alarm_key, warned_at, overdue_notified_at, answered_late, handling_half_days, \
                 answer, satisfaction, transfers, updated_at) VALUES {}",
                values.join(", ")
            ),
        ))
        .await
        .unwrap();
    }
}

fn main() {
    let requests = arg("--requests", 1_000_000);
    let reads = arg("--reads", 2_000);
    actix_web::rt::System::new().block_on(async move {
        let path = std::env::temp_dir().join("yizhan-enterprise-queue-bench.db");
        let _ = std::fs::remove_file(&path);
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let db = yizhan_kit::db::connect_and_migrate::<Migrator>(&url)
            .await
            .unwrap();
        let started = Instant::now();
        seed(&db, requests).await;
        db.execute_raw(Statement::from_string(db.get_database_backend(), "ANALYZE"))
            .await
            .unwrap();
        println!("seeded {requests} requests in {:.1?}", started.elapsed());
        let first = queries::queue(&db, "dept_00", None, 50).await.unwrap();
        let after = first.last().map(queries::queue_position);
        for (what, after) in [("first page", None), ("after a cursor", after)] {
            let plan_sql = queries::queue_select("dept_00", after, 50)
                .build(db.get_database_backend())
                .to_string();
            let plan = db
                .query_all_raw(Statement::from_string(
                    db.get_database_backend(),
                    format!("EXPLAIN QUERY PLAN {plan_sql}"),
                ))
                .await
                .unwrap();
            for row in plan {
                let detail: String = row.try_get("", "detail").unwrap_or_default();
                println!("plan ({what}): {detail}");
            }
        }
        let mut times: Vec<Duration> = Vec::with_capacity(reads);
        let mut rows = 0;
        let mut cursors: Vec<Option<queries::QueuePosition>> = vec![None; DEPARTMENTS];
        for i in 0..reads {
            let dept = format!("dept_{:02}", i % DEPARTMENTS);
            let cursor = &mut cursors[i % DEPARTMENTS];
            let t = Instant::now();
            let page = queries::queue(&db, &dept, cursor.take(), 50).await.unwrap();
            times.push(t.elapsed());
            rows += page.len();
            *cursor = page.last().map(queries::queue_position);
        }
        times.sort_unstable();
        let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).saturating_sub(1)];
        println!(
            "{reads} queue reads (50 rows, {} avg): median {:.2?}, p99 {:.2?}, max {:.2?}",
            rows / reads.max(1),
            at(0.5),
            at(0.99),
            times[times.len() - 1]
        );
        let _ = std::fs::remove_file(&path);
    });
}
