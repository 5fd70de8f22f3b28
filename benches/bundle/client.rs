//! One client of the benchmark: hotel bundles through the public HTTP API,
//! every request timed by endpoint.
//!
//! A bundle is the issue's: submit the merged form (12 material
//! references) → window accept → six department approvals in random order →
//! wait until the licence is issued → hand-out. The eight human steps
//! (submit, accept, six approvals) are what "steps/s" counts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail, ensure};
use rand::seq::SliceRandom;
use serde_json::{Map, Value, json};
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_types::uscc::org_code_check_char;

use crate::procs::Stack;

/// The first benchmark enterprise (with `--enterprises 1`, the only one).
const USCC: &str = "91350100M000100Y43";
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

/// One applicant enterprise: its token and the merged form it submits
/// (its own uploaded materials referenced).
struct Applicant {
    token: String,
    body: Value,
}

/// How a client learns that the licence has been issued.
#[derive(Debug, Clone, Copy)]
pub enum Looking {
    /// A plain `GET` every so often.
    Poll(Duration),
    /// A `GET` with the version held and `Prefer: wait=<secs>`: answered
    /// when the application changes.
    Wait(u64),
}

/// What every client shares.
#[derive(Clone)]
pub struct Driver {
    client: reqwest::Client,
    licensing: String,
    applicants: Arc<Vec<Applicant>>,
    /// Bundles started so far: the next one is the next applicant's.
    turn: Arc<AtomicUsize>,
    /// How a client learns that the licence has been issued.
    looking: Looking,
    clerk: String,
    reviewers: Arc<HashMap<String, String>>,
    samples: Arc<Mutex<Samples>>,
}

/// `n` valid 统一社会信用代码, the first being [`USCC`]: organisation codes
/// `M0000101`, `M0000102` … with their GB 11714 check character, then the
/// code's own.
fn enterprise_codes(n: usize) -> anyhow::Result<Vec<String>> {
    let mut codes = vec![USCC.to_owned()];
    for serial in 101..(100 + n) {
        let org = format!("M{serial:07}");
        let org_check = org_code_check_char(&org).context("organisation code")?;
        let code = yizhan_types::Uscc::with_check_char(&format!("91350100{org}{org_check}"))?;
        codes.push(code.as_str().to_owned());
    }
    Ok(codes)
}

/// Uploads one small PDF per material type in `codes` as the applicant
/// `token`; answers the `materials` object of a submission.
async fn upload_materials(
    client: &reqwest::Client,
    document: &str,
    token: &str,
    codes: &[String],
) -> anyhow::Result<Map<String, Value>> {
    let mut materials = Map::new();
    for code in codes {
        let mut bytes = format!("%PDF-1.7\n% {code}\n").into_bytes();
        bytes.resize(8 * 1024, b' ');
        let form = reqwest::multipart::Form::new()
            .text("material_type", code.clone())
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(format!("{code}.pdf")),
            );
        let uploaded: Value = client
            .post(format!("{document}/api/v1/materials"))
            .bearer_auth(token)
            .multipart(form)
            .send()
            .await?
            .error_for_status()
            .with_context(|| format!("uploading {code}"))?
            .json()
            .await?;
        materials.insert(code.clone(), uploaded["id"].clone());
    }
    Ok(materials)
}

fn hotel_answers() -> Value {
    json!({"serves_food": true, "floor_area_m2": 1200, "hosts_performances": true})
}

impl Driver {
    /// Tokens for every role, and for each of `enterprises` applicants the
    /// hotel's 12 materials uploaded once under their own types (every
    /// bundle of that applicant references them). Clients look for the
    /// licence as `looking` says.
    pub async fn prepare(
        stack: &Stack,
        enterprises: usize,
        looking: Looking,
    ) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(64)
            .build()?;
        let licensing = stack.url(Service::Licensing, "");
        let document = stack.url(Service::Document, "");
        let notice: Value = client
            .post(format!("{licensing}/api/v1/notices"))
            .json(&json!({"scenario": "hotel", "answers": hotel_answers()}))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        let codes: Vec<String> = notice["materials"]
            .as_array()
            .context("notice.materials")?
            .iter()
            .map(|m| {
                m["code"]
                    .as_str()
                    .map(str::to_owned)
                    .context("material code")
            })
            .collect::<anyhow::Result<_>>()?;
        let mut applicants = Vec::new();
        for (n, uscc) in enterprise_codes(enterprises)?.into_iter().enumerate() {
            let token = stack.token(
                &format!("bench-applicant-{n}"),
                Role::Applicant,
                Some(&uscc),
                None,
            );
            let materials = upload_materials(&client, &document, &token, &codes)
                .await
                .with_context(|| format!("materials of {uscc}"))?;
            let body = json!({
                "scenario": "hotel",
                "answers": hotel_answers(),
                "enterprise_uscc": uscc,
                "form": yizhan_licensing::seed::sample_hotel_form(),
                "materials": materials,
            });
            applicants.push(Applicant { token, body });
        }
        let mut reviewers = HashMap::new();
        for d in notice["departments"]
            .as_array()
            .context("notice.departments")?
        {
            let d = d["code"].as_str().context("department code")?;
            let token = stack.token(&format!("reviewer-{d}"), Role::DeptReviewer, None, Some(d));
            reviewers.insert(d.to_owned(), token);
        }
        Ok(Self {
            client,
            licensing,
            applicants: Arc::new(applicants),
            turn: Arc::default(),
            looking,
            clerk: stack.token("bench-clerk", Role::WindowClerk, None, None),
            reviewers: Arc::new(reviewers),
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

    /// One look at the application: its state when it differs from the
    /// version `held` (with the new version), `None` when it does not.
    /// Waiting, the server answers when the application changes or after
    /// the wait (304).
    async fn look(
        &self,
        id: &str,
        held: Option<&str>,
    ) -> anyhow::Result<(Option<Value>, Option<String>)> {
        let mut request = self
            .client
            .get(format!("{}/api/v1/applications/{id}", self.licensing))
            .bearer_auth(&self.clerk);
        let label = match (self.looking, held) {
            (Looking::Wait(secs), Some(etag)) => {
                request = request
                    .header("If-None-Match", etag)
                    .header("Prefer", format!("wait={secs}"));
                "GET /applications/{id} (waiting)"
            }
            _ => "GET /applications/{id}",
        };
        let started = Instant::now();
        let response = request.send().await?;
        let status = response.status().as_u16();
        let etag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        self.record(label, started.elapsed());
        match status {
            200 => Ok((Some(answer), etag)),
            304 => Ok((None, etag)),
            _ => bail!("{label} {id}: {status} {answer}"),
        }
    }

    /// One bundle, start to finish.
    pub async fn bundle(&self) -> anyhow::Result<()> {
        use reqwest::Method;
        let turn = self.turn.fetch_add(1, Ordering::Relaxed);
        let applicant = &self.applicants[turn % self.applicants.len()];
        let app = self
            .call(
                "POST /applications",
                Method::POST,
                "/api/v1/applications",
                &applicant.token,
                Some(&applicant.body),
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
        let mut held: Option<String> = None;
        loop {
            let (app, etag) = self.look(&id, held.as_deref()).await?;
            if let Some(app) = app {
                if app["status"] == "licence_issued" {
                    break;
                }
                held = etag;
            }
            if accepted_at.elapsed() > PATIENCE {
                bail!("{id}: no licence after {PATIENCE:?}");
            }
            if let Looking::Poll(every) = self.looking {
                tokio::time::sleep(every).await;
            }
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
