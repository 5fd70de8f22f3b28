//! One client of the benchmark: hotel bundles through the public HTTP API,
//! every request timed by endpoint.
//!
//! A bundle is the issue's: submit the merged form (12 material
//! references) → window accept → six department approvals in random order →
//! wait until the licence is issued → hand-out. The eight human steps
//! (submit, accept, six approvals) are what "steps/s" counts.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use rand::seq::SliceRandom;
use serde_json::{Map, Value, json};
use yizhan::Service;
use yizhan_auth::Role;

use crate::procs::Stack;

/// The benchmark enterprise.
const USCC: &str = "91350100M000100Y43";
/// How often a client looks whether the licence has been issued.
const POLL: Duration = Duration::from_millis(5);
/// How long a licence may take before the run is declared broken.
const PATIENCE: Duration = Duration::from_secs(120);

/// Latencies by endpoint, and acceptance → licence, in microseconds.
#[derive(Default)]
pub struct Samples {
    /// Endpoint label → latencies.
    pub endpoints: HashMap<&'static str, Vec<u64>>,
    /// Acceptance answered → licence seen issued.
    pub accept_to_licence: Vec<u64>,
}

/// What every client shares.
#[derive(Clone)]
pub struct Driver {
    client: reqwest::Client,
    licensing: String,
    applicant: String,
    clerk: String,
    reviewers: Arc<HashMap<String, String>>,
    body: Arc<Value>,
    samples: Arc<Mutex<Samples>>,
}

fn hotel_answers() -> Value {
    json!({"serves_food": true, "floor_area_m2": 1200, "hosts_performances": true})
}

impl Driver {
    /// Tokens for every role, and the hotel's 12 materials uploaded once
    /// under their own types (every bundle references them).
    pub async fn prepare(stack: &Stack) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(64)
            .build()?;
        let licensing = stack.url(Service::Licensing, "");
        let document = stack.url(Service::Document, "");
        let applicant = stack.token("bench-applicant", Role::Applicant, Some(USCC), None);
        let notice: Value = client
            .post(format!("{licensing}/api/v1/notices"))
            .json(&json!({"scenario": "hotel", "answers": hotel_answers()}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let mut materials = Map::new();
        let mut departments = Vec::new();
        for m in notice["materials"].as_array().context("notice.materials")? {
            let code = m["code"].as_str().context("material code")?;
            let mut bytes = format!("%PDF-1.7\n% {code}\n").into_bytes();
            bytes.resize(8 * 1024, b' ');
            let form = reqwest::multipart::Form::new()
                .text("material_type", code.to_owned())
                .part(
                    "file",
                    reqwest::multipart::Part::bytes(bytes).file_name(format!("{code}.pdf")),
                );
            let uploaded: Value = client
                .post(format!("{document}/api/v1/materials"))
                .bearer_auth(&applicant)
                .multipart(form)
                .send()
                .await?
                .error_for_status()
                .with_context(|| format!("uploading {code}"))?
                .json()
                .await?;
            materials.insert(code.to_owned(), uploaded["id"].clone());
        }
        for d in notice["departments"]
            .as_array()
            .context("notice.departments")?
        {
            departments.push(d["code"].as_str().context("department code")?.to_owned());
        }
        let reviewers = departments
            .into_iter()
            .map(|d| {
                let token =
                    stack.token(&format!("reviewer-{d}"), Role::DeptReviewer, None, Some(&d));
                (d, token)
            })
            .collect();
        let body = json!({
            "scenario": "hotel",
            "answers": hotel_answers(),
            "enterprise_uscc": USCC,
            "form": yizhan_licensing::seed::sample_hotel_form(),
            "materials": materials,
        });
        Ok(Self {
            client,
            licensing,
            applicant,
            clerk: stack.token("bench-clerk", Role::WindowClerk, None, None),
            reviewers: Arc::new(reviewers),
            body: Arc::new(body),
            samples: Arc::default(),
        })
    }

    /// The samples gathered so far.
    pub fn samples(&self) -> Arc<Mutex<Samples>> {
        self.samples.clone()
    }

    fn record(&self, label: &'static str, took: Duration) {
        if let Ok(mut s) = self.samples.lock() {
            s.endpoints
                .entry(label)
                .or_default()
                .push(took.as_micros() as u64);
        }
    }

    /// One timed request; a status other than `want` fails the run.
    async fn call(
        &self,
        label: &'static str,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<&Value>,
        want: u16,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .client
            .request(method, format!("{}{path}", self.licensing))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(body);
        }
        let started = Instant::now();
        let response = request.send().await?;
        let status = response.status().as_u16();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        self.record(label, started.elapsed());
        ensure!(status == want, "{label} {path}: {status} {answer}");
        Ok(answer)
    }

    /// One bundle, start to finish.
    pub async fn bundle(&self) -> anyhow::Result<()> {
        use reqwest::Method;
        let app = self
            .call(
                "POST /applications",
                Method::POST,
                "/api/v1/applications",
                &self.applicant,
                Some(&self.body),
                201,
            )
            .await?;
        let id = app["id"].as_str().context("application id")?.to_owned();
        let accepted = self
            .call(
                "POST /applications/{id}/intake",
                Method::POST,
                &format!("/api/v1/applications/{id}/intake"),
                &self.clerk,
                Some(&json!({"decision": "accept"})),
                200,
            )
            .await?;
        let accepted_at = Instant::now();
        let mut tasks: Vec<(String, String)> = accepted["tasks"]
            .as_array()
            .context("accepted application's tasks")?
            .iter()
            .filter_map(|t| {
                Some((
                    t["id"].as_str()?.to_owned(),
                    t["department_code"].as_str()?.to_owned(),
                ))
            })
            .collect();
        ensure!(!tasks.is_empty(), "accepted application has no tasks");
        tasks.shuffle(&mut rand::rng());
        for (n, (task, dept)) in tasks.iter().enumerate() {
            let token = self.reviewers.get(dept).context("reviewer token")?;
            self.call(
                "POST /tasks/{id}/decision",
                Method::POST,
                &format!("/api/v1/tasks/{task}/decision"),
                token,
                Some(&json!({"decision": "approve", "permit_number": format!("XK-BENCH-{n:02}")})),
                200,
            )
            .await?;
        }
        loop {
            let app = self
                .call(
                    "GET /applications/{id}",
                    Method::GET,
                    &format!("/api/v1/applications/{id}"),
                    &self.clerk,
                    None,
                    200,
                )
                .await?;
            if app["status"] == "licence_issued" {
                break;
            }
            if accepted_at.elapsed() > PATIENCE {
                bail!("{id}: no licence after {PATIENCE:?} ({})", app["status"]);
            }
            tokio::time::sleep(POLL).await;
        }
        if let Ok(mut s) = self.samples.lock() {
            s.accept_to_licence
                .push(accepted_at.elapsed().as_micros() as u64);
        }
        self.call(
            "POST /applications/{id}/hand-out",
            Method::POST,
            &format!("/api/v1/applications/{id}/hand-out"),
            &self.clerk,
            Some(&json!({})),
            200,
        )
        .await?;
        Ok(())
    }
}
