//! Event contracts: every event type any service publishes, in one place, so
//! producer and consumers share one definition. Names are past-tense facts;
//! the `ce_type` carries a version suffix, and a breaking payload change gets
//! a new type rather than a silent reshape.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Topic names: one per producing service.
pub mod topics {
    /// Licensing service events.
    pub const LICENSING: &str = "yizhan.licensing.v1";
    /// Construction service events.
    pub const CONSTRUCTION: &str = "yizhan.construction.v1";
    /// Document service events.
    pub const DOCUMENT: &str = "yizhan.document.v1";
    /// Notification service events.
    pub const NOTIFICATION: &str = "yizhan.notification.v1";
    /// Every service topic (created at start, and by the embedded broker).
    pub const ALL: [&str; 4] = [LICENSING, CONSTRUCTION, DOCUMENT, NOTIFICATION];

    /// Dead-letter topic of one consumer group (the consuming service).
    pub fn dead_letter(consumer: &str) -> String {
        format!("yizhan.{consumer}.dlq")
    }
}

/// A typed event payload.
pub trait Event: Serialize + DeserializeOwned + Send + Sync {
    /// `ce_type`, e.g. `cn.yizhan.document.material_uploaded.v1`.
    const TYPE: &'static str;
    /// The topic it is published on.
    const TOPIC: &'static str;
    /// The aggregate id: Kafka key and `ce_subject`, so one aggregate's
    /// events stay in order.
    fn subject(&self) -> String;
}

/// 材料已上传: an applicant's file is stored and recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaterialUploaded {
    /// Material id.
    pub material_id: String,
    /// Owner enterprise (统一社会信用代码).
    pub enterprise_uscc: String,
    /// Material type code, e.g. `business_licence_copy`.
    pub material_type: String,
    /// Version of this material type for this enterprise (1, 2, ...).
    pub version: i32,
    /// Sanitised original file name.
    pub filename: String,
    /// Sniffed content type.
    pub content_type: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Subject (`sub`) of the uploader.
    pub uploaded_by: String,
    /// Display name of the uploader, if the token carried one.
    pub uploaded_by_name: Option<String>,
    /// When it was stored.
    pub uploaded_at: DateTime<Utc>,
}

impl Event for MaterialUploaded {
    const TYPE: &'static str = "cn.yizhan.document.material_uploaded.v1";
    const TOPIC: &'static str = topics::DOCUMENT;
    fn subject(&self) -> String {
        self.material_id.clone()
    }
}

/// 站内消息已送达: a message was placed in an inbox (lets partners and the
/// supervision view follow deliveries).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxMessageDelivered {
    /// Message id.
    pub message_id: String,
    /// Recipient user (`sub`), when addressed to a person.
    pub recipient_user: Option<String>,
    /// Recipient enterprise, when addressed to an enterprise.
    pub recipient_uscc: Option<String>,
    /// The event that caused it (`source` + `id`).
    pub cause: String,
}

impl Event for InboxMessageDelivered {
    const TYPE: &'static str = "cn.yizhan.notification.inbox_message_delivered.v1";
    const TOPIC: &'static str = topics::NOTIFICATION;
    fn subject(&self) -> String {
        self.message_id.clone()
    }
}

/// Backbone test event: carries a key and a sequence number so tests and the
/// benchmark can check ordering per key. Never published by a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeRecorded {
    /// Aggregate key.
    pub key: String,
    /// Sequence within the key.
    pub seq: u64,
    /// When the producing transaction was about to commit (for latency figures).
    pub sent_at_micros: i64,
    /// When true, test handlers fail on it (poison message).
    #[serde(default)]
    pub poison: bool,
}

impl Event for ProbeRecorded {
    const TYPE: &'static str = "cn.yizhan.test.probe_recorded.v1";
    const TOPIC: &'static str = "yizhan.probe.v1";
    fn subject(&self) -> String {
        self.key.clone()
    }
}
