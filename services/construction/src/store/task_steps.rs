//! 补正 and 特别程序 on construction tasks (the engine's steps, with the
//! stage application's values updated by a 补正 answer), and closing a
//! stopped stage's tasks by the engine's rule.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, DatabaseTransaction, DbErr, IntoActiveModel, Set,
};
use serde_json::{Map, Value};
use yizhan_approval::Calendar;
pub use yizhan_workflow::decide::TaskWork;
use yizhan_workflow::decide::{self, Step};
use yizhan_workflow::task_row;

use super::tasks::{Task, announce, check_stage_open, locked, save_detail, stage_of, status_event};
use super::{Actor, Error, SOURCE, engine, stage_application, task_detail};

/// Pauses or resumes a task's review per `step` (the engine's rules), with
/// its event, in one transaction. `check_values` checks supplied values
/// against the stage form (every problem as a field error). A task
/// `may_act` refuses is `NotFound`; a task of a stage no longer in review
/// is a 409.
pub async fn step_task(
    db: &DatabaseConnection,
    calendar: &Calendar,
    id: &str,
    may_act: impl Fn(&task_row::Model) -> bool,
    step: TaskWork,
    check_values: impl Fn(
        &stage_application::Model,
        &Map<String, Value>,
        &Map<String, Value>,
    ) -> Vec<yizhan_kit::FieldError>,
    actor: &Actor,
) -> Result<Task, Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let current = locked(&txn, id, may_act).await?;
    let app = stage_of(&txn, &current).await?;
    check_stage_open(&current, &app)?;
    let now = Utc::now();
    step.check_answer(&current, |form, materials| {
        Ok(check_values(&app, form, materials))
    })?;
    let action = match &step {
        TaskWork::RequestSupplement { .. } => "supplement_requested",
        TaskWork::ProvideSupplement { .. } => "supplement_provided",
        TaskWork::Special(Step::StartSpecialProcedure { .. }) => "special_procedure_started",
        TaskWork::Special(_) => "special_procedure_ended",
    };
    let row = decide::step(
        engine(calendar),
        &txn,
        current.row.clone(),
        &step.step(),
        actor,
        now,
    )
    .await?;
    if let TaskWork::ProvideSupplement { form, materials } = &step {
        let mut merged_form: Map<String, Value> =
            serde_json::from_str(&app.form).unwrap_or_default();
        let mut merged_materials: Map<String, Value> =
            serde_json::from_str(&app.materials).unwrap_or_default();
        merged_form.extend(form.clone());
        merged_materials.extend(materials.clone());
        let mut a = app.clone().into_active_model();
        a.form = Set(super::json(&merged_form));
        a.materials = Set(super::json(&merged_materials));
        a.updated_at = Set(now);
        a.update(&txn).await?;
    }
    let t = Task {
        row,
        detail: current.detail.clone(),
    };
    let mut event = status_event(&t, action, actor, now);
    match &step {
        TaskWork::RequestSupplement { items } => event.supplement = items.clone(),
        TaskWork::ProvideSupplement { materials, .. } => {
            event.material_ids = super::stages::material_ids(materials);
        }
        TaskWork::Special(Step::StartSpecialProcedure { kind, reason }) => {
            event.special_procedure = Some(kind.as_str().into());
            event.reasons = Some(reason.clone());
        }
        _ => {}
    }
    yizhan_events::outbox::enqueue(&txn, SOURCE, &event).await?;
    txn.commit().await?;
    Ok(t)
}

/// Closes the tasks of a stopped stage by the engine's rule
/// (`yizhan_workflow::tolerance::stop_case`): open tasks withdrawn (14),
/// tolerance approvals revoked (15) where `revoke` says so; a pre-approval
/// held for the land grant lapses with its task. Each change is published.
pub(crate) async fn close(
    txn: &DatabaseTransaction,
    engine: yizhan_workflow::task::Engine<'_>,
    tasks: Vec<Task>,
    reason: &str,
    revoke: impl Fn(&task_row::Model) -> bool,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let mut details: HashMap<String, task_detail::Model> = tasks
        .iter()
        .map(|t| (t.id.clone(), t.detail.clone()))
        .collect();
    let rows = tasks.into_iter().map(|t| t.row).collect();
    let closed =
        yizhan_workflow::tolerance::stop_case(engine, txn, rows, reason, revoke, now).await?;
    let system = engine.system();
    for (row, how) in closed {
        let mut detail = details
            .remove(&row.id)
            .ok_or_else(|| DbErr::Custom(format!("task {} has no details", row.id)))?;
        if detail.pre_approved {
            let mut d = detail.into_active_model();
            d.pre_approved = Set(false);
            detail = save_detail(txn, d).await?;
        }
        let action = match how {
            decide::Closed::Withdrawn => "withdrawn",
            decide::Closed::Revoked => "revoked",
        };
        announce(txn, &Task { row, detail }, action, &system, now).await?;
    }
    Ok(())
}
