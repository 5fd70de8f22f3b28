//! 前台综合受理 — the window's intake decision: accept (every item becomes a
//! task in its department's queue at once), accept with owed materials
//! (容缺受理), or return with the one-time list.

use chrono::{NaiveDate, Utc};
use sea_orm::{ActiveModelTrait, DatabaseConnection, DatabaseTransaction, IntoActiveModel, Set};
use yizhan_approval::{Calendar, Command, Limits};
use yizhan_events::contracts::{
    ApplicationAccepted, ApplicationReturned, IntakeDeficiency, TaskCreated, ToleranceTerms,
};
use yizhan_workflow::task::NewTask;

use super::{
    Actor, Error, Parts, SOURCE, add_timeline, application, commit_with_parts, engine, json,
    lifecycle, local, locked_application,
};
use crate::domain::application::{ApplicationKind, ApplicationStatus};
use crate::domain::notice::NoticeItem;

/// The window's intake decision.
#[derive(Debug, Clone)]
pub enum Intake {
    /// 受理.
    Accept,
    /// 容缺受理: accepted with these non-key materials owed by `due`.
    AcceptWithTolerance {
        /// What is owed.
        missing: Vec<IntakeDeficiency>,
        /// Last day to supply it (inclusive).
        due: NaiveDate,
    },
    /// 不受理, with the one-time list of deficiencies.
    Return(Vec<IntakeDeficiency>),
}

/// Applies the intake decision. Accepting turns every item into a task in
/// its department's queue at once (BLZT 3, then 8), each with its clock
/// started at acceptance (the acceptance day itself is not counted).
pub async fn intake(
    db: &DatabaseConnection,
    calendar: &Calendar,
    id: &str,
    decision: Intake,
    actor: &Actor,
) -> Result<Parts, Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let app = locked_application(&txn, id, |_| true).await?;
    let from = app.status().intake_status();
    let now = Utc::now();
    let local = local(now);
    let mut active = app.clone().into_active_model();
    active.updated_at = Set(now);
    let tolerance = match decision {
        Intake::Return(deficiencies) => {
            let to = from.apply(Command::ReturnForCorrection)?;
            active.status = Set(ApplicationStatus::Returned.as_str().into());
            active.deficiencies = Set(Some(json(&deficiencies)));
            active.update(&txn).await?;
            add_timeline(
                &txn,
                id,
                "returned",
                format!("不受理，一次性告知 {} 处需补齐", deficiencies.len()),
                actor,
                Some(to),
                now,
            )
            .await?;
            yizhan_events::outbox::enqueue(
                &txn,
                SOURCE,
                &ApplicationReturned {
                    application_id: id.to_owned(),
                    number: Some(app.number.clone()),
                    enterprise_uscc: app.enterprise_uscc.clone(),
                    deficiencies,
                    actor: actor.clone(),
                    at: now,
                },
            )
            .await?;
            return commit_with_parts(txn, id).await;
        }
        Intake::Accept => None,
        Intake::AcceptWithTolerance { missing, due } => Some(ToleranceTerms {
            missing,
            due_date: due,
        }),
    };
    let to = from.apply(Command::Accept)?;
    if app.kind() == ApplicationKind::Cancellation {
        lifecycle::accept_cancellation(&txn, &app, active, to, actor, now, local).await?;
        return commit_with_parts(txn, id).await;
    }
    let notice = app.notice()?;
    active.status = Set(ApplicationStatus::InReview.as_str().into());
    active.accepted_at = Set(Some(local));
    if let Some(t) = &tolerance {
        active.tolerance_missing = Set(Some(json(&t.missing)));
        active.tolerance_due = Set(Some(t.due_date));
    }
    let accepted = active.update(&txn).await?;
    let title = match &tolerance {
        None => "综合窗口受理，各事项同步推送至审批部门".into(),
        Some(t) => format!(
            "综合窗口容缺受理：{} 项非关键材料须于 {} 前补交，各事项同步推送至审批部门",
            t.missing.len(),
            t.due_date
        ),
    };
    add_timeline(&txn, id, "accepted", title, actor, Some(to), now).await?;
    for item in &notice.items {
        create_task(&txn, calendar, &app, item, local, actor).await?;
    }
    let bundle_due = accepted
        .clock(&[])
        .map(|c| c.reading_at(calendar, local).committed.due)
        .and_then(|d| d.map(|d| d.date))
        .unwrap_or(local.date());
    yizhan_events::outbox::enqueue(
        &txn,
        SOURCE,
        &ApplicationAccepted {
            application_id: id.to_owned(),
            number: Some(app.number.clone()),
            enterprise_uscc: app.enterprise_uscc.clone(),
            committed_half_days: notice.committed_total.half_days(),
            committed_due_date: bundle_due,
            tolerance,
            actor: actor.clone(),
            at: now,
        },
    )
    .await?;
    commit_with_parts(txn, id).await
}

async fn create_task(
    txn: &DatabaseTransaction,
    calendar: &Calendar,
    app: &application::Model,
    item: &NoticeItem,
    accepted_at: chrono::NaiveDateTime,
    actor: &Actor,
) -> Result<(), Error> {
    let limits = Limits::new(item.statutory_limit, item.committed_limit).map_err(|e| {
        sea_orm::DbErr::Custom(format!("item {} limits: {}", item.code, e.message()))
    })?;
    let now = Utc::now();
    let t = yizhan_workflow::task::create(
        engine(calendar),
        txn,
        &NewTask {
            subject_id: &app.id,
            case_id: &app.id,
            enterprise_uscc: &app.enterprise_uscc,
            item_code: &item.code,
            item_name: &item.name,
            department_code: &item.department_code,
            department_name: &item.department_name,
            limits,
            review_note: None,
        },
        accepted_at,
        actor,
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        txn,
        SOURCE,
        &TaskCreated {
            task_id: t.id.clone(),
            application_id: app.id.clone(),
            item_code: item.code.clone(),
            item_name: item.name.clone(),
            department_code: item.department_code.clone(),
            enterprise_uscc: app.enterprise_uscc.clone(),
            blzt: t.status().code(),
            due_date: yizhan_workflow::task::due_date_of_key(&t.due_key)
                .unwrap_or(t.accepted_at.date()),
            at: now,
        },
    )
    .await?;
    Ok(())
}
