//! Unit tests of merge order, cursor positions and filters.

use super::merge::{Positions, Scan, authorise, merge};
use super::*;
use chrono::NaiveDate;
use yizhan_approval::sla::Half;

fn task(source: Source, id: &str, due: Option<(u32, Half)>) -> (QueueEntry, String) {
    let item = serde_json::json!({
        "id": id,
        "item_name": id,
        "status": "in_review",
        "due": due.map(|(day, half)| Deadline {
            date: NaiveDate::from_ymd_opt(2026, 12, day).unwrap(),
            half,
        }),
    });
    (
        entry(Queue::Tasks, source, &item).unwrap(),
        format!("after-{id}"),
    )
}

fn scan(source: Source, items: Vec<(QueueEntry, String)>, more: bool) -> Scan {
    Scan {
        source,
        scanned_to: items.last().map(|(_, c)| c.clone()),
        items,
        more,
    }
}

#[test]
fn merge_orders_by_deadline_across_sources_and_keeps_each_position() {
    let lic = scan(
        Source::Licensing,
        vec![
            task(Source::Licensing, "l1", Some((1, Half::Afternoon))),
            task(Source::Licensing, "l2", Some((3, Half::Morning))),
            task(Source::Licensing, "l3", None),
        ],
        false,
    );
    let con = scan(
        Source::Construction,
        vec![
            task(Source::Construction, "c1", Some((1, Half::Morning))),
            task(Source::Construction, "c2", Some((3, Half::Morning))),
            task(Source::Construction, "c3", Some((9, Half::Morning))),
        ],
        true,
    );
    let (items, positions, more) = merge(Queue::Tasks, vec![lic, con], Positions::default(), 4);
    let ids: Vec<&str> = items.iter().map(|e| e.id.as_str()).collect();
    // Morning before afternoon; an equal deadline goes to licensing first.
    assert_eq!(ids, ["c1", "l1", "l2", "c2"]);
    assert_eq!(positions.licensing.as_deref(), Some("after-l2"));
    assert_eq!(positions.construction.as_deref(), Some("after-c2"));
    assert!(more);
}

#[test]
fn a_source_with_nothing_taken_keeps_its_position_unless_it_had_nothing_wanted() {
    let start = Positions {
        licensing: Some("old-l".into()),
        construction: Some("old-c".into()),
    };
    let lic = scan(
        Source::Licensing,
        vec![task(Source::Licensing, "l9", Some((20, Half::Morning)))],
        false,
    );
    let con = scan(
        Source::Construction,
        vec![task(Source::Construction, "c1", Some((1, Half::Morning)))],
        false,
    );
    let (items, positions, more) = merge(Queue::Tasks, vec![lic, con], start.clone(), 1);
    assert_eq!(items.len(), 1);
    assert_eq!(positions.licensing.as_deref(), Some("old-l"));
    assert_eq!(positions.construction.as_deref(), Some("after-c1"));
    assert!(more, "l9 is still to come");

    // Everything looked at was filtered out: skip past it.
    let filtered = Scan {
        source: Source::Licensing,
        items: Vec::new(),
        scanned_to: Some("after-l50".into()),
        more: true,
    };
    let (_, positions, more) = merge(Queue::Tasks, vec![filtered], start, 5);
    assert_eq!(positions.licensing.as_deref(), Some("after-l50"));
    assert!(more);
}

#[test]
fn intake_is_oldest_first() {
    let app = |source: Source, id: &str, at: &str| {
        let item = serde_json::json!({"id": id, "created_at": at, "status": "submitted"});
        (
            entry(Queue::Intake, source, &item).unwrap(),
            format!("after-{id}"),
        )
    };
    let lic = scan(
        Source::Licensing,
        vec![app(Source::Licensing, "l1", "2026-11-23T02:00:00Z")],
        false,
    );
    let con = scan(
        Source::Construction,
        vec![app(Source::Construction, "c1", "2026-11-23T01:00:00Z")],
        false,
    );
    let (items, _, more) = merge(Queue::Intake, vec![lic, con], Positions::default(), 10);
    assert_eq!(items[0].id, "c1");
    assert_eq!(items[0].page, "/window/construction/c1");
    assert_eq!(items[1].page, "/window/licensing/l1");
    assert!(!more);
}

#[test]
fn query_values_are_percent_encoded() {
    assert_eq!(urlencode("a-z_0.9~"), "a-z_0.9~");
    assert_eq!(urlencode("a b&c=d/e"), "a%20b%26c%3Dd%2Fe");
    assert_eq!(urlencode("受理"), "%E5%8F%97%E7%90%86");
}

#[test]
fn every_bad_filter_is_named_at_once() {
    let query = QueueQuery {
        source: Some("everything".into()),
        sla: Some("late".into()),
        status: Some("in_review".into()),
        dept: None,
        q: Some("长".repeat(MAX_SEARCH + 1)),
    };
    let problem = query.filters(Queue::Tasks).unwrap_err();
    let fields: Vec<&str> = problem.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["type", "sla", "q"]);
    let intake = QueueQuery {
        sla: Some("overdue".into()),
        ..Default::default()
    };
    assert_eq!(
        intake.filters(Queue::Intake).unwrap_err().errors[0].field,
        "sla"
    );
    assert_eq!(
        QueueQuery {
            source: Some("construction".into()),
            ..Default::default()
        }
        .filters(Queue::Intake)
        .unwrap()
        .source,
        Some(Source::Construction)
    );
}

#[test]
fn a_partner_needs_the_scope_and_a_department() {
    let partner = |scopes: &[&str]| Principal {
        sub: "p".into(),
        name: None,
        roles: vec![Role::Partner],
        uscc: None,
        enterprises: vec![],
        dept: None,
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
    };
    let none = Filters::default();
    assert_eq!(
        authorise(Queue::Intake, &partner(&[]), &none)
            .unwrap_err()
            .status,
        403
    );
    assert!(authorise(Queue::Intake, &partner(&[QUEUES_READ]), &none).is_ok());
    let err = authorise(Queue::Tasks, &partner(&[QUEUES_READ]), &none).unwrap_err();
    assert_eq!(err.errors[0].field, "dept");
    let with_dept = Filters {
        dept: Some("market_regulation".into()),
        ..Default::default()
    };
    assert_eq!(
        authorise(Queue::Tasks, &partner(&[QUEUES_READ]), &with_dept).unwrap(),
        Some("market_regulation".into())
    );
}
