//! 时限预警 — the deadline scheduler: announces once that a task's committed
//! limit is nearly used and once that it is passed.
//!
//! Every running task carries `next_alarm_key`, the half-day from which it
//! has something to announce (the engine's [`Clock::alarms`]); decided and
//! paused tasks carry none. A sweep reads only rows whose key has come
//! (`workflow_tasks_alarm` index), so its cost follows the alarms due, not
//! the size of the table. Each task is handled in its own transaction under
//! its subject's lock, and the `warned_at` / `overdue_notified_at` marks
//! commit with the service's event: a crash or a second replica can repeat
//! a sweep but never an announcement.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, DatabaseTransaction, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
};
use yizhan_approval::calendar::china_local;
use yizhan_approval::{Calendar, Clock, Deadline, SlaState};
use yizhan_events::contracts::{DeadlineLimit, DeadlineNotice, Event};
use yizhan_events::envelope::Envelope;

use crate::Result;
use crate::task::{Engine, due_key};
use crate::task_row::{self as task, Model};
use crate::timeline::{self, Entry};

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

/// Which announcement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlarmKind {
    /// 时限即将届满: the warning share of the committed limit is used.
    Approaching,
    /// 已超期: the committed limit is passed.
    Overdue,
}

/// What to announce about one task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alarm {
    /// Which.
    pub kind: AlarmKind,
    /// Last day of the committed limit.
    pub due_date: NaiveDate,
    /// Whole working days left, today excluded (negative once overdue).
    pub working_days_remaining: i32,
}

impl Alarm {
    /// The facts of the announcement about `t` (the engine's row; a
    /// construction task names its project too).
    pub fn notice(&self, t: &Model, project_id: Option<String>) -> DeadlineNotice {
        DeadlineNotice {
            task_id: t.id.clone(),
            application_id: t.case_id.clone(),
            project_id,
            item_code: t.item_code.clone(),
            item_name: t.item_name.clone(),
            department_code: t.department_code.clone(),
            reviewer_sub: None,
            applicant_uscc: t.enterprise_uscc.clone(),
            applicant_sub: None,
            due_date: self.due_date,
            limit_kind: DeadlineLimit::Committed,
            working_days_remaining: self.working_days_remaining,
        }
    }
}

impl Alarm {
    /// The service's event for this alarm about `t`: `approaching` or
    /// `overdue` wraps the facts (each service publishes its own types).
    pub fn event<A: Event, O: Event>(
        &self,
        source: &str,
        t: &Model,
        project_id: Option<String>,
        approaching: fn(DeadlineNotice) -> A,
        overdue: fn(DeadlineNotice) -> O,
    ) -> Outgoing {
        let notice = self.notice(t, project_id);
        match self.kind {
            AlarmKind::Approaching => Outgoing::new(source, &approaching(notice)),
            AlarmKind::Overdue => Outgoing::new(source, &overdue(notice)),
        }
    }
}

/// What one sweep announced.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SweepReport {
    /// Approaching announcements.
    pub approaching: usize,
    /// Overdue announcements.
    pub overdue: usize,
}

/// An event ready for the outbox: the service builds it, the engine writes
/// it in the transaction it runs.
#[derive(Debug, Clone)]
pub struct Outgoing {
    topic: &'static str,
    envelope: Envelope,
}

impl Outgoing {
    /// `event` from `source` (the service's `ce_source`), with the current
    /// trace.
    pub fn new<E: Event>(source: &str, event: &E) -> Self {
        Self {
            topic: E::TOPIC,
            envelope: Envelope::new(source, event, yizhan_kit::telemetry::current_traceparent()),
        }
    }

    /// Writes it to the outbox in `txn`.
    pub async fn enqueue(&self, txn: &DatabaseTransaction) -> Result<(), sea_orm::DbErr> {
        yizhan_events::outbox::enqueue_envelope(txn, self.topic, &self.envelope).await
    }
}

/// Announces every alarm that has come by `now`, at most `batch` tasks per
/// call (the scheduler calls again on its next tick, so a backlog drains).
/// `announce` gives the service's event, written in the task's
/// transaction. A task found already overdue is announced overdue only:
/// approaching would be news from the past.
pub async fn sweep(
    engine: Engine<'_>,
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    batch: u64,
    announce: impl Fn(&Model, &Alarm) -> Outgoing,
) -> Result<SweepReport> {
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
        let Ok(current) = crate::task::locked(&txn, &id, |_| true).await else {
            continue;
        };
        // A decision or another sweep may have won meanwhile.
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
        let committed = clock.reading_at(engine.calendar, local).committed;
        let mut warned = current.warned_at.is_some();
        let mut overdue_sent = current.overdue_notified_at.is_some();
        let kind = match committed.state {
            SlaState::Overdue if !overdue_sent => Some(AlarmKind::Overdue),
            SlaState::Warning if !warned => Some(AlarmKind::Approaching),
            _ => None,
        };
        let mut active = current.clone().into_active_model();
        if let Some(kind) = kind {
            let alarm = Alarm {
                kind,
                due_date: committed.due.map_or(local.date(), |d| d.date),
                working_days_remaining: i32::try_from(
                    committed.remaining.half_days().div_euclid(2),
                )
                .unwrap_or(i32::MIN),
            };
            announce(&current, &alarm).enqueue(&txn).await?;
            let due = committed.due.map_or_else(String::new, |d| d.to_string());
            let (action, title) = match kind {
                AlarmKind::Overdue => (
                    "deadline_overdue",
                    format!("{}：已超过承诺办结时限（{due}）", current.item_name),
                ),
                AlarmKind::Approaching => (
                    "deadline_approaching",
                    format!("{}：承诺办结时限即将届满（{due}）", current.item_name),
                ),
            };
            timeline::append(
                &txn,
                Entry {
                    subject_id: &current.subject_id,
                    case_id: Some(&current.case_id),
                    task_id: Some(&current.id),
                    action,
                    title,
                    blzt: None,
                },
                &engine.system(),
                now,
            )
            .await?;
            if kind == AlarmKind::Overdue {
                active.overdue_notified_at = Set(Some(now));
                overdue_sent = true;
                report.overdue += 1;
            } else {
                report.approaching += 1;
            }
            if !warned {
                active.warned_at = Set(Some(now));
                warned = true;
            }
        }
        let mut next = next_alarm_key(&clock, engine.calendar, local, warned, overdue_sent);
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
