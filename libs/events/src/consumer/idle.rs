//! A consumer on the embedded broker of its own process pauses its
//! partitions while that process publishes nothing, and resumes them when
//! it does (see [`crate::traffic`] for why).
//!
//! Pausing is librdkafka's own: a paused partition is not fetched, and on
//! resume it is fetched from the message after the last one handed to us,
//! so pausing loses and repeats nothing. Partitions paused to retry a
//! message (the consumer's `waiting`) stay paused on resume: their retry
//! resumes them.

use std::collections::HashMap;
use std::future::pending;

use rdkafka::TopicPartitionList;
use rdkafka::consumer::Consumer;
use tokio::sync::watch;
use tokio::time::{Instant, sleep_until};

use super::lag::LagConsumer;
use crate::traffic::LocalTraffic;

/// What the consumer should do next.
pub(super) enum Turn {
    /// Nothing for a while: pause every assigned partition.
    Pause,
    /// Something was published (or the fallback is due): resume them.
    Resume,
}

/// The idle state of one consumer.
pub(super) struct Idle {
    traffic: LocalTraffic,
    published: watch::Receiver<u64>,
    last_seen: Instant,
    paused: bool,
}

impl Idle {
    /// Starts active: the first pause comes after the idle time.
    pub(super) fn new(traffic: &LocalTraffic) -> Self {
        Self {
            traffic: traffic.clone(),
            published: traffic.subscribe(),
            last_seen: Instant::now(),
            paused: false,
        }
    }

    /// A message arrived: not idle.
    pub(super) fn saw_message(&mut self) {
        self.last_seen = Instant::now();
    }

    /// Completes when it is time to pause (while active) or to resume
    /// (while paused). Cancel-safe: dropped by `select!` and called again.
    pub(super) async fn next(&mut self) -> Turn {
        loop {
            let deadline = if self.paused {
                self.last_seen + self.traffic.resume_at_least_every()
            } else {
                self.last_seen + self.traffic.idle_after()
            };
            tokio::select! {
                // Never an error: `self.traffic` keeps the sender alive.
                _ = self.published.changed() => {
                    self.last_seen = Instant::now();
                    if self.paused {
                        return self.turn(false);
                    }
                }
                _ = sleep_until(deadline) => {
                    self.last_seen = Instant::now();
                    return self.turn(!self.paused);
                }
            }
        }
    }
}

impl Idle {
    /// A pause that paused nothing (no partition assigned yet): stay
    /// awake, and try again after the idle time.
    pub(super) fn pause_failed(&mut self) {
        if self.paused {
            self.turn(false);
        }
    }

    fn turn(&mut self, pause: bool) -> Turn {
        self.paused = pause;
        self.traffic.set_sleeping(pause);
        if pause { Turn::Pause } else { Turn::Resume }
    }
}

impl Drop for Idle {
    fn drop(&mut self) {
        if self.paused {
            self.traffic.set_sleeping(false);
        }
    }
}

/// The next turn of `idle`, or never when the consumer does not pause.
pub(super) async fn next_turn(idle: &mut Option<Idle>) -> Turn {
    match idle {
        Some(idle) => idle.next().await,
        None => pending().await,
    }
}

/// Pauses every partition assigned to `consumer`; false when none was
/// (not assigned yet: still joining its group).
pub(super) fn pause_all(consumer: &LagConsumer) -> bool {
    match consumer.assignment() {
        Ok(assigned) if assigned.count() > 0 => match consumer.pause(&assigned) {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(error = %e, "cannot pause idle partitions");
                false
            }
        },
        Ok(_) => false,
        Err(e) => {
            tracing::debug!(error = %e, "no assignment to pause");
            false
        }
    }
}

/// Resumes every assigned partition except those waiting to retry.
pub(super) fn resume_all<W>(consumer: &LagConsumer, waiting: &HashMap<(String, i32), W>) {
    let Ok(assigned) = consumer.assignment() else {
        return;
    };
    let mut resumed = TopicPartitionList::new();
    for p in assigned.elements() {
        if !waiting.contains_key(&(p.topic().to_owned(), p.partition())) {
            resumed.add_partition(p.topic(), p.partition());
        }
    }
    if resumed.count() > 0
        && let Err(e) = consumer.resume(&resumed)
    {
        tracing::warn!(error = %e, "cannot resume partitions");
    }
}
