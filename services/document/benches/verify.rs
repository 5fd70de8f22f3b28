//! Verification benchmark: public `/api/v1/verify` requests per second and
//! their latency, by identifier (status lookup + signature check of the
//! stored JWS) and by presented JWS (signature check + lookup). One
//! certificate is issued first through the real path: an issue request
//! event on the licensing topic, consumed by the service.
//!
//! ```sh
//! cargo bench -p yizhan-document --bench verify                    # 20,000 requests each, 16 clients
//! cargo bench -p yizhan-document --bench verify -- --requests 50000 --clients 32
//! ```

mod support;

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use support::{Bench, USCC, quantile};
use yizhan_events::Envelope;
use yizhan_events::contracts::{CertificateIssueRequested, CertificateItem, Event};

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let requests = arg("--requests", 20_000);
    let clients = arg("--clients", 16);
    let bench = Bench::start(1024 * 1024).await;
    let request = CertificateIssueRequested {
        request_id: "bench-1".into(),
        certificate_type: "industry_comprehensive_licence".into(),
        holder_uscc: USCC.into(),
        holder_name: "福州一站酒店有限公司".into(),
        scope: "住宿服务；餐饮服务".into(),
        items: vec![CertificateItem {
            item_code: "SP-JY-001".into(),
            item_name: "食品经营许可".into(),
            department: "市场监督管理局".into(),
            permit_number: "JY13501000000001".into(),
        }],
        valid_from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        valid_until: NaiveDate::from_ymd_opt(2099, 12, 31),
        requested_by_service: "licensing".into(),
    };
    bench
        .publish(
            CertificateIssueRequested::TOPIC,
            &Envelope::new("/yizhan/licensing", &request, None),
        )
        .await;
    let client = reqwest::Client::new();
    let archive = format!("{}/api/v1/enterprises/{USCC}/materials", bench.base);
    let deadline = Instant::now() + Duration::from_secs(60);
    let certificate = loop {
        let a: serde_json::Value = client
            .get(&archive)
            .bearer_auth(&bench.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if let Some(c) = a["certificates"].as_array().and_then(|c| c.first()) {
            break c.clone();
        }
        assert!(Instant::now() < deadline, "certificate not issued");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let id = certificate["id"].as_str().unwrap().to_owned();
    let full: serde_json::Value = client
        .get(format!("{}/api/v1/certificates/{id}", bench.base))
        .bearer_auth(&bench.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let jws = full["jws"].as_str().unwrap().to_owned();

    for mode in ["by identifier", "by presented JWS"] {
        let started = Instant::now();
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..clients {
            let client = client.clone();
            let base = bench.base.clone();
            let (id, jws) = (id.clone(), jws.clone());
            let per_client = requests / clients;
            tasks.spawn(async move {
                let mut latencies = Vec::with_capacity(per_client);
                for _ in 0..per_client {
                    let t = Instant::now();
                    let response = if mode == "by identifier" {
                        client
                            .get(format!("{base}/api/v1/verify?id={id}"))
                            .send()
                            .await
                            .unwrap()
                    } else {
                        client
                            .post(format!("{base}/api/v1/verify"))
                            .json(&serde_json::json!({ "jws": jws }))
                            .send()
                            .await
                            .unwrap()
                    };
                    let verdict: serde_json::Value = response.json().await.unwrap();
                    assert_eq!(verdict["signature_valid"], true, "{verdict}");
                    latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                latencies
            });
        }
        let mut latencies = Vec::new();
        while let Some(l) = tasks.join_next().await {
            latencies.extend(l.unwrap());
        }
        let secs = started.elapsed().as_secs_f64();
        latencies.sort_by(f64::total_cmp);
        println!(
            "verify {mode}: {} requests, {clients} clients: {:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms",
            latencies.len(),
            latencies.len() as f64 / secs,
            quantile(&latencies, 0.5),
            quantile(&latencies, 0.99)
        );
    }
    bench.stop().await;
}
