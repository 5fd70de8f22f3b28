//! SMS through an HTTP provider adapter.
//!
//! The adapter speaks one small JSON contract, so any provider (or a gateway
//! in front of one) can be plugged in by URL:
//!
//! ```text
//! POST <sms_url>
//! Authorization: Bearer <sms_token>        (when configured)
//! Content-Type: application/json
//!
//! {"phone": "13800138000", "text": "【一站】…", "category": "deadline", "message_id": "…"}
//! ```
//!
//! Any 2xx answer means accepted; anything else is retried (honouring
//! `Retry-After`), up to the channel attempt limit.

use std::time::{Duration, SystemTime};

use crate::webhooks::retry::parse_retry_after;

/// Why a send failed.
#[derive(Debug)]
pub struct SmsFailure {
    /// For the delivery log.
    pub error: String,
    /// The provider's `Retry-After`, if any.
    pub retry_after: Option<Duration>,
}

/// Posts SMS requests to the configured provider.
pub struct SmsSender {
    client: reqwest::Client,
    url: String,
    token: Option<String>,
}

impl SmsSender {
    /// A sender posting to `url`.
    pub fn new(url: String, token: Option<String>, timeout: Duration) -> anyhow::Result<Self> {
        Ok(Self {
            client: reqwest::Client::builder()
                .timeout(timeout)
                .redirect(reqwest::redirect::Policy::none())
                .build()?,
            url,
            token,
        })
    }

    /// Sends one text.
    pub async fn send(
        &self,
        phone: &str,
        text: &str,
        category: &str,
        message_id: &str,
    ) -> Result<(), SmsFailure> {
        let mut request = self.client.post(&self.url).json(&serde_json::json!({
            "phone": phone,
            "text": text,
            "category": category,
            "message_id": message_id,
        }));
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        match request.send().await {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(SmsFailure {
                error: format!("短信服务答复 HTTP {}", r.status()),
                retry_after: r
                    .headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, SystemTime::now())),
            }),
            Err(e) => Err(SmsFailure {
                error: format!("无法连接短信服务：{e}"),
                retry_after: None,
            }),
        }
    }
}
