//! Construction benchmark: stage submissions per second with their latency,
//! and the department queue's latency with a million tasks in the table.
//! The construction service runs in-process with the embedded broker, on
//! SQLite (default) or a fresh PostgreSQL database (`--postgres`, using
//! `YIZHAN_TEST_DATABASE_URL`), driven over real HTTP.
//!
//! ```sh
//! cargo bench -p yizhan-construction --bench stages                       # SQLite, 2,000 submissions, 1M tasks
//! cargo bench -p yizhan-construction --bench stages -- --postgres         # PostgreSQL
//! cargo bench -p yizhan-construction --bench stages -- --projects 5000 --clients 16 --tasks 200000 --queries 10000
//! ```

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use chrono::{Days, NaiveDate, Utc};
use rand::Rng;
use sea_orm::{ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use yizhan_approval::Status;
use yizhan_auth::{AuthConfig, AuthMode, Authenticator, Role, TokenRequest};
use yizhan_construction::store::{status_name, task_detail};
use yizhan_events::broker::EmbeddedBroker;
use yizhan_events::outbox::RelayConfig;
use yizhan_events::runtime::Backbone;
use yizhan_kit::settings::CommonSettings;
use yizhan_kit::testing::Backend;
use yizhan_workflow::task_row as task;

const USCC: &str = "91350100M000100Y43";
const SECRET: &[u8] = b"benchmark-secret-benchmark-secret";

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

fn token(req: TokenRequest) -> String {
    yizhan_auth::mint_hs256(SECRET, "yizhan-dev", "yizhan", &req)
}

fn quantile(sorted_ms: &[f64], p: f64) -> f64 {
    sorted_ms[((sorted_ms.len() - 1) as f64 * p).round() as usize]
}

fn report(what: &str, mut ms: Vec<f64>, wall: Duration) {
    ms.sort_by(f64::total_cmp);
    println!(
        "{what}: {} in {:.1} s = {:.0}/s; p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms.len(),
        wall.as_secs_f64(),
        ms.len() as f64 / wall.as_secs_f64(),
        quantile(&ms, 0.5),
        quantile(&ms, 0.99),
        ms.last().copied().unwrap_or_default(),
    );
}

/// Runs `count` jobs from `clients` concurrent workers; answers each job's
/// latency in ms and the wall time.
async fn drive<F, Fut>(count: usize, clients: usize, job: F) -> (Vec<f64>, Duration)
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let job = Arc::new(job);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..clients {
        let job = job.clone();
        let next = next.clone();
        workers.push(tokio::spawn(async move {
            let mut ms = Vec::new();
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= count {
                    return ms;
                }
                let t = Instant::now();
                job(i).await;
                ms.push(t.elapsed().as_secs_f64() * 1000.0);
            }
        }));
    }
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.unwrap());
    }
    (all, started.elapsed())
}

async fn check(response: reqwest::Response, status: u16) -> Value {
    let got = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap()
}

/// Fills the tasks table up to `total` rows straight through the entity:
/// 13 departments, one task in twenty still in review, committed deadlines
/// spread over a year, in batches of 500.
async fn fill_tasks(db: &DatabaseConnection, total: usize) {
    let departments = [
        "development_reform",
        "natural_resources",
        "housing",
        "fire_review",
        "civil_air_defence",
        "ecology",
        "water",
        "urban_management",
        "transport",
        "meteorology",
        "heritage",
        "archives",
        "quality_supervision",
    ];
    let have = task::Entity::find().count(db).await.unwrap() as usize;
    let start = NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let accepted = start.and_hms_opt(9, 0, 0).unwrap();
    let mut rng = rand::rng();
    let started = Instant::now();
    let mut i = have;
    while i < total {
        let n = 500.min(total - i);
        let rows: Vec<(task::ActiveModel, task_detail::ActiveModel)> = (0..n)
            .map(|k| {
                let dept = departments[(i + k) % departments.len()];
                let status = if rng.random_range(0..20) == 0 {
                    Status::InReview
                } else {
                    Status::Approved
                };
                let due = start + Days::new(rng.random_range(0..365));
                let id = uuid::Uuid::now_v7().to_string();
                let model = task::Model {
                    id: id.clone(),
                    subject_id: format!("p-{}", (i + k) / 10),
                    case_id: format!("s-{}", (i + k) / 5),
                    enterprise_uscc: USCC.into(),
                    item_code: "drawing_review".into(),
                    item_name: "施工图设计文件审查".into(),
                    department_code: dept.into(),
                    department_name: dept.into(),
                    status: status_name(status),
                    blzt: i32::from(status.code()),
                    statutory_half_days: 40,
                    committed_half_days: 10,
                    accepted_at: accepted,
                    clock_events: "[]".into(),
                    due_key: format!("{due} {}", if k % 2 == 0 { "am" } else { "pm" }),
                    permit_number: None,
                    reasons: None,
                    decided_by: None,
                    decided_at: None,
                    supplement_request: None,
                    next_alarm_key: None,
                    warned_at: None,
                    overdue_notified_at: None,
                    used_half_days: None,
                    created_at: Utc::now(),
                };
                let detail = task_detail::Model {
                    task_id: id,
                    stage: "construction_permit".into(),
                    category: "social_investment".into(),
                    pre_review: false,
                    pre_approved: false,
                    commitment: false,
                    verification_due: None,
                    verification: None,
                    joint_inspection: false,
                    certificate: None,
                };
                (
                    task::ActiveModel::from(model),
                    task_detail::ActiveModel::from(detail),
                )
            })
            .collect();
        let (batch, details): (Vec<_>, Vec<_>) = rows.into_iter().unzip();
        task_detail::Entity::insert_many(details)
            .exec(db)
            .await
            .unwrap();
        task::Entity::insert_many(batch).exec(db).await.unwrap();
        i += n;
        if i % 100_000 < 500 {
            eprintln!("  {i} tasks ({:.0} s)", started.elapsed().as_secs_f64());
        }
    }
}

#[tokio::main]
async fn main() {
    let projects = arg("--projects", 2000);
    let clients = arg("--clients", 8);
    let tasks = arg("--tasks", 1_000_000);
    let queries = arg("--queries", 5000);
    let backend = if flag("--postgres") {
        Backend::postgres_from_env().expect("--postgres needs YIZHAN_TEST_DATABASE_URL")
    } else {
        Backend::Sqlite
    };
    let database = backend.fresh_database("construction_bench").await;
    let dir = tempfile::tempdir().unwrap();
    let mut common = CommonSettings {
        data_dir: dir.path().to_path_buf(),
        ..Default::default()
    };
    common.auth.hs256_secret = Some(base64::engine::general_purpose::STANDARD.encode(SECRET));
    let settings = yizhan_construction::Settings {
        port: 0,
        database_url: Some(database.url.clone()),
        job_interval_secs: 0,
        ..Default::default()
    };
    let broker = EmbeddedBroker::start(&[]).unwrap();
    let backbone = Backbone::connect(
        broker.bootstrap_servers(),
        "construction",
        RelayConfig::default(),
    )
    .unwrap();
    let auth = Authenticator::new(AuthConfig::new(
        "yizhan-dev",
        "yizhan",
        AuthMode::Hs256 {
            secret: SECRET.to_vec(),
        },
    ));
    let app = yizhan_construction::Application::build(&common, &settings, backbone, auth)
        .await
        .unwrap();
    let db = app.db().clone();
    let base = format!("http://127.0.0.1:{}/api/v1", app.port());
    let cancel = CancellationToken::new();
    let server = tokio::spawn(app.run(cancel.clone()));
    let client = reqwest::Client::new();
    let builder = token(TokenRequest {
        sub: "bench".into(),
        roles: vec![Role::Applicant],
        uscc: Some(USCC.into()),
        ttl_secs: 7200,
        ..Default::default()
    });
    println!(
        "backend: {}",
        if flag("--postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );

    // Set-up (not timed as submissions): the projects.
    let ids = Arc::new(tokio::sync::Mutex::new(Vec::with_capacity(projects)));
    let (ms, wall) = {
        let (client, base, builder, ids) =
            (client.clone(), base.clone(), builder.clone(), ids.clone());
        drive(projects, clients, move |i| {
            let (client, base, builder, ids) = (client.clone(), base.clone(), builder.clone(), ids.clone());
            async move {
                let p = check(
                    client
                        .post(format!("{base}/projects"))
                        .bearer_auth(&builder)
                        .json(&json!({
                            "project_code": format!("2026-350121-54-01-{:06}", i),
                            "name": "压测项目", "builder_uscc": USCC, "builder_name": "福州一站科技有限公司",
                            "location": "福州市", "category": "social_investment",
                            "scale": {"floor_area_m2": 20000, "total_investment_wan": 9000},
                            "land_granted": true,
                        }))
                        .send()
                        .await
                        .unwrap(),
                    201,
                )
                .await;
                ids.lock().await.push(p["id"].as_str().unwrap().to_owned());
            }
        })
        .await
    };
    report("project registrations", ms, wall);

    // Stage submissions: the social-investment land stage (7 items, the
    // merged form checked, one transaction with its event).
    let form = yizhan_construction::domain::form::stage_form(
        &yizhan_construction::seed::catalog(),
        yizhan_construction::domain::catalog::Stage::LandPlanning,
        yizhan_construction::domain::catalog::Category::SocialInvestment,
    );
    let sample = yizhan_construction::seed::sample_form();
    let values: serde_json::Map<String, Value> = form
        .fields
        .iter()
        .map(|f| (f.key.clone(), sample[&f.key].clone()))
        .collect();
    let materials: serde_json::Map<String, Value> = form
        .materials
        .iter()
        .enumerate()
        .map(|(i, m)| {
            (
                m.code.clone(),
                json!(format!("0193aa00-0000-7000-8000-{i:012}")),
            )
        })
        .collect();
    let body = Arc::new(json!({"stage": "land_planning", "form": values, "materials": materials}));
    let ids: Arc<Vec<String>> = Arc::new(ids.lock().await.clone());
    let (ms, wall) = {
        let (client, base, builder) = (client.clone(), base.clone(), builder.clone());
        drive(ids.len(), clients, move |i| {
            let (client, base, builder, ids, body) = (
                client.clone(),
                base.clone(),
                builder.clone(),
                ids.clone(),
                body.clone(),
            );
            async move {
                check(
                    client
                        .post(format!("{base}/projects/{}/stages", ids[i]))
                        .bearer_auth(&builder)
                        .json(&*body)
                        .send()
                        .await
                        .unwrap(),
                    201,
                )
                .await;
            }
        })
        .await
    };
    report("stage submissions", ms, wall);

    // The queue with a million tasks: first pages and the next pages by
    // cursor, for random departments, from every client.
    let filling = Instant::now();
    fill_tasks(&db, tasks).await;
    // A live database's statistics follow its data (autovacuum analyses
    // PostgreSQL tables); a freshly bulk-loaded one has none yet.
    let analyse = if flag("--postgres") {
        "ANALYZE workflow_tasks"
    } else {
        "ANALYZE"
    };
    db.execute_unprepared(analyse).await.unwrap();
    let total = task::Entity::find().count(&db).await.unwrap();
    println!(
        "tasks in table: {total} (filled in {:.0} s)",
        filling.elapsed().as_secs_f64()
    );
    // Per department: a reviewer token and the cursor of its second page,
    // so every timed query is one request (half first pages, half later
    // pages through the cursor).
    let mut readers = Vec::new();
    for d in yizhan_construction::seed::catalog().departments {
        let reviewer = token(TokenRequest {
            sub: format!("r-{}", d.code),
            roles: vec![Role::DeptReviewer],
            dept: Some(d.code.clone()),
            ttl_secs: 7200,
            ..Default::default()
        });
        let first = check(
            client
                .get(format!("{base}/tasks?limit=20"))
                .bearer_auth(&reviewer)
                .send()
                .await
                .unwrap(),
            200,
        )
        .await;
        let cursor = first["next_cursor"].as_str().unwrap().to_owned();
        readers.push((reviewer, cursor));
    }
    let readers = Arc::new(readers);
    let (ms, wall) = {
        let (client, base) = (client.clone(), base.clone());
        drive(queries, clients, move |i| {
            let (client, base, readers) = (client.clone(), base.clone(), readers.clone());
            async move {
                let (reviewer, cursor) = &readers[i % readers.len()];
                let url = if i % 2 == 1 {
                    format!("{base}/tasks?limit=20&cursor={cursor}")
                } else {
                    format!("{base}/tasks?limit=20")
                };
                let page = check(
                    client.get(&url).bearer_auth(reviewer).send().await.unwrap(),
                    200,
                )
                .await;
                assert_eq!(page["items"].as_array().unwrap().len(), 20);
            }
        })
        .await
    };
    report("queue pages of 20 (half by cursor)", ms, wall);

    cancel.cancel();
    server.await.unwrap().unwrap();
    drop(database);
}
