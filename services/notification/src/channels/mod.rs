//! Channels beyond the inbox: email over SMTP and SMS through an HTTP
//! provider, each off unless configured, each chosen per person and per
//! message category (`GET/PUT /api/v1/notification-preferences`).
//!
//! The consumer only writes `channel_deliveries` rows, in its transaction,
//! for messages addressed to a person whose preferences ask for that
//! category on that channel; a worker beside the consumer sends them with
//! retries. A slow mail server therefore never holds up the consumer.
//! Messages addressed only to an enterprise or a department reach people
//! through their inboxes; who the enterprise's people are is not known here.

pub mod email;
pub mod prefs;
pub mod sms;
pub mod worker;

use sea_orm::{ConnectionTrait, DbErr};

use crate::store::channels::{self as store, NewChannelDelivery};
use crate::store::message;

/// Email channel name.
pub const EMAIL: &str = "email";
/// SMS channel name.
pub const SMS: &str = "sms";

/// Which channels this deployment has configured.
#[derive(Debug, Clone, Copy, Default)]
pub struct Enabled {
    /// SMTP configured.
    pub email: bool,
    /// SMS provider configured.
    pub sms: bool,
}

/// Queues the channel deliveries a placed message asks for, in the caller's
/// transaction. Returns how many were queued.
pub async fn enqueue_for(
    db: &impl ConnectionTrait,
    enabled: Enabled,
    placed: &message::Model,
) -> Result<usize, DbErr> {
    if !enabled.email && !enabled.sms {
        return Ok(0);
    }
    let Some(sub) = &placed.recipient_user else {
        return Ok(0);
    };
    let Some(prefs) = store::preferences(db, sub).await? else {
        return Ok(0);
    };
    let wants = |json: &str| {
        serde_json::from_str::<Vec<String>>(json)
            .unwrap_or_default()
            .contains(&placed.category)
    };
    let mut queued = 0;
    let mut wanted = Vec::new();
    if enabled.email && wants(&prefs.email_categories) {
        wanted.push((EMAIL, prefs.email.clone()));
    }
    if enabled.sms && wants(&prefs.sms_categories) {
        wanted.push((SMS, prefs.phone.clone()));
    }
    for (channel, address) in wanted {
        let Some(address) = address else { continue };
        store::insert(
            db,
            NewChannelDelivery {
                channel,
                recipient_sub: sub.clone(),
                address,
                message_id: placed.id.clone(),
                category: placed.category.clone(),
                title: placed.title.clone(),
                body: placed.body.clone(),
            },
        )
        .await?;
        queued += 1;
    }
    Ok(queued)
}
