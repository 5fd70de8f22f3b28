//! 联合验收: scheduling one slot for the completion stage's departments,
//! recording each department's result (a pass approves its items at once),
//! the rectification report, and re-inspection rounds.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set,
};
use yizhan_approval::{Calendar, Command, Status};
use yizhan_events::contracts::{
    JointInspectionConcluded, JointInspectionResultRecorded, JointInspectionScheduled,
    RectificationPoint, RectificationReported,
};

use super::{
    Actor, SOURCE, Step, StoreError, add_timeline, conflict, inspection, json, parse_list,
    read_locked, task,
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
pub async fn schedule(
    db: &DatabaseConnection,
    stage_id: &str,
    slot: DateTime<Utc>,
    location: String,
    actor: &Actor,
) -> Result<inspection::Model, StoreError> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let app = read_locked(&txn, async || super::stages::find(&txn, stage_id).await).await?;
    if app.stage() != Stage::Completion || app.status() != StageStatus::InReview {
        return Err(conflict(
            "inspection_not_possible",
            "只有审批中的「竣工验收」阶段可以安排联合验收",
        ));
    }
    let rounds = inspection::Entity::find()
        .filter(inspection::Column::StageApplicationId.eq(stage_id))
        .order_by_asc(inspection::Column::Round)
        .all(&txn)
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
    let tasks = task::Entity::find()
        .filter(task::Column::StageApplicationId.eq(stage_id))
        .all(&txn)
        .await?;
    let mut departments: Vec<String> = tasks
        .iter()
        .filter(|t| t.joint_inspection && t.status().is_in_review())
        .map(|t| t.department_code.clone())
        .collect();
    departments.sort();
    departments.dedup();
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
    .insert(&txn)
    .await?;
    add_timeline(
        &txn,
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
        &txn,
        SOURCE,
        &JointInspectionScheduled {
            inspection_id: row.id.clone(),
            project_id: app.project_id.clone(),
            stage_application_id: stage_id.to_owned(),
            round,
            slot,
            location,
            departments,
            actor: actor.event(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
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
) -> Result<inspection::Model, StoreError> {
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
        let tasks = task::Entity::find()
            .filter(task::Column::StageApplicationId.eq(&current.stage_application_id))
            .filter(task::Column::DepartmentCode.eq(dept))
            .filter(task::Column::JointInspection.eq(true))
            .all(&txn)
            .await?;
        for t in tasks.into_iter().filter(|t| t.status().is_in_review()) {
            let to = t.status().apply(Command::Approve)?;
            let t = super::tasks::stop_clock_and_set(&txn, t, to, now).await?;
            let mut a = t.into_active_model();
            a.permit_number = Set(input.record_number.clone());
            a.decided_by = Set(Some(actor.sub.clone()));
            a.decided_at = Set(Some(now));
            let t = a.update(&txn).await?;
            add_timeline(
                &txn,
                Step {
                    project_id: &t.project_id,
                    stage_application_id: Some(&t.stage_application_id),
                    task_id: Some(&t.id),
                    action: "task_approved",
                    title: format!(
                        "{}：联合验收合格（{}）",
                        t.item_name,
                        input.record_number.clone().unwrap_or_default()
                    ),
                    blzt: Some(Status::Approved),
                },
                actor,
                now,
            )
            .await?;
            yizhan_events::outbox::enqueue(
                &txn,
                SOURCE,
                &super::tasks::status_event(&t, "approved", actor, now),
            )
            .await?;
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
                format!("第 {} 轮联合验收：{dept} 验收合格", current.round)
            } else {
                format!(
                    "第 {} 轮联合验收：{dept} 验收不合格，{} 处须整改",
                    current.round,
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
            actor: actor.event(),
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
            &Actor::system(),
            now,
        )
        .await?;
        yizhan_events::outbox::enqueue(
            &txn,
            SOURCE,
            &JointInspectionConcluded {
                inspection_id: id.to_owned(),
                project_id: current.project_id.clone(),
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
    super::stages::evaluate_project(&txn, calendar, &current.project_id, now).await?;
    txn.commit().await?;
    Ok(updated)
}

/// The builder reports the rectification of a failed round done.
pub async fn rectify(
    db: &DatabaseConnection,
    id: &str,
    statement: String,
    actor: &Actor,
) -> Result<inspection::Model, StoreError> {
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
            actor: actor.event(),
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(updated)
}
