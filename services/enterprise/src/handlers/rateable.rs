//! What may be rated (好差评): concluded licensing applications and
//! construction stages, recorded from their services' events with the
//! applicant and the responsible department.

use sea_orm::DatabaseTransaction;
use yizhan_events::Envelope;

/// Records `event`'s concluded case as rateable, if it is one.
pub async fn apply(_txn: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
    let _ = event;
    Ok(())
}
