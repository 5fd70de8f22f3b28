//! Webhook deliveries as a partner's receiver sees them: signed by the
//! Standard Webhooks scheme and verified with that project's own Python
//! library (`standardwebhooks` from PyPI, run in a pinned venv), and sent
//! straight to the target even when the process has a proxy configured.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use tokio::net::TcpListener;
use yizhan::Service;
use yizhan_kit::testing::Backend;

use crate::common::*;
use crate::webhooks::{partner, subscribe, upload_one};

const WAIT: Duration = Duration::from_secs(60);

/// One request a receiver got: its headers (lower-case names) and raw body.
#[derive(Debug, Clone)]
struct Got {
    headers: serde_json::Map<String, serde_json::Value>,
    body: String,
}

/// An HTTP receiver on `host`:0 that answers 204 and records each request.
async fn receiver(host: &str) -> (String, Arc<Mutex<Vec<Got>>>) {
    let log: Arc<Mutex<Vec<Got>>> = Arc::default();
    let seen = log.clone();
    let server = HttpServer::new(move || {
        let seen = seen.clone();
        App::new().default_service(web::to(move |req: HttpRequest, body: web::Bytes| {
            let seen = seen.clone();
            async move {
                let headers = req
                    .headers()
                    .iter()
                    .map(|(n, v)| {
                        let value = v.to_str().unwrap_or_default().to_owned();
                        (n.as_str().to_owned(), serde_json::Value::String(value))
                    })
                    .collect();
                let body = String::from_utf8_lossy(&body).into_owned();
                seen.lock().unwrap().push(Got { headers, body });
                HttpResponse::NoContent().finish()
            }
        }))
    })
    .workers(1)
    .disable_signals()
    .bind((host, 0))
    .unwrap();
    let url = format!("http://{}/hook", server.addrs()[0]);
    tokio::spawn(server.run());
    (url, log)
}

/// Waits until the receiver got `n` requests; returns them.
async fn received(log: &Arc<Mutex<Vec<Got>>>, n: usize) -> Vec<Got> {
    eventually(&format!("{n} deliveries received"), WAIT, || async {
        let got = log.lock().unwrap().clone();
        (got.len() >= n).then_some(got)
    })
    .await
}

/// The venv with the pinned contract tools (`.ci/contract/requirements.txt`),
/// made on first use as `.ci/run` makes it, so this test needs nothing
/// installed by hand. Panics with the reason when it cannot be had.
fn contract_python() -> PathBuf {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let venv = std::env::var_os("YIZHAN_CONTRACT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
                .join(".cache/yizhan-contract-venv")
        });
    let python = venv.join("bin/python");
    let ready = || {
        Command::new(&python)
            .args(["-c", "import standardwebhooks"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if !ready() {
        let status = Command::new("bash")
            .arg(repo.join(".ci/contract/tools"))
            .env("YIZHAN_CONTRACT_VENV", &venv)
            .status()
            .expect("bash runs");
        assert!(
            status.success() && ready(),
            "cannot install the pinned `standardwebhooks` into {} (PyPI unreachable?): \
             this test verifies deliveries with it and cannot run without it",
            venv.display()
        );
    }
    python
}

/// Verifies each request with `standardwebhooks.Webhook(secret).verify`;
/// returns, per request, whether it verified.
fn verify_with_library(secret: &str, requests: &[Got]) -> Vec<bool> {
    let script = r#"
import json, sys
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
case = json.load(sys.stdin)
hook = Webhook(case["secret"])
out = []
for r in case["requests"]:
    try:
        hook.verify(r["body"], r["headers"])
        out.append(True)
    except WebhookVerificationError:
        out.append(False)
print(json.dumps(out))
"#;
    let input = serde_json::json!({
        "secret": secret,
        "requests": requests
            .iter()
            .map(|r| serde_json::json!({"headers": r.headers, "body": r.body}))
            .collect::<Vec<_>>(),
    });
    let mut child = Command::new(contract_python())
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python starts");
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), input.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

async fn deliveries_verify_with_the_standardwebhooks_library(backend: Backend) {
    let stack = TestStack::start(&[Service::Document, Service::Notification], backend).await;
    let (url, log) = receiver("127.0.0.1").await;
    let token = partner(&stack, "partner-sw");
    let (subscription, secret) = subscribe(&stack, &token, &url).await;
    upload_one(&stack, "signed.pdf").await;
    let first = received(&log, 1).await.remove(0);

    assert!(secret.starts_with("whsec_"));
    let delivery_id = first.headers["x-yizhan-delivery"].as_str().unwrap();
    assert_eq!(first.headers["webhook-id"], delivery_id);
    let signature = first.headers["webhook-signature"].as_str().unwrap();
    assert!(signature.starts_with("v1,"), "{signature}");
    let tampered = Got {
        body: first.body.replace("signed", "SIGNED"),
        ..first.clone()
    };
    let mut other_id = first.clone();
    other_id
        .headers
        .insert("webhook-id".into(), "another-delivery".into());
    assert_eq!(
        verify_with_library(&secret, &[first.clone(), tampered, other_id]),
        [true, false, false],
        "a real delivery verifies; a changed body or id does not"
    );

    // After a rotation the new secret signs, and the old one no longer does.
    let r = stack
        .post(
            stack.url(
                Service::Notification,
                &format!("/api/v1/webhooks/subscriptions/{subscription}/rotate-secret"),
            ),
            &token,
        )
        .await;
    let rotated = json_ok(r, 200).await;
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    upload_one(&stack, "after-rotation.pdf").await;
    let second = received(&log, 2).await.remove(1);
    assert_eq!(
        verify_with_library(&new_secret, std::slice::from_ref(&second)),
        [true]
    );
    assert_eq!(verify_with_library(&secret, &[second]), [false]);
    stack.stop().await;
}

async fn deliveries_do_not_go_through_a_configured_proxy(backend: Backend) {
    // A "proxy" that counts the connections it gets.
    let proxy = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy_url = format!("http://{}", proxy.local_addr().unwrap());
    let connections = Arc::new(Mutex::new(0usize));
    let counted = connections.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = proxy.accept().await {
            *counted.lock().unwrap() += 1;
            drop(socket);
        }
    });
    // SAFETY: nextest runs each test in its own process, and nothing else
    // in this one reads the environment while it is set. The stack's own
    // addresses (127.0.0.1) are exempt so the test can drive it; the
    // receiver sits on 127.0.0.2, which the proxy would get.
    unsafe {
        for name in [
            "HTTP_PROXY",
            "http_proxy",
            "HTTPS_PROXY",
            "https_proxy",
            "ALL_PROXY",
        ] {
            std::env::set_var(name, &proxy_url);
        }
        std::env::set_var("NO_PROXY", "127.0.0.1,localhost");
        std::env::set_var("no_proxy", "127.0.0.1,localhost");
    }
    let stack = TestStack::start(&[Service::Document, Service::Notification], backend).await;
    let (url, log) = receiver("127.0.0.2").await;
    let token = partner(&stack, "partner-sw");
    subscribe(&stack, &token, &url).await;
    upload_one(&stack, "direct.pdf").await;

    let got = received(&log, 1).await;
    assert!(got[0].headers.contains_key("webhook-signature"));
    assert_eq!(
        *connections.lock().unwrap(),
        0,
        "the delivery went through the proxy"
    );
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    deliveries_verify_with_the_standardwebhooks_library,
    deliveries_do_not_go_through_a_configured_proxy,
);
