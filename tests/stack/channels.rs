//! Email and SMS: a local SMTP sink (speaking just enough SMTP) and a local
//! HTTP server standing in for the SMS provider, both failing once, so the
//! retries are exercised; preferences decide who gets what.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use yizhan::Service;
use yizhan_kit::testing::Backend;

use crate::common::*;
use crate::webhooks::{Receiver, Reply};

const WAIT: Duration = Duration::from_secs(60);

/// One accepted mail.
#[derive(Debug, Clone)]
struct Mail {
    rcpt: Vec<String>,
    data: String,
}

/// An SMTP server on 127.0.0.1:0 that refuses the first `MAIL FROM` with a
/// temporary failure (451) and accepts everything after.
struct SmtpSink {
    port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
    refused: Arc<AtomicUsize>,
}

impl SmtpSink {
    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let mails: Arc<Mutex<Vec<Mail>>> = Arc::default();
        let refused = Arc::new(AtomicUsize::new(0));
        let (task_mails, task_refused) = (mails.clone(), refused.clone());
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let mails = task_mails.clone();
                let refused = task_refused.clone();
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                    let mut rcpt = Vec::new();
                    while let Ok(Some(line)) = lines.next_line().await {
                        let upper = line.to_ascii_uppercase();
                        let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO")
                        {
                            b"250 sink\r\n"
                        } else if upper.starts_with("MAIL FROM") {
                            if refused.fetch_add(1, Ordering::SeqCst) == 0 {
                                b"451 4.3.0 try again later\r\n"
                            } else {
                                b"250 2.1.0 ok\r\n"
                            }
                        } else if upper.starts_with("RCPT TO") {
                            rcpt.push(line[8..].trim().to_owned());
                            b"250 2.1.5 ok\r\n"
                        } else if upper == "DATA" {
                            let _ = write.write_all(b"354 go ahead\r\n").await;
                            let mut data = String::new();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                data.push_str(&l);
                                data.push_str("\r\n");
                            }
                            mails.lock().unwrap().push(Mail {
                                rcpt: std::mem::take(&mut rcpt),
                                data,
                            });
                            b"250 2.0.0 queued\r\n"
                        } else if upper == "QUIT" {
                            let _ = write.write_all(b"221 bye\r\n").await;
                            return;
                        } else {
                            b"250 ok\r\n"
                        };
                        if write.write_all(reply).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self {
            port,
            mails,
            refused,
        }
    }

    fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }
}

/// The text of a single-part base64 mail body.
fn mail_text(data: &str) -> String {
    let (_, body) = data.split_once("\r\n\r\n").unwrap();
    let joined: String = body.split_whitespace().collect();
    String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(joined)
            .unwrap(),
    )
    .unwrap()
}

async fn email_and_sms_follow_preferences_with_retries(backend: Backend) {
    let sink = SmtpSink::start().await;
    let provider = Receiver::start(|n| {
        if n == 0 {
            Reply::status(503)
        } else {
            Reply::status(200)
        }
    })
    .await;
    let sms_url = provider.url.clone();
    let port = sink.port;
    let stack = TestStack::start_tuned(&[Service::Document, Service::Notification], backend, |s| {
        let n = &mut s.services.notification;
        n.smtp_host = Some("127.0.0.1".into());
        n.smtp_port = port;
        n.smtp_tls = "none".into();
        n.sms_url = Some(sms_url);
        n.sms_token = Some("sms-secret".into());
        n.channel_first_retry_ms = 50;
        n.channel_max_attempts = 4;
    })
    .await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let prefs_url = stack.url(Service::Notification, "/api/v1/notification-preferences");
    let empty = stack.get_json(&prefs_url, &alice).await;
    assert_eq!(empty["email_categories"], serde_json::json!([]));
    let saved = stack
        .client
        .put(&prefs_url)
        .bearer_auth(&alice)
        .json(&serde_json::json!({
            "email": "alice@example.com.cn",
            "phone": "+8613800138000",
            "email_categories": ["material"],
            "sms_categories": ["material", "deadline"]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200);
    let saved: serde_json::Value = saved.json().await.unwrap();
    assert_eq!(saved["phone"], "13800138000", "normalised");

    // A colleague without preferences gets the inbox message only.
    let r = upload(
        &stack,
        &alice,
        "floor_plan",
        "通知测试.pdf",
        pdf_bytes(100, "ch"),
        &[],
    )
    .await;
    assert_eq!(r.status(), 201);

    let log_url = stack.url(Service::Notification, "/api/v1/notification-deliveries");
    let log = eventually("email and SMS sent", WAIT, || async {
        let page = stack.get_json(&log_url, &alice).await;
        let items = page["items"].as_array().unwrap().clone();
        (items.len() == 2 && items.iter().all(|d| d["status"] == "sent")).then_some(items)
    })
    .await;
    for d in &log {
        assert_eq!(d["attempts"], 2, "one temporary failure, then sent: {d}");
    }
    let mails = sink.mails();
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].rcpt, vec!["<alice@example.com.cn>"]);
    assert!(sink.refused.load(Ordering::SeqCst) >= 2);
    assert!(mail_text(&mails[0].data).contains("通知测试.pdf"));

    let texts = provider.received();
    assert_eq!(texts.len(), 2);
    let sms = texts.last().unwrap();
    assert_eq!(sms.answered, 200);
    assert_eq!(sms.headers["authorization"], "Bearer sms-secret");
    let body: serde_json::Value = serde_json::from_str(&sms.body).unwrap();
    assert_eq!(body["phone"], "13800138000");
    assert_eq!(body["category"], "material");
    assert!(body["text"].as_str().unwrap().contains("通知测试.pdf"));

    let bob = stack.applicant("bob", ENTERPRISE_A);
    let page = stack.get_json(&log_url, &bob).await;
    assert!(page["items"].as_array().unwrap().is_empty());
    stack.stop().await;
}

async fn preferences_are_validated_field_by_field(backend: Backend) {
    let stack = TestStack::start(&[Service::Notification], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let url = stack.url(Service::Notification, "/api/v1/notification-preferences");
    let r = stack
        .client
        .put(&url)
        .bearer_auth(&alice)
        .json(&serde_json::json!({
            "email": "not-an-email",
            "phone": "12345",
            "email_categories": ["material", "spam"],
            "sms_categories": ["deadline"]
        }))
        .send()
        .await
        .unwrap();
    let body = expect_problem(r, 422, "validation_failed").await;
    let fields: Vec<&str> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        vec!["email", "phone", "email_categories.1"],
        "{body}"
    );
    let r = stack
        .client
        .put(&url)
        .bearer_auth(&alice)
        .json(&serde_json::json!({"sms_categories": ["deadline"]}))
        .send()
        .await
        .unwrap();
    let body = expect_problem(r, 422, "validation_failed").await;
    assert_eq!(body["errors"][0]["field"], "phone");
    let r = stack.client.get(&url).send().await.unwrap();
    expect_problem(r, 401, "unauthorized").await;
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    email_and_sms_follow_preferences_with_retries,
    preferences_are_validated_field_by_field,
);
