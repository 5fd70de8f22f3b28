//! Sends queued email/SMS deliveries with retries, outside the consumer's
//! transaction. Sends run one at a time per batch row but concurrently
//! across rows; a failing provider only delays its own retries.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::email::EmailSender;
use super::sms::SmsSender;
use super::{EMAIL, SMS};
use crate::store::channels::{self as store, delivery, status};
use crate::webhooks::retry::RetryPolicy;

/// Sends channel deliveries until cancelled.
pub struct ChannelWorker {
    db: DatabaseConnection,
    email: Option<EmailSender>,
    sms: Option<SmsSender>,
    retry: RetryPolicy,
    timeout: Duration,
    poll_interval: Duration,
    wake: Arc<Notify>,
}

impl ChannelWorker {
    /// A worker with the configured senders.
    pub fn new(
        db: DatabaseConnection,
        email: Option<EmailSender>,
        sms: Option<SmsSender>,
        retry: RetryPolicy,
        timeout: Duration,
        poll_interval: Duration,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            db,
            email,
            sms,
            retry,
            timeout,
            poll_interval,
            wake,
        }
    }

    /// Runs until `cancel`; sends in hand are abandoned (their lease runs
    /// out and they are retried).
    pub async fn run(self, cancel: CancellationToken) {
        if self.email.is_none() && self.sms.is_none() {
            return;
        }
        let this = Arc::new(self);
        loop {
            if let Err(e) = this.round(&cancel).await {
                tracing::warn!(error = %e, "channel worker round failed");
            }
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = this.wake.notified() => {}
                _ = tokio::time::sleep(this.poll_interval) => {}
            }
        }
    }

    async fn round(self: &Arc<Self>, cancel: &CancellationToken) -> Result<(), DbErr> {
        let now = Utc::now();
        let lease = now
            + chrono::Duration::from_std(self.timeout + Duration::from_secs(30))
                .unwrap_or_else(|_| chrono::Duration::minutes(1));
        let mut sends = JoinSet::new();
        for row in store::due(&self.db, now, 32).await? {
            if !store::claim(&self.db, row.seq, now, lease).await? {
                continue;
            }
            let this = Arc::clone(self);
            let cancel = cancel.clone();
            sends.spawn(async move {
                tokio::select! {
                    result = this.send(&row) => {
                        if let Err(e) = this.record(&row, result).await {
                            tracing::warn!(error = %e, "cannot record channel delivery");
                        }
                    }
                    _ = cancel.cancelled() => {}
                }
            });
        }
        while sends.join_next().await.is_some() {}
        Ok(())
    }

    async fn send(&self, row: &delivery::Model) -> Result<(), (String, Option<Duration>)> {
        match (row.channel.as_str(), &self.email, &self.sms) {
            (EMAIL, Some(email), _) => email
                .send(&row.address, &row.title, &row.body)
                .await
                .map_err(|e| (e, None)),
            (SMS, _, Some(sms)) => sms
                .send(
                    &row.address,
                    &format!("【一站】{}：{}", row.title, row.body),
                    &row.category,
                    &row.message_id,
                )
                .await
                .map_err(|f| (f.error, f.retry_after)),
            _ => Err(("该通知渠道未配置".to_owned(), None)),
        }
    }

    async fn record(
        &self,
        row: &delivery::Model,
        result: Result<(), (String, Option<Duration>)>,
    ) -> Result<(), DbErr> {
        let attempts = row.attempts + 1;
        match result {
            Ok(()) => {
                store::record(&self.db, row.seq, attempts, status::SENT, Utc::now(), None).await
            }
            Err((error, retry_after)) => {
                let exhausted = attempts as u32 >= self.retry.max_attempts;
                let delay = self.retry.next_delay(attempts as u32, retry_after);
                let next = Utc::now()
                    + chrono::Duration::from_std(delay)
                        .unwrap_or_else(|_| chrono::Duration::hours(1));
                let state = if exhausted {
                    status::FAILED
                } else {
                    status::PENDING
                };
                store::record(&self.db, row.seq, attempts, state, next, Some(error)).await
            }
        }
    }
}
