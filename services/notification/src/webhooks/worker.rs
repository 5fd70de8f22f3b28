//! The delivery worker: runs beside the relay and the consumer, picks due
//! deliveries, POSTs them, and records what happened.
//!
//! Isolation: attempts run as separate tasks, at most `per_subscription` at
//! a time for one subscription and `concurrency` in all, and a subscription
//! at its bound is left out of the next claim query. A slow or dead endpoint
//! therefore only ever holds its own slots; everyone else's deliveries keep
//! flowing. Order: the claim query returns only the oldest pending delivery
//! of each (subscription, subject), so an aggregate's events reach a
//! subscription in the order they were consumed, retries included.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use chrono::Utc;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::retry::{RetryPolicy, parse_retry_after};
use super::secret::SecretBox;
use super::signing::signature_headers;
use super::{CONTENT_TYPE, DELIVERY_HEADER, EVENT_TYPE_HEADER};
use crate::store::webhooks::{self as store, AttemptRecord, status};

/// Worker tuning.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Retry schedule.
    pub retry: RetryPolicy,
    /// Timeout of one POST (connect + answer).
    pub request_timeout: Duration,
    /// Fallback poll when nothing wakes the worker (retries coming due).
    pub poll_interval: Duration,
    /// Attempts in flight in all.
    pub concurrency: usize,
    /// Attempts in flight per subscription.
    pub per_subscription: usize,
    /// Whether private addresses may be connected to (else resolved names
    /// are filtered, see `resolver`).
    pub allow_private: bool,
    /// Also send the pre-Standard-Webhooks `X-Yizhan-Signature` header.
    pub legacy_signature: bool,
}

/// Sends webhook deliveries until cancelled.
pub struct DeliveryWorker {
    db: DatabaseConnection,
    client: reqwest::Client,
    secrets: Arc<SecretBox>,
    config: WorkerConfig,
    wake: Arc<Notify>,
}

/// Attempts in flight per subscription.
type InFlight = Arc<Mutex<HashMap<String, usize>>>;

impl DeliveryWorker {
    /// A worker over `db`; `wake` is notified when deliveries are created or replayed.
    pub fn new(
        db: DatabaseConnection,
        secrets: Arc<SecretBox>,
        config: WorkerConfig,
        wake: Arc<Notify>,
    ) -> anyhow::Result<Self> {
        let mut builder = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("yizhan-webhooks/", env!("CARGO_PKG_VERSION")))
            // A redirect could lead anywhere, including inward; receivers
            // must answer at the registered URL.
            .redirect(reqwest::redirect::Policy::none())
            // Through an HTTP(S)_PROXY the target's address is resolved by
            // the proxy, out of sight of the public-address checks below, so
            // `http://metadata.internal/` would be fetched for the partner.
            .no_proxy();
        if !config.allow_private {
            builder = builder.dns_resolver(super::resolver::PublicOnly);
        }
        Ok(Self {
            db,
            client: builder.build()?,
            secrets,
            config,
            wake,
        })
    }

    /// Runs until `cancel`. Attempts in flight are abandoned on cancel and
    /// their deliveries released, so the next start retries them at once.
    pub async fn run(self, cancel: CancellationToken) {
        let this = Arc::new(self);
        let in_flight: InFlight = Arc::default();
        let mut tasks = JoinSet::new();
        let mut backoff = Duration::from_millis(100);
        loop {
            if cancel.is_cancelled() {
                break;
            }
            while tasks.try_join_next().is_some() {}
            let pause = match this.round(&in_flight, &mut tasks, &cancel).await {
                Ok(()) => {
                    backoff = Duration::from_millis(100);
                    this.config.poll_interval
                }
                Err(e) => {
                    tracing::warn!(error = %e, "webhook worker round failed");
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                    backoff
                }
            };
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = this.wake.notified() => {}
                _ = tokio::time::sleep(pause) => {}
            }
        }
        while tasks.join_next().await.is_some() {}
        tracing::debug!("webhook worker stopped");
    }

    /// Claims what is due (within the concurrency bounds) and starts attempts.
    async fn round(
        self: &Arc<Self>,
        in_flight: &InFlight,
        tasks: &mut JoinSet<()>,
        cancel: &CancellationToken,
    ) -> Result<(), DbErr> {
        let free = self.config.concurrency.saturating_sub(tasks.len());
        if free == 0 {
            return Ok(());
        }
        let saturated: Vec<String> = lock(in_flight)
            .iter()
            .filter(|(_, n)| **n >= self.config.per_subscription)
            .map(|(id, _)| id.clone())
            .collect();
        let now = Utc::now();
        let due = store::due_deliveries(&self.db, now, &saturated, free as u64).await?;
        // Long enough for the attempt to finish; if this process dies the
        // lease runs out and the delivery is attempted again.
        let lease = now
            + chrono::Duration::from_std(self.config.request_timeout + Duration::from_secs(30))
                .unwrap_or_else(|_| chrono::Duration::minutes(1));
        for due in due {
            if tasks.len() >= self.config.concurrency {
                break;
            }
            {
                let counts = lock(in_flight);
                if counts.get(&due.subscription_id).copied().unwrap_or(0)
                    >= self.config.per_subscription
                {
                    continue;
                }
            }
            if !store::claim(&self.db, &due.id, now, lease).await? {
                continue;
            }
            *lock(in_flight)
                .entry(due.subscription_id.clone())
                .or_default() += 1;
            let this = Arc::clone(self);
            let in_flight = Arc::clone(in_flight);
            let cancel = cancel.clone();
            tasks.spawn(async move {
                if let Err(e) = this.attempt(&due.id, &cancel).await {
                    // The lease runs out and the delivery is tried again.
                    tracing::warn!(delivery = %due.id, error = %e, "cannot record webhook attempt");
                }
                let mut counts = lock(&in_flight);
                if let Some(n) = counts.get_mut(&due.subscription_id) {
                    *n -= 1;
                    if *n == 0 {
                        counts.remove(&due.subscription_id);
                    }
                }
                drop(counts);
                // The next delivery of this aggregate may be due now.
                this.wake.notify_one();
            });
        }
        Ok(())
    }

    /// One POST of one claimed delivery, and its record.
    async fn attempt(&self, id: &str, cancel: &CancellationToken) -> Result<(), DbErr> {
        let Some(delivery) = store::delivery_by_id(&self.db, id).await? else {
            return Ok(());
        };
        let Some(subscription) =
            store::live_subscription(&self.db, &delivery.subscription_id).await?
        else {
            return store::cancel(&self.db, id).await;
        };
        let attempts = delivery.attempts + 1;
        let started = Utc::now();
        let request = match self
            .secrets
            .open(&subscription.id, &subscription.secret_sealed)
        {
            Ok(secret) => self.signed_request(&subscription.url, &secret, &delivery, started),
            Err(e) => {
                tracing::error!(subscription = %subscription.id, error = %e, "webhook secret cannot be opened");
                None
            }
        };
        let outcome = match request {
            None => Outcome::Failed {
                status_code: None,
                error: "签名密钥不可用，请轮换密钥".to_owned(),
                retry_after: None,
            },
            Some(request) => {
                let request = request.header("X-Yizhan-Attempt", attempts.to_string());
                let trace = event_traceparent(&delivery.body);
                // A client span in the event's trace; its `traceparent` header
                // is outside what Standard Webhooks signs (id, timestamp, body).
                let request = yizhan_kit::http_client::send(request, trace.as_deref());
                tokio::select! {
                    sent = request => self.outcome(sent),
                    _ = cancel.cancelled() => return store::release(&self.db, id).await,
                }
            }
        };
        let record = self.record(attempts, started, outcome);
        tracing::debug!(delivery = %id, attempts, status = record.status, "webhook attempt");
        let outcome = match record.status {
            status::DELIVERED => "delivered",
            status::DEAD => "dead",
            _ => "retrying",
        };
        yizhan_kit::metrics::webhook_attempt(crate::SERVICE, outcome);
        store::record_attempt(&self.db, id, record).await
    }

    /// The POST of `delivery` with its body and signature headers (see
    /// `signing`); `None` when the secret cannot sign.
    fn signed_request(
        &self,
        url: &str,
        secret: &str,
        delivery: &store::delivery::Model,
        at: chrono::DateTime<Utc>,
    ) -> Option<reqwest::RequestBuilder> {
        let headers = signature_headers(
            secret,
            &delivery.id,
            at.timestamp(),
            delivery.body.as_bytes(),
            self.config.legacy_signature,
        )?;
        let mut request = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
            .header(DELIVERY_HEADER, &delivery.id)
            .header(EVENT_TYPE_HEADER, &delivery.event_type);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        Some(request.body(delivery.body.clone()))
    }

    fn outcome(&self, sent: Result<reqwest::Response, reqwest::Error>) -> Outcome {
        match sent {
            Ok(response) if response.status().is_success() => Outcome::Delivered {
                status_code: response.status().as_u16(),
            },
            Ok(response) => {
                let retry_after = response
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, SystemTime::now()));
                Outcome::Failed {
                    status_code: Some(response.status().as_u16()),
                    error: format!("接收方答复 HTTP {}", response.status()),
                    retry_after,
                }
            }
            Err(e) => Outcome::Failed {
                status_code: None,
                error: describe(&e, self.config.request_timeout),
                retry_after: None,
            },
        }
    }

    fn record(
        &self,
        attempts: i32,
        started: chrono::DateTime<Utc>,
        outcome: Outcome,
    ) -> AttemptRecord {
        match outcome {
            Outcome::Delivered { status_code } => AttemptRecord {
                attempts,
                status: status::DELIVERED,
                next_attempt_at: started,
                status_code: Some(i32::from(status_code)),
                error: None,
                attempted_at: started,
            },
            Outcome::Failed {
                status_code,
                error,
                retry_after,
            } => {
                let exhausted = attempts as u32 >= self.config.retry.max_attempts;
                let delay = self.config.retry.next_delay(attempts as u32, retry_after);
                AttemptRecord {
                    attempts,
                    status: if exhausted {
                        status::DEAD
                    } else {
                        status::PENDING
                    },
                    next_attempt_at: Utc::now()
                        + chrono::Duration::from_std(delay)
                            .unwrap_or_else(|_| chrono::Duration::hours(1)),
                    status_code: status_code.map(i32::from),
                    error: Some(error),
                    attempted_at: started,
                }
            }
        }
    }
}

enum Outcome {
    Delivered {
        status_code: u16,
    },
    Failed {
        status_code: Option<u16>,
        error: String,
        retry_after: Option<Duration>,
    },
}

/// The event's trace context: the body's `traceparent` extension attribute
/// (see `crate::handlers`), present when the event had one.
fn event_traceparent(body: &str) -> Option<String> {
    let body: serde_json::Value = serde_json::from_str(body).ok()?;
    body.get("traceparent")?.as_str().map(str::to_owned)
}

/// A transport error in words a partner can act on.
fn describe(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        format!("接收方未在 {} 毫秒内答复", timeout.as_millis())
    } else if e.is_connect() {
        let mut cause = String::new();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            cause = s.to_string();
            source = s.source();
        }
        format!("无法连接接收方：{cause}")
    } else {
        format!("请求失败：{e}")
    }
}

fn lock(in_flight: &InFlight) -> std::sync::MutexGuard<'_, HashMap<String, usize>> {
    // A panic while holding this lock leaves only counters behind; keep going.
    in_flight.lock().unwrap_or_else(|p| p.into_inner())
}
