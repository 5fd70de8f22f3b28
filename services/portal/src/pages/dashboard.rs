//! The staff home page's counts: how many entries wait in each of the
//! viewer's queues and, for a department's tasks, how many are in each
//! SLA state, each linked to the queue filtered to it. The counts are an
//! extra: a queue that cannot be read is left out, the home page answers.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use yizhan_kit::pagination::PageQuery;

use super::{me_is, sla_name};
use crate::AppState;
use crate::queues::{Queue, QueueQuery, merged_page};
use crate::session::Viewer;

/// Entries read per merged page while counting.
const PAGE_SIZE: u64 = 100;
/// Pages read at most: past `PAGE_SIZE × MAX_PAGES` the count says "N+".
const MAX_PAGES: usize = 5;

/// SLA states in the order a reviewer attends to them.
const SLA_STATES: [&str; 4] = ["overdue", "warning", "on_time", "paused"];

/// What a queue holds: how many entries (at least, when `more`), and how
/// many in each SLA state.
#[derive(Debug, Default)]
struct Tally {
    total: usize,
    more: bool,
    by_sla: BTreeMap<String, usize>,
}

/// Counts `queue` as the viewer sees it; `None` when it cannot be read.
async fn tally(state: &AppState, viewer: &Viewer, queue: Queue) -> Option<Tally> {
    let mut tally = Tally::default();
    let mut cursor = None;
    for _ in 0..MAX_PAGES {
        let page = PageQuery {
            cursor,
            limit: Some(PAGE_SIZE),
        };
        let merged = merged_page(
            state,
            &viewer.principal,
            &viewer.token,
            queue,
            &QueueQuery::default(),
            &page,
        )
        .await
        .ok()?;
        for entry in &merged.items {
            tally.total += 1;
            let sla = entry.sla_state.clone().unwrap_or_default();
            *tally.by_sla.entry(sla).or_default() += 1;
        }
        // A source that did not answer leaves a cursor to come back with;
        // an empty page means there is nothing more to count now.
        match merged.next_cursor {
            Some(next) if !merged.items.is_empty() => cursor = Some(next),
            _ => return Some(tally),
        }
    }
    tally.more = true;
    Some(tally)
}

/// The count as shown: `12`, or `500+` past what is read.
fn shown(count: usize, more: bool) -> String {
    if more {
        format!("{count}+")
    } else {
        count.to_string()
    }
}

/// The counts of the viewer's staff queues for the home page:
/// `{"intake": "3", "hand_out": "1", "tasks": {"total": "4", "sla": […]}}`,
/// each key only when the viewer works that queue and it could be read.
pub async fn staff_counts(state: &AppState, viewer: &Viewer) -> Value {
    let (clerk, reviewer) = me_is(viewer);
    let mut counts = serde_json::Map::new();
    if clerk {
        let (intake, hand_out) = futures_util::future::join(
            tally(state, viewer, Queue::Intake),
            tally(state, viewer, Queue::HandOut),
        )
        .await;
        for (key, tally) in [("intake", intake), ("hand_out", hand_out)] {
            if let Some(t) = tally {
                counts.insert(key.into(), json!(shown(t.total, t.more)));
            }
        }
    }
    if reviewer && let Some(t) = tally(state, viewer, Queue::Tasks).await {
        let sla: Vec<Value> = SLA_STATES
            .iter()
            .map(|code| {
                let n = t.by_sla.get(*code).copied().unwrap_or(0);
                json!({"code": code, "name": sla_name(Some(code)), "count": shown(n, t.more)})
            })
            .collect();
        counts.insert(
            "tasks".into(),
            json!({"total": shown(t.total, t.more), "sla": sla}),
        );
    }
    Value::Object(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_past_what_was_read_says_so() {
        assert_eq!(shown(3, false), "3");
        assert_eq!(shown(500, true), "500+");
    }

    #[test]
    fn every_counted_state_has_a_chinese_name() {
        for code in SLA_STATES {
            assert!(!sla_name(Some(code)).is_ascii(), "{code}");
        }
    }
}
