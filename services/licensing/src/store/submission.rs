//! Filing: a new combined application (已接件), and the resubmission of a
//! returned one after the one-time list was worked through.

use chrono::Utc;
use sea_orm::{ActiveModelTrait, DatabaseConnection, EntityTrait, IntoActiveModel, Set};
use serde_json::{Map, Value};
use yizhan_approval::{Command, Status};
use yizhan_events::contracts::{ApplicationResubmitted, ApplicationSubmitted};
use yizhan_workflow::idempotent::{self, Idempotent, Recorded};

use super::{
    Actor, Error, NOT_FOUND, Parts, SOURCE, add_timeline, application, bundle_limits,
    commit_with_parts, item_codes, json, lifecycle, load_parts, locked_application, material_ids,
};
use crate::domain::application::{ApplicationKind, ApplicationStatus};
use crate::domain::notice::Notice;

/// A validated application ready to record.
#[derive(Debug, Clone)]
pub struct NewApplication {
    /// Applicant enterprise.
    pub enterprise_uscc: String,
    /// Its name.
    pub enterprise_name: String,
    /// The notice (snapshot).
    pub notice: Notice,
    /// Form values.
    pub form: Map<String, Value>,
    /// Material code → id.
    pub materials: Map<String, Value>,
    /// Who submits.
    pub actor: Actor,
    /// New licence, or change / renewal / cancellation of one.
    pub kind: ApplicationKind,
    /// The application whose licence a lifecycle application concerns.
    pub predecessor_id: Option<String>,
}

/// Records a new application (已接件), its timeline entry, its
/// `ApplicationSubmitted` event and (if keyed) the idempotent response, in
/// one transaction.
pub async fn submit<R: serde::Serialize>(
    db: &DatabaseConnection,
    new: NewApplication,
    key: Option<Idempotent<'_>>,
    respond: impl Fn(&Parts) -> R,
) -> Result<Recorded<Parts>, Error> {
    idempotent::create(db, key, async |txn| record(txn, &new).await, respond).await
}

async fn record(txn: &sea_orm::DatabaseTransaction, new: &NewApplication) -> Result<Parts, Error> {
    if let Some(pred) = &new.predecessor_id {
        lifecycle::check_predecessor(txn, pred, None).await?;
    }
    let now = Utc::now();
    let id = uuid::Uuid::now_v7().to_string();
    let number = yizhan_workflow::numbers::next(txn, super::NUMBERS, now).await?;
    let (statutory, committed) = bundle_limits(&new.notice);
    let app = application::Model {
        id: id.clone(),
        scenario_code: new.notice.scenario_code.clone(),
        catalog_version: new.notice.catalog_version,
        enterprise_uscc: new.enterprise_uscc.clone(),
        enterprise_name: new.enterprise_name.clone(),
        status: ApplicationStatus::Submitted.as_str().into(),
        notice: json(&new.notice),
        form: json(&new.form),
        materials: json(&new.materials),
        deficiencies: None,
        submitted_by: new.actor.sub.clone(),
        statutory_half_days: statutory,
        committed_half_days: committed,
        accepted_at: None,
        concluded_at: None,
        certificate_id: None,
        created_at: now,
        updated_at: now,
        kind: new.kind.as_str().into(),
        predecessor_id: new.predecessor_id.clone(),
        tolerance_missing: None,
        tolerance_due: None,
        used_half_days: None,
        number: number.clone(),
    };
    application::Entity::insert(app.into_active_model())
        .exec(txn)
        .await?;
    // Filed: the draft it was made from has done its work.
    if new.kind == ApplicationKind::New {
        super::drafts::delete(txn, &new.enterprise_uscc, &new.notice.scenario_code).await?;
    }
    let title = match new.kind {
        ApplicationKind::New => format!(
            "提交一表申请（{}，共 {} 个事项），已接件",
            new.notice.scenario_name,
            new.notice.items.len()
        ),
        ApplicationKind::Cancellation => "提交行业综合许可证注销申请，已接件".into(),
        kind => format!(
            "提交行业综合许可证{}申请（涉及 {} 个事项），已接件",
            kind.zh_name(),
            new.notice.items.len()
        ),
    };
    add_timeline(
        txn,
        &id,
        "submitted",
        title,
        &new.actor,
        Some(Status::Received),
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        txn,
        SOURCE,
        &ApplicationSubmitted {
            application_id: id.clone(),
            scenario_code: new.notice.scenario_code.clone(),
            catalog_version: new.notice.catalog_version,
            enterprise_uscc: new.enterprise_uscc.clone(),
            enterprise_name: new.enterprise_name.clone(),
            item_codes: item_codes(&new.notice),
            material_ids: material_ids(&new.materials),
            actor: new.actor.clone(),
            at: now,
            kind: new.kind.as_str().into(),
            predecessor_id: new.predecessor_id.clone(),
            number: Some(number),
        },
    )
    .await?;
    load_parts(txn, &id)
        .await?
        .ok_or(Error::NotFound(NOT_FOUND))
}

/// A corrected application for resubmission.
#[derive(Debug, Clone)]
pub struct Resubmission {
    /// Enterprise name as now filled in.
    pub enterprise_name: String,
    /// The recomputed notice (same catalog version).
    pub notice: Notice,
    /// Form values.
    pub form: Map<String, Value>,
    /// Materials.
    pub materials: Map<String, Value>,
}

/// Resubmits a returned application (BLZT 4 → 1).
pub async fn resubmit(
    db: &DatabaseConnection,
    id: &str,
    update: Resubmission,
    actor: &Actor,
) -> Result<Parts, Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let app = locked_application(&txn, id, |_| true).await?;
    let to = app.status().intake_status().apply(Command::Resubmit)?;
    let now = Utc::now();
    let (statutory, committed) = bundle_limits(&update.notice);
    let mut active = app.clone().into_active_model();
    active.status = Set(ApplicationStatus::Submitted.as_str().into());
    active.enterprise_name = Set(update.enterprise_name);
    active.notice = Set(json(&update.notice));
    active.form = Set(json(&update.form));
    active.materials = Set(json(&update.materials));
    active.statutory_half_days = Set(statutory);
    active.committed_half_days = Set(committed);
    active.updated_at = Set(now);
    active.update(&txn).await?;
    add_timeline(
        &txn,
        id,
        "resubmitted",
        "按一次性告知补齐后重新提交，已接件".into(),
        actor,
        Some(to),
        now,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        &txn,
        SOURCE,
        &ApplicationResubmitted {
            application_id: id.to_owned(),
            number: Some(app.number.clone()),
            enterprise_uscc: app.enterprise_uscc.clone(),
            item_codes: item_codes(&update.notice),
            material_ids: material_ids(&update.materials),
            actor: actor.clone(),
            at: now,
        },
    )
    .await?;
    commit_with_parts(txn, id).await
}
