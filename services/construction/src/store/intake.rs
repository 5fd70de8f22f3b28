//! 前台综合受理 of a stage application: accept (every item becomes a task in
//! its department's queue at once), accept with owed materials (容缺受理),
//! or return with the one-time list; the owed materials afterwards, and
//! the stop when they do not arrive in time (the engine's one rule).

use std::collections::BTreeSet;

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QuerySelect, Set,
};
use serde_json::{Map, Value};
use yizhan_approval::{Calendar, Command};
use yizhan_events::contracts::{
    IntakeDeficiency, StageApplicationAccepted, StageApplicationReturned,
    ToleranceMaterialsSupplied,
};

use super::projects::{self, local_now};
use super::rule::{evaluate_project, stop_stage};
use super::stages::{StageParts, commit_stage, find, material_ids};
use super::tasks::{self, NewItemTask};
use super::{
    Actor, Error, NOT_FOUND, SOURCE, Step, add_timeline, conflict, engine, json, parse_list,
    read_locked, stage_application,
};
use crate::domain::catalog::Catalog;
use crate::domain::project::StageStatus;

/// The window's intake decision.
#[derive(Debug, Clone)]
pub enum Intake {
    /// 受理; with owed materials and a due date it is 容缺受理.
    Accept {
        /// Non-key materials owed.
        owed: Vec<String>,
        /// Last day to supply them.
        due: Option<NaiveDate>,
    },
    /// 不受理 with the one-time list.
    Return(Vec<IntakeDeficiency>),
}

/// Intake. Accepting turns every item of the stage into a task in its
/// department's queue at once (BLZT 3, then 8; 12 for items under
/// 告知承诺制, with a verification deadline `verification_days` working
/// days on), then runs the stage rule (a stage of commitment items only
/// completes at once).
pub async fn intake(
    db: &DatabaseConnection,
    calendar: &Calendar,
    catalog: &Catalog,
    id: &str,
    decision: Intake,
    verification_days: u32,
    actor: &Actor,
) -> Result<StageParts, Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let app = read_locked(&txn, async || find(&txn, id).await).await?;
    let from = app.status().intake_status();
    let now = Utc::now();
    let local = local_now(now);
    let stage = app.stage();
    let mut active = app.clone().into_active_model();
    active.updated_at = Set(now);
    match decision {
        Intake::Return(deficiencies) => {
            let to = from.apply(Command::ReturnForCorrection)?;
            active.status = Set(StageStatus::Returned.as_str().into());
            active.deficiencies = Set(Some(json(&deficiencies)));
            active.update(&txn).await?;
            add_timeline(
                &txn,
                Step {
                    project_id: &app.project_id,
                    stage_application_id: Some(id),
                    task_id: None,
                    action: "stage_returned",
                    title: format!(
                        "「{}」阶段不受理，一次性告知 {} 处需补齐",
                        stage.zh_name(),
                        deficiencies.len()
                    ),
                    blzt: Some(to),
                },
                actor,
                now,
            )
            .await?;
            yizhan_events::outbox::enqueue(
                &txn,
                SOURCE,
                &StageApplicationReturned {
                    project_id: app.project_id.clone(),
                    stage_application_id: id.to_owned(),
                    number: Some(app.number.clone()),
                    stage: app.stage.clone(),
                    builder_uscc: app.builder_uscc.clone(),
                    deficiencies,
                    actor: actor.clone(),
                    at: now,
                },
            )
            .await?;
        }
        Intake::Accept { owed, due } => {
            let to = from.apply(Command::Accept)?;
            active.status = Set(StageStatus::InReview.as_str().into());
            active.accepted_at = Set(Some(local));
            active.owed_materials = Set(json(&owed));
            active.tolerance_due = Set(due);
            let accepted = active.update(&txn).await?;
            let tolerance = if owed.is_empty() {
                String::new()
            } else {
                format!(
                    "（容缺受理：{} 项非关键材料须于 {} 前补齐）",
                    owed.len(),
                    due.map(|d| d.to_string()).unwrap_or_default()
                )
            };
            add_timeline(
                &txn,
                Step {
                    project_id: &app.project_id,
                    stage_application_id: Some(id),
                    task_id: None,
                    action: "stage_accepted",
                    title: format!(
                        "「{}」阶段综合受理{tolerance}，各事项同步推送至审批部门",
                        stage.zh_name()
                    ),
                    blzt: Some(to),
                },
                actor,
                now,
            )
            .await?;
            let project = projects::find(&txn, &app.project_id)
                .await?
                .ok_or(Error::NotFound(NOT_FOUND))?;
            let committed: BTreeSet<String> = parse_list(&app.commitments).into_iter().collect();
            let verification_due = calendar
                .add_working_days(local.date(), verification_days)
                .map(|r| r.value)
                .ok();
            for item in catalog.items_for(stage, project.category()) {
                let under_commitment = committed.contains(&item.code);
                tasks::create(
                    &txn,
                    calendar,
                    &accepted,
                    &NewItemTask {
                        item,
                        department_name: catalog.department_name(&item.department),
                        commitment: under_commitment.then_some(verification_due).flatten(),
                    },
                    local,
                    now,
                    actor,
                )
                .await?;
            }
            yizhan_events::outbox::enqueue(
                &txn,
                SOURCE,
                &StageApplicationAccepted {
                    project_id: app.project_id.clone(),
                    stage_application_id: id.to_owned(),
                    number: Some(app.number.clone()),
                    stage: app.stage.clone(),
                    builder_uscc: app.builder_uscc.clone(),
                    owed_materials: owed,
                    tolerance_due: due,
                    actor: actor.clone(),
                    at: now,
                },
            )
            .await?;
            evaluate_project(&txn, calendar, &app.project_id, now).await?;
        }
    }
    commit_stage(txn, id).await
}

/// Records owed 容缺 materials. Only owed codes may be sent; when nothing
/// is owed any more the stage rule runs (the stage may complete now).
pub async fn supply_owed(
    db: &DatabaseConnection,
    calendar: &Calendar,
    id: &str,
    supplied: Map<String, Value>,
    actor: &Actor,
) -> Result<StageParts, Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let app = read_locked(&txn, async || find(&txn, id).await).await?;
    let owed = parse_list(&app.owed_materials);
    if app.status() != StageStatus::InReview || owed.is_empty() {
        return Err(conflict(
            "nothing_owed",
            format!(
                "该阶段申请当前状态为「{}」，没有待补齐的容缺材料",
                app.status().zh_name()
            ),
        ));
    }
    let mut errors = Vec::new();
    for k in supplied.keys() {
        if !owed.contains(k) {
            errors.push(yizhan_kit::FieldError::new(
                format!("materials.{k}"),
                "not_owed",
                "该材料不在容缺补齐清单内",
            ));
        }
    }
    if !errors.is_empty() {
        return Err(Error::Invalid(errors));
    }
    let now = Utc::now();
    let left: Vec<String> = owed
        .into_iter()
        .filter(|m| !supplied.contains_key(m))
        .collect();
    let mut materials: Map<String, Value> =
        serde_json::from_str(&app.materials).unwrap_or_default();
    materials.extend(supplied.clone());
    let mut a = app.clone().into_active_model();
    a.materials = Set(json(&materials));
    a.owed_materials = Set(json(&left));
    if left.is_empty() {
        a.tolerance_due = Set(None);
    }
    a.updated_at = Set(now);
    a.update(&txn).await?;
    add_timeline(
        &txn,
        Step {
            project_id: &app.project_id,
            stage_application_id: Some(id),
            task_id: None,
            action: "tolerance_supplied",
            title: if left.is_empty() {
                format!("容缺材料已全部补齐（{} 项）", supplied.len())
            } else {
                format!("补交容缺材料 {} 项，尚缺 {} 项", supplied.len(), left.len())
            },
            blzt: None,
        },
        actor,
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        &txn,
        SOURCE,
        &ToleranceMaterialsSupplied {
            project_id: app.project_id.clone(),
            stage_application_id: id.to_owned(),
            builder_uscc: app.builder_uscc.clone(),
            materials: supplied.keys().cloned().collect(),
            material_ids: material_ids(&supplied),
            actor: actor.clone(),
            at: now,
        },
    )
    .await?;
    evaluate_project(&txn, calendar, &app.project_id, now).await?;
    commit_stage(txn, id).await
}

/// Stops every 容缺 stage whose due date lies before `today` with materials
/// still owed, by the engine's one 容缺 expiry rule
/// (`yizhan_workflow::tolerance`): open tasks withdrawn (BLZT 14),
/// approvals granted while materials were owed revoked (15; not those
/// granted on a commitment, which their verification decides), the stage
/// stopped. `today` is a parameter so the job can be run for any day
/// (tests, catch-up).
pub async fn expire_tolerances(
    db: &DatabaseConnection,
    calendar: &Calendar,
    today: NaiveDate,
) -> Result<u32, Error> {
    let ids: Vec<String> = stage_application::Entity::find()
        .select_only()
        .column(stage_application::Column::Id)
        .filter(stage_application::Column::ToleranceDue.lt(today))
        .filter(stage_application::Column::Status.eq(StageStatus::InReview.as_str()))
        .into_tuple()
        .all(db)
        .await?;
    let mut stopped = 0;
    for id in ids {
        let txn = yizhan_kit::db::begin_write(db).await?;
        // Read, lock, read again (not `read_locked`: an async closure would
        // make the job's future not provably `Send`).
        let Some(found) = find(&txn, &id).await? else {
            continue;
        };
        super::lock_project(&txn, &found.project_id).await?;
        let Some(app) = find(&txn, &id).await? else {
            continue;
        };
        let owed = parse_list(&app.owed_materials);
        let late = app
            .tolerance_due
            .is_some_and(|d| yizhan_workflow::tolerance::is_late(d, today));
        if app.status() != StageStatus::InReview || owed.is_empty() || !late {
            continue;
        }
        let now = Utc::now();
        let reason = format!(
            "容缺材料（{}）逾期未补齐（期限 {}）",
            owed.join("、"),
            app.tolerance_due.map(|d| d.to_string()).unwrap_or_default()
        );
        let stage_tasks = tasks::of_stage(&txn, &id).await?;
        let on_commitment: BTreeSet<String> = stage_tasks
            .iter()
            .filter(|t| t.detail.commitment)
            .map(|t| t.id.clone())
            .collect();
        super::task_steps::close(
            &txn,
            engine(calendar),
            stage_tasks,
            &reason,
            |t| !on_commitment.contains(&t.id),
            now,
        )
        .await?;
        stop_stage(&txn, &app, &format!("{reason}，终止办理"), now).await?;
        txn.commit().await?;
        stopped += 1;
    }
    Ok(stopped)
}
