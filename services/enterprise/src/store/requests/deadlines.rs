//! 诉求 deadline alarms: once a warning and once overdue per clock (签收,
//! then 答复, then the second round's 答复). The engine's alarm arithmetic
//! (`yizhan_workflow::deadlines::next_alarm_key`) decides when each row has
//! something to say; the sweep reads only rows whose moment has come, and
//! each announcement commits with its mark, so a repeated sweep or a
//! second replica never announces twice.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use yizhan_approval::calendar::china_local;
use yizhan_approval::{Calendar, Deadline, SlaState};
use yizhan_events::contracts::{
    EnterpriseRequestDeadlineApproaching, EnterpriseRequestDeadlineOverdue, RequestDeadlineNotice,
};
use yizhan_workflow::deadlines::{AlarmKind, SweepReport};
use yizhan_workflow::task::due_key;
use yizhan_workflow::timeline::{self, Entry};

use super::commands::system;
use super::{Error, due_day, request};
use crate::store::SOURCE;

/// Announces every alarm that has come by `now`, at most `batch` requests
/// per call (the next tick takes the rest).
pub async fn sweep(
    db: &DatabaseConnection,
    calendar: &Calendar,
    now: DateTime<Utc>,
    batch: u64,
) -> Result<SweepReport, Error> {
    let local = china_local(now);
    let now_key = due_key(Some(Deadline::containing(local)));
    let due: Vec<String> = request::Entity::find()
        .select_only()
        .column(request::Column::Id)
        .filter(request::Column::NextAlarmKey.lte(now_key.clone()))
        .order_by_asc(request::Column::NextAlarmKey)
        .order_by_asc(request::Column::Id)
        .limit(batch)
        .into_tuple()
        .all(db)
        .await?;
    let mut report = SweepReport::default();
    for id in due {
        let txn = yizhan_kit::db::begin_write(db).await?;
        yizhan_workflow::lock::subject(&txn, &id).await?;
        let Some(mut row) = request::Entity::find_by_id(id.as_str()).one(&txn).await? else {
            continue;
        };
        // A step or another sweep may have won meanwhile.
        if row
            .next_alarm_key
            .as_deref()
            .is_none_or(|k| k > now_key.as_str())
        {
            continue;
        }
        let Some((kind, clock)) = row.clock() else {
            continue;
        };
        let committed = clock.reading_at(calendar, local).committed;
        let alarm = match committed.state {
            SlaState::Overdue if row.overdue_notified_at.is_none() => Some(AlarmKind::Overdue),
            SlaState::Warning if row.warned_at.is_none() => Some(AlarmKind::Approaching),
            _ => None,
        };
        if let Some(alarm) = alarm {
            let notice = RequestDeadlineNotice {
                request: row.facts(),
                limit: kind.code().to_owned(),
                limit_name: kind.name().to_owned(),
                due_date: due_day(committed.due, local),
                working_days_remaining: i32::try_from(
                    committed.remaining.half_days().div_euclid(2),
                )
                .unwrap_or(i32::MIN),
            };
            let (action, title) = if alarm == AlarmKind::Overdue {
                row.overdue_notified_at = Some(now);
                report.overdue += 1;
                yizhan_events::outbox::enqueue(
                    &txn,
                    SOURCE,
                    &EnterpriseRequestDeadlineOverdue(notice.clone()),
                )
                .await?;
                (
                    "deadline_overdue",
                    format!("已超过{}（{}）", kind.name(), notice.due_date),
                )
            } else {
                report.approaching += 1;
                yizhan_events::outbox::enqueue(
                    &txn,
                    SOURCE,
                    &EnterpriseRequestDeadlineApproaching(notice.clone()),
                )
                .await?;
                (
                    "deadline_approaching",
                    format!("{}即将届满（{}）", kind.name(), notice.due_date),
                )
            };
            // An overdue clock was past its warning too: never warn after.
            row.warned_at.get_or_insert(now);
            timeline::append(
                &txn,
                Entry {
                    subject_id: &row.id,
                    case_id: Some(&row.id),
                    task_id: None,
                    action,
                    title,
                    blzt: None,
                },
                &system(),
                now,
            )
            .await?;
        }
        row.set_clock(Some((kind, &clock)), false, calendar, local);
        // If the projection disagrees with the reading (a calendar changed
        // under the row), look again next half-day, not on every tick.
        if row
            .next_alarm_key
            .as_deref()
            .is_some_and(|k| k <= now_key.as_str())
        {
            row.next_alarm_key = Some(due_key(Some(Deadline::containing(
                local + chrono::Duration::hours(12),
            ))));
        }
        let mut active = row.clone().into_active_model();
        active.next_alarm_key = Set(row.next_alarm_key.clone());
        active.warned_at = Set(row.warned_at);
        active.overdue_notified_at = Set(row.overdue_notified_at);
        active.due_key = Set(row.due_key.clone());
        active.update(&txn).await?;
        txn.commit().await?;
    }
    Ok(report)
}
