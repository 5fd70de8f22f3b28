//! 容缺受理 — materials owed after a tolerance acceptance: supplying them,
//! and stopping the application when they are not supplied in time (the
//! rule is in `domain::application`).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::{Map, Value};
use yizhan_approval::calendar::china_local;
use yizhan_approval::{Calendar, ClockEvent, Command, Status};
use yizhan_events::contracts::{
    ApplicationTerminated, IntakeDeficiency, ToleranceMaterialsProvided,
};
use yizhan_kit::{FieldError, Problem};

use super::{
    Actor, Parts, SOURCE, StoreError, add_timeline, application, commit_with_parts,
    conclude_bundle, json, lock_application, material_ids, status_name, tasks_of,
};
use crate::domain::application::ApplicationStatus;

/// Checks supplied materials against what is owed: at least one, each owed.
fn check_supplied(
    owed: &[IntakeDeficiency],
    materials: &Map<String, Value>,
) -> Result<(), Problem> {
    let mut errors = Vec::new();
    if materials.is_empty() {
        errors.push(FieldError::new(
            "materials",
            "required",
            "请至少补交一项容缺材料",
        ));
    }
    for k in materials.keys() {
        if !owed.iter().any(|d| d.material.as_deref() == Some(k)) {
            errors.push(FieldError::new(
                format!("materials.{k}"),
                "not_owed",
                "该材料不在容缺补交清单中（或已补交）",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Problem::validation(errors))
    }
}

/// Records owed materials the applicant supplied. When nothing is owed any
/// more the tolerance is fulfilled and the bundle rule runs again (every
/// item may already be approved with tolerance). `may_act` hides others'
/// applications (`NotFound`).
pub async fn provide(
    db: &DatabaseConnection,
    calendar: &Calendar,
    id: &str,
    may_act: impl Fn(&application::Model) -> bool,
    materials: Map<String, Value>,
    actor: &Actor,
) -> Result<Parts, StoreError> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    lock_application(&txn, id).await?;
    let app = application::Entity::find_by_id(id.to_owned())
        .one(&txn)
        .await?
        .filter(|a| may_act(a))
        .ok_or(StoreError::NotFound)?;
    let owed = app.owed();
    if owed.is_empty() || app.status() != ApplicationStatus::InReview {
        return Err(StoreError::State(Problem::conflict(
            "no_tolerance_open",
            format!(
                "申请当前状态为「{}」，没有待补交的容缺材料",
                app.status().zh_name()
            ),
        )));
    }
    check_supplied(&owed, &materials).map_err(StoreError::State)?;
    let still: Vec<IntakeDeficiency> = owed
        .into_iter()
        .filter(|d| {
            d.material
                .as_ref()
                .is_none_or(|m| !materials.contains_key(m))
        })
        .collect();
    let now = Utc::now();
    let mut merged: Map<String, Value> = serde_json::from_str(&app.materials).unwrap_or_default();
    merged.extend(materials.clone());
    let mut active = app.clone().into_active_model();
    active.materials = Set(json(&merged));
    active.tolerance_missing = Set(Some(json(&still)));
    if still.is_empty() {
        active.tolerance_due = Set(None);
    }
    active.updated_at = Set(now);
    active.update(&txn).await?;
    let title = if still.is_empty() {
        format!("已补交容缺材料 {} 项，容缺事项全部补齐", materials.len())
    } else {
        format!(
            "已补交容缺材料 {} 项，尚有 {} 项待补交",
            materials.len(),
            still.len()
        )
    };
    add_timeline(
        &txn,
        id,
        None,
        "tolerance_materials_provided",
        title,
        actor,
        None,
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        &txn,
        SOURCE,
        &ToleranceMaterialsProvided {
            application_id: id.to_owned(),
            enterprise_uscc: app.enterprise_uscc.clone(),
            material_ids: material_ids(&materials),
            still_missing: still.clone(),
            actor: actor.event(),
            at: now,
        },
    )
    .await?;
    if still.is_empty() {
        conclude_bundle(&txn, calendar, id, now, china_local(now)).await?;
    }
    commit_with_parts(txn, id).await
}

/// Stops every application whose owed materials were due before `today`
/// (China local date): running tasks withdrawn (BLZT 14) with their clocks
/// stopped, approvals given with tolerance revoked (BLZT 15), the bundle
/// `terminated`, one `ApplicationTerminated` event. Returns how many were
/// stopped; at most `batch` per call.
pub async fn expire(
    db: &DatabaseConnection,
    today: NaiveDate,
    now: DateTime<Utc>,
    batch: u64,
) -> Result<usize, StoreError> {
    let due: Vec<String> = application::Entity::find()
        .select_only()
        .column(application::Column::Id)
        .filter(application::Column::ToleranceDue.lt(today))
        .order_by_asc(application::Column::ToleranceDue)
        .limit(batch)
        .into_tuple()
        .all(db)
        .await?;
    let mut stopped = 0;
    for id in due {
        let txn = yizhan_kit::db::begin_write(db).await?;
        lock_application(&txn, &id).await?;
        let Some(app) = application::Entity::find_by_id(id.clone())
            .one(&txn)
            .await?
        else {
            continue;
        };
        let owed = app.owed();
        let Some(due_date) = app.tolerance_due.filter(|d| *d < today) else {
            continue;
        };
        if app.status() != ApplicationStatus::InReview || owed.is_empty() {
            // Concluded otherwise meanwhile: nothing owed any more.
            let mut active = app.into_active_model();
            active.tolerance_due = Set(None);
            active.update(&txn).await?;
            txn.commit().await?;
            continue;
        }
        let local = china_local(now).max(app.accepted_at.unwrap_or_default());
        let system = Actor::system();
        for t in tasks_of(&txn, &id).await? {
            let from = t.status();
            let (command, verb) = if matches!(from, Status::ApprovedWithTolerance) {
                (Command::Revoke, "撤销容缺通过的审批决定")
            } else {
                (Command::Withdraw, "终止办理")
            };
            let Ok(to) = from.apply(command) else {
                // Approved outright or rejected: decided, stays on record.
                continue;
            };
            let mut events: Vec<ClockEvent> =
                serde_json::from_str(&t.clock_events).unwrap_or_default();
            if command == Command::Withdraw {
                let at = events
                    .last()
                    .map_or(local, |e| e.at.max(local))
                    .max(t.accepted_at);
                events.push(ClockEvent::stop(at));
            }
            let mut active = t.clone().into_active_model();
            active.status = Set(status_name(to));
            active.blzt = Set(i32::from(to.code()));
            active.clock_events = Set(json(&events));
            active.next_alarm_key = Set(None);
            active.update(&txn).await?;
            add_timeline(
                &txn,
                &id,
                Some(&t.id),
                "task_terminated",
                format!("{}：容缺材料逾期未补交，{verb}", t.item_name),
                &system,
                Some(to),
                now,
            )
            .await?;
        }
        let mut active = app.clone().into_active_model();
        active.status = Set(ApplicationStatus::Terminated.as_str().into());
        active.concluded_at = Set(Some(local));
        active.tolerance_due = Set(None);
        active.updated_at = Set(now);
        active.update(&txn).await?;
        add_timeline(
            &txn,
            &id,
            None,
            "terminated",
            format!(
                "容缺材料 {} 项未在 {} 前补交，申请终止办理",
                owed.len(),
                due_date
            ),
            &system,
            None,
            now,
        )
        .await?;
        yizhan_events::outbox::enqueue(
            &txn,
            SOURCE,
            &ApplicationTerminated {
                application_id: id.clone(),
                enterprise_uscc: app.enterprise_uscc.clone(),
                missing: owed,
                due_date,
                at: now,
            },
        )
        .await?;
        txn.commit().await?;
        stopped += 1;
    }
    Ok(stopped)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owed(code: &str) -> IntakeDeficiency {
        IntakeDeficiency {
            field: None,
            material: Some(code.into()),
            reason: "容缺".into(),
        }
    }

    #[test]
    fn supplied_materials_must_be_owed() {
        let list = [owed("a"), owed("b")];
        let mut m = Map::new();
        let e = check_supplied(&list, &m).unwrap_err();
        assert_eq!(e.errors[0].field, "materials");
        m.insert("a".into(), Value::from("id-a"));
        assert!(check_supplied(&list, &m).is_ok());
        m.insert("c".into(), Value::from("id-c"));
        let e = check_supplied(&list, &m).unwrap_err();
        assert_eq!(e.errors.len(), 1);
        assert_eq!(e.errors[0].field, "materials.c");
        assert_eq!(e.errors[0].code, "not_owed");
    }
}
