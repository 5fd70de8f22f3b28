//! Stage applications (分阶段一件事): submission, intake (accept, 容缺受理,
//! or return with the one-time list), owed materials, the 容缺 expiry job,
//! the stage rule with its cascade, and the certificate answer.

use std::collections::BTreeSet;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
};
use serde_json::{Map, Value};
use yizhan_approval::{Calendar, Command, Status};
use yizhan_events::contracts::{
    ByConstruction, CertificateIssueRequested, CertificateItem, ConstructionCertificateRecorded,
    IntakeDeficiency, StageApplicationAccepted, StageApplicationReturned,
    StageApplicationSubmitted, StageCompleted, StageResultHandedOut, StageStopped,
    ToleranceMaterialsSupplied,
};

use super::projects::{self, ProjectParts, live_stage, local_now};
use super::{
    Actor, Idempotent, Recorded, SOURCE, Step, StoreError, add_timeline, conflict, inspection,
    json, lock_project, parse_list, project, read_locked, remember, replay, stage_application,
    task,
};
use crate::domain::catalog::{Catalog, Stage};
use crate::domain::project::{ProjectStatus, StageOutcome, StageStatus, stage_outcome};

/// A validated stage submission.
#[derive(Debug, Clone)]
pub struct NewStage {
    /// The project.
    pub project_id: String,
    /// The stage.
    pub stage: Stage,
    /// Catalog version of the form.
    pub catalog_version: i32,
    /// The stage's item codes.
    pub item_codes: Vec<String>,
    /// Pre-review before the land grant.
    pub pre_review: bool,
    /// Form values.
    pub form: Map<String, Value>,
    /// Material code → id.
    pub materials: Map<String, Value>,
    /// Items under 告知承诺制.
    pub commitments: BTreeSet<String>,
    /// The signed commitment.
    pub commitment_statement: Option<String>,
}

/// A stage application with its tasks and inspections.
#[derive(Debug, Clone)]
pub struct StageParts {
    /// The application.
    pub stage: stage_application::Model,
    /// Its tasks.
    pub tasks: Vec<task::Model>,
    /// Its inspections.
    pub inspections: Vec<inspection::Model>,
}

/// One stage application row.
pub async fn find(
    db: &impl ConnectionTrait,
    id: &str,
) -> Result<Option<stage_application::Model>, DbErr> {
    stage_application::Entity::find_by_id(id.to_owned())
        .one(db)
        .await
}

/// A stage application with its tasks and inspections.
pub async fn load(db: &impl ConnectionTrait, id: &str) -> Result<Option<StageParts>, DbErr> {
    let Some(stage) = find(db, id).await? else {
        return Ok(None);
    };
    let tasks = task::Entity::find()
        .filter(task::Column::StageApplicationId.eq(id))
        .order_by_asc(task::Column::Id)
        .all(db)
        .await?;
    let inspections = inspection::Entity::find()
        .filter(inspection::Column::StageApplicationId.eq(id))
        .order_by_asc(inspection::Column::Id)
        .all(db)
        .await?;
    Ok(Some(StageParts {
        stage,
        tasks,
        inspections,
    }))
}

/// Which stage applications the window's list shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct ListFilter {
    /// Only this status.
    pub status: Option<StageStatus>,
    /// Only completed stages whose certificate is issued and not yet
    /// handed out (统一窗口出件 still to do).
    pub awaiting_hand_out: bool,
}

/// Stage applications across projects, oldest first (id ascending: ids
/// are UUIDv7, so this is submission order), after the cursor id, each
/// with its project. `limit` rows plus one, as `Page::from_rows` wants.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: ListFilter,
    after: Option<&str>,
    limit: u64,
) -> Result<Vec<(stage_application::Model, Option<project::Model>)>, DbErr> {
    let mut q = stage_application::Entity::find();
    if let Some(status) = filter.status {
        q = q.filter(stage_application::Column::Status.eq(status.as_str()));
    }
    if filter.awaiting_hand_out {
        // `stages_status_id` serves the status; the rest is checked per row.
        q = q
            .filter(stage_application::Column::Status.eq(StageStatus::Completed.as_str()))
            .filter(stage_application::Column::CertificateId.is_not_null())
            .filter(stage_application::Column::HandedOutAt.is_null());
    }
    if let Some(id) = after {
        q = q.filter(stage_application::Column::Id.gt(id));
    }
    let stages = q
        .order_by_asc(stage_application::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await?;
    let ids: BTreeSet<String> = stages.iter().map(|s| s.project_id.clone()).collect();
    let projects: std::collections::HashMap<String, project::Model> = project::Entity::find()
        .filter(project::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id.clone(), p))
        .collect();
    Ok(stages
        .into_iter()
        .map(|s| {
            let p = projects.get(&s.project_id).cloned();
            (s, p)
        })
        .collect())
}

/// 统一窗口出件: records that the window handed out a completed stage's
/// issued certificate, with a timeline entry and `StageResultHandedOut`
/// in the same transaction. Anything but a completed stage with its
/// certificate issued and not yet handed out is a 409
/// `illegal_transition`.
pub async fn hand_out(
    db: &DatabaseConnection,
    id: &str,
    actor: &Actor,
) -> Result<StageParts, StoreError> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let app = read_locked(&txn, async || find(&txn, id).await).await?;
    let status = app.status();
    let refuse = |why: String| conflict("illegal_transition", why);
    if status != StageStatus::Completed {
        return Err(refuse(format!(
            "阶段申请当前状态为「{}」，只有已办结的阶段可以出件",
            status.zh_name()
        )));
    }
    let Some(certificate_id) = app.certificate_id.clone() else {
        return Err(refuse("该阶段的电子证照尚未签发，暂不能出件".into()));
    };
    if let Some(at) = app.handed_out_at {
        return Err(refuse(format!(
            "该阶段审批结果已于 {} 出件，不能重复出件",
            local_now(at).format("%Y-%m-%d %H:%M")
        )));
    }
    let now = Utc::now();
    let mut a = app.clone().into_active_model();
    a.handed_out_at = Set(Some(now));
    a.handed_out_by = Set(Some(actor.sub.clone()));
    a.updated_at = Set(now);
    a.update(&txn).await?;
    add_timeline(
        &txn,
        Step {
            project_id: &app.project_id,
            stage_application_id: Some(id),
            task_id: None,
            action: "stage_handed_out",
            title: format!(
                "综合窗口统一出件，「{}」阶段审批结果（电子证照标识 {certificate_id}）已交付",
                app.stage().zh_name()
            ),
            blzt: None,
        },
        actor,
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        &txn,
        SOURCE,
        &StageResultHandedOut {
            project_id: app.project_id.clone(),
            stage_application_id: id.to_owned(),
            stage: app.stage.clone(),
            builder_uscc: app.builder_uscc.clone(),
            certificate_id,
            actor: actor.event(),
            at: now,
        },
    )
    .await?;
    commit_stage(txn, id).await
}

async fn commit_stage(txn: DatabaseTransaction, id: &str) -> Result<StageParts, StoreError> {
    let parts = load(&txn, id).await?.ok_or(StoreError::NotFound)?;
    txn.commit().await?;
    Ok(parts)
}

/// Whether the stage may be filed now, under the project lock: one live
/// application per stage, stages in order, and later stages only after
/// the land grant unless filed for pre-review (拿地即开工).
fn check_order(parts: &ProjectParts, stage: Stage, pre_review: bool) -> Result<(), StoreError> {
    if parts.project.status() == ProjectStatus::Completed {
        return Err(conflict("project_completed", "项目已全流程办结"));
    }
    if live_stage(&parts.stages, stage).is_some() {
        return Err(conflict(
            "stage_already_filed",
            format!("「{}」阶段已申报，不能重复申报", stage.zh_name()),
        ));
    }
    let Some(previous) = stage.previous() else {
        return Ok(());
    };
    let before = live_stage(&parts.stages, previous);
    if pre_review {
        if parts.project.land_granted {
            return Err(conflict(
                "land_already_granted",
                "土地出让已登记，无需预审，请直接申报",
            ));
        }
        if before.is_none() {
            return Err(conflict(
                "stage_locked",
                format!("预审须先申报上一阶段「{}」", previous.zh_name()),
            ));
        }
        return Ok(());
    }
    if before.map(stage_application::Model::status) != Some(StageStatus::Completed) {
        return Err(conflict(
            "stage_locked",
            format!("须先办结上一阶段「{}」", previous.zh_name()),
        ));
    }
    if stage.allows_pre_review() && !parts.project.land_granted {
        return Err(conflict(
            "land_not_granted",
            "土地出让尚未登记：可申请拿地即开工预审（pre_review: true），或待土地出让登记后申报",
        ));
    }
    Ok(())
}

/// Records a stage application (已接件, BLZT 1) with its event, after the
/// order checks, in one transaction.
pub async fn submit<R: serde::Serialize>(
    db: &DatabaseConnection,
    new: NewStage,
    actor: &Actor,
    idempotent: Option<Idempotent<'_>>,
    respond: impl Fn(&StageParts) -> R,
) -> Result<Recorded<StageParts>, StoreError> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    if let Some(stored) = replay(&txn, idempotent.as_ref()).await? {
        return Ok(Recorded::Replayed(stored));
    }
    lock_project(&txn, &new.project_id).await?;
    let parts = projects::load(&txn, &new.project_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    check_order(&parts, new.stage, new.pre_review)?;
    let now = Utc::now();
    let id = uuid::Uuid::now_v7().to_string();
    let p = &parts.project;
    let commitments: Vec<String> = new.commitments.iter().cloned().collect();
    stage_application::Model {
        id: id.clone(),
        project_id: p.id.clone(),
        builder_uscc: p.builder_uscc.clone(),
        stage: new.stage.as_str().into(),
        category: p.category.clone(),
        catalog_version: new.catalog_version,
        status: StageStatus::Submitted.as_str().into(),
        pre_review: new.pre_review,
        form: json(&new.form),
        materials: json(&new.materials),
        commitments: json(&commitments),
        commitment_statement: new.commitment_statement.clone(),
        deficiencies: None,
        owed_materials: "[]".into(),
        tolerance_due: None,
        submitted_by: actor.sub.clone(),
        submitted_role: actor.role.clone(),
        accepted_at: None,
        concluded_at: None,
        stop_reason: None,
        certificate_id: None,
        created_at: now,
        updated_at: now,
        handed_out_at: None,
        handed_out_by: None,
    }
    .into_active_model()
    .insert(&txn)
    .await?;
    let who = if actor.role == "agent" {
        "（帮办代办）"
    } else {
        ""
    };
    add_timeline(
        &txn,
        Step {
            project_id: &p.id,
            stage_application_id: Some(&id),
            task_id: None,
            action: "stage_submitted",
            title: format!(
                "提交「{}」阶段一表申请{who}（{} 个事项{}{}），已接件",
                new.stage.zh_name(),
                new.item_codes.len(),
                if commitments.is_empty() {
                    String::new()
                } else {
                    format!("，{} 项告知承诺", commitments.len())
                },
                if new.pre_review {
                    "，拿地即开工预审"
                } else {
                    ""
                },
            ),
            blzt: Some(Status::Received),
        },
        actor,
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        &txn,
        SOURCE,
        &StageApplicationSubmitted {
            project_id: p.id.clone(),
            stage_application_id: id.clone(),
            stage: new.stage.as_str().into(),
            builder_uscc: p.builder_uscc.clone(),
            item_codes: new.item_codes.clone(),
            material_ids: material_ids(&new.materials),
            commitments,
            pre_review: new.pre_review,
            actor: actor.event(),
            at: now,
        },
    )
    .await?;
    let parts = load(&txn, &id).await?.ok_or(StoreError::NotFound)?;
    remember(&txn, idempotent.as_ref(), &respond(&parts)).await?;
    txn.commit().await?;
    Ok(Recorded::Created(parts))
}

fn material_ids(materials: &Map<String, Value>) -> Vec<String> {
    materials
        .values()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

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
) -> Result<StageParts, StoreError> {
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
                    stage: app.stage.clone(),
                    builder_uscc: app.builder_uscc.clone(),
                    deficiencies,
                    actor: actor.event(),
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
                .ok_or(StoreError::NotFound)?;
            let committed: BTreeSet<String> = parse_list(&app.commitments).into_iter().collect();
            let verification_due = calendar
                .add_working_days(local.date(), verification_days)
                .map(|r| r.value)
                .ok();
            for item in catalog.items_for(stage, project.category()) {
                let under_commitment = committed.contains(&item.code);
                super::tasks::create(
                    &txn,
                    calendar,
                    &accepted,
                    &super::tasks::NewTask {
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
                    stage: app.stage.clone(),
                    builder_uscc: app.builder_uscc.clone(),
                    owed_materials: owed,
                    tolerance_due: due,
                    actor: actor.event(),
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
) -> Result<StageParts, StoreError> {
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
        return Err(yizhan_kit::Problem::validation(errors).into());
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
            actor: actor.event(),
            at: now,
        },
    )
    .await?;
    evaluate_project(&txn, calendar, &app.project_id, now).await?;
    commit_stage(txn, id).await
}

/// Stops every 容缺 stage whose due date lies before `today` with materials
/// still owed: open tasks end 13 (不通过), approvals granted with materials
/// owed (12, not 告知承诺) are revoked (15), the stage is stopped. `today`
/// is a parameter so the job can be run for any day (tests, catch-up).
pub async fn expire_tolerances(
    db: &DatabaseConnection,
    today: NaiveDate,
) -> Result<u32, StoreError> {
    let ids: Vec<(String, String)> = stage_application::Entity::find()
        .select_only()
        .column(stage_application::Column::Id)
        .column(stage_application::Column::ProjectId)
        .filter(stage_application::Column::ToleranceDue.lt(today))
        .filter(stage_application::Column::Status.eq(StageStatus::InReview.as_str()))
        .into_tuple()
        .all(db)
        .await?;
    let mut stopped = 0;
    for (id, project_id) in ids {
        let txn = yizhan_kit::db::begin_write(db).await?;
        lock_project(&txn, &project_id).await?;
        let Some(app) = find(&txn, &id).await? else {
            continue;
        };
        let owed = parse_list(&app.owed_materials);
        let still_due = app.tolerance_due.is_some_and(|d| d < today);
        if app.status() != StageStatus::InReview || owed.is_empty() || !still_due {
            continue;
        }
        let now = Utc::now();
        let reason = format!(
            "容缺材料（{}）逾期未补齐（期限 {}），终止办理",
            owed.join("、"),
            app.tolerance_due.map(|d| d.to_string()).unwrap_or_default()
        );
        let tasks = task::Entity::find()
            .filter(task::Column::StageApplicationId.eq(&id))
            .all(&txn)
            .await?;
        for t in tasks {
            let status = t.status();
            let (command, action) = if status.is_in_review() {
                (Command::Reject, "stopped")
            } else if status == Status::ApprovedWithTolerance && !t.commitment {
                (Command::Revoke, "revoked")
            } else {
                continue;
            };
            let to = status.apply(command)?;
            let mut t = super::tasks::stop_clock_and_set(&txn, t, to, now).await?;
            let mut a = t.clone().into_active_model();
            a.reasons = Set(Some(reason.clone()));
            a.pre_approved = Set(false);
            t = a.update(&txn).await?;
            add_timeline(
                &txn,
                Step {
                    project_id: &project_id,
                    stage_application_id: Some(&id),
                    task_id: Some(&t.id),
                    action: if action == "revoked" {
                        "task_revoked"
                    } else {
                        "task_stopped"
                    },
                    title: format!("{}：{}", t.item_name, reason),
                    blzt: Some(to),
                },
                &Actor::system(),
                now,
            )
            .await?;
            yizhan_events::outbox::enqueue(
                &txn,
                SOURCE,
                &super::tasks::status_event(&t, action, &Actor::system(), now),
            )
            .await?;
        }
        stop_stage(&txn, &app, &reason, now).await?;
        txn.commit().await?;
        stopped += 1;
    }
    Ok(stopped)
}

async fn stop_stage(
    txn: &DatabaseTransaction,
    app: &stage_application::Model,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut a = app.clone().into_active_model();
    a.status = Set(StageStatus::Stopped.as_str().into());
    a.stop_reason = Set(Some(reason.to_owned()));
    a.concluded_at = Set(Some(concluded_at(app, now)));
    a.updated_at = Set(now);
    a.update(txn).await?;
    add_timeline(
        txn,
        Step {
            project_id: &app.project_id,
            stage_application_id: Some(&app.id),
            task_id: None,
            action: "stage_stopped",
            title: format!("「{}」阶段终止办理：{reason}", app.stage().zh_name()),
            blzt: None,
        },
        &Actor::system(),
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        txn,
        SOURCE,
        &StageStopped {
            project_id: app.project_id.clone(),
            stage_application_id: app.id.clone(),
            stage: app.stage.clone(),
            builder_uscc: app.builder_uscc.clone(),
            reason: reason.to_owned(),
            at: now,
        },
    )
    .await?;
    Ok(())
}

/// The end of a stage's span: now, never before its acceptance.
fn concluded_at(app: &stage_application::Model, now: DateTime<Utc>) -> chrono::NaiveDateTime {
    let local = local_now(now);
    app.accepted_at.map_or(local, |a| a.max(local))
}

/// Runs the stage rule (`domain::project`) over every stage of the project
/// in order, inside the caller's transaction: a stage whose items are all
/// approved and whose previous stage is complete completes (requesting its
/// certificates), which may complete the next one in turn (拿地即开工); a
/// rejected or revoked item stops its stage.
pub(crate) async fn evaluate_project(
    txn: &DatabaseTransaction,
    _calendar: &Calendar,
    project_id: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let parts = projects::load(txn, project_id)
        .await?
        .ok_or(StoreError::NotFound)?;
    let mut previous_complete = true;
    for stage in Stage::ALL {
        let Some(app) = live_stage(&parts.stages, stage) else {
            previous_complete = false;
            continue;
        };
        if app.status() == StageStatus::InReview {
            let statuses: Vec<Status> = parts
                .tasks
                .iter()
                .filter(|t| t.stage_application_id == app.id)
                .map(task::Model::status)
                .collect();
            let owed = parse_list(&app.owed_materials).len();
            match stage_outcome(&statuses, owed, previous_complete) {
                StageOutcome::Pending => {}
                StageOutcome::Complete => {
                    complete_stage(txn, &parts, app, now).await?;
                    if stage == Stage::Completion {
                        let mut a = parts.project.clone().into_active_model();
                        a.status = Set(ProjectStatus::Completed.as_str().into());
                        a.updated_at = Set(now);
                        a.update(txn).await?;
                        add_timeline(
                            txn,
                            Step {
                                project_id,
                                stage_application_id: None,
                                task_id: None,
                                action: "project_completed",
                                title: "四个阶段全部办结，项目审批全流程完成".into(),
                                blzt: None,
                            },
                            &Actor::system(),
                            now,
                        )
                        .await?;
                    }
                    continue;
                }
                StageOutcome::Stop => {
                    let why = parts
                        .tasks
                        .iter()
                        .filter(|t| t.stage_application_id == app.id)
                        .find(|t| matches!(t.status(), Status::Rejected | Status::Revoked))
                        .map(|t| format!("{}{}", t.item_name, t.status().name()))
                        .unwrap_or_default();
                    stop_stage(txn, app, &why, now).await?;
                }
            }
        }
        previous_complete = app.status() == StageStatus::Completed;
    }
    Ok(())
}

async fn complete_stage(
    txn: &DatabaseTransaction,
    parts: &ProjectParts,
    app: &stage_application::Model,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let p = &parts.project;
    let stage = app.stage();
    let mut a = app.clone().into_active_model();
    a.status = Set(StageStatus::Completed.as_str().into());
    let ended = concluded_at(app, now);
    a.concluded_at = Set(Some(ended));
    a.updated_at = Set(now);
    a.update(txn).await?;
    let tasks: Vec<&task::Model> = parts
        .tasks
        .iter()
        .filter(|t| t.stage_application_id == app.id)
        .collect();
    // Certificates: one request per stage (request id = the application
    // id), carrying the items that bear it.
    let bearing: Vec<&&task::Model> = tasks.iter().filter(|t| t.certificate.is_some()).collect();
    let mut requested = Vec::new();
    if let Some(certificate_type) = bearing.first().and_then(|t| t.certificate.clone()) {
        yizhan_events::outbox::enqueue(
            txn,
            SOURCE,
            &ByConstruction(CertificateIssueRequested {
                request_id: app.id.clone(),
                certificate_type: certificate_type.clone(),
                holder_uscc: p.builder_uscc.clone(),
                holder_name: p.builder_name.clone(),
                scope: format!(
                    "{}（项目代码 {}），建设地点：{}，建筑面积 {} 平方米",
                    p.name, p.project_code, p.location, p.floor_area_m2
                ),
                items: bearing
                    .iter()
                    .map(|t| CertificateItem {
                        item_code: t.item_code.clone(),
                        item_name: t.item_name.clone(),
                        department: t.department_name.clone(),
                        permit_number: t.permit_number.clone().unwrap_or_default(),
                    })
                    .collect(),
                valid_from: ended.date(),
                valid_until: None,
                requested_by_service: crate::SERVICE.into(),
            }),
        )
        .await?;
        requested.push(certificate_type);
    }
    add_timeline(
        txn,
        Step {
            project_id: &p.id,
            stage_application_id: Some(&app.id),
            task_id: None,
            action: "stage_completed",
            title: format!(
                "「{}」阶段 {} 个事项全部办结{}",
                stage.zh_name(),
                tasks.len(),
                match stage.next() {
                    Some(n) if requested.is_empty() => format!("，可申报「{}」阶段", n.zh_name()),
                    Some(n) => format!("，已申请签发电子证照，可申报「{}」阶段", n.zh_name()),
                    None => String::new(),
                }
            ),
            blzt: None,
        },
        &Actor::system(),
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        txn,
        SOURCE,
        &StageCompleted {
            project_id: p.id.clone(),
            stage_application_id: app.id.clone(),
            stage: app.stage.clone(),
            builder_uscc: p.builder_uscc.clone(),
            certificates_requested: requested,
            at: now,
        },
    )
    .await?;
    Ok(())
}

/// Records an issued certificate on the stage application `request_id`
/// names, in the consumer's transaction; `false` when it is not ours.
pub async fn record_certificate(
    txn: &DatabaseTransaction,
    request_id: &str,
    certificate_id: &str,
    certificate_type: &str,
) -> Result<bool, DbErr> {
    let Some(found) = find(txn, request_id).await? else {
        return Ok(false);
    };
    lock_project(txn, &found.project_id).await?;
    let Some(app) = find(txn, request_id).await? else {
        return Ok(false);
    };
    if app.certificate_id.is_some() {
        return Ok(true);
    }
    let now = Utc::now();
    let mut a = app.clone().into_active_model();
    a.certificate_id = Set(Some(certificate_id.to_owned()));
    a.updated_at = Set(now);
    a.update(txn).await?;
    let name = if certificate_type == crate::seed::PERMIT_CERTIFICATE {
        "建筑工程施工许可证"
    } else {
        "电子证照"
    };
    add_timeline(
        txn,
        Step {
            project_id: &app.project_id,
            stage_application_id: Some(&app.id),
            task_id: None,
            action: "certificate_issued",
            title: format!("{name}已签发，电子证照标识 {certificate_id}"),
            blzt: None,
        },
        &Actor {
            sub: "document".into(),
            role: "system".into(),
        },
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        txn,
        SOURCE,
        &ConstructionCertificateRecorded {
            project_id: app.project_id.clone(),
            stage_application_id: app.id.clone(),
            builder_uscc: app.builder_uscc.clone(),
            certificate_id: certificate_id.to_owned(),
            certificate_type: certificate_type.to_owned(),
            at: now,
        },
    )
    .await?;
    Ok(true)
}
