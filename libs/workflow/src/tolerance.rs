//! 容缺受理 expiry — the one rule for both services.
//!
//! When the materials owed under 容缺受理 are not supplied by their due date
//! (inclusive), the case stops: every open task (in review, or paused for
//! 补正 or 特别程序) is withdrawn (BLZT 14) with its clock stopped, and every
//! approval granted while materials were owed (BLZT 12) is revoked (15).
//! Approvals given outright (11) and refusals (13) stay on record. An
//! approval granted on a commitment (告知承诺制) is not an approval "with
//! materials owed" and is not revoked here: its own verification decides.
//! The case itself (application, stage) records its own stop.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::DatabaseTransaction;

use crate::decide::{Closed, close_for_stop};
use crate::task::Engine;
use crate::task_row::Model;
use crate::{Actor, Result};

/// Whether owed materials due on `due` are late on `today` (China local).
pub fn is_late(due: NaiveDate, today: NaiveDate) -> bool {
    due < today
}

/// Applies the expiry rule to a case's `tasks` (read under the subject's
/// lock); `on_commitment` tells which approvals rest on a commitment
/// rather than on owed materials. Returns the tasks it changed.
pub async fn expire(
    engine: Engine<'_>,
    txn: &DatabaseTransaction,
    tasks: Vec<Model>,
    reason: &str,
    on_commitment: impl Fn(&Model) -> bool,
    now: DateTime<Utc>,
) -> Result<Vec<(Model, Closed)>> {
    stop_case(engine, txn, tasks, reason, |t| !on_commitment(t), now).await
}

/// Closes a stopped case's `tasks`: open tasks withdrawn (14), approvals
/// with tolerance revoked (15) where `revoke` says so, decided tasks left
/// on record. A case stopped by a department's refusal or a failed
/// verification revokes nothing; one stopped for owed materials revokes
/// what rested on them ([`expire`]).
pub async fn stop_case(
    engine: Engine<'_>,
    txn: &DatabaseTransaction,
    tasks: Vec<Model>,
    reason: &str,
    revoke: impl Fn(&Model) -> bool,
    now: DateTime<Utc>,
) -> Result<Vec<(Model, Closed)>> {
    let system: Actor = engine.system();
    let mut changed = Vec::new();
    for t in tasks {
        let revoke = revoke(&t);
        if let Some(c) = close_for_stop(engine, txn, t, reason, revoke, &system, now).await? {
            changed.push(c);
        }
    }
    Ok(changed)
}
