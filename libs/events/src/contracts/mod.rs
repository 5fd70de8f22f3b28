//! Event contracts: every event type any service publishes, in one place, so
//! producer and consumers share one definition. Names are past-tense facts;
//! the `ce_type` carries a version suffix, and a breaking payload change gets
//! a new type rather than a silent reshape.

use serde::Serialize;
use serde::de::DeserializeOwned;

mod construction;
mod construction_review;
mod deadlines;
mod document;
mod enterprise_benefits;
mod enterprise_requests;
mod licensing;
mod notification;
mod probe;

pub use construction::*;
pub use construction_review::*;
pub use deadlines::*;
pub use document::*;
pub use enterprise_benefits::*;
pub use enterprise_requests::*;
pub use licensing::*;
pub use notification::*;
pub use probe::*;

/// Who did something, as a timeline and an event record it: the person's
/// `sub` and the role they acted in (`applicant`, `agent` for 帮办代办,
/// `window_clerk`, `dept_reviewer` …), or the service itself with the role
/// `system` for automatic steps (`document` for the certificate service's
/// answer).
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, Serialize, schemars::JsonSchema)]
pub struct Actor {
    /// The actor's `sub`.
    pub sub: String,
    /// The role acted in.
    pub role: String,
}

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
    /// Enterprise service events (诉求, 免申即享, 好差评, 一企一档).
    pub const ENTERPRISE: &str = "yizhan.enterprise.v1";
    /// Every service topic (created at start, and by the embedded broker).
    pub const ALL: [&str; 5] = [LICENSING, CONSTRUCTION, DOCUMENT, NOTIFICATION, ENTERPRISE];

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
