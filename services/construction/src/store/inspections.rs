//! 联合验收: scheduling one slot for the completion stage's departments,
//! recording each department's result (a pass approves its items at once),
//! the rectification report, and re-inspection rounds.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use yizhan_approval::Calendar;
use yizhan_events::contracts::{
    JointInspectionConcluded, JointInspectionResultRecorded, JointInspectionScheduled,
    RectificationPoint, RectificationReported,
};
use yizhan_workflow::idempotent::{self, Idempotent, Recorded};

use super::tasks::{self, Task};
use super::{
    Actor, Error, SOURCE, Step, add_timeline, conflict, engine, inspection, json, parse_list,
    read_locked,
};
use crate::domain::catalog::Stage;
use crate::domain::inspection::{
    DepartmentResult, InspectionStatus, RectificationItem, conclude, rectification_list,
};
use crate::domain::project::StageStatus;

impl inspection::Model {
    /// The stored status.
    pub fn status(&self) -> InspectionStatus {
        InspectionStatus::from_wire(&self.status).unwrap_or(InspectionStatus::Scheduled)
    }

    /// Invited departments.
    pub fn departments(&self) -> Vec<String> {
        parse_list(&self.departments)
    }

    /// Results so far.
    pub fn results(&self) -> Vec<DepartmentResult> {
        serde_json::from_str(&self.results).unwrap_or_default()
    }

    /// The rectification list (when failed).
    pub fn rectification(&self) -> Vec<RectificationItem> {
        serde_json::from_str(&self.rectification).unwrap_or_default()
    }
}

/// One inspection row.
pub async fn find(db: &impl ConnectionTrait, id: &str) -> Result<Option<inspection::Model>, DbErr> {
    inspection::Entity::find_by_id(id.to_owned()).one(db).await
}

/// Schedules the joint inspection of a completion stage in review: every
/// department with a joint item not yet approved is invited. A failed
/// round must be reported rectified before the next is scheduled.
pub async fn schedule<R: serde::Serialize>(
    db: &DatabaseConnection,
    stage_id: &str,
    slot: DateTime<Utc>,
    location: String,
    actor: &Actor,
    key: Option<Idempotent<'_>>,
    respond: impl Fn(&inspection::Model) -> R,
) -> Result<Recorded<inspection::Model>, Error> {
    idempotent::create(
        db,
        key,
        async |txn| record_schedule(txn, stage_id, slot, &location, actor).await,
        respond,
    )
    .await
}

async fn record_schedule(
    txn: &DatabaseTransaction,
    stage_id: &str,
    slot: DateTime<Utc>,
    location: &str,
    actor: &Actor,
) -> Result<inspection::Model, Error> {
    let location = location.to_owned();
    let app = read_locked(txn, async || super::stages::find(txn, stage_id).await).await?;
    if app.stage() != Stage::Completion || app.status() != StageStatus::InReview {
        return Err(conflict(
            "inspection_not_possible",
            "只有审批中的「竣工验收」阶段可以安排联合验收",
        ));
    }
    let rounds = inspection::Entity::find()
        .filter(inspection::Column::StageApplicationId.eq(stage_id))
        .order_by_asc(inspection::Column::Round)
        .all(txn)
        .await?;
    if let Some(open) = rounds.iter().find(|i| {
        matches!(
            i.status(),
            InspectionStatus::Scheduled | InspectionStatus::Failed
        )
    }) {
        return Err(conflict(
            "inspection_open",
            format!(
                "第 {} 轮联合验收{}，不能另行安排",
                open.round,
                if open.status() == InspectionStatus::Failed {
                    "待整改完成"
                } else {
                    "尚未结束"
                }
            ),
        ));
    }
    let tasks = tasks::of_stage(txn, stage_id).await?;
    let mut invited: Vec<(String, String)> = tasks
        .iter()
        .filter(|t| t.detail.joint_inspection && t.status().is_in_review())
        .map(|t| (t.department_code.clone(), t.department_name.clone()))
        .collect();
    invited.sort();
    invited.dedup();
    let departments: Vec<String> = invited.iter().map(|(c, _)| c.clone()).collect();
    let department_names: Vec<String> = invited.into_iter().map(|(_, n)| n).collect();
    if departments.is_empty() {
        return Err(conflict("inspection_not_possible", "没有待联合验收的事项"));
    }
    let now = Utc::now();
    let round = i32::try_from(rounds.len()).unwrap_or(i32::MAX - 1) + 1;
    let row = inspection::Model {
        id: uuid::Uuid::now_v7().to_string(),
        project_id: app.project_id.clone(),
        stage_application_id: stage_id.to_owned(),
        round,
        slot,
        location: location.clone(),
        departments: json(&departments),
        results: "[]".into(),
        status: InspectionStatus::Scheduled.as_str().into(),
        rectification: "[]".into(),
        rectification_statement: None,
        scheduled_by: actor.sub.clone(),
        created_at: now,
        updated_at: now,
    }
    .into_active_model()
    .insert(txn)
    .await?;
    add_timeline(
        txn,
        Step {
            project_id: &app.project_id,
            stage_application_id: Some(stage_id),
            task_id: None,
            action: "inspection_scheduled",
            title: format!(
                "安排第 {round} 轮联合验收：{}，{}，邀请 {} 个部门",
                yizhan_approval::calendar::china_local(slot).format("%Y-%m-%d %H:%M"),
                location,
                departments.len()
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
        &JointInspectionScheduled {
            inspection_id: row.id.clone(),
            project_id: app.project_id.clone(),
            stage_application_id: stage_id.to_owned(),
            round,
            slot,
            location,
            departments,
            department_names,
            builder_uscc: Some(app.builder_uscc.clone()),
            actor: actor.clone(),
            at: now,
        },
    )
    .await?;
    Ok(row)
}

/// One department's result.
#[derive(Debug, Clone)]
pub struct ResultInput {
    /// Passed.
    pub passed: bool,
    /// 验收意见书编号 (when passed).
    pub record_number: Option<String>,
    /// Failed points (when failed).
    pub points: Vec<String>,
    /// The department's name, for the timeline people read (its code
    /// stays in the result and the event).
    pub department_name: String,
}

/// Records department `dept`'s result. A pass approves the department's
/// joint items at once; when every invited department has recorded the
/// round concludes (passed, or failed with the rectification list) and the
/// stage rule runs.
pub async fn record(
    db: &DatabaseConnection,
    calendar: &Calendar,
    id: &str,
    dept: &str,
    input: ResultInput,
    actor: &Actor,
) -> Result<inspection::Model, Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let invited = async || {
        Ok(find(&txn, id)
            .await?
            .filter(|i| i.departments().iter().any(|d| d == dept)))
    };
    let current = read_locked(&txn, invited).await?;
    if current.status() != InspectionStatus::Scheduled {
        return Err(conflict(
            "inspection_concluded",
            format!("本轮联合验收已{}", current.status().zh_name()),
        ));
    }
    let mut results = current.results();
    if results.iter().any(|r| r.department_code == dept) {
        return Err(conflict(
            "result_already_recorded",
            "本部门已录入本轮验收结果",
        ));
    }
    let now = Utc::now();
    results.push(DepartmentResult {
        department_code: dept.to_owned(),
        passed: input.passed,
        record_number: input.record_number.clone(),
        points: input.points.clone(),
        recorded_by: actor.sub.clone(),
    });
    if input.passed {
        let joint: Vec<Task> = tasks::of_stage(&txn, &current.stage_application_id)
            .await?
            .into_iter()
            .filter(|t| {
                t.department_code == dept && t.detail.joint_inspection && t.status().is_in_review()
            })
            .collect();
        for t in joint {
            let row = yizhan_workflow::decide::decide(
                engine(calendar),
                &txn,
                t.row.clone(),
                &yizhan_workflow::decide::Decision::Approve {
                    permit_number: input.record_number.clone().unwrap_or_default(),
                    with_tolerance: false,
                },
                actor,
                now,
            )
            .await?;
            let t = Task {
                row,
                detail: t.detail,
            };
            tasks::announce(&txn, &t, "approved", actor, now).await?;
        }
    }
    add_timeline(
        &txn,
        Step {
            project_id: &current.project_id,
            stage_application_id: Some(&current.stage_application_id),
            task_id: None,
            action: "inspection_result_recorded",
            title: if input.passed {
                format!(
                    "第 {} 轮联合验收：{} 验收合格",
                    current.round, input.department_name
                )
            } else {
                format!(
                    "第 {} 轮联合验收：{} 验收不合格，{} 处须整改",
                    current.round,
                    input.department_name,
                    input.points.len()
                )
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
        &JointInspectionResultRecorded {
            inspection_id: id.to_owned(),
            project_id: current.project_id.clone(),
            department_code: dept.to_owned(),
            passed: input.passed,
            points: input.points,
            actor: actor.clone(),
            at: now,
        },
    )
    .await?;
    let mut a = current.clone().into_active_model();
    a.results = Set(json(&results));
    a.updated_at = Set(now);
    if let Some(outcome) = conclude(&current.departments(), &results) {
        let list = rectification_list(&results);
        a.status = Set(outcome.as_str().into());
        a.rectification = Set(json(&list));
        add_timeline(
            &txn,
            Step {
                project_id: &current.project_id,
                stage_application_id: Some(&current.stage_application_id),
                task_id: None,
                action: "inspection_concluded",
                title: if outcome == InspectionStatus::Passed {
                    format!("第 {} 轮联合验收全部合格", current.round)
                } else {
                    format!(
                        "第 {} 轮联合验收未通过，一次性告知整改清单 {} 项",
                        current.round,
                        list.len()
                    )
                },
                blzt: None,
            },
            &yizhan_workflow::actor::system(crate::SERVICE),
            now,
        )
        .await?;
        yizhan_events::outbox::enqueue(
            &txn,
            SOURCE,
            &JointInspectionConcluded {
                inspection_id: id.to_owned(),
                project_id: current.project_id.clone(),
                builder_uscc: super::stages::find(&txn, &current.stage_application_id)
                    .await?
                    .map(|a| a.builder_uscc),
                round: current.round,
                passed: outcome == InspectionStatus::Passed,
                rectification: list
                    .into_iter()
                    .map(|r| RectificationPoint {
                        department_code: r.department_code,
                        point: r.point,
                    })
                    .collect(),
                at: now,
            },
        )
        .await?;
    }
    let updated = a.update(&txn).await?;
    super::evaluate_project(&txn, calendar, &current.project_id, now).await?;
    txn.commit().await?;
    Ok(updated)
}

/// The builder reports the rectification of a failed round done.
pub async fn rectify(
    db: &DatabaseConnection,
    id: &str,
    statement: String,
    actor: &Actor,
) -> Result<inspection::Model, Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let current = read_locked(&txn, async || find(&txn, id).await).await?;
    if current.status() != InspectionStatus::Failed {
        return Err(conflict(
            "nothing_to_rectify",
            format!("本轮联合验收{}，无须整改", current.status().zh_name()),
        ));
    }
    let now = Utc::now();
    let mut a = current.clone().into_active_model();
    a.status = Set(InspectionStatus::Rectified.as_str().into());
    a.rectification_statement = Set(Some(statement.clone()));
    a.updated_at = Set(now);
    let updated = a.update(&txn).await?;
    add_timeline(
        &txn,
        Step {
            project_id: &current.project_id,
            stage_application_id: Some(&current.stage_application_id),
            task_id: None,
            action: "rectification_reported",
            title: format!("整改完成，申请复验：{statement}"),
            blzt: None,
        },
        actor,
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        &txn,
        SOURCE,
        &RectificationReported {
            inspection_id: id.to_owned(),
            project_id: current.project_id.clone(),
            statement,
            actor: actor.clone(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}
