//! 变更 / 延续 / 注销 — applications against an issued licence (the rule is
//! in `domain::application`). The links run from the new application to
//! its `predecessor`; a licence is the latest in its chain.

use super::{
    Actor, Error, NOT_FOUND, SOURCE, add_timeline, application, lock_application, task, tasks_of,
};
use crate::domain::application::{ApplicationKind, ApplicationStatus};
use chrono::{DateTime, Months, NaiveDate, NaiveDateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    QueryFilter, Set,
};
use serde_json::{Map, Value};
use yizhan_approval::Status;
use yizhan_events::contracts::{
    CertificateItem, CertificateStatus, CertificateStatusChangeRequested, LicenceCancelled,
};

/// Bundled permits are granted for five years (食品经营许可 and 卫生许可
/// alike); the licence carries the same term.
const TERM_MONTHS: u32 = 60;

/// Statuses in which an application no longer stands for its enterprise's
/// request: a successor in one of these does not block another.
const CLOSED_WITHOUT_LICENCE: [ApplicationStatus; 2] =
    [ApplicationStatus::Refused, ApplicationStatus::Terminated];

/// Checks, under the predecessor's lock, that its licence may be changed,
/// renewed or cancelled now: issued, and not already superseded or
/// cancelled, with no other lifecycle application under way. Answers the
/// predecessor.
pub(crate) async fn check_predecessor(
    txn: &DatabaseTransaction,
    predecessor_id: &str,
    this: Option<&str>,
) -> Result<application::Model, Error> {
    lock_application(txn, predecessor_id).await?;
    let pred = application::Entity::find_by_id(predecessor_id.to_owned())
        .one(txn)
        .await?
        .ok_or(Error::NotFound(NOT_FOUND))?;
    if pred.certificate_id.is_none()
        || !matches!(
            pred.status(),
            ApplicationStatus::LicenceIssued | ApplicationStatus::HandedOut
        )
    {
        return Err(Error::conflict(
            "no_licence",
            format!(
                "申请当前状态为「{}」，尚无已签发的行业综合许可证，不能办理变更、延续或注销",
                pred.status().zh_name()
            ),
        ));
    }
    let successors = application::Entity::find()
        .filter(application::Column::PredecessorId.eq(predecessor_id))
        .all(txn)
        .await?;
    if let Some(s) = successors
        .iter()
        .filter(|s| Some(s.id.as_str()) != this)
        .find(|s| !CLOSED_WITHOUT_LICENCE.contains(&s.status()))
    {
        let done = matches!(
            s.status(),
            ApplicationStatus::LicenceIssued
                | ApplicationStatus::HandedOut
                | ApplicationStatus::Cancelled
        );
        return Err(Error::conflict(
            if done {
                "licence_superseded"
            } else {
                "lifecycle_in_progress"
            },
            if done {
                format!(
                    "该许可证已因{}申请 {} 失效，请对最新的许可证办理",
                    s.kind().zh_name(),
                    s.id
                )
            } else {
                format!(
                    "该许可证已有办理中的{}申请 {}，办结前不能再次申请",
                    s.kind().zh_name(),
                    s.id
                )
            },
        ));
    }
    Ok(pred)
}

/// Accepts a cancellation at the window: no review; the licence is
/// cancelled (注销, 04) and the application concluded.
pub(crate) async fn accept_cancellation(
    txn: &DatabaseTransaction,
    app: &application::Model,
    mut active: application::ActiveModel,
    to: Status,
    actor: &Actor,
    now: DateTime<Utc>,
    local: NaiveDateTime,
) -> Result<(), Error> {
    let pred_id = app
        .predecessor_id
        .clone()
        .ok_or_else(|| DbErr::Custom(format!("cancellation {} without predecessor", app.id)))?;
    let pred = check_predecessor(txn, &pred_id, Some(&app.id)).await?;
    let certificate_id = pred.certificate_id.clone().unwrap_or_default();
    active.status = Set(ApplicationStatus::Cancelled.as_str().into());
    active.accepted_at = Set(Some(local));
    active.concluded_at = Set(Some(local));
    active.certificate_id = Set(Some(certificate_id.clone()));
    active.update(txn).await?;
    add_timeline(
        txn,
        &app.id,
        "cancelled",
        format!("综合窗口受理注销申请，行业综合许可证 {certificate_id} 已注销"),
        actor,
        Some(to),
        now,
    )
    .await?;
    add_timeline(
        txn,
        &pred_id,
        "licence_cancelled",
        format!("行业综合许可证已注销（注销申请 {}）", app.id),
        actor,
        None,
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        txn,
        SOURCE,
        &LicenceCancelled {
            application_id: app.id.clone(),
            predecessor_id: pred_id,
            enterprise_uscc: app.enterprise_uscc.clone(),
            certificate_id: certificate_id.clone(),
            actor: actor.clone(),
            at: now,
        },
    )
    .await?;
    yizhan_events::outbox::enqueue(
        txn,
        SOURCE,
        &CertificateStatusChangeRequested {
            certificate_id,
            new_status: CertificateStatus::Cancelled,
            reason: "持证企业申请注销".into(),
            request_id: format!("{}:cancel", app.id),
            requested_by_service: crate::SERVICE.into(),
        },
    )
    .await?;
    Ok(())
}

/// The applications of `app`'s chain that shape its licence, newest first:
/// `app`, then its predecessors while each is a change (a change carries
/// the permits it did not touch over from the licence before it).
async fn change_chain(
    txn: &impl ConnectionTrait,
    app: &application::Model,
) -> Result<Vec<application::Model>, DbErr> {
    let mut chain = vec![app.clone()];
    while let Some(last) = chain.last()
        && last.kind() == ApplicationKind::Change
        && let Some(pred_id) = last.predecessor_id.clone()
    {
        match application::Entity::find_by_id(pred_id).one(txn).await? {
            Some(pred) => chain.push(pred),
            None => break,
        }
    }
    Ok(chain)
}

/// What the licence of `app` was granted on, whole: the notice of the
/// first application of its chain that was not a change (every item of
/// the licence), with the form and materials as every change since left
/// them. A change or renewal of this licence starts from here.
pub async fn licence_basis(
    db: &impl ConnectionTrait,
    app: &application::Model,
) -> Result<
    (
        crate::domain::notice::Notice,
        Map<String, Value>,
        Map<String, Value>,
    ),
    DbErr,
> {
    let chain = change_chain(db, app).await?;
    let origin = chain.last().unwrap_or(app);
    let mut form = Map::new();
    let mut materials = Map::new();
    for a in chain.iter().rev() {
        form.extend(serde_json::from_str::<Map<String, Value>>(&a.form).unwrap_or_default());
        materials
            .extend(serde_json::from_str::<Map<String, Value>>(&a.materials).unwrap_or_default());
    }
    Ok((origin.notice()?, form, materials))
}

fn item_of(t: &task::Model) -> CertificateItem {
    CertificateItem {
        item_code: t.item_code.clone(),
        item_name: t.item_name.clone(),
        department: t.department_name.clone(),
        permit_number: t.permit_number.clone().unwrap_or_default(),
    }
}

/// The permits the licence of `app` carries: its own approved tasks, and
/// for a change the untouched permits of the licence it changes, in the
/// original item order.
pub(crate) async fn licence_items(
    txn: &DatabaseTransaction,
    app: &application::Model,
    tasks: &[task::Model],
) -> Result<Vec<CertificateItem>, DbErr> {
    let chain = change_chain(txn, app).await?;
    let mut items: Vec<CertificateItem> = Vec::new();
    // Oldest first; each later application overrides the permits it reviewed.
    for (i, a) in chain.iter().enumerate().rev() {
        let own = if i == 0 {
            tasks.to_vec()
        } else {
            tasks_of(txn, &a.id).await?
        };
        for t in own
            .iter()
            .filter(|t| matches!(t.status(), Status::Approved | Status::ApprovedWithTolerance))
        {
            match items.iter_mut().find(|x| x.item_code == t.item_code) {
                Some(x) => *x = item_of(t),
                None => items.push(item_of(t)),
            }
        }
    }
    Ok(items)
}

/// Validity of the licence `app` asks for, issued `today`: a new licence or
/// a renewal runs five years from today; a change keeps the term of the
/// licence it changes (from the first application of its chain that was
/// not a change, concluded on the day its term began).
pub(crate) async fn licence_term(
    txn: &DatabaseTransaction,
    app: &application::Model,
    today: NaiveDate,
) -> Result<(NaiveDate, Option<NaiveDate>), DbErr> {
    let chain = change_chain(txn, app).await?;
    let origin = chain.last().unwrap_or(app);
    let began = if origin.id == app.id {
        today
    } else {
        origin.concluded_at.map_or(today, |c| c.date())
    };
    let until = began
        .checked_add_months(Months::new(TERM_MONTHS))
        .and_then(|d| d.pred_opt());
    Ok((today, until))
}

/// When the licence of a change or renewal is issued, the licence it
/// replaces lapses (失效, 05): the document service is asked, and the old
/// application's timeline says so.
pub(crate) async fn supersede_predecessor(
    txn: &DatabaseTransaction,
    app: &application::Model,
    new_certificate_id: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let kind = app.kind();
    if !matches!(kind, ApplicationKind::Change | ApplicationKind::Renewal) {
        return Ok(());
    }
    let Some(pred_id) = &app.predecessor_id else {
        return Ok(());
    };
    let Some(pred) = application::Entity::find_by_id(pred_id.clone())
        .one(txn)
        .await?
    else {
        return Ok(());
    };
    let Some(old) = pred.certificate_id.clone() else {
        return Ok(());
    };
    add_timeline(
        txn,
        pred_id,
        "licence_superseded",
        format!(
            "因{}换发新证 {new_certificate_id}，原行业综合许可证 {old} 失效",
            kind.zh_name()
        ),
        &yizhan_workflow::actor::system(crate::SERVICE),
        None,
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        txn,
        SOURCE,
        &CertificateStatusChangeRequested {
            certificate_id: old,
            new_status: CertificateStatus::Lapsed,
            reason: format!("{}换发新证 {new_certificate_id}", kind.zh_name()),
            request_id: format!("{}:supersede", app.id),
            requested_by_service: crate::SERVICE.into(),
        },
    )
    .await?;
    Ok(())
}
