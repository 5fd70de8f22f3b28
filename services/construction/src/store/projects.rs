//! Projects: registration, reading with everything attached, scoped lists,
//! the land-grant record (拿地即开工) and the budget alert scan.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
};
use yizhan_approval::calendar::china_local;
use yizhan_approval::{Calendar, Clock, SlaState, Status, WorkingTime};
use yizhan_events::contracts::{LandGrantRecorded, ProjectBudgetAlerted, ProjectRegistered};

use yizhan_workflow::idempotent::{self, Idempotent, Recorded};

use super::tasks::{self, Task};
use super::{
    Actor, Error, NOT_FOUND, SOURCE, Step, add_timeline, conflict, consultation, engine,
    inspection, lock_project, project, stage_application, timeline,
};
use crate::domain::catalog::Category;
use crate::domain::project::{ProjectStatus, StageSpan, StageStatus, budget_clock};

/// A validated registration.
#[derive(Debug, Clone)]
pub struct NewProject {
    /// 投资项目代码, normalised.
    pub project_code: String,
    /// Name.
    pub name: String,
    /// Builder USCC.
    pub builder_uscc: String,
    /// Builder name.
    pub builder_name: String,
    /// Location.
    pub location: String,
    /// Category.
    pub category: Category,
    /// 总建筑面积.
    pub floor_area_m2: f64,
    /// 总投资.
    pub total_investment_wan: f64,
    /// Budget in working days.
    pub budget_days: i32,
    /// Land already granted (e.g. 划拨 or an earlier contract).
    pub land_granted: bool,
}

/// A project with everything attached.
#[derive(Debug, Clone)]
pub struct ProjectParts {
    /// The project.
    pub project: project::Model,
    /// Stage applications, oldest first.
    pub stages: Vec<stage_application::Model>,
    /// Tasks, oldest first.
    pub tasks: Vec<Task>,
    /// Inspections, oldest first.
    pub inspections: Vec<inspection::Model>,
    /// Consultations, oldest first.
    pub consultations: Vec<consultation::Model>,
    /// Timeline in order.
    pub timeline: Vec<timeline::Model>,
}

impl project::Model {
    /// The stored category.
    pub fn category(&self) -> Category {
        Category::from_wire(&self.category).unwrap_or(Category::SocialInvestment)
    }

    /// The stored status.
    pub fn status(&self) -> ProjectStatus {
        if self.status == ProjectStatus::Completed.as_str() {
            ProjectStatus::Completed
        } else {
            ProjectStatus::Active
        }
    }
}

impl ProjectParts {
    /// The project's budget clock (see `domain::project`), once a stage was
    /// accepted.
    pub fn budget_clock(&self) -> Option<Clock> {
        let spans: Vec<StageSpan> = self
            .stages
            .iter()
            .filter_map(|s| {
                s.accepted_at.map(|from| StageSpan {
                    from,
                    until: s.concluded_at,
                })
            })
            .collect();
        budget_clock(
            WorkingTime::from_days(self.project.budget_days),
            &spans,
            self.project.status() == ProjectStatus::Completed,
        )
    }
}

/// Registers a project with its `ProjectRegistered` event (and the
/// idempotent answer, if keyed). A second project with the same code is a
/// 409 `project_code_taken`.
pub async fn register<R: serde::Serialize>(
    db: &DatabaseConnection,
    new: NewProject,
    actor: &Actor,
    key: Option<Idempotent<'_>>,
    respond: impl Fn(&ProjectParts) -> R,
) -> Result<Recorded<ProjectParts>, Error> {
    idempotent::create(db, key, async |txn| record(txn, &new, actor).await, respond).await
}

async fn record(
    txn: &sea_orm::DatabaseTransaction,
    new: &NewProject,
    actor: &Actor,
) -> Result<ProjectParts, Error> {
    let taken = project::Entity::find()
        .filter(project::Column::ProjectCode.eq(&new.project_code))
        .one(txn)
        .await?;
    if taken.is_some() {
        return Err(conflict(
            "project_code_taken",
            format!("项目代码 {} 已登记", new.project_code),
        ));
    }
    let now = Utc::now();
    let id = uuid::Uuid::now_v7().to_string();
    let row = project::Model {
        id: id.clone(),
        project_code: new.project_code.clone(),
        name: new.name.clone(),
        builder_uscc: new.builder_uscc.clone(),
        builder_name: new.builder_name.clone(),
        location: new.location.clone(),
        category: new.category.as_str().into(),
        floor_area_m2: new.floor_area_m2,
        total_investment_wan: new.total_investment_wan,
        budget_days: new.budget_days,
        land_granted: new.land_granted,
        land_contract_no: None,
        land_granted_on: None,
        status: ProjectStatus::Active.as_str().into(),
        budget_alert: None,
        registered_by: actor.sub.clone(),
        created_at: now,
        updated_at: now,
    };
    let inserted = project::Entity::insert(row.into_active_model())
        .exec(txn)
        .await;
    if let Err(e) = inserted {
        // A concurrent registration of the same code won the unique index.
        return Err(if yizhan_kit::db::is_unique_violation(&e) {
            conflict(
                "project_code_taken",
                format!("项目代码 {} 已登记", new.project_code),
            )
        } else {
            Error::Db(e)
        });
    }
    add_timeline(
        txn,
        Step {
            project_id: &id,
            stage_application_id: None,
            task_id: None,
            action: "registered",
            title: format!(
                "项目登记（{}，{}，全流程 {} 个工作日）",
                new.project_code,
                new.category.zh_name(),
                new.budget_days
            ),
            blzt: None,
        },
        actor,
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        txn,
        SOURCE,
        &ProjectRegistered {
            project_id: id.clone(),
            project_code: new.project_code.clone(),
            name: new.name.clone(),
            builder_uscc: new.builder_uscc.clone(),
            builder_name: new.builder_name.clone(),
            category: new.category.as_str().into(),
            budget_days: new.budget_days,
            actor: actor.clone(),
            at: now,
        },
    )
    .await?;
    load(txn, &id).await?.ok_or(Error::NotFound(NOT_FOUND))
}

/// One project row.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<project::Model>, DbErr> {
    project::Entity::find_by_id(id.to_owned()).one(db).await
}

/// A project with its stages, tasks, inspections, consultations and timeline.
pub async fn load(db: &impl ConnectionTrait, id: &str) -> Result<Option<ProjectParts>, DbErr> {
    let Some(project) = find(db, id).await? else {
        return Ok(None);
    };
    let stages = stage_application::Entity::find()
        .filter(stage_application::Column::ProjectId.eq(id))
        .order_by_asc(stage_application::Column::Id)
        .all(db)
        .await?;
    let tasks = tasks::of_project(db, id).await?;
    let inspections = inspection::Entity::find()
        .filter(inspection::Column::ProjectId.eq(id))
        .order_by_asc(inspection::Column::Id)
        .all(db)
        .await?;
    let consultations = consultation::Entity::find()
        .filter(consultation::Column::ProjectId.eq(id))
        .order_by_asc(consultation::Column::Id)
        .all(db)
        .await?;
    let timeline = yizhan_workflow::timeline::of_subject(db, id).await?;
    Ok(Some(ProjectParts {
        project,
        stages,
        tasks,
        inspections,
        consultations,
        timeline,
    }))
}

/// Whether `dept` has a task of the project (a reviewer may then read it).
pub async fn has_task_in(db: &impl ConnectionTrait, id: &str, dept: &str) -> Result<bool, DbErr> {
    yizhan_workflow::task::department_works_on(db, id, dept).await
}

/// Whose projects a list may show.
#[derive(Debug, Clone)]
pub enum ListScope {
    /// Everyone's.
    All,
    /// These builders' only.
    Builders(Vec<String>),
}

/// Projects newest first, before the cursor id.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &ListScope,
    before: Option<&str>,
    limit: u64,
) -> Result<Vec<project::Model>, DbErr> {
    let mut q = project::Entity::find();
    if let ListScope::Builders(list) = scope {
        q = q.filter(project::Column::BuilderUscc.is_in(list.iter().cloned()));
    }
    if let Some(id) = before {
        q = q.filter(project::Column::Id.lt(id));
    }
    q.order_by_desc(project::Column::Id)
        .limit(limit + 1)
        .all(db)
        .await
}

/// The land grant as recorded.
#[derive(Debug, Clone)]
pub struct LandGrant {
    /// 土地出让合同编号.
    pub contract_number: String,
    /// Day of the grant.
    pub granted_on: NaiveDate,
}

/// Records the land grant (拿地即开工): every pre-approved task becomes
/// approved (BLZT 11) at once, then the stage rule runs, so stages whose
/// items were all pre-approved complete — and request their certificates —
/// in the same transaction.
pub async fn record_land_grant(
    db: &DatabaseConnection,
    calendar: &Calendar,
    id: &str,
    grant: LandGrant,
    actor: &Actor,
) -> Result<ProjectParts, Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    lock_project(&txn, id).await?;
    let p = find(&txn, id).await?.ok_or(Error::NotFound(NOT_FOUND))?;
    if p.land_granted {
        return Err(conflict("land_already_granted", "该项目的土地出让已登记"));
    }
    let now = Utc::now();
    let mut active = p.clone().into_active_model();
    active.land_granted = Set(true);
    active.land_contract_no = Set(Some(grant.contract_number.clone()));
    active.land_granted_on = Set(Some(grant.granted_on));
    active.updated_at = Set(now);
    active.update(&txn).await?;
    let held: Vec<Task> = tasks::of_project(&txn, id)
        .await?
        .into_iter()
        .filter(|t| t.detail.pre_approved)
        .collect();
    let mut finalised = Vec::new();
    for t in held {
        if t.status() != Status::InReview {
            continue;
        }
        let row = yizhan_workflow::decide::finalise(
            engine(calendar),
            &txn,
            t.row.clone(),
            false,
            format!("{}：土地出让已登记，预审结果转为正式批准", t.item_name),
            &yizhan_workflow::actor::system(crate::SERVICE),
            now,
        )
        .await?;
        let mut d = t.detail.clone().into_active_model();
        d.pre_approved = Set(false);
        let detail = tasks::save_detail(&txn, d).await?;
        let t = Task { row, detail };
        tasks::announce(
            &txn,
            &t,
            "finalised",
            &yizhan_workflow::actor::system(crate::SERVICE),
            now,
        )
        .await?;
        finalised.push(t.id.clone());
    }
    add_timeline(
        &txn,
        Step {
            project_id: id,
            stage_application_id: None,
            task_id: None,
            action: "land_granted",
            title: format!(
                "土地出让已登记（合同 {}），{} 个预审事项即时转为正式批准",
                grant.contract_number,
                finalised.len()
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
        &LandGrantRecorded {
            project_id: id.to_owned(),
            builder_uscc: p.builder_uscc.clone(),
            contract_number: grant.contract_number,
            granted_on: grant.granted_on,
            finalised_task_ids: finalised,
            actor: actor.clone(),
            at: now,
        },
    )
    .await?;
    super::evaluate_project(&txn, calendar, id, now).await?;
    let parts = load(&txn, id).await?.ok_or(Error::NotFound(NOT_FOUND))?;
    txn.commit().await?;
    Ok(parts)
}

/// Budget alerts sent by one scan.
#[derive(Debug, Default, Clone, Copy, serde::Serialize, utoipa::ToSchema)]
pub struct AlertCount {
    /// `warning` alerts sent.
    pub warnings: u32,
    /// `overdue` alerts sent.
    pub overdue: u32,
}

/// Reads every active project's budget clock on `today` and sends one
/// `ProjectBudgetAlerted` per level reached (warning, then overdue), each
/// once per project.
pub async fn scan_budgets(
    db: &DatabaseConnection,
    calendar: &Calendar,
    today: NaiveDate,
) -> Result<AlertCount, Error> {
    let mut count = AlertCount::default();
    let ids: Vec<String> = project::Entity::find()
        .select_only()
        .column(project::Column::Id)
        .filter(project::Column::Status.eq(ProjectStatus::Active.as_str()))
        .filter(
            Condition::any()
                .add(project::Column::BudgetAlert.is_null())
                .add(project::Column::BudgetAlert.ne("overdue")),
        )
        .into_tuple()
        .all(db)
        .await?;
    for id in ids {
        let txn = yizhan_kit::db::begin_write(db).await?;
        lock_project(&txn, &id).await?;
        let Some(parts) = load(&txn, &id).await? else {
            continue;
        };
        let Some(clock) = parts.budget_clock() else {
            continue;
        };
        let reading = clock.reading_on(calendar, today);
        let used = reading.used;
        let level = if used > clock.limits().committed() {
            "overdue"
        } else if reading.committed.state == SlaState::Warning
            || (reading.committed.state == SlaState::Paused
                && used.half_days() * 10 >= clock.limits().committed().half_days() * 8)
        {
            "warning"
        } else {
            continue;
        };
        if parts.project.budget_alert.as_deref() == Some(level) {
            continue;
        }
        let now = Utc::now();
        let mut a = parts.project.clone().into_active_model();
        a.budget_alert = Set(Some(level.into()));
        a.update(&txn).await?;
        add_timeline(
            &txn,
            Step {
                project_id: &id,
                stage_application_id: None,
                task_id: None,
                action: "budget_alerted",
                title: format!(
                    "全流程时限{}：已用 {} 个工作日（共 {} 个）",
                    if level == "overdue" {
                        "超期"
                    } else {
                        "预警"
                    },
                    used.as_days_f64(),
                    parts.project.budget_days
                ),
                blzt: None,
            },
            &yizhan_workflow::actor::system(crate::SERVICE),
            now,
        )
        .await?;
        yizhan_events::outbox::enqueue(
            &txn,
            SOURCE,
            &ProjectBudgetAlerted {
                project_id: id.clone(),
                builder_uscc: parts.project.builder_uscc.clone(),
                category: parts.project.category.clone(),
                level: level.into(),
                budget_days: parts.project.budget_days,
                used_days: used.as_days_f64(),
                due_date: reading.committed.due.map(|d| d.date),
                at: now,
            },
        )
        .await?;
        txn.commit().await?;
        if level == "overdue" {
            count.overdue += 1;
        } else {
            count.warnings += 1;
        }
    }
    Ok(count)
}

/// Now, as the clock rules see it (China local time).
pub(crate) fn local_now(now: DateTime<Utc>) -> chrono::NaiveDateTime {
    china_local(now)
}

/// Live (not returned, not stopped) stage applications of a project.
pub(crate) fn live_stage(
    stages: &[stage_application::Model],
    stage: crate::domain::catalog::Stage,
) -> Option<&stage_application::Model> {
    stages
        .iter()
        .filter(|s| s.stage == stage.as_str())
        .find(|s| s.status().is_live())
}

impl stage_application::Model {
    /// The stored status.
    pub fn status(&self) -> StageStatus {
        StageStatus::from_wire(&self.status).unwrap_or(StageStatus::Submitted)
    }

    /// The stored stage.
    pub fn stage(&self) -> crate::domain::catalog::Stage {
        crate::domain::catalog::Stage::from_wire(&self.stage)
            .unwrap_or(crate::domain::catalog::Stage::LandPlanning)
    }
}
