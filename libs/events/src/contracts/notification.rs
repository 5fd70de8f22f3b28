//! Events the notification service publishes.

use serde::{Deserialize, Serialize};

use super::{Event, topics};

/// 站内消息已送达: a message was placed in an inbox (lets partners and the
/// supervision view follow deliveries).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct InboxMessageDelivered {
    /// Message id.
    pub message_id: String,
    /// Recipient user (`sub`), when addressed to a person.
    pub recipient_user: Option<String>,
    /// Recipient enterprise, when addressed to an enterprise.
    pub recipient_uscc: Option<String>,
    /// The event that caused it (`source` + `id`).
    pub cause: String,
}

impl Event for InboxMessageDelivered {
    const TYPE: &'static str = "cn.yizhan.notification.inbox_message_delivered.v1";
    const TOPIC: &'static str = topics::NOTIFICATION;
    fn subject(&self) -> String {
        self.message_id.clone()
    }
}
