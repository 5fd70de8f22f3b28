//! What the document service does with each event it consumes: one `match`,
//! in one place. Besides certificate requests, the approval services'
//! case and task facts are recorded as read grants on materials
//! (`store::grants`). Effects go through the consumer's transaction, so they
//! commit together with the inbox row that makes redelivery harmless.
//!
//! A request that can never be honoured (unknown type, bad holder code, a
//! forbidden status change, an unknown certificate) fails the handler: after
//! the consumer's retries it lands on `yizhan.document.dlq` with the reason,
//! rather than being dropped.

use std::sync::Arc;

use sea_orm::DatabaseTransaction;
use yizhan_events::Envelope;
use yizhan_events::consumer::Dispatcher;
use yizhan_events::contracts::{
    ApplicationResubmitted, ApplicationSubmitted, CertificateIssueRequested,
    CertificateStatusChangeRequested, ConstructionTaskStatusChanged, Event,
    StageApplicationSubmitted, SupplementProvided, TaskCreated, ToleranceMaterialsProvided,
    ToleranceMaterialsSupplied,
};
use yizhan_events::outbox::WakeAfterCommit;

use crate::certificates::{Certificates, Issued};
use crate::store::grants;

/// The event types the dispatcher acts on (the consumer skips the others).
const HANDLED: &[&str] = &[
    CertificateIssueRequested::TYPE,
    CertificateStatusChangeRequested::TYPE,
    ApplicationSubmitted::TYPE,
    ApplicationResubmitted::TYPE,
    TaskCreated::TYPE,
    SupplementProvided::TYPE,
    ToleranceMaterialsProvided::TYPE,
    StageApplicationSubmitted::TYPE,
    ToleranceMaterialsSupplied::TYPE,
    ConstructionTaskStatusChanged::TYPE,
];

/// The document service's dispatcher.
pub struct Handlers {
    /// Issues and changes certificates.
    pub certificates: Arc<Certificates>,
    /// Wakes the relay after commits that enqueued: only the certificate
    /// arms do; the grants, most of this consumer's commits, do not.
    pub relay: WakeAfterCommit,
}

#[async_trait::async_trait]
impl Dispatcher for Handlers {
    async fn dispatch(&self, txn: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
        let cause = format!("{} {}", event.source, event.id);
        match event.event_type.as_str() {
            CertificateIssueRequested::TYPE => {
                let request: CertificateIssueRequested = event.decode()?;
                self.relay.queued();
                if let Issued::Already(id) = self.certificates.issue(txn, &request, cause).await? {
                    tracing::info!(
                        request_id = %request.request_id,
                        certificate = %id,
                        "issue request already answered; not issuing again"
                    );
                }
            }
            CertificateStatusChangeRequested::TYPE => {
                let request: CertificateStatusChangeRequested = event.decode()?;
                self.relay.queued();
                self.certificates.change_status(txn, request, cause).await?;
            }
            // Who handles which material: the grants `visible_material` checks.
            ApplicationSubmitted::TYPE => {
                let e: ApplicationSubmitted = event.decode()?;
                grants::set_application_materials(txn, &e.application_id, &e.material_ids).await?;
            }
            ApplicationResubmitted::TYPE => {
                let e: ApplicationResubmitted = event.decode()?;
                grants::set_application_materials(txn, &e.application_id, &e.material_ids).await?;
            }
            TaskCreated::TYPE => {
                let e: TaskCreated = event.decode()?;
                grants::add_application_department(txn, &e.application_id, &e.department_code)
                    .await?;
            }
            SupplementProvided::TYPE => {
                let e: SupplementProvided = event.decode()?;
                grants::add_application_materials(txn, &e.application_id, &e.material_ids).await?;
            }
            ToleranceMaterialsProvided::TYPE => {
                let e: ToleranceMaterialsProvided = event.decode()?;
                grants::add_application_materials(txn, &e.application_id, &e.material_ids).await?;
            }
            // Construction: a stage application is the case.
            StageApplicationSubmitted::TYPE => {
                let e: StageApplicationSubmitted = event.decode()?;
                grants::set_application_materials(txn, &e.stage_application_id, &e.material_ids)
                    .await?;
            }
            ToleranceMaterialsSupplied::TYPE => {
                let e: ToleranceMaterialsSupplied = event.decode()?;
                grants::add_application_materials(txn, &e.stage_application_id, &e.material_ids)
                    .await?;
            }
            ConstructionTaskStatusChanged::TYPE => {
                let e: ConstructionTaskStatusChanged = event.decode()?;
                if matches!(e.action.as_str(), "created" | "commitment_approved") {
                    grants::add_application_department(
                        txn,
                        &e.stage_application_id,
                        &e.department_code,
                    )
                    .await?;
                }
                grants::add_application_materials(txn, &e.stage_application_id, &e.material_ids)
                    .await?;
            }
            // Other facts on these topics are none of this service's
            // business: the consumer skips them (`handles`).
            _ => {}
        }
        Ok(())
    }

    fn handles(&self, event_type: &str) -> bool {
        HANDLED.contains(&event_type)
    }

    fn after_commit(&self) {
        self.relay.after_commit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use yizhan_kit::settings::CommonSettings;

    #[tokio::test]
    async fn the_consumer_skips_exactly_the_events_no_arm_acts_on() {
        let dir = tempfile::tempdir().unwrap();
        let common = CommonSettings {
            data_dir: dir.path().to_owned(),
            ..Default::default()
        };
        let handlers = Handlers {
            certificates: Arc::new(
                Certificates::new(&common, &Default::default()).expect("certificate keys"),
            ),
            relay: Default::default(),
        };
        let disagree = yizhan_events::consumer::disagreements(&handlers)
            .await
            .unwrap();
        assert!(disagree.is_empty(), "handles() disagrees on {disagree:?}");
        assert!(handlers.handles(TaskCreated::TYPE));
        assert!(!handlers.handles(yizhan_events::contracts::TaskDecided::TYPE));
    }
}
