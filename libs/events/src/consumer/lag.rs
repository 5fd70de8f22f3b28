//! Consumer lag per topic and partition, from librdkafka's own statistics:
//! every `STATS_INTERVAL_MS` the client reports, for each partition it
//! knows, the high watermark and the offsets it stored and committed, so
//! the lag needs no extra request to the broker.

use rdkafka::ClientContext;
use rdkafka::consumer::{ConsumerContext, StreamConsumer};
use serde_json::Value;

/// How often librdkafka emits statistics (and so the lag gauge moves).
pub(super) const STATS_INTERVAL_MS: &str = "5000";

/// The consumer's context: sets `yizhan_consumer_lag_messages` from each
/// statistics report.
pub(super) struct LagContext {
    /// The consuming service (the `service` label).
    pub(super) service: String,
}

/// The consumer type of [`super::EventConsumer`].
pub(super) type LagConsumer = StreamConsumer<LagContext>;

impl ClientContext for LagContext {
    // The raw JSON, read for the four fields used: rdkafka's typed
    // `Statistics` refuses a whole report when a librdkafka version adds or
    // drops any field.
    fn stats_raw(&self, statistics: &[u8]) {
        let Ok(report) = serde_json::from_slice::<Value>(statistics) else {
            tracing::debug!("unreadable librdkafka statistics");
            return;
        };
        let Some(topics) = report["topics"].as_object() else {
            return;
        };
        for (topic, stats) in topics {
            let Some(partitions) = stats["partitions"].as_object() else {
                continue;
            };
            for partition in partitions.values() {
                if let Some((id, lag)) = lag_of(partition) {
                    metrics::gauge!(yizhan_kit::metrics::CONSUMER_LAG,
                        "service" => self.service.clone(),
                        "topic" => topic.clone(),
                        "partition" => id.to_string())
                    .set(lag as f64);
                }
            }
        }
    }
}

impl ConsumerContext for LagContext {}

/// The lag of one partition, or `None` when there is nothing to say.
///
/// - `-1` is librdkafka's internal "unassigned" partition: skipped.
/// - A partition this replica does not consume (another replica of the
///   group has it) reads 0 here: its owner reports the real lag, and
///   dashboards take the `max` over replicas.
/// - Otherwise the distance from the offset the consumer stored (after the
///   handler's commit) to the high watermark; until it has stored one,
///   from the committed offset; `None` while neither is known yet.
fn lag_of(p: &Value) -> Option<(i64, i64)> {
    let id = p["partition"].as_i64()?;
    if id < 0 {
        return None;
    }
    if !p["desired"].as_bool().unwrap_or(false) {
        return Some((id, 0));
    }
    [&p["consumer_lag_stored"], &p["consumer_lag"]]
        .into_iter()
        .filter_map(Value::as_i64)
        .find(|lag| *lag >= 0)
        .map(|lag| (id, lag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lag_is_read_from_the_stored_offset_first() {
        let p = |v: Value| lag_of(&v);
        let assigned = serde_json::json!({"partition": 2, "desired": true,
            "consumer_lag_stored": 3, "consumer_lag": 7});
        assert_eq!(p(assigned), Some((2, 3)));
        let nothing_stored = serde_json::json!({"partition": 0, "desired": true,
            "consumer_lag_stored": -1, "consumer_lag": 7});
        assert_eq!(p(nothing_stored), Some((0, 7)));
        let unknown = serde_json::json!({"partition": 0, "desired": true,
            "consumer_lag_stored": -1, "consumer_lag": -1});
        assert_eq!(p(unknown), None);
        let elsewhere = serde_json::json!({"partition": 1, "desired": false,
            "consumer_lag_stored": -1, "consumer_lag": -1});
        assert_eq!(p(elsewhere), Some((1, 0)));
        assert_eq!(
            p(serde_json::json!({"partition": -1, "desired": false})),
            None
        );
    }
}
