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
use crate::store::licences::Which;
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
            let which = Which::Request {
                id: &e.request_id,
                certificate_type: &e.certificate_type,
            };
            profile::apply_licence(txn, &e.holder_uscc, which, |r, entry| {
                r.on_issue_requested(&e.holder_name);
                entry.on_issue_requested(items);
            })
            .await?;
        }
        CertificateIssued::TYPE => {
            let e: CertificateIssued = event.decode()?;
            let issued_on = crate::today(e.issued_at);
            let which = Which::Request {
                id: &e.request_id,
                certificate_type: &e.certificate_type,
            };
            profile::apply_licence(txn, &e.holder_uscc, which, |r, entry| {
                r.on_certificate_issued(&e.holder_name);
                entry.on_certificate_issued(&e.certificate_id, issued_on, e.valid_until);
            })
            .await?;
        }
        CertificateStatusChanged::TYPE => {
            let e: CertificateStatusChanged = event.decode()?;
            let which = Which::Certificate(&e.certificate_id);
            let state = state_of(e.new_status);
            // The certificate's issue precedes its changes on the same
            // subject and topic; one the record never saw is not this
            // service's to guess at.
            if !profile::apply_licence(txn, &e.holder_uscc, which, |_, entry| {
                entry.on_status_changed(state);
            })
            .await?
            {
                tracing::warn!(certificate = %e.certificate_id, "status change of a certificate not on record");
            }
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
