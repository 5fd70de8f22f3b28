//! Keeping a dispatcher's [`Dispatcher::handles`] in step with its
//! [`Dispatcher::dispatch`]: a type `dispatch` acts on but `handles` leaves
//! out would be skipped without a word, so each service's tests check the
//! two against the whole event catalogue.

use sea_orm::{Database, TransactionTrait};

use super::Dispatcher;
use crate::envelope::Envelope;

/// The catalogue's event types on which `dispatcher.handles` and its
/// `dispatch` disagree; empty when they agree.
///
/// Each type is dispatched with a payload no event decodes from, in a
/// transaction on an empty in-memory SQLite database that is rolled back:
/// a dispatcher that acts on the type fails (every handler decodes before
/// it touches the database), one that ignores it answers `Ok`.
pub async fn disagreements<D: Dispatcher + ?Sized>(dispatcher: &D) -> anyhow::Result<Vec<String>> {
    let db = Database::connect("sqlite::memory:").await?;
    let mut disagree = Vec::new();
    for contract in crate::asyncapi::contracts().events {
        let envelope = Envelope {
            id: "00000000-0000-0000-0000-000000000000".into(),
            source: "/yizhan/handles-check".into(),
            event_type: contract.event_type.into(),
            subject: "handles-check".into(),
            time: chrono::Utc::now(),
            traceparent: None,
            data: serde_json::Value::String("not an event".into()),
        };
        let txn = db.begin().await?;
        let acts = dispatcher.dispatch(&txn, &envelope).await.is_err();
        txn.rollback().await?;
        if acts != dispatcher.handles(contract.event_type) {
            disagree.push(contract.event_type.to_owned());
        }
    }
    Ok(disagree)
}
