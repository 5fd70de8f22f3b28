//! The relay's statement that marks rows published.

use chrono::{DateTime, Utc};
use sea_orm::DbBackend;

/// The statement marking `seqs` published at `at`. The seqs are bound, one
/// placeholder each, and the list is padded to the next power of two by
/// repeating the last seq: each distinct SQL text is prepared and cached
/// per connection (sqlx keeps 100), so a text per batch length, or with the
/// seqs inlined a text per round, would prepare a new statement every round
/// and push the service's own statements out of the cache. Padded, a relay
/// uses at most nine texts (batches of up to 256).
pub(super) fn statement(
    backend: DbBackend,
    at: DateTime<Utc>,
    seqs: impl IntoIterator<Item = i64>,
) -> (String, Vec<sea_orm::Value>) {
    let mut values: Vec<sea_orm::Value> = vec![at.into()];
    values.extend(seqs.into_iter().map(sea_orm::Value::from));
    let count = (values.len() - 1).max(1).next_power_of_two();
    // No seqs (the relay never asks): seq 0, which no row has.
    let last = match values.len() {
        1 => 0i64.into(),
        _ => values[values.len() - 1].clone(),
    };
    values.resize(count + 1, last);
    let placeholders: Vec<String> = (2..=count + 1)
        .map(|n| match backend {
            DbBackend::Postgres => format!("${n}"),
            _ => "?".to_owned(),
        })
        .collect();
    let first = match backend {
        DbBackend::Postgres => "$1",
        _ => "?",
    };
    let sql = format!(
        "UPDATE outbox_events SET published_at = {first}, attempts = attempts + 1 \
         WHERE seq IN ({})",
        placeholders.join(",")
    );
    (sql, values)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn every_batch_length_shares_one_of_nine_texts_and_marks_exactly_its_rows() {
        let at = Utc::now();
        let mut texts = BTreeSet::new();
        for n in 1..=256i64 {
            let (sql, values) = statement(DbBackend::Sqlite, at, 100..100 + n);
            assert_eq!(sql.matches('?').count(), values.len());
            let seqs: BTreeSet<i64> = values[1..]
                .iter()
                .map(|v| match v {
                    sea_orm::Value::BigInt(Some(s)) => *s,
                    other => panic!("{other:?}"),
                })
                .collect();
            assert_eq!(seqs, (100..100 + n).collect());
            texts.insert(sql);
        }
        assert_eq!(texts.len(), 9);
        let (sql, values) = statement(DbBackend::Postgres, at, [7, 9, 12]);
        assert!(sql.ends_with("WHERE seq IN ($2,$3,$4,$5)"), "{sql}");
        assert_eq!(values.len(), 5);
    }
}
