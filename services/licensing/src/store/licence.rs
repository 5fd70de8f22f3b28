//! 一窗出证 — the licence: recording the certificate the document service
//! issued, and handing it out at the window.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, DatabaseConnection, DatabaseTransaction, DbErr, IntoActiveModel, Set,
};
use yizhan_events::contracts::{LicenceHandedOut, LicenceIssued};

use super::{
    Actor, Error, Parts, SOURCE, add_timeline, commit_with_parts, find_application, lifecycle,
    lock_application, locked_application,
};
use crate::domain::application::ApplicationStatus;

/// Records the issued licence for the application `request_id` names, in
/// the consumer's transaction. `false` when no such application exists
/// here (another service's request).
pub async fn record_licence(
    txn: &DatabaseTransaction,
    request_id: &str,
    certificate_id: &str,
) -> Result<bool, DbErr> {
    lock_application(txn, request_id).await?;
    let Some(app) = find_application(txn, request_id).await? else {
        return Ok(false);
    };
    match app.status() {
        ApplicationStatus::Approved => {}
        ApplicationStatus::LicenceIssued | ApplicationStatus::HandedOut => return Ok(true),
        other => {
            return Err(DbErr::Custom(format!(
                "certificate {certificate_id} issued for application {request_id} in status {}",
                other.as_str()
            )));
        }
    }
    let now = Utc::now();
    let mut active = app.clone().into_active_model();
    active.status = Set(ApplicationStatus::LicenceIssued.as_str().into());
    active.certificate_id = Set(Some(certificate_id.to_owned()));
    active.updated_at = Set(now);
    active.update(txn).await?;
    let notice = app.notice()?;
    add_timeline(
        txn,
        request_id,
        "licence_issued",
        format!(
            "{}已签发，电子证照标识 {certificate_id}",
            notice.licence_name
        ),
        &yizhan_workflow::actor::system("document"),
        None,
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        txn,
        SOURCE,
        &LicenceIssued {
            application_id: request_id.to_owned(),
            number: Some(app.number.clone()),
            enterprise_uscc: app.enterprise_uscc.clone(),
            certificate_id: certificate_id.to_owned(),
            at: now,
        },
    )
    .await?;
    lifecycle::supersede_predecessor(txn, &app, certificate_id, now).await?;
    Ok(true)
}

/// Records hand-out at the window (已发证 → 已出件).
pub async fn hand_out(db: &DatabaseConnection, id: &str, actor: &Actor) -> Result<Parts, Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let app = locked_application(&txn, id, |_| true).await?;
    let status = app.status();
    let (ApplicationStatus::LicenceIssued, Some(certificate_id)) =
        (status, app.certificate_id.clone())
    else {
        return Err(Error::conflict(
            "illegal_transition",
            format!(
                "申请当前状态为「{}」，只有已发证的申请可以出件",
                status.zh_name()
            ),
        ));
    };
    let now = Utc::now();
    let mut active = app.clone().into_active_model();
    active.status = Set(ApplicationStatus::HandedOut.as_str().into());
    active.updated_at = Set(now);
    active.update(&txn).await?;
    add_timeline(
        &txn,
        id,
        "handed_out",
        "综合窗口统一出件，行业综合许可证已交付".into(),
        actor,
        None,
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        &txn,
        SOURCE,
        &LicenceHandedOut {
            application_id: id.to_owned(),
            number: Some(app.number.clone()),
            enterprise_uscc: app.enterprise_uscc.clone(),
            certificate_id,
            actor: actor.clone(),
            at: now,
        },
    )
    .await?;
    commit_with_parts(txn, id).await
}
