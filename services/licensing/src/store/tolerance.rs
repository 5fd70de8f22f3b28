//! 容缺受理 — materials owed after a tolerance acceptance: supplying them,
//! and stopping the application when they are not supplied in time (the
//! rule is in `domain::application`).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter,
    QueryOrder, QuerySelect, Set,
};
use serde_json::{Map, Value};
use yizhan_approval::Calendar;
use yizhan_events::contracts::{
    ApplicationTerminated, IntakeDeficiency, ToleranceMaterialsProvided,
};
use yizhan_kit::FieldError;

use super::review::conclude_bundle;
use super::{
    Actor, Error, Parts, SOURCE, add_timeline, application, commit_with_parts, engine, json, local,
    locked_application, material_ids, tasks_of,
};
use crate::domain::application::ApplicationStatus;

/// Checks supplied materials against what is owed: at least one, each owed.
fn check_supplied(owed: &[IntakeDeficiency], materials: &Map<String, Value>) -> Result<(), Error> {
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
        Err(Error::Invalid(errors))
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
) -> Result<Parts, Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let app = locked_application(&txn, id, may_act).await?;
    let owed = app.owed();
    if owed.is_empty() || app.status() != ApplicationStatus::InReview {
        return Err(Error::conflict(
            "no_tolerance_open",
            format!(
                "申请当前状态为「{}」，没有待补交的容缺材料",
                app.status().zh_name()
            ),
        ));
    }
    check_supplied(&owed, &materials)?;
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
            actor: actor.clone(),
            at: now,
        },
    )
    .await?;
    if still.is_empty() {
        conclude_bundle(&txn, calendar, id, now, local(now)).await?;
    }
    commit_with_parts(txn, id).await
}

/// Stops every application whose owed materials were due before `today`
/// (China local date) by the engine's one 容缺 expiry rule
/// (`yizhan_workflow::tolerance`): open tasks withdrawn (BLZT 14) with their
/// clocks stopped, approvals given with tolerance revoked (BLZT 15), the
/// bundle `terminated`, one `ApplicationTerminated` event. Returns how many
/// were stopped; at most `batch` per call.
pub async fn expire(
    db: &DatabaseConnection,
    calendar: &Calendar,
    today: NaiveDate,
    now: DateTime<Utc>,
    batch: u64,
) -> Result<usize, Error> {
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
        let Ok(app) = locked_application(&txn, &id, |_| true).await else {
            continue;
        };
        let owed = app.owed();
        let Some(due_date) = app
            .tolerance_due
            .filter(|d| yizhan_workflow::tolerance::is_late(*d, today))
        else {
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
        yizhan_workflow::tolerance::expire(
            engine(calendar),
            &txn,
            tasks_of(&txn, &id).await?,
            "容缺材料逾期未补交",
            |_| false,
            now,
        )
        .await?;
        let local = local(now).max(app.accepted_at.unwrap_or_default());
        let mut active = app.clone().into_active_model();
        active.status = Set(ApplicationStatus::Terminated.as_str().into());
        active.concluded_at = Set(Some(local));
        active.tolerance_due = Set(None);
        active.updated_at = Set(now);
        active.update(&txn).await?;
        add_timeline(
            &txn,
            &id,
            "terminated",
            format!(
                "容缺材料 {} 项未在 {} 前补交，申请终止办理",
                owed.len(),
                due_date
            ),
            &yizhan_workflow::actor::system(crate::SERVICE),
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
            name: None,
        }
    }

    #[test]
    fn supplied_materials_must_be_owed() {
        let list = [owed("a"), owed("b")];
        let mut m = Map::new();
        let Error::Invalid(e) = check_supplied(&list, &m).unwrap_err() else {
            panic!("not a field error")
        };
        assert_eq!(e[0].field, "materials");
        m.insert("a".into(), Value::from("id-a"));
        assert!(check_supplied(&list, &m).is_ok());
        m.insert("c".into(), Value::from("id-c"));
        let Error::Invalid(e) = check_supplied(&list, &m).unwrap_err() else {
            panic!("not a field error")
        };
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].field, "materials.c");
        assert_eq!(e[0].code, "not_owed");
    }
}
