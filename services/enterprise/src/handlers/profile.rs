//! The 一企一档 record from other services' events: certificate requests
//! (licensing and construction publish the same contract), certificates
//! issued and their status changes, and materials stored (document). Each
//! event names its enterprise, and `domain::profile` merges it whatever the
//! order it arrives in. Licensing's own `LicenceIssued` adds nothing the
//! document service's `CertificateIssued` does not carry, so it is not read.

use sea_orm::DatabaseTransaction;
use yizhan_events::Envelope;
use yizhan_events::contracts::{
    CertificateIssueRequested, CertificateIssued, CertificateStatus, CertificateStatusChanged,
    Event, MaterialUploaded,
};

use crate::domain::profile::CertificateState;
use crate::store::{matching, profile};

fn state_of(status: CertificateStatus) -> CertificateState {
    match status {
        CertificateStatus::Valid => CertificateState::Valid,
        CertificateStatus::Suspended => CertificateState::Suspended,
        _ => CertificateState::Ended,
    }
}

/// The event types [`apply`] acts on (the consumer skips the others).
pub const HANDLED: &[&str] = &[
    CertificateIssueRequested::TYPE,
    CertificateIssued::TYPE,
    CertificateStatusChanged::TYPE,
    MaterialUploaded::TYPE,
];

/// Applies `event` to the enterprise's record, if it concerns one.
pub async fn apply(txn: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
    match event.event_type.as_str() {
        CertificateIssueRequested::TYPE => {
            let e: CertificateIssueRequested = event.decode()?;
            let items: Vec<(String, String)> = e
                .items
                .iter()
                .map(|i| (i.item_code.clone(), i.item_name.clone()))
                .collect();
            matching::learn_items(txn, &items).await?;
            profile::apply(txn, &e.holder_uscc, |r| {
                r.on_issue_requested(&e.request_id, &e.certificate_type, &e.holder_name, items);
            })
            .await?;
        }
        CertificateIssued::TYPE => {
            let e: CertificateIssued = event.decode()?;
            let issued_on = crate::today(e.issued_at);
            profile::apply(txn, &e.holder_uscc, |r| {
                r.on_certificate_issued(
                    &e.request_id,
                    &e.certificate_id,
                    &e.certificate_type,
                    &e.holder_name,
                    issued_on,
                    e.valid_until,
                );
            })
            .await?;
        }
        CertificateStatusChanged::TYPE => {
            let e: CertificateStatusChanged = event.decode()?;
            profile::apply(txn, &e.holder_uscc, |r| {
                // The certificate's issue precedes its changes on the same
                // subject and topic; one the record never saw is not this
                // service's to guess at.
                if !r.on_status_changed(&e.certificate_id, state_of(e.new_status)) {
                    tracing::warn!(certificate = %e.certificate_id, "status change of a certificate not on record");
                }
            })
            .await?;
        }
        MaterialUploaded::TYPE => {
            let e: MaterialUploaded = event.decode()?;
            profile::apply(txn, &e.enterprise_uscc, |r| {
                r.on_material_uploaded(&e.material_type, &e.material_id, e.version, e.uploaded_at);
            })
            .await?;
        }
        _ => {}
    }
    Ok(())
}
