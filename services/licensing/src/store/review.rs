//! 后台分类审批 — the departments' work on an application's tasks: decisions,
//! 补正 and 特别程序 (the engine's), the events partners read, and the bundle
//! rule (`domain::application`) applied after every decision.

use chrono::{DateTime, NaiveDateTime, Utc};
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, DatabaseTransaction, DbErr, IntoActiveModel, Set,
};
use serde_json::{Map, Value};
use yizhan_approval::{Calendar, Status};
use yizhan_events::contracts::{
    BundleApproved, BundleRefused, CertificateIssueRequested, SpecialProcedureChanged,
    SupplementProvided, SupplementRequested, TaskDecided,
};
use yizhan_workflow::decide::{self, Decision, SpecialProcedureKind, Step, TaskWork};

use super::{
    Actor, Error, LICENCE_TYPE, NOT_FOUND, SOURCE, add_timeline, application, engine,
    find_application, json, lifecycle, local, material_ids, task, tasks_of,
};
use crate::domain::application::{ApplicationStatus, BundleOutcome, bundle_outcome};

/// Decides a task of department `dept` and applies the bundle rule: the
/// last approval approves the bundle and requests the licence in the same
/// transaction; a rejection refuses it. While 容缺 materials are owed an
/// approval is 办结（容缺通过）(BLZT 12). A task of another department is
/// `NotFound`, so its existence is not revealed.
pub async fn decide(
    db: &DatabaseConnection,
    calendar: &Calendar,
    id: &str,
    dept: &str,
    decision: Decision,
    actor: &Actor,
) -> Result<task::Model, Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let current = yizhan_workflow::task::locked(&txn, id, |t| t.department_code == dept).await?;
    let app = find_application(&txn, &current.case_id)
        .await?
        .ok_or(Error::NotFound(NOT_FOUND))?;
    let decision = decision.given_owed(!app.owed().is_empty());
    let now = Utc::now();
    let updated = decide::decide(engine(calendar), &txn, current, &decision, actor, now).await?;
    let rejected = updated.status() == Status::Rejected;
    yizhan_events::outbox::enqueue(
        &txn,
        SOURCE,
        &TaskDecided {
            task_id: id.to_owned(),
            application_id: updated.case_id.clone(),
            item_code: updated.item_code.clone(),
            item_name: Some(updated.item_name.clone()),
            department_code: updated.department_code.clone(),
            department_name: Some(updated.department_name.clone()),
            enterprise_uscc: updated.enterprise_uscc.clone(),
            decision: if rejected { "reject" } else { "approve" }.into(),
            blzt: updated.status().code(),
            permit_number: updated.permit_number.clone(),
            reasons: updated.reasons.clone(),
            actor: actor.clone(),
            at: now,
        },
    )
    .await?;
    // The decision changed the task, not the application row read above
    // (the subject's lock is held): it is concluded as read.
    conclude(&txn, calendar, app, now, local(now)).await?;
    txn.commit().await?;
    Ok(updated)
}

/// An application's form values and material ids.
type FormAndMaterials = (Map<String, Value>, Map<String, Value>);

/// The application's form and materials with a supplement merged in, after
/// checking the supplied values against the snapshot. Only problems with
/// what was supplied now are the applicant's to fix here; the rest of the
/// file was accepted as it is.
fn merge_supplement(
    app: &application::Model,
    form: &Map<String, Value>,
    materials: &Map<String, Value>,
) -> Result<FormAndMaterials, Error> {
    let mut merged_form = app.form_values();
    let mut merged_materials = app.material_map();
    merged_form.extend(form.clone());
    merged_materials.extend(materials.clone());
    let errors: Vec<_> =
        crate::domain::form::validate(&app.notice()?, &merged_form, &merged_materials)
            .into_iter()
            .filter(|e| {
                form.keys().any(|k| e.field == format!("form.{k}"))
                    || materials
                        .keys()
                        .any(|k| e.field == format!("materials.{k}"))
            })
            .collect();
    if errors.is_empty() {
        Ok((merged_form, merged_materials))
    } else {
        Err(Error::Invalid(errors))
    }
}

/// Pauses or resumes a task's review per `step` (the engine's rules), with
/// a timeline entry and an event, in one transaction. A task `may_act`
/// refuses is `NotFound`, so its existence is not revealed.
pub async fn step_task(
    db: &DatabaseConnection,
    calendar: &Calendar,
    id: &str,
    may_act: impl Fn(&task::Model) -> bool,
    step: TaskWork,
    actor: &Actor,
) -> Result<task::Model, Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let current = yizhan_workflow::task::locked(&txn, id, may_act).await?;
    let now = Utc::now();
    let app = find_application(&txn, &current.case_id)
        .await?
        .ok_or(Error::NotFound(NOT_FOUND))?;
    step.check_answer(&current, |form, materials| {
        match merge_supplement(&app, form, materials) {
            Ok(_) => Ok(Vec::new()),
            Err(Error::Invalid(e)) => Ok(e),
            Err(e) => Err(e),
        }
    })?;
    let updated = decide::step(
        engine(calendar),
        &txn,
        current.clone(),
        &step.step(),
        actor,
        now,
    )
    .await?;
    let blzt = updated.status().code();
    match step {
        TaskWork::RequestSupplement { items } => {
            yizhan_events::outbox::enqueue(
                &txn,
                SOURCE,
                &SupplementRequested {
                    task_id: id.to_owned(),
                    application_id: updated.case_id.clone(),
                    item_code: updated.item_code.clone(),
                    item_name: Some(updated.item_name.clone()),
                    department_code: updated.department_code.clone(),
                    department_name: Some(updated.department_name.clone()),
                    enterprise_uscc: updated.enterprise_uscc.clone(),
                    items,
                    blzt,
                    actor: actor.clone(),
                    at: now,
                },
            )
            .await?;
        }
        TaskWork::ProvideSupplement { form, materials } => {
            let (merged_form, merged_materials) = merge_supplement(&app, &form, &materials)?;
            let mut a = app.into_active_model();
            a.form = Set(json(&merged_form));
            a.materials = Set(json(&merged_materials));
            a.updated_at = Set(now);
            a.update(&txn).await?;
            yizhan_events::outbox::enqueue(
                &txn,
                SOURCE,
                &SupplementProvided {
                    task_id: id.to_owned(),
                    application_id: updated.case_id.clone(),
                    item_code: updated.item_code.clone(),
                    department_code: updated.department_code.clone(),
                    enterprise_uscc: updated.enterprise_uscc.clone(),
                    fields: form.keys().cloned().collect(),
                    material_ids: material_ids(&materials),
                    blzt,
                    actor: actor.clone(),
                    at: now,
                },
            )
            .await?;
        }
        TaskWork::Special(Step::StartSpecialProcedure { kind, reason }) => {
            special_event(
                &txn,
                &updated,
                "start",
                Some(kind),
                Some(reason),
                actor,
                now,
            )
            .await?;
        }
        TaskWork::Special(_) => {
            special_event(&txn, &updated, "end", None, None, actor, now).await?;
        }
    }
    txn.commit().await?;
    Ok(updated)
}

async fn special_event(
    txn: &DatabaseTransaction,
    task: &task::Model,
    action: &str,
    kind: Option<SpecialProcedureKind>,
    reason: Option<String>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    yizhan_events::outbox::enqueue(
        txn,
        SOURCE,
        &SpecialProcedureChanged {
            task_id: task.id.clone(),
            application_id: task.case_id.clone(),
            item_code: task.item_code.clone(),
            department_code: task.department_code.clone(),
            enterprise_uscc: task.enterprise_uscc.clone(),
            action: action.into(),
            kind: kind.map(|k| k.as_str().to_owned()),
            reason,
            blzt: task.status().code(),
            actor: actor.clone(),
            at: now,
        },
    )
    .await
    .map(|_| ())
}

/// Applies the bundle rule (`domain::application`) after a decision or
/// after owed 容缺 materials arrive: nothing while materials are owed.
pub(crate) async fn conclude_bundle(
    txn: &DatabaseTransaction,
    calendar: &Calendar,
    application_id: &str,
    now: DateTime<Utc>,
    local: NaiveDateTime,
) -> Result<(), Error> {
    let app = find_application(txn, application_id)
        .await?
        .ok_or(Error::NotFound(NOT_FOUND))?;
    conclude(txn, calendar, app, now, local).await
}

/// [`conclude_bundle`] of the application row `app`, read in `txn` under
/// its subject's lock.
async fn conclude(
    txn: &DatabaseTransaction,
    calendar: &Calendar,
    app: application::Model,
    now: DateTime<Utc>,
    local: NaiveDateTime,
) -> Result<(), Error> {
    let application_id = app.id.as_str();
    if app.status() != ApplicationStatus::InReview {
        // Already concluded (refused by an earlier rejection): later
        // decisions are on record but do not change the outcome.
        return Ok(());
    }
    let tasks = tasks_of(txn, application_id).await?;
    let statuses: Vec<Status> = tasks.iter().map(task::Model::status).collect();
    let concluded_at = app.accepted_at.map_or(local, |a| a.max(local));
    let outcome = match bundle_outcome(&statuses) {
        BundleOutcome::Approved if !app.owed().is_empty() => BundleOutcome::Pending,
        other => other,
    };
    if outcome == BundleOutcome::Pending {
        return Ok(());
    }
    let mut concluded = app.clone();
    concluded.concluded_at = Some(concluded_at);
    let used = concluded
        .clock(&tasks)
        .map(|c| c.reading_at(calendar, concluded_at).used.half_days());
    let mut active = app.clone().into_active_model();
    active.concluded_at = Set(Some(concluded_at));
    active.used_half_days = Set(used);
    active.updated_at = Set(now);
    if outcome == BundleOutcome::Refused {
        let rejected = tasks
            .iter()
            .find(|t| t.status() == Status::Rejected)
            .ok_or_else(|| {
                DbErr::Custom(format!("{application_id}: refused without a rejection"))
            })?;
        active.status = Set(ApplicationStatus::Refused.as_str().into());
        active.update(txn).await?;
        add_timeline(
            txn,
            application_id,
            "bundle_refused",
            format!("{}未获批准，联办申请不予许可", rejected.item_name),
            &yizhan_workflow::actor::system(crate::SERVICE),
            None,
            now,
        )
        .await?;
        yizhan_events::outbox::enqueue(
            txn,
            SOURCE,
            &BundleRefused {
                application_id: application_id.to_owned(),
                number: Some(app.number.clone()),
                enterprise_uscc: app.enterprise_uscc.clone(),
                item_code: rejected.item_code.clone(),
                item_name: Some(rejected.item_name.clone()),
                reasons: rejected.reasons.clone().unwrap_or_default(),
                at: now,
            },
        )
        .await?;
        return Ok(());
    }
    let notice = app.notice()?;
    let items = lifecycle::licence_items(txn, &app, &tasks).await?;
    active.status = Set(ApplicationStatus::Approved.as_str().into());
    active.update(txn).await?;
    add_timeline(
        txn,
        application_id,
        "bundle_approved",
        format!(
            "全部 {} 个事项审批通过（一标核准），申请签发{}",
            tasks.len(),
            notice.licence_name
        ),
        &yizhan_workflow::actor::system(crate::SERVICE),
        None,
        now,
    )
    .await?;
    let (valid_from, valid_until) = lifecycle::licence_term(txn, &app, local.date()).await?;
    yizhan_events::outbox::enqueue(
        txn,
        SOURCE,
        &BundleApproved {
            application_id: application_id.to_owned(),
            number: Some(app.number.clone()),
            enterprise_uscc: app.enterprise_uscc.clone(),
            items: items.clone(),
            at: now,
        },
    )
    .await?;
    yizhan_events::outbox::enqueue(
        txn,
        SOURCE,
        &CertificateIssueRequested {
            request_id: application_id.to_owned(),
            certificate_type: LICENCE_TYPE.into(),
            holder_uscc: app.enterprise_uscc.clone(),
            holder_name: app.enterprise_name.clone(),
            scope: format!(
                "{}：{}",
                notice.licence_name,
                items
                    .iter()
                    .map(|i| i.item_name.as_str())
                    .collect::<Vec<_>>()
                    .join("、")
            ),
            items,
            valid_from,
            valid_until,
            requested_by_service: crate::SERVICE.into(),
        },
    )
    .await?;
    Ok(())
}
