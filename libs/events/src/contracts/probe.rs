//! The backbone's own test event.

use serde::{Deserialize, Serialize};

use super::Event;

/// Backbone test event: carries a key and a sequence number so tests and the
/// benchmark can check ordering per key. Never published by a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
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
