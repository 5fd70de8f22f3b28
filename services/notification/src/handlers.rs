//! What the notification service does with each event type: one `match`, in
//! one place. Effects go through the consumer's transaction, so a message is
//! placed, and a webhook delivery created, exactly once per event however
//! often Kafka redelivers it.

use sea_orm::DatabaseTransaction;
use tracing::Instrument;
use yizhan_events::Envelope;
use yizhan_events::consumer::Dispatcher;
use yizhan_events::contracts::{
    ApplicationAccepted, ApplicationReturned, ApplicationTerminated, BenefitConfirmed,
    BenefitMatched, BenefitPaid, BundleRefused, ConstructionCertificateRecorded,
    ConstructionDeadlineApproaching, ConstructionDeadlineOverdue, ConstructionTaskStatusChanged,
    ConsultationAnswered, ConsultationRequested, DeadlineApproaching, DeadlineOverdue,
    EnterpriseRequestAnswered, EnterpriseRequestDeadlineApproaching,
    EnterpriseRequestDeadlineOverdue, EnterpriseRequestDispatched, EnterpriseRequestFiled,
    EnterpriseRequestInfoRequested, EnterpriseRequestInfoSupplied, EnterpriseRequestRated,
    EnterpriseRequestReopened, EnterpriseRequestTransferred, Event, InboxMessageDelivered,
    JointInspectionConcluded, JointInspectionScheduled, LicenceCancelled, LicenceIssued,
    MaterialUploaded, RatingFollowUpConcluded, RatingFollowUpDue, RatingFollowUpOpened,
    StageApplicationAccepted, StageApplicationReturned, StageCompleted, StageStopped,
    SupplementRequested, TaskCreated, TaskDecided,
};
use yizhan_events::outbox::WakeAfterCommit;

use crate::enterprise_requests as enterprise;
use crate::store::webhooks::{self as hooks, NewDelivery};
use crate::store::{self, NewMessage};
use crate::webhooks::matching::{Criteria, Filters};

/// The notification service's dispatcher. Each commit wakes only the
/// relay and workers its transaction queued work for: most events create no
/// webhook delivery and no email or SMS, and each wake costs a query.
pub struct Handlers {
    /// Wakes the relay after a transaction placed messages (each one
    /// enqueues its `InboxMessageDelivered`).
    pub relay: WakeAfterCommit,
    /// Wakes the webhook worker after deliveries were created.
    pub webhooks: WakeAfterCommit,
    /// Configured email/SMS channels.
    pub channels: crate::channels::Enabled,
    /// Wakes the channel worker after deliveries were queued.
    pub channel_deliveries: WakeAfterCommit,
}

#[async_trait::async_trait]
impl Dispatcher for Handlers {
    async fn dispatch(&self, txn: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
        let subscriptions = hooks::live_subscriptions(txn).await?;
        self.apply(txn, event, &subscriptions).await
    }

    /// The live subscriptions are read once for the batch: in its
    /// transaction, so every event of it is matched against the same set.
    async fn dispatch_all(
        &self,
        txn: &DatabaseTransaction,
        events: &[(&Envelope, tracing::Span)],
    ) -> anyhow::Result<()> {
        let subscriptions = hooks::live_subscriptions(txn).await?;
        for (event, span) in events {
            self.apply(txn, event, &subscriptions)
                .instrument(span.clone())
                .await?;
        }
        Ok(())
    }

    fn after_commit(&self) {
        self.relay.after_commit();
        self.webhooks.after_commit();
        self.channel_deliveries.after_commit();
    }
}

impl Handlers {
    /// Applies one event, `subscriptions` being the live webhook
    /// subscriptions.
    async fn apply(
        &self,
        txn: &DatabaseTransaction,
        event: &Envelope,
        subscriptions: &[hooks::subscription::Model],
    ) -> anyhow::Result<()> {
        if fan_out_to_webhooks(txn, event, subscriptions).await? > 0 {
            self.webhooks.queued();
        }
        let messages = match event.event_type.as_str() {
            MaterialUploaded::TYPE => vec![material_uploaded(event.decode()?)],
            DeadlineApproaching::TYPE => {
                crate::deadlines::approaching(&event.decode::<DeadlineApproaching>()?.0)
            }
            DeadlineOverdue::TYPE => {
                crate::deadlines::overdue(&event.decode::<DeadlineOverdue>()?.0)
            }
            ConstructionDeadlineApproaching::TYPE => {
                crate::deadlines::approaching(&event.decode::<ConstructionDeadlineApproaching>()?.0)
            }
            ConstructionDeadlineOverdue::TYPE => {
                crate::deadlines::overdue(&event.decode::<ConstructionDeadlineOverdue>()?.0)
            }
            ApplicationAccepted::TYPE => vec![crate::licensing::accepted(event.decode()?)],
            ApplicationReturned::TYPE => vec![crate::licensing::returned(event.decode()?)],
            TaskCreated::TYPE => vec![crate::licensing::task_created(event.decode()?)],
            TaskDecided::TYPE => vec![crate::licensing::task_decided(event.decode()?)],
            BundleRefused::TYPE => vec![crate::licensing::bundle_refused(event.decode()?)],
            LicenceIssued::TYPE => vec![crate::licensing::licence_issued(event.decode()?)],
            ApplicationTerminated::TYPE => vec![crate::licensing::terminated(event.decode()?)],
            LicenceCancelled::TYPE => vec![crate::licensing::licence_cancelled(event.decode()?)],
            SupplementRequested::TYPE => {
                vec![crate::licensing::supplement_requested(event.decode()?)]
            }
            StageApplicationAccepted::TYPE => {
                vec![crate::construction::stage_accepted(event.decode()?)]
            }
            StageApplicationReturned::TYPE => {
                vec![crate::construction::stage_returned(event.decode()?)]
            }
            ConstructionTaskStatusChanged::TYPE => {
                crate::construction::task_changed(event.decode()?)
            }
            StageCompleted::TYPE => vec![crate::construction::stage_completed(event.decode()?)],
            ConstructionCertificateRecorded::TYPE => {
                vec![crate::construction::certificate_recorded(event.decode()?)]
            }
            StageStopped::TYPE => vec![crate::construction::stage_stopped(event.decode()?)],
            JointInspectionScheduled::TYPE => {
                crate::construction::inspection_scheduled(event.decode()?)
            }
            JointInspectionConcluded::TYPE => {
                crate::construction::inspection_concluded(event.decode()?)
            }
            ConsultationRequested::TYPE => {
                vec![crate::construction::consultation_requested(event.decode()?)]
            }
            ConsultationAnswered::TYPE => {
                crate::construction::consultation_answered(event.decode()?)
                    .into_iter()
                    .collect()
            }
            BenefitMatched::TYPE => {
                vec![crate::enterprise_benefits::matched(event.decode()?)]
            }
            BenefitConfirmed::TYPE => {
                vec![crate::enterprise_benefits::confirmed(event.decode()?)]
            }
            BenefitPaid::TYPE => vec![crate::enterprise_benefits::paid(event.decode()?)],
            EnterpriseRequestFiled::TYPE => {
                enterprise::filed(&event.decode::<EnterpriseRequestFiled>()?.0)
            }
            EnterpriseRequestDispatched::TYPE => {
                enterprise::dispatched(&event.decode::<EnterpriseRequestDispatched>()?.0)
            }
            EnterpriseRequestTransferred::TYPE => {
                enterprise::transferred(&event.decode::<EnterpriseRequestTransferred>()?.0)
            }
            EnterpriseRequestInfoRequested::TYPE => {
                enterprise::info_requested(&event.decode::<EnterpriseRequestInfoRequested>()?.0)
            }
            EnterpriseRequestInfoSupplied::TYPE => {
                enterprise::info_supplied(&event.decode::<EnterpriseRequestInfoSupplied>()?.0)
            }
            EnterpriseRequestAnswered::TYPE => {
                enterprise::answered(&event.decode::<EnterpriseRequestAnswered>()?.0)
            }
            EnterpriseRequestRated::TYPE => {
                enterprise::rated(&event.decode::<EnterpriseRequestRated>()?.0)
            }
            EnterpriseRequestReopened::TYPE => {
                enterprise::reopened(&event.decode::<EnterpriseRequestReopened>()?.0)
            }
            EnterpriseRequestDeadlineApproaching::TYPE => enterprise::deadline(
                &event.decode::<EnterpriseRequestDeadlineApproaching>()?.0,
                false,
            ),
            EnterpriseRequestDeadlineOverdue::TYPE => {
                enterprise::deadline(&event.decode::<EnterpriseRequestDeadlineOverdue>()?.0, true)
            }
            RatingFollowUpOpened::TYPE => enterprise::follow_up_for_department(
                &event.decode::<RatingFollowUpOpened>()?.0,
                false,
            ),
            RatingFollowUpDue::TYPE => {
                enterprise::follow_up_for_department(&event.decode::<RatingFollowUpDue>()?.0, true)
            }
            RatingFollowUpConcluded::TYPE => {
                enterprise::follow_up_concluded(&event.decode::<RatingFollowUpConcluded>()?.0)
            }
            // Events without a template yet are recorded in the inbox table
            // (so never re-examined) and otherwise ignored.
            _ => return Ok(()),
        };
        for message in messages {
            let placed = store::insert_message(txn, message, &event.source, &event.id).await?;
            if crate::channels::enqueue_for(txn, self.channels, &placed).await? > 0 {
                self.channel_deliveries.queued();
            }
            self.relay.queued();
            yizhan_events::outbox::enqueue(
                txn,
                store::SOURCE,
                &InboxMessageDelivered {
                    message_id: placed.id.clone(),
                    recipient_user: placed.recipient_user.clone(),
                    recipient_uscc: placed.recipient_uscc.clone(),
                    cause: format!("{} {}", event.source, event.id),
                },
            )
            .await?;
        }
        Ok(())
    }
}

/// Creates one delivery per live subscription the event matches, in the
/// consumer's transaction: the inbox row committed with it is what stops a
/// redelivered event from creating a second one. Answers how many.
async fn fan_out_to_webhooks(
    txn: &DatabaseTransaction,
    event: &Envelope,
    subscriptions: &[hooks::subscription::Model],
) -> anyhow::Result<usize> {
    let mut body: Option<String> = None;
    let mut created = 0;
    for subscription in subscriptions {
        let event_types: Vec<String> =
            serde_json::from_str(&subscription.event_types).unwrap_or_default();
        let filters = Filters {
            department_code: subscription.filter_department.clone(),
            enterprise_uscc: subscription.filter_enterprise.clone(),
        };
        let criteria = Criteria {
            event_types: &event_types,
            filters: &filters,
        };
        if !criteria.matches(&event.event_type, &event.data) {
            continue;
        }
        // Rendered once and stored, so every attempt signs the same bytes.
        let body = body.get_or_insert_with(|| structured_body(event)).clone();
        hooks::insert_delivery(
            txn,
            NewDelivery {
                subscription_id: subscription.id.clone(),
                owner_sub: subscription.owner_sub.clone(),
                event_source: event.source.clone(),
                event_id: event.id.clone(),
                event_type: event.event_type.clone(),
                subject: event.subject.clone(),
                body,
                replay_seq: 0,
                replay_of: None,
            },
        )
        .await?;
        created += 1;
    }
    Ok(created)
}

/// The CloudEvent in structured mode, with the W3C trace context as the
/// `traceparent` extension attribute when the event has one.
fn structured_body(event: &Envelope) -> String {
    let mut body = event.to_structured_json();
    if let (Some(tp), Some(obj)) = (&event.traceparent, body.as_object_mut()) {
        obj.insert("traceparent".into(), serde_json::Value::String(tp.clone()));
    }
    body.to_string()
}

fn material_uploaded(e: MaterialUploaded) -> NewMessage {
    NewMessage {
        recipient_user: Some(e.uploaded_by.clone()),
        recipient_uscc: Some(e.enterprise_uscc.clone()),
        recipient_dept: None,
        category: "material",
        title: "材料已上传".to_owned(),
        body: format!(
            "《{}》（第 {} 版，{} 字节）已存入企业档案，后续办事可直接引用，无需重复提交。",
            e.filename, e.version, e.size_bytes
        ),
        link: Some(format!("/api/v1/materials/{}", e.material_id)),
    }
}
