//! The driver: hotel bundles through the whole flow over HTTP, the way a
//! client that expects crashes would: connection errors and 5xx answers
//! are retried (creating POSTs with the same `Idempotency-Key`), and a
//! transition whose answer was lost is confirmed by reading the state back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use yizhan::Service;
use yizhan_auth::Role;

use crate::cluster::Cluster;

pub const USCC: &str = "91350100M000100Y43";
const PATIENCE: Duration = Duration::from_secs(180);

/// What the driver saw, for the report.
#[derive(Default)]
pub struct Counters {
    /// Requests that failed to connect or answered 5xx and were retried.
    pub retried: AtomicU64,
    /// 5xx answers among them.
    pub server_errors: AtomicU64,
}

#[derive(Clone)]
pub struct Driver {
    client: reqwest::Client,
    licensing: String,
    document: String,
    applicant: String,
    clerk: String,
    reviewers: Arc<std::collections::HashMap<String, String>>,
    pub counters: Arc<Counters>,
}

fn hotel_answers() -> Value {
    json!({"serves_food": true, "floor_area_m2": 1200, "hosts_performances": true})
}

/// One request as a crash-tolerant client makes it.
struct Call<'a> {
    method: reqwest::Method,
    url: String,
    token: Option<&'a str>,
    body: Option<&'a Value>,
    idempotency_key: Option<&'a str>,
}

impl Driver {
    pub fn new(cluster: &Cluster) -> Self {
        let reviewers = [
            "market_supervision",
            "public_security",
            "culture_tourism",
            "health",
            "fire_rescue",
            "tobacco",
            "ecology_environment",
            "housing_construction",
        ]
        .into_iter()
        .map(|d| {
            (
                d.to_owned(),
                cluster.token(&format!("reviewer-{d}"), Role::DeptReviewer, None, Some(d)),
            )
        })
        .collect();
        Self {
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            licensing: cluster.url(Service::Licensing, ""),
            document: cluster.url(Service::Document, ""),
            applicant: cluster.token("crash-applicant", Role::Applicant, Some(USCC), None),
            clerk: cluster.token("crash-clerk", Role::WindowClerk, None, None),
            reviewers: Arc::new(reviewers),
            counters: Arc::default(),
        }
    }

    /// Sends until an answer that is not a connection error or a 5xx.
    /// Answers the status, the body and whether an earlier try was lost.
    async fn send(&self, call: Call<'_>) -> (u16, Value, bool) {
        let deadline = Instant::now() + PATIENCE;
        let mut lost = false;
        loop {
            let mut request = self.client.request(call.method.clone(), &call.url);
            if let Some(token) = call.token {
                request = request.bearer_auth(token);
            }
            if let Some(body) = call.body {
                request = request.json(body);
            }
            if let Some(key) = call.idempotency_key {
                request = request.header("Idempotency-Key", key);
            }
            match request.send().await {
                Ok(r) if r.status().is_server_error() => {
                    self.counters.server_errors.fetch_add(1, Ordering::Relaxed);
                }
                Ok(r) => {
                    let status = r.status().as_u16();
                    let body = r.json().await.unwrap_or(Value::Null);
                    return (status, body, lost);
                }
                Err(_) => {}
            }
            lost = true;
            self.counters.retried.fetch_add(1, Ordering::Relaxed);
            assert!(
                Instant::now() < deadline,
                "{} {} never answered",
                call.method,
                call.url
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn post(
        &self,
        url: String,
        token: &str,
        body: &Value,
        key: Option<&str>,
    ) -> (u16, Value, bool) {
        self.send(Call {
            method: reqwest::Method::POST,
            url,
            token: Some(token),
            body: Some(body),
            idempotency_key: key,
        })
        .await
    }

    pub async fn application(&self, id: &str) -> Value {
        let (status, body, _) = self
            .send(Call {
                method: reqwest::Method::GET,
                url: format!("{}/api/v1/applications/{id}", self.licensing),
                token: Some(&self.clerk),
                body: None,
                idempotency_key: None,
            })
            .await;
        assert_eq!(status, 200, "{body}");
        body
    }

    /// A transition: 200, or 409 when an earlier try's answer was lost and
    /// the state shows it took effect.
    async fn transition(
        &self,
        url: String,
        token: &str,
        body: &Value,
        app: &str,
        done: &(dyn Fn(&Value) -> bool + Sync),
    ) {
        let (status, answer, lost) = self.post(url.clone(), token, body, None).await;
        if status == 200 {
            return;
        }
        assert!(status == 409 && lost, "{url}: {status} {answer}");
        assert!(
            done(&self.application(app).await),
            "{url}: lost answer, state not changed"
        );
    }

    async fn upload(&self, code: &str) -> String {
        for kind in [code, "floor_plan"] {
            let deadline = Instant::now() + PATIENCE;
            loop {
                let mut bytes =
                    format!("%PDF-1.7\n% {code} {}\n", uuid::Uuid::now_v7()).into_bytes();
                bytes.resize(8 * 1024, b' ');
                let form = reqwest::multipart::Form::new()
                    .text("material_type", kind.to_owned())
                    .part(
                        "file",
                        reqwest::multipart::Part::bytes(bytes).file_name(format!("{code}.pdf")),
                    );
                let sent = self
                    .client
                    .post(format!("{}/api/v1/materials", self.document))
                    .bearer_auth(&self.applicant)
                    .multipart(form)
                    .send()
                    .await;
                match sent {
                    Ok(r) if r.status() == 201 => {
                        let body: Value = r.json().await.unwrap();
                        return body["id"].as_str().unwrap().to_owned();
                    }
                    Ok(r) if r.status() == 422 => break,
                    Ok(r) if !r.status().is_server_error() => {
                        panic!("upload {code}: {}", r.status())
                    }
                    _ => {
                        self.counters.retried.fetch_add(1, Ordering::Relaxed);
                        assert!(Instant::now() < deadline, "upload never answered");
                        tokio::time::sleep(Duration::from_millis(250)).await;
                    }
                }
            }
        }
        panic!("no material type accepted for {code}")
    }

    /// Notice, materials, submission and intake: answers the application
    /// id and its tasks (id, department).
    pub async fn submit_and_accept(&self, bundle: &str) -> (String, Vec<(String, String)>) {
        let (status, notice, _) = self
            .send(Call {
                method: reqwest::Method::POST,
                url: format!("{}/api/v1/notices", self.licensing),
                token: None,
                body: Some(&json!({"scenario": "hotel", "answers": hotel_answers()})),
                idempotency_key: None,
            })
            .await;
        assert_eq!(status, 200, "{notice}");
        let mut materials = serde_json::Map::new();
        for m in notice["materials"].as_array().unwrap() {
            let code = m["code"].as_str().unwrap();
            materials.insert(code.to_owned(), json!(self.upload(code).await));
        }
        let body = json!({
            "scenario": "hotel",
            "answers": hotel_answers(),
            "enterprise_uscc": USCC,
            "form": yizhan_licensing::seed::sample_hotel_form(),
            "materials": materials,
        });
        let (status, app, _) = self
            .post(
                format!("{}/api/v1/applications", self.licensing),
                &self.applicant,
                &body,
                Some(bundle),
            )
            .await;
        assert_eq!(status, 201, "{app}");
        let id = app["id"].as_str().unwrap().to_owned();
        self.transition(
            format!("{}/api/v1/applications/{id}/intake", self.licensing),
            &self.clerk,
            &json!({"decision": "accept"}),
            &id,
            &|a| a["status"] != "submitted",
        )
        .await;
        let app = self.application(&id).await;
        let tasks = app["tasks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| {
                (
                    t["id"].as_str().unwrap().to_owned(),
                    t["department_code"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        (id, tasks)
    }

    /// Approves `tasks` of application `id`.
    pub async fn approve(&self, id: &str, tasks: &[(String, String)]) {
        for (n, (task, dept)) in tasks.iter().enumerate() {
            let token = self
                .reviewers
                .get(dept)
                .unwrap_or_else(|| panic!("no reviewer for {dept}"));
            let task_id = task.clone();
            self.transition(
                format!("{}/api/v1/tasks/{task}/decision", self.licensing),
                token,
                &json!({"decision": "approve", "permit_number": format!("XK-CRASH-{n:04}")}),
                id,
                &move |a| {
                    a["tasks"].as_array().is_some_and(|ts| {
                        ts.iter()
                            .any(|t| t["id"] == task_id.as_str() && t["status"] == "approved")
                    })
                },
            )
            .await;
        }
    }

    /// Waits for the licence, then hands it out.
    pub async fn hand_out(&self, id: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let app = self.application(id).await;
            if app["status"] == "licence_issued" {
                break;
            }
            assert!(
                app["status"] != "handed_out" && Instant::now() < deadline,
                "{id} never got its licence: {}",
                app["status"]
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        self.transition(
            format!("{}/api/v1/applications/{id}/hand-out", self.licensing),
            &self.clerk,
            &json!({}),
            id,
            &|a| a["status"] == "handed_out",
        )
        .await;
    }

    /// One bundle, start to finish.
    pub async fn bundle(&self, name: &str) -> String {
        let (id, tasks) = self.submit_and_accept(name).await;
        self.approve(&id, &tasks).await;
        self.hand_out(&id).await;
        id
    }
}
