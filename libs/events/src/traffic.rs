//! Local traffic: the relays of this process say when they have published
//! to the embedded broker this process owns, so its consumers can sleep
//! while nothing is sent and ask quickly while something is.
//!
//! Why this exists: the embedded broker (librdkafka's mock cluster) holds
//! an empty fetch for the whole `fetch.wait.max.ms` and never answers early
//! when data arrives, unlike Kafka. A consumer on it either waits long per
//! fetch (every hop of an event then costs up to that wait: a licence
//! crosses four hops) or asks often (and an idle process spends its CPU on
//! empty fetches). When every producer of the broker lives in this process
//! (the all-in-one stack), neither is needed: consumers fetch with a short
//! wait while there is traffic, pause their partitions once there has been
//! none for a while (no fetches at all), and resume the moment a relay of
//! this process publishes. Nothing comparable exists in rdkafka: it is a
//! property of our deployment, not of the protocol.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::watch;

/// How long a consumer sees no message and no local publish before it
/// pauses.
pub const IDLE_AFTER: Duration = Duration::from_secs(1);

/// Longest pause without a local publish: the fallback for an event a
/// producer outside this process sent (none of ours does).
pub const RESUME_AT_LEAST_EVERY: Duration = Duration::from_secs(30);

/// A process-wide "something was published" signal; clones share it.
#[derive(Clone, Debug)]
pub struct LocalTraffic(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    published: watch::Sender<u64>,
    idle_after: Duration,
    resume_at_least_every: Duration,
    sleeping: AtomicUsize,
}

impl Default for LocalTraffic {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalTraffic {
    /// A new signal, for one embedded broker, with the default timings.
    pub fn new() -> Self {
        Self::with_timings(IDLE_AFTER, RESUME_AT_LEAST_EVERY)
    }

    /// A new signal whose consumers pause after `idle_after` and resume
    /// at least every `resume_at_least_every` (tests shorten both).
    pub fn with_timings(idle_after: Duration, resume_at_least_every: Duration) -> Self {
        Self(Arc::new(Inner {
            published: watch::channel(0).0,
            idle_after,
            resume_at_least_every,
            sleeping: AtomicUsize::new(0),
        }))
    }

    /// Says that events were published (the relay, after the broker's ack).
    pub fn produced(&self) {
        // Unconditional: there may be no consumer listening yet.
        self.0.published.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// A receiver whose `changed()` completes after the next `produced`.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.0.published.subscribe()
    }

    /// How long a consumer waits idle before pausing.
    pub fn idle_after(&self) -> Duration {
        self.0.idle_after
    }

    /// The longest pause without a local publish.
    pub fn resume_at_least_every(&self) -> Duration {
        self.0.resume_at_least_every
    }

    /// How many consumers have their partitions paused right now.
    pub fn sleeping(&self) -> usize {
        self.0.sleeping.load(Ordering::SeqCst)
    }

    /// A consumer paused (`true`) or resumed (`false`).
    pub(crate) fn set_sleeping(&self, sleeping: bool) {
        if sleeping {
            self.0.sleeping.fetch_add(1, Ordering::SeqCst);
        } else {
            self.0.sleeping.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_subscriber_hears_what_is_produced_after_it_subscribed() {
        let traffic = LocalTraffic::new();
        traffic.produced(); // before anyone listens: not lost, not heard later
        let mut rx = traffic.subscribe();
        assert!(!rx.has_changed().unwrap());
        let other = traffic.clone();
        other.produced();
        tokio::time::timeout(std::time::Duration::from_secs(5), rx.changed())
            .await
            .expect("heard")
            .unwrap();
        assert!(!rx.has_changed().unwrap(), "seen once");
    }
}
