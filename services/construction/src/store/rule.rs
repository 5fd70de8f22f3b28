//! The stage rule (`domain::project`) applied after every change: a stage
//! completes when all its items are approved (requesting its
//! certificates), which may complete the next in turn (拿地即开工); a
//! rejected or revoked item stops it, withdrawing its open tasks. And the
//! certificate the document service issued for a completed stage.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, DatabaseTransaction, DbErr, IntoActiveModel, Set};
use yizhan_approval::{Calendar, Status};
use yizhan_events::contracts::{
    ByConstruction, CertificateIssueRequested, CertificateItem, ConstructionCertificateRecorded,
    StageCompleted, StageStopped,
};

use super::projects::{self, ProjectParts, live_stage, local_now};
use super::stages::find;
use super::tasks::Task;
use super::{
    Error, NOT_FOUND, SOURCE, Step, add_timeline, engine, lock_project, parse_list,
    stage_application,
};
use crate::domain::catalog::Stage;
use crate::domain::project::{ProjectStatus, StageOutcome, StageStatus, stage_outcome};

/// Stops a stage: its status, the reason, a timeline entry and
/// `StageStopped`. The caller has closed its tasks.
pub(crate) async fn stop_stage(
    txn: &DatabaseTransaction,
    app: &stage_application::Model,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
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
        &yizhan_workflow::actor::system(crate::SERVICE),
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        txn,
        SOURCE,
        &StageStopped {
            project_id: app.project_id.clone(),
            stage_application_id: app.id.clone(),
            number: Some(app.number.clone()),
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
    calendar: &Calendar,
    project_id: &str,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let parts = projects::load(txn, project_id)
        .await?
        .ok_or(Error::NotFound(NOT_FOUND))?;
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
                .filter(|t| t.stage_application_id() == app.id)
                .map(|t| t.status())
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
                            &yizhan_workflow::actor::system(crate::SERVICE),
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
                        .filter(|t| t.stage_application_id() == app.id)
                        .find(|t| matches!(t.status(), Status::Rejected | Status::Revoked))
                        .map(|t| format!("{}{}", t.item_name, t.status().name()))
                        .unwrap_or_default();
                    let open: Vec<Task> = parts
                        .tasks
                        .iter()
                        .filter(|t| t.stage_application_id() == app.id)
                        .cloned()
                        .collect();
                    super::task_steps::close(txn, engine(calendar), open, &why, |_| false, now)
                        .await?;
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
) -> Result<(), Error> {
    let p = &parts.project;
    let stage = app.stage();
    let mut a = app.clone().into_active_model();
    a.status = Set(StageStatus::Completed.as_str().into());
    let ended = concluded_at(app, now);
    a.concluded_at = Set(Some(ended));
    a.updated_at = Set(now);
    a.update(txn).await?;
    let tasks: Vec<&Task> = parts
        .tasks
        .iter()
        .filter(|t| t.stage_application_id() == app.id)
        .collect();
    // Certificates: one request per stage (request id = the application
    // id), carrying the items that bear it.
    let bearing: Vec<&&Task> = tasks
        .iter()
        .filter(|t| t.detail.certificate.is_some())
        .collect();
    let mut requested = Vec::new();
    if let Some(certificate_type) = bearing.first().and_then(|t| t.detail.certificate.clone()) {
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
        &yizhan_workflow::actor::system(crate::SERVICE),
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        txn,
        SOURCE,
        &StageCompleted {
            project_id: p.id.clone(),
            stage_application_id: app.id.clone(),
            number: Some(app.number.clone()),
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
        &yizhan_workflow::actor::system("document"),
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
