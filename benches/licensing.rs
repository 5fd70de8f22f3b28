//! Licensing benchmark (issue 4): the whole in-process stack (licensing and
//! document services through `yizhan::Stack`, the embedded Kafka broker,
//! real HTTP) on SQLite, or on PostgreSQL when `YIZHAN_BENCH_DATABASE_URL`
//! names an admin URL (a fresh database per service and run).
//!
//! 1. Hotel submissions: `POST /api/v1/applications` with the full merged
//!    form from several clients for a fixed time; every submission
//!    references materials uploaded once to the document service, which the
//!    licensing service looks up per request.
//! 2. The department queue with `YIZHAN_BENCH_TASKS` (default 1,000,000)
//!    rows in `workflow_tasks`, bulk-inserted directly into the service's database:
//!    `GET /api/v1/tasks` (first page and following `next_cursor`), with
//!    the query plan of the store's queue query.
//! 3. Acceptance to licence: accept at the window, approve the six items as
//!    each department's reviewer, poll until `licence_issued` (the
//!    certificate round trip licensing -> Kafka -> document -> Kafka ->
//!    licensing).
//!
//! ```sh
//! cargo bench -p yizhan-licensing --bench licensing                                  # SQLite
//! YIZHAN_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \
//!   cargo bench -p yizhan-licensing --bench licensing                                # PostgreSQL
//! YIZHAN_BENCH_TASKS=100000 cargo bench -p yizhan-licensing --bench licensing -- \
//!   --clients 8 --secs 20 --queries 500 --pages 5 --issue 20
//! ```

use std::time::{Duration, Instant};

use base64::Engine;
use chrono::{Days, NaiveDate, NaiveTime, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, QueryTrait,
    Statement, TransactionTrait,
};
use serde_json::{Map, Value, json};
use tokio_util::sync::CancellationToken;
use yizhan::{Service, Stack, StackSettings};
use yizhan_approval::{Status, WorkingTime};
use yizhan_auth::{Role, TokenRequest};
use yizhan_kit::testing::{Backend, TestDatabase};
use yizhan_licensing::store::{status_name, task};

/// Admin URL of the PostgreSQL server to benchmark on (unset: SQLite).
const DATABASE_URL_ENV: &str = "YIZHAN_BENCH_DATABASE_URL";
/// Rows to put in `workflow_tasks` for the queue benchmark.
const TASKS_ENV: &str = "YIZHAN_BENCH_TASKS";
/// The benchmark enterprise.
const USCC: &str = "91350100M000100Y43";
const ISSUER: &str = "yizhan-bench";
const AUDIENCE: &str = "yizhan";
/// Rows per INSERT statement (24 columns: under SQLite's 32,766 variables).
const ROWS_PER_INSERT: usize = 1_000;
/// Rows per transaction of the fill.
const ROWS_PER_TXN: usize = 50_000;

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The `p`-quantile of sorted milliseconds.
fn quantile(sorted_ms: &[f64], p: f64) -> f64 {
    if sorted_ms.is_empty() {
        return f64::NAN;
    }
    sorted_ms[((sorted_ms.len() - 1) as f64 * p).round() as usize]
}

/// `p50 …, p99 …, max …` of unsorted milliseconds.
fn summary(ms: &mut [f64]) -> String {
    ms.sort_by(f64::total_cmp);
    format!(
        "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (n = {})",
        quantile(ms, 0.5),
        quantile(ms, 0.99),
        quantile(ms, 1.0),
        ms.len()
    )
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn hotel_answers() -> Value {
    json!({"serves_food": true, "floor_area_m2": 1200, "hosts_performances": true})
}

/// Licensing and document services with the embedded broker.
struct Bench {
    client: reqwest::Client,
    secret: Vec<u8>,
    licensing: String,
    document: String,
    /// The licensing service's database.
    licensing_db: String,
    cancel: CancellationToken,
    waiter: tokio::task::JoinHandle<anyhow::Result<()>>,
    _databases: Vec<TestDatabase>,
    _dir: tempfile::TempDir,
}

impl Bench {
    async fn start(backend: &Backend) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let secret: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
        let mut settings = StackSettings::default();
        settings.common.data_dir = dir.path().to_path_buf();
        settings.common.auth.issuer = ISSUER.into();
        settings.common.auth.audience = AUDIENCE.into();
        settings.common.auth.hs256_secret =
            Some(base64::engine::general_purpose::STANDARD.encode(&secret));
        settings.common.http.shutdown_timeout_secs = 1;
        let licensing_db = backend.fresh_database("licensing").await;
        let document_db = backend.fresh_database("document").await;
        let s = &mut settings.services;
        s.licensing.port = 0;
        s.document.port = 0;
        s.licensing.database_url = Some(licensing_db.url.clone());
        s.document.database_url = Some(document_db.url.clone());
        let cancel = CancellationToken::new();
        let stack = Stack::start(
            &[Service::Document, Service::Licensing],
            &settings,
            cancel.clone(),
        )
        .await
        .expect("stack starts");
        let url = |service| format!("http://127.0.0.1:{}", stack.port(service).unwrap());
        let (licensing, document) = (url(Service::Licensing), url(Service::Document));
        Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            secret,
            licensing,
            document,
            licensing_db: licensing_db.url.clone(),
            cancel,
            waiter: tokio::spawn(stack.wait()),
            _databases: vec![licensing_db, document_db],
            _dir: dir,
        }
    }

    fn token(&self, sub: &str, role: Role, uscc: Option<&str>, dept: Option<&str>) -> String {
        yizhan_auth::mint_hs256(
            &self.secret,
            ISSUER,
            AUDIENCE,
            &TokenRequest {
                sub: sub.into(),
                roles: vec![role],
                uscc: uscc.map(str::to_owned),
                dept: dept.map(str::to_owned),
                ttl_secs: 4 * 3600,
                ..Default::default()
            },
        )
    }

    fn reviewer(&self, dept: &str) -> String {
        self.token(
            &format!("reviewer-{dept}"),
            Role::DeptReviewer,
            None,
            Some(dept),
        )
    }

    async fn post_json(&self, url: &str, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(url)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    async fn stop(self) {
        self.cancel.cancel();
        self.waiter.await.unwrap().unwrap();
    }
}

/// The body of a 2xx answer as JSON; panics with the body otherwise.
async fn json_ok(response: reqwest::Response, status: u16) -> Value {
    let got = response.status().as_u16();
    let body = response.text().await.unwrap();
    assert_eq!(got, status, "body: {body}");
    serde_json::from_str(&body).unwrap()
}

/// Uploads one small PDF per material of the hotel notice and answers the
/// `materials` object of a submission.
async fn upload_materials(bench: &Bench, applicant: &str, notice: &Value) -> Map<String, Value> {
    let mut materials = Map::new();
    for m in notice["materials"].as_array().unwrap() {
        let code = m["code"].as_str().unwrap();
        // The material's own type where the document service knows it.
        let mut answer = None;
        for kind in [code, "floor_plan"] {
            let mut bytes = format!("%PDF-1.7\n% {code}\n").into_bytes();
            bytes.resize(64 * 1024, b' ');
            let form = reqwest::multipart::Form::new()
                .text("material_type", kind.to_owned())
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(bytes).file_name(format!("{code}.pdf")),
                );
            let r = bench
                .client
                .post(format!("{}/api/v1/materials", bench.document))
                .bearer_auth(applicant)
                .multipart(form)
                .send()
                .await
                .unwrap();
            if r.status() != 422 {
                answer = Some(json_ok(r, 201).await);
                break;
            }
        }
        let id = answer.expect("material uploaded")["id"].clone();
        materials.insert(code.to_owned(), id);
    }
    materials
}

/// Part 1: hotel submissions from `clients` clients for `secs` seconds.
/// Answers the ids of the submitted applications.
async fn submissions(bench: &Bench, clients: usize, secs: u64) -> Vec<String> {
    let applicant = bench.token("bench-applicant", Role::Applicant, Some(USCC), None);
    let notice = json_ok(
        bench
            .client
            .post(format!("{}/api/v1/notices", bench.licensing))
            .json(&json!({"scenario": "hotel", "answers": hotel_answers()}))
            .send()
            .await
            .unwrap(),
        200,
    )
    .await;
    let materials = upload_materials(bench, &applicant, &notice).await;
    let distinct: std::collections::BTreeSet<String> =
        materials.values().map(|v| v.to_string()).collect();
    let body = json!({
        "scenario": "hotel",
        "answers": hotel_answers(),
        "enterprise_uscc": USCC,
        "form": yizhan_licensing::seed::sample_hotel_form(),
        "materials": materials,
    });
    println!(
        "hotel submissions: {} items, {} form fields, {} materials ({} documents checked per submission), {clients} clients, {secs} s",
        notice["items"].as_array().unwrap().len(),
        body["form"].as_object().unwrap().len(),
        materials.len(),
        distinct.len(),
    );
    let url = format!("{}/api/v1/applications", bench.licensing);
    // Warm-up, untimed: connections, caches, the first outbox relay round.
    for _ in 0..clients {
        json_ok(bench.post_json(&url, &applicant, &body).await, 201).await;
    }
    let started = Instant::now();
    let until = started + Duration::from_secs(secs);
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..clients {
        let client = bench.client.clone();
        let (url, token, body) = (url.clone(), applicant.clone(), body.clone());
        workers.spawn(async move {
            let mut done = Vec::new();
            while Instant::now() < until {
                let t = Instant::now();
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let app = json_ok(r, 201).await;
                done.push((millis(t.elapsed()), app["id"].as_str().unwrap().to_owned()));
            }
            done
        });
    }
    let mut latencies = Vec::new();
    let mut ids = Vec::new();
    while let Some(done) = workers.join_next().await {
        for (ms, id) in done.unwrap() {
            latencies.push(ms);
            ids.push(id);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "  {} submissions in {elapsed:.1} s: {:.1} submissions/s, {}",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        summary(&mut latencies)
    );
    ids.sort();
    ids
}

/// One generated queue row.
fn filler_task(
    rng: &mut StdRng,
    items: &[yizhan_licensing::domain::catalog::Item],
    departments: &[(String, String)],
    application_id: &str,
    today: NaiveDate,
    now: chrono::DateTime<Utc>,
) -> task::ActiveModel {
    let item = &items[rng.random_range(0..items.len())];
    let department_name = departments
        .iter()
        .find(|(code, _)| *code == item.department)
        .map(|(_, name)| name.clone())
        .unwrap_or_default();
    // Mostly history (decided), a quarter still in review, some paused.
    let status = match rng.random_range(0..100) {
        0..50 => Status::Approved,
        50..75 => Status::InReview,
        75..80 => Status::Rejected,
        80..85 => Status::ApprovedWithTolerance,
        85..90 => Status::SupplementRequested,
        90..95 => Status::SpecialProcedure,
        _ => Status::Withdrawn,
    };
    let open = matches!(
        status,
        Status::InReview | Status::SupplementRequested | Status::SpecialProcedure
    );
    // Open work falls due from ten days ago to a month ahead; decided work
    // fell due over the last two years.
    let due = if open {
        today + Days::new(rng.random_range(0..40)) - Days::new(10)
    } else {
        today - Days::new(rng.random_range(1..730))
    };
    let committed: WorkingTime = item.committed_limit;
    let accepted_on = due - Days::new((committed.half_days() as u64).div_ceil(2) * 7 / 5 + 1);
    let accepted_at = accepted_on.and_time(NaiveTime::from_hms_opt(9, 30, 0).unwrap());
    let decided = !open;
    let id = uuid::Uuid::now_v7().to_string();
    task::ActiveModel {
        id: Set(id.clone()),
        subject_id: Set(application_id.to_owned()),
        case_id: Set(application_id.to_owned()),
        enterprise_uscc: Set(USCC.into()),
        item_code: Set(item.code.clone()),
        item_name: Set(item.name.clone()),
        department_code: Set(item.department.clone()),
        department_name: Set(department_name),
        status: Set(status_name(status)),
        blzt: Set(i32::from(status.code())),
        statutory_half_days: Set(item.statutory_limit.half_days()),
        committed_half_days: Set(committed.half_days()),
        accepted_at: Set(accepted_at),
        clock_events: Set("[]".into()),
        due_key: Set(format!(
            "{due} {}",
            if rng.random_bool(0.5) { "am" } else { "pm" }
        )),
        permit_number: Set(decided.then(|| format!("XK-BENCH-{}", &id[24..]))),
        reasons: Set((status == Status::Rejected).then(|| "材料与现场不符".to_owned())),
        decided_by: Set(decided.then(|| format!("reviewer-{}", item.department))),
        decided_at: Set(decided.then_some(now)),
        created_at: Set(now),
        supplement_request: Set(None),
        // No pending alarms: the deadline job would otherwise work through
        // every overdue filler row during the measurements.
        next_alarm_key: Set(None),
        warned_at: Set(None),
        overdue_notified_at: Set(None),
        used_half_days: Set(decided.then(|| rng.random_range(0..=committed.half_days()))),
    }
}

/// Bulk-inserts `rows` tasks in large batches inside transactions.
async fn fill_tasks(db: &DatabaseConnection, rows: usize) {
    let catalog = yizhan_licensing::seed::catalog();
    let departments: Vec<(String, String)> = catalog
        .departments
        .iter()
        .map(|d| (d.code.clone(), d.name.clone()))
        .collect();
    let mut rng = StdRng::seed_from_u64(4);
    let today = Utc::now().date_naive();
    let now = Utc::now();
    let started = Instant::now();
    let mut inserted = 0;
    let mut application_id = String::new();
    while inserted < rows {
        let txn = if db.get_database_backend() == DbBackend::Sqlite {
            yizhan_kit::db::begin_write(db).await.unwrap()
        } else {
            db.begin().await.unwrap()
        };
        let txn_rows = ROWS_PER_TXN.min(rows - inserted);
        let mut done = 0;
        while done < txn_rows {
            let n = ROWS_PER_INSERT.min(txn_rows - done);
            let batch: Vec<task::ActiveModel> = (0..n)
                .map(|i| {
                    // Six items per application, as the hotel has.
                    if (inserted + done + i) % 6 == 0 {
                        application_id = uuid::Uuid::now_v7().to_string();
                    }
                    filler_task(
                        &mut rng,
                        &catalog.items,
                        &departments,
                        &application_id,
                        today,
                        now,
                    )
                })
                .collect();
            task::Entity::insert_many(batch)
                .exec_without_returning(&txn)
                .await
                .unwrap();
            done += n;
        }
        txn.commit().await.unwrap();
        inserted += txn_rows;
        if inserted % 200_000 == 0 || inserted == rows {
            println!(
                "  filled {inserted} rows, {:.0} s",
                started.elapsed().as_secs_f64()
            );
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "  fill: {rows} rows in {secs:.1} s ({:.0} rows/s; {ROWS_PER_INSERT} rows per INSERT, {ROWS_PER_TXN} per transaction)",
        rows as f64 / secs
    );
}

/// The store's queue query (`store::queue`), for EXPLAIN.
fn queue_statement(backend: DbBackend, dept: &str, after: Option<(String, String)>) -> Statement {
    yizhan_licensing::store::queue_select(dept, Status::InReview, after, 21).build(backend)
}

/// The queue position (`due_key`, `id`) of the `offset`-th in-review task
/// of `dept`: the cursor of the page after it.
async fn position_at(db: &DatabaseConnection, dept: &str, offset: i64) -> Option<(String, String)> {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        format!(
            "SELECT due_key, id FROM workflow_tasks WHERE department_code = '{dept}' \
             AND status = 'in_review' ORDER BY due_key, id LIMIT 1 OFFSET {offset}"
        ),
    ))
    .await
    .unwrap()
    .map(|r| {
        (
            r.try_get_by_index::<String>(0).unwrap(),
            r.try_get_by_index::<String>(1).unwrap(),
        )
    })
}

/// Prints the plan of the queue query at each position and whether
/// `tasks_queue` serves it.
async fn explain_queue(
    db: &DatabaseConnection,
    dept: &str,
    positions: Vec<(String, Option<(String, String)>)>,
) {
    let backend = db.get_database_backend();
    for (label, after) in positions {
        let statement = queue_statement(backend, dept, after);
        let (prefix, column) = match backend {
            DbBackend::Sqlite => ("EXPLAIN QUERY PLAN", 3),
            _ => ("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF)", 0),
        };
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                format!("{prefix} {statement}"),
            ))
            .await
            .unwrap();
        let plan: Vec<String> = rows
            .iter()
            .map(|r| r.try_get_by_index::<String>(column).unwrap())
            .collect();
        println!(
            "  plan ({label}, {dept}): served by tasks_queue: {}",
            if plan.iter().any(|l| l.contains("tasks_queue")) {
                "yes"
            } else {
                "NO"
            }
        );
        for line in plan {
            println!("    {line}");
        }
    }
}

/// Part 2: fill `workflow_tasks`, then time the department queue.
async fn queue(bench: &Bench, rows: usize, queries: usize, pages: usize, clients: usize) {
    println!("queue: {rows} filler tasks in `workflow_tasks`, limit 20, status in_review");
    let db = yizhan_kit::db::connect(&bench.licensing_db).await.unwrap();
    fill_tasks(&db, rows).await;
    if db.get_database_backend() == DbBackend::Postgres {
        // What autovacuum would have done by the time a table holds this
        // much; without statistics the planner guesses.
        let t = Instant::now();
        db.execute_unprepared("ANALYZE workflow_tasks")
            .await
            .unwrap();
        println!(
            "  ANALYZE workflow_tasks: {:.1} s",
            t.elapsed().as_secs_f64()
        );
    }
    let counts = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT department_code, COUNT(*) FROM tasks WHERE status = 'in_review' \
             GROUP BY department_code ORDER BY 2 DESC",
        ))
        .await
        .unwrap();
    let in_review: Vec<(String, i64)> = counts
        .iter()
        .map(|r| {
            (
                r.try_get_by_index::<String>(0).unwrap(),
                r.try_get_by_index::<i64>(1).unwrap(),
            )
        })
        .collect();
    println!(
        "  in_review per department: {}",
        in_review
            .iter()
            .map(|(d, n)| format!("{d} {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    // The largest queue: its first page, page 4, and a page half-way down.
    let (big, big_len) = in_review[0].clone();
    let deep_row = big_len / 2;
    let deep = position_at(&db, &big, deep_row).await;
    explain_queue(
        &db,
        &big,
        vec![
            ("first page".into(), None),
            ("page 4".into(), position_at(&db, &big, 59).await),
            (format!("after row {deep_row}"), deep.clone()),
        ],
    )
    .await;
    db.close().await.ok();

    let depts: Vec<String> = in_review.iter().map(|(d, _)| d.clone()).collect();
    let tokens: Vec<String> = depts.iter().map(|d| bench.reviewer(d)).collect();
    let url = format!("{}/api/v1/tasks", bench.licensing);
    // One walk: the first page, then `pages - 1` pages by `next_cursor`.
    let walk = move |client: reqwest::Client, token: String, url: String| async move {
        let mut times = Vec::with_capacity(pages);
        let mut cursor: Option<String> = None;
        for _ in 0..pages {
            // Cursors are URL-safe base64: no escaping needed.
            let page_url = match &cursor {
                Some(c) => format!("{url}?limit=20&cursor={c}"),
                None => format!("{url}?limit=20"),
            };
            let request = client.get(page_url).bearer_auth(&token);
            let t = Instant::now();
            let page = json_ok(request.send().await.unwrap(), 200).await;
            times.push(millis(t.elapsed()));
            assert!(!page["items"].as_array().unwrap().is_empty(), "{page}");
            cursor = page["next_cursor"].as_str().map(str::to_owned);
            if cursor.is_none() {
                break;
            }
        }
        times
    };
    // Warm-up.
    for token in &tokens {
        walk(bench.client.clone(), token.clone(), url.clone()).await;
    }
    // One client: latency.
    let mut first = Vec::new();
    let mut later = Vec::new();
    let started = Instant::now();
    for n in 0..queries {
        let times = walk(
            bench.client.clone(),
            tokens[n % tokens.len()].clone(),
            url.clone(),
        )
        .await;
        first.push(times[0]);
        later.extend_from_slice(&times[1..]);
    }
    let requests = first.len() + later.len();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "  1 client, {queries} walks of {pages} pages over {} departments: {:.0} requests/s",
        depts.len(),
        requests as f64 / secs
    );
    println!("    first page:           {}", summary(&mut first));
    println!("    pages 2-{pages} (cursor):   {}", summary(&mut later));
    // Several clients: throughput.
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for c in 0..clients {
        let (client, url) = (bench.client.clone(), url.clone());
        let tokens = tokens.clone();
        workers.spawn(async move {
            let mut all = Vec::new();
            for n in (c..queries).step_by(clients) {
                all.extend(
                    walk(
                        client.clone(),
                        tokens[n % tokens.len()].clone(),
                        url.clone(),
                    )
                    .await,
                );
            }
            all
        });
    }
    let mut all = Vec::new();
    while let Some(times) = workers.join_next().await {
        all.extend(times.unwrap());
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "  {clients} clients, same walks: {:.0} requests/s, {}",
        all.len() as f64 / secs,
        summary(&mut all)
    );
    // A reviewer half-way down the largest queue (a cursor as the service
    // mints them), one client.
    if let Some(position) = deep {
        let page_url = format!(
            "{url}?limit=20&cursor={}",
            yizhan_kit::pagination::encode_cursor(&position)
        );
        let token = bench.reviewer(&big);
        let mut times = Vec::with_capacity(queries);
        for _ in 0..queries {
            let t = Instant::now();
            let page = json_ok(
                bench
                    .client
                    .get(&page_url)
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap(),
                200,
            )
            .await;
            times.push(millis(t.elapsed()));
            assert_eq!(page["items"].as_array().unwrap().len(), 20, "{page}");
        }
        println!(
            "  1 client, the page after row {deep_row} of {big_len} ({big}): {}",
            summary(&mut times)
        );
    }
}

/// Part 3: acceptance to licence for `count` submitted applications, one
/// after another.
async fn issue(bench: &Bench, ids: &[String], count: usize) {
    let clerk = bench.token("bench-clerk", Role::WindowClerk, None, None);
    let applicant = bench.token("bench-applicant", Role::Applicant, Some(USCC), None);
    let mut totals = Vec::new();
    let mut accepts = Vec::new();
    let mut approvals = Vec::new();
    let mut waits = Vec::new();
    println!(
        "acceptance -> licence_issued: {count} applications in turn, six approvals each, polling every 10 ms"
    );
    for (n, id) in ids.iter().take(count).enumerate() {
        let app_url = format!("{}/api/v1/applications/{id}", bench.licensing);
        let t0 = Instant::now();
        let accepted = json_ok(
            bench
                .post_json(
                    &format!("{app_url}/intake"),
                    &clerk,
                    &json!({"decision": "accept"}),
                )
                .await,
            200,
        )
        .await;
        let t1 = Instant::now();
        let tasks = accepted["tasks"].as_array().unwrap();
        assert_eq!(tasks.len(), 6, "{accepted}");
        for (k, t) in tasks.iter().enumerate() {
            let dept = t["department_code"].as_str().unwrap();
            let decided = json_ok(
                bench
                    .post_json(
                        &format!("{}/api/v1/tasks/{}/decision", bench.licensing, t["id"].as_str().unwrap()),
                        &bench.reviewer(dept),
                        &json!({"decision": "approve", "permit_number": format!("XK-2026-{n:04}-{k}")}),
                    )
                    .await,
                200,
            )
            .await;
            assert_eq!(decided["status"], "approved", "{decided}");
        }
        let t2 = Instant::now();
        let deadline = t2 + Duration::from_secs(60);
        loop {
            let app = json_ok(
                bench
                    .client
                    .get(&app_url)
                    .bearer_auth(&applicant)
                    .send()
                    .await
                    .unwrap(),
                200,
            )
            .await;
            if app["status"] == "licence_issued" {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no licence within 60 s: {}",
                app["status"]
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let t3 = Instant::now();
        accepts.push(millis(t1 - t0));
        approvals.push(millis(t2 - t1));
        waits.push(millis(t3 - t2));
        totals.push(millis(t3 - t0));
    }
    let sum = |v: &[f64]| v.iter().sum::<f64>();
    let total = sum(&totals);
    println!("  acceptance -> licence_issued: {}", summary(&mut totals));
    println!(
        "    accept request:       {} ({:.0}% of the time)",
        summary(&mut accepts),
        100.0 * sum(&accepts) / total
    );
    println!(
        "    six approvals:        {} ({:.0}%)",
        summary(&mut approvals),
        100.0 * sum(&approvals) / total
    );
    println!(
        "    certificate via Kafka: {} ({:.0}%)",
        summary(&mut waits),
        100.0 * sum(&waits) / total
    );
}

#[tokio::main]
async fn main() {
    let clients = arg("--clients", 8);
    let secs = arg("--secs", 20) as u64;
    let queries = arg("--queries", 500);
    let pages = arg("--pages", 5).max(1);
    let count = arg("--issue", 20);
    let rows: usize = std::env::var(TASKS_ENV)
        .ok()
        .map(|v| {
            v.replace('_', "")
                .parse()
                .expect("YIZHAN_BENCH_TASKS is a number")
        })
        .unwrap_or(1_000_000);
    let (backend, label) = match std::env::var(DATABASE_URL_ENV)
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        Some(url) => (Backend::Postgres(url), "PostgreSQL"),
        None => (Backend::Sqlite, "SQLite"),
    };
    println!("licensing benchmark on {label}");
    let bench = Bench::start(&backend).await;
    let ids = submissions(&bench, clients, secs).await;
    assert!(ids.len() >= count, "fewer submissions than --issue");
    queue(&bench, rows, queries, pages, clients).await;
    issue(&bench, &ids, count).await;
    bench.stop().await;
}
