//! What the consumer tells `/readyz`: whether it is applying events or
//! waiting for a dependency to come back.

use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Shared view of a consumer's state, cheap to clone. The consumer writes
/// it; the readiness check reads it.
#[derive(Clone, Default)]
pub struct ConsumerStatus(Arc<Mutex<Option<Instant>>>);

impl ConsumerStatus {
    /// Records that at least one partition waits for a dependency (kept
    /// from the first stall until every partition runs again).
    pub(crate) fn set_stalled(&self, stalled: bool) {
        let mut since = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match (stalled, since.is_some()) {
            (true, false) => *since = Some(Instant::now()),
            (false, true) => *since = None,
            _ => {}
        }
    }

    /// Since when the consumer has been waiting for a dependency, if it is.
    pub fn stalled_since(&self) -> Option<Instant> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// `/readyz` entry `consumer`. Not critical: a waiting consumer delays
/// effects but the service still answers, and the cause (usually the
/// database) has its own, critical, check.
pub struct ConsumerCheck(pub ConsumerStatus);

#[async_trait::async_trait]
impl yizhan_kit::health::ReadinessCheck for ConsumerCheck {
    fn name(&self) -> &'static str {
        "consumer"
    }

    fn critical(&self) -> bool {
        false
    }

    async fn check(&self) -> Result<(), String> {
        match self.0.stalled_since() {
            None => Ok(()),
            Some(since) => Err(format!(
                "事件处理已暂停 {} 秒：依赖暂不可用，自动重试中",
                since.elapsed().as_secs()
            )),
        }
    }
}
