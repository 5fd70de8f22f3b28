//! What the notification service does with each event type: one `match`, in
//! one place. Effects go through the consumer's transaction, so a message is
//! placed exactly once per event however often Kafka redelivers it.

use sea_orm::DatabaseTransaction;
use yizhan_events::Envelope;
use yizhan_events::consumer::Dispatcher;
use yizhan_events::contracts::{Event, InboxMessageDelivered, MaterialUploaded};
use yizhan_events::outbox::OutboxSignal;

use crate::store::{self, NewMessage};

/// The notification service's dispatcher.
pub struct Handlers {
    /// Wakes the relay after a handler enqueued events.
    pub signal: OutboxSignal,
}

#[async_trait::async_trait]
impl Dispatcher for Handlers {
    async fn dispatch(&self, txn: &DatabaseTransaction, event: &Envelope) -> anyhow::Result<()> {
        let message = match event.event_type.as_str() {
            MaterialUploaded::TYPE => material_uploaded(event.decode()?),
            // Events without a template yet are recorded in the inbox table
            // (so never re-examined) and otherwise ignored.
            _ => return Ok(()),
        };
        let placed = store::insert_message(txn, message, &event.source, &event.id).await?;
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
        Ok(())
    }

    fn after_commit(&self) {
        self.signal.wake();
    }
}

fn material_uploaded(e: MaterialUploaded) -> NewMessage {
    NewMessage {
        recipient_user: Some(e.uploaded_by.clone()),
        recipient_uscc: Some(e.enterprise_uscc.clone()),
        category: "material",
        title: "材料已上传".to_owned(),
        body: format!(
            "《{}》（第 {} 版，{} 字节）已存入企业档案，后续办事可直接引用，无需重复提交。",
            e.filename, e.version, e.size_bytes
        ),
        link: Some(format!("/api/v1/materials/{}", e.material_id)),
    }
}
