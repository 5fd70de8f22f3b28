//! The embedded broker: librdkafka's own mock cluster, speaking real Kafka
//! protocol on loopback, used when no `KAFKA_BROKERS` is configured.
//!
//! `MockCluster` is not `Send`, so it lives on a dedicated thread for its whole
//! life; the thread hands back the bootstrap address and then waits for the
//! stop signal. It keeps nothing on disk: see `outbox::redrive_retained` for
//! how the stack re-drives events after a restart.

use std::sync::mpsc;
use std::thread::JoinHandle;

use rdkafka::mocking::MockCluster;

use crate::contracts::topics;

/// Partitions per service topic on the embedded broker.
pub const EMBEDDED_PARTITIONS: i32 = 4;

/// A running embedded broker. Dropping it stops the cluster.
pub struct EmbeddedBroker {
    bootstrap: String,
    traffic: crate::traffic::LocalTraffic,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EmbeddedBroker {
    /// Starts a one-node mock cluster and creates the service topics, their
    /// dead-letter topics and any `extra_topics` (tests use their own).
    pub fn start(extra_topics: &[&str]) -> anyhow::Result<Self> {
        let mut wanted: Vec<(String, i32)> = topics::ALL
            .iter()
            .map(|t| (t.to_string(), EMBEDDED_PARTITIONS))
            .collect();
        for service in [
            "licensing",
            "construction",
            "document",
            "notification",
            "enterprise",
        ] {
            wanted.push((topics::dead_letter(service), 1));
        }
        wanted.extend(
            extra_topics
                .iter()
                .map(|t| (t.to_string(), EMBEDDED_PARTITIONS)),
        );

        let (ready_tx, ready_rx) = mpsc::channel::<anyhow::Result<String>>();
        let (stop_tx, stop_rx) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("embedded-kafka".into())
            .spawn(move || {
                let cluster = match MockCluster::new(1) {
                    Ok(cluster) => cluster,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.into()));
                        return;
                    }
                };
                for (topic, partitions) in &wanted {
                    if let Err(e) = cluster.create_topic(topic, *partitions, 1) {
                        let _ = ready_tx.send(Err(anyhow::anyhow!("create {topic}: {e}")));
                        return;
                    }
                }
                let _ = ready_tx.send(Ok(cluster.bootstrap_servers()));
                // Park until told to stop (or the handle is dropped).
                let _ = stop_rx.recv();
                drop(cluster);
            })?;
        let bootstrap = ready_rx
            .recv()
            .map_err(|_| anyhow::anyhow!("embedded broker thread died during start"))??;
        Ok(Self {
            bootstrap,
            traffic: crate::traffic::LocalTraffic::new(),
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }

    /// Bootstrap servers (`127.0.0.1:<port>`).
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap
    }

    /// The publish signal for services of this process on this broker:
    /// meant for when they are its only producers (see [`crate::traffic`]).
    pub fn local_traffic(&self) -> crate::traffic::LocalTraffic {
        self.traffic.clone()
    }
}

impl Drop for EmbeddedBroker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
