//! Event contracts: every event type any service publishes, in one place, so
//! producer and consumers share one definition. Names are past-tense facts;
//! the `ce_type` carries a version suffix, and a breaking payload change gets
//! a new type rather than a silent reshape.

use serde::Serialize;
use serde::de::DeserializeOwned;

mod construction;
mod deadlines;
mod document;
mod licensing;
mod notification;
mod probe;

pub use construction::*;
pub use deadlines::*;
pub use document::*;
pub use licensing::*;
pub use notification::*;
pub use probe::*;

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
