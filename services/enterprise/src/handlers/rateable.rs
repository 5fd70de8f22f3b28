//! What may be rated (好差评): concluded licensing applications and
//! construction stages, recorded from their services' events with the
//! applicant and the responsible department.
//!
//! The responsible department is the one that decided last: each decided
//! task (licensing) or task change (construction) names its department, and
//! the bundle or stage outcome that follows on the same topic and key
//! concludes the case. Events may repeat; the record merges.

use sea_orm::DatabaseTransaction;
use yizhan_events::Envelope;
use yizhan_events::contracts::{
    BundleApproved, BundleRefused, ConstructionTaskStatusChanged, Event, StageCompleted,
    StageStopped, TaskDecided, stage_name,
};

use crate::domain::ratings::Subject;
use crate::store::ratings::{RateableCase, record_rateable};

/// Channel recorded for cases handled at the centre's window.
const WINDOW: &str = "window";

fn case(subject: Subject, id: &str, uscc: &str) -> RateableCase {
    RateableCase {
        subject,
        case_id: id.to_owned(),
        enterprise_uscc: uscc.to_owned(),
        department_code: String::new(),
        department_name: String::new(),
        item_name: String::new(),
        channel: WINDOW.to_owned(),
        concluded_at: None,
    }
}

/// A construction stage application concluded (completed or stopped).
fn stage_concluded(
    id: &str,
    uscc: &str,
    stage: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> RateableCase {
    RateableCase {
        item_name: stage_name(stage).unwrap_or("审批阶段").to_owned(),
        concluded_at: Some(at),
        ..case(Subject::ConstructionStage, id, uscc)
    }
}

/// The event types [`apply`] acts on (the consumer skips the others).
pub const HANDLED: &[&str] = &[
    TaskDecided::TYPE,
    BundleApproved::TYPE,
    BundleRefused::TYPE,
    ConstructionTaskStatusChanged::TYPE,
    StageCompleted::TYPE,
    StageStopped::TYPE,
];

/// Records `event`'s concluded case as rateable, if it is one.
pub async fn apply(txn: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
    let record = match event.event_type.as_str() {
        TaskDecided::TYPE => {
            let e: TaskDecided = event.decode()?;
            RateableCase {
                department_name: e
                    .department_name
                    .unwrap_or_else(|| e.department_code.clone()),
                department_code: e.department_code,
                ..case(
                    Subject::LicensingApplication,
                    &e.application_id,
                    &e.enterprise_uscc,
                )
            }
        }
        BundleApproved::TYPE => {
            let e: BundleApproved = event.decode()?;
            let names: Vec<&str> = e.items.iter().map(|i| i.item_name.as_str()).collect();
            RateableCase {
                item_name: names.join("、"),
                concluded_at: Some(e.at),
                ..case(
                    Subject::LicensingApplication,
                    &e.application_id,
                    &e.enterprise_uscc,
                )
            }
        }
        BundleRefused::TYPE => {
            let e: BundleRefused = event.decode()?;
            RateableCase {
                item_name: e.item_name.unwrap_or(e.item_code),
                concluded_at: Some(e.at),
                ..case(
                    Subject::LicensingApplication,
                    &e.application_id,
                    &e.enterprise_uscc,
                )
            }
        }
        ConstructionTaskStatusChanged::TYPE => {
            let e: ConstructionTaskStatusChanged = event.decode()?;
            RateableCase {
                department_name: e
                    .department_name
                    .unwrap_or_else(|| e.department_code.clone()),
                department_code: e.department_code,
                item_name: stage_name(&e.stage).unwrap_or("审批阶段").to_owned(),
                ..case(
                    Subject::ConstructionStage,
                    &e.stage_application_id,
                    &e.builder_uscc,
                )
            }
        }
        StageCompleted::TYPE => {
            let e: StageCompleted = event.decode()?;
            stage_concluded(&e.stage_application_id, &e.builder_uscc, &e.stage, e.at)
        }
        StageStopped::TYPE => {
            let e: StageStopped = event.decode()?;
            stage_concluded(&e.stage_application_id, &e.builder_uscc, &e.stage, e.at)
        }
        _ => return Ok(()),
    };
    record_rateable(txn, record).await?;
    Ok(())
}
