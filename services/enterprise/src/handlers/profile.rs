//! The 一企一档 record from other services' events: licences and their
//! items (licensing, construction, document), materials on file.

use sea_orm::DatabaseTransaction;
use yizhan_events::Envelope;

/// Applies `event` to the enterprise's record, if it concerns one.
pub async fn apply(_txn: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
    let _ = event;
    Ok(())
}
