//! Stage applications (分阶段一件事): filing in stage order, reading them
//! with their tasks and inspections, the window's list and hand-out.
//! Intake and owed materials are in `intake`, the stage rule in `rule`.

use std::collections::BTreeSet;

use chrono::Utc;
use sea_orm::sea_query::Query;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
    Set,
};
use serde_json::{Map, Value};
use yizhan_approval::Status;
use yizhan_events::contracts::{StageApplicationSubmitted, StageResultHandedOut};
use yizhan_workflow::idempotent::{self, Idempotent, Recorded};
pub use yizhan_workflow::search::Search;

use super::projects::{self, ProjectParts, live_stage, local_now};
use super::tasks::{self, Task};
use super::{
    Actor, Error, NOT_FOUND, SOURCE, Step, add_timeline, conflict, inspection, json, lock_project,
    project, read_locked, stage_application,
};
use crate::domain::catalog::Stage;
use crate::domain::project::{ProjectStatus, StageStatus};

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
    pub tasks: Vec<Task>,
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
    let tasks = tasks::of_stage(db, id).await?;
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
#[derive(Debug, Clone, Default)]
pub struct ListFilter {
    /// Only this status.
    pub status: Option<StageStatus>,
    /// Only completed stages whose certificate is issued and not yet
    /// handed out (统一窗口出件 still to do).
    pub awaiting_hand_out: bool,
    /// Only those a staff search finds.
    pub search: Option<Search>,
}

/// Stage applications across projects, oldest first (id ascending: ids
/// are UUIDv7, so this is submission order), after the cursor id, each
/// with its project. `limit` rows plus one, as `Page::from_rows` wants.
pub async fn list(
    db: &impl ConnectionTrait,
    filter: &ListFilter,
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
    if let Some(search) = &filter.search {
        q = q.filter(matching(search));
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

/// Which stage applications `search` finds: number or builder USCC
/// exactly, or the project's or builder's name as a substring.
fn matching(search: &Search) -> Condition {
    let projects = Query::select()
        .column(project::Column::Id)
        .from(project::Entity)
        .cond_where(
            Condition::any()
                .add(search.contained_in(project::Column::Name))
                .add(search.contained_in(project::Column::BuilderName)),
        )
        .to_owned();
    search.matches(
        stage_application::Column::Number,
        stage_application::Column::BuilderUscc,
        Condition::all().add(stage_application::Column::ProjectId.in_subquery(projects)),
    )
}

/// A department's queue in urgency order (the engine's queue), only the
/// tasks of stage applications `search` finds when given.
pub async fn queue(
    db: &impl ConnectionTrait,
    dept: &str,
    status: yizhan_approval::Status,
    search: Option<&Search>,
    after: Option<(String, String)>,
    limit: u64,
) -> Result<Vec<yizhan_workflow::task_row::Model>, DbErr> {
    let cases = search.map(|s| {
        Query::select()
            .column(stage_application::Column::Id)
            .from(stage_application::Entity)
            .cond_where(matching(s))
            .to_owned()
    });
    yizhan_workflow::queue::department_matching(db, dept, status, cases, after, limit).await
}

/// The 申请编号 of the stage applications `ids`, by id.
pub async fn numbers_of(
    db: &impl ConnectionTrait,
    ids: impl IntoIterator<Item = String>,
) -> Result<std::collections::HashMap<String, String>, DbErr> {
    let ids: BTreeSet<String> = ids.into_iter().collect();
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let rows: Vec<(String, String)> = stage_application::Entity::find()
        .select_only()
        .column(stage_application::Column::Id)
        .column(stage_application::Column::Number)
        .filter(stage_application::Column::Id.is_in(ids))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().collect())
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
) -> Result<StageParts, Error> {
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
            number: Some(app.number.clone()),
            stage: app.stage.clone(),
            builder_uscc: app.builder_uscc.clone(),
            certificate_id,
            actor: actor.clone(),
            at: now,
        },
    )
    .await?;
    commit_stage(txn, id).await
}

pub(crate) async fn commit_stage(txn: DatabaseTransaction, id: &str) -> Result<StageParts, Error> {
    let parts = load(&txn, id).await?.ok_or(Error::NotFound(NOT_FOUND))?;
    txn.commit().await?;
    Ok(parts)
}

/// Whether the stage may be filed now, under the project lock: one live
/// application per stage, stages in order, and later stages only after
/// the land grant unless filed for pre-review (拿地即开工).
fn check_order(parts: &ProjectParts, stage: Stage, pre_review: bool) -> Result<(), Error> {
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
    key: Option<Idempotent<'_>>,
    respond: impl Fn(&StageParts) -> R,
) -> Result<Recorded<StageParts>, Error> {
    idempotent::create(db, key, async |txn| record(txn, &new, actor).await, respond).await
}

async fn record(
    txn: &DatabaseTransaction,
    new: &NewStage,
    actor: &Actor,
) -> Result<StageParts, Error> {
    lock_project(txn, &new.project_id).await?;
    let parts = projects::load(txn, &new.project_id)
        .await?
        .ok_or(Error::NotFound(NOT_FOUND))?;
    check_order(&parts, new.stage, new.pre_review)?;
    let now = Utc::now();
    let id = uuid::Uuid::now_v7().to_string();
    let number = yizhan_workflow::numbers::next(txn, super::NUMBERS, now).await?;
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
        number: number.clone(),
    }
    .into_active_model()
    .insert(txn)
    .await?;
    let who = if actor.role == "agent" {
        "（帮办代办）"
    } else {
        ""
    };
    add_timeline(
        txn,
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
        txn,
        SOURCE,
        &StageApplicationSubmitted {
            project_id: p.id.clone(),
            stage_application_id: id.clone(),
            number: Some(number),
            stage: new.stage.as_str().into(),
            builder_uscc: p.builder_uscc.clone(),
            item_codes: new.item_codes.clone(),
            material_ids: material_ids(&new.materials),
            commitments,
            pre_review: new.pre_review,
            actor: actor.clone(),
            at: now,
        },
    )
    .await?;
    load(txn, &id).await?.ok_or(Error::NotFound(NOT_FOUND))
}

pub(crate) fn material_ids(materials: &Map<String, Value>) -> Vec<String> {
    materials
        .values()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}
