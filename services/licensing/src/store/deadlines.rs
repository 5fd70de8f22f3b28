//! 时限预警 — the deadline scheduler: announces once that a task's committed
//! limit is nearly used (`DeadlineApproaching`) and once that it is passed
//! (`DeadlineOverdue`).
//!
//! Every running task carries `next_alarm_key`, the half-day from which it
//! has something to announce (the engine's [`Clock::alarms`]); decided and
//! paused tasks carry none. A sweep reads only rows whose key has come
//! (`tasks_alarm` index), so its cost follows the alarms due, not the size
//! of the table. Each task is handled in its own transaction under its
//! application's lock, and the `warned_at` / `overdue_notified_at` marks
//! commit with the event: a crash or a second replica can repeat a sweep
//! but never an announcement.

use chrono::{DateTime, NaiveDateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use yizhan_approval::calendar::china_local;
use yizhan_approval::{Calendar, Clock, Deadline, SlaState};
use yizhan_events::contracts::{
    DeadlineApproaching, DeadlineLimit, DeadlineNotice, DeadlineOverdue,
};

use super::{Actor, SOURCE, StoreError, add_timeline, due_key, lock_application, task};

/// The key of the half-day from which `clock` (read at `at`) has something
/// to announce, given what was already announced; `None` when nothing is
/// left to announce or the clock is not running.
pub fn next_alarm_key(
    clock: &Clock,
    calendar: &Calendar,
    at: NaiveDateTime,
    warned: bool,
    overdue_sent: bool,
) -> Option<String> {
    if overdue_sent {
        return None;
    }
    let alarms = clock.alarms(calendar, at, clock.limits().committed())?;
    Some(due_key(if warned {
        alarms.overdue_from
    } else {
        alarms.warning_from
    }))
}

/// What one sweep announced.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    /// `DeadlineApproaching` events emitted.
    pub approaching: usize,
    /// `DeadlineOverdue` events emitted.
    pub overdue: usize,
}

/// Announces every alarm that has come by `now`, at most `batch` tasks per
/// call (the scheduler calls again on its next tick, so a backlog drains).
/// A task found already overdue is announced overdue only: approaching
/// would be news from the past.
pub async fn sweep(
    db: &DatabaseConnection,
    calendar: &Calendar,
    now: DateTime<Utc>,
    batch: u64,
) -> Result<SweepReport, StoreError> {
    let local = china_local(now);
    let now_key = due_key(Some(Deadline::containing(local)));
    let due: Vec<String> = task::Entity::find()
        .select_only()
        .column(task::Column::Id)
        .filter(task::Column::NextAlarmKey.lte(now_key.clone()))
        .order_by_asc(task::Column::NextAlarmKey)
        .order_by_asc(task::Column::Id)
        .limit(batch)
        .into_tuple()
        .all(db)
        .await?;
    let mut report = SweepReport::default();
    for id in due {
        let txn = yizhan_kit::db::begin_write(db).await?;
        let Some(found) = task::Entity::find_by_id(id.clone()).one(&txn).await? else {
            continue;
        };
        lock_application(&txn, &found.application_id).await?;
        // Re-read under the lock: a decision or another sweep may have won.
        let Some(current) = task::Entity::find_by_id(id.clone()).one(&txn).await? else {
            continue;
        };
        if current
            .next_alarm_key
            .as_deref()
            .is_none_or(|k| k > now_key.as_str())
        {
            continue;
        }
        let Some(clock) = current.clock() else {
            continue;
        };
        let reading = clock.reading_at(calendar, local);
        let committed = reading.committed;
        let mut warned = current.warned_at.is_some();
        let mut overdue_sent = current.overdue_notified_at.is_some();
        let mut active = current.clone().into_active_model();
        let notice = || DeadlineNotice {
            task_id: current.id.clone(),
            application_id: current.application_id.clone(),
            item_code: current.item_code.clone(),
            item_name: current.item_name.clone(),
            department_code: current.department_code.clone(),
            reviewer_sub: None,
            applicant_uscc: current.enterprise_uscc.clone(),
            applicant_sub: None,
            due_date: committed.due.map_or(local.date(), |d| d.date),
            limit_kind: DeadlineLimit::Committed,
            working_days_remaining: i32::try_from(committed.remaining.half_days().div_euclid(2))
                .unwrap_or(i32::MIN),
        };
        let system = Actor::system();
        match committed.state {
            SlaState::Overdue if !overdue_sent => {
                yizhan_events::outbox::enqueue(&txn, SOURCE, &DeadlineOverdue(notice())).await?;
                add_timeline(
                    &txn,
                    &current.application_id,
                    Some(&current.id),
                    "deadline_overdue",
                    format!(
                        "{}：已超过承诺办结时限（{}）",
                        current.item_name,
                        committed.due.map_or_else(String::new, |d| d.to_string())
                    ),
                    &system,
                    None,
                    now,
                )
                .await?;
                active.overdue_notified_at = Set(Some(now));
                if !warned {
                    active.warned_at = Set(Some(now));
                }
                warned = true;
                overdue_sent = true;
                report.overdue += 1;
            }
            SlaState::Warning if !warned => {
                yizhan_events::outbox::enqueue(&txn, SOURCE, &DeadlineApproaching(notice()))
                    .await?;
                add_timeline(
                    &txn,
                    &current.application_id,
                    Some(&current.id),
                    "deadline_approaching",
                    format!(
                        "{}：承诺办结时限即将届满（{}）",
                        current.item_name,
                        committed.due.map_or_else(String::new, |d| d.to_string())
                    ),
                    &system,
                    None,
                    now,
                )
                .await?;
                active.warned_at = Set(Some(now));
                warned = true;
                report.approaching += 1;
            }
            _ => {}
        }
        let mut next = next_alarm_key(&clock, calendar, local, warned, overdue_sent);
        // The reading is the authority: if it disagrees with the projected
        // alarm (a calendar changed under the task), look again next
        // half-day rather than on every tick.
        if next.as_deref().is_some_and(|k| k <= now_key.as_str()) {
            next = Some(due_key(Some(Deadline::containing(
                local + chrono::Duration::hours(12),
            ))));
        }
        active.next_alarm_key = Set(next);
        active.update(&txn).await?;
        txn.commit().await?;
    }
    Ok(report)
}
