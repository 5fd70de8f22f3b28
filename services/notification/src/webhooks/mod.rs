//! Partner webhooks (合作系统事件推送): who may receive which events, how a
//! delivery is signed, when it is retried, and the worker that sends them.
//!
//! The pieces without I/O (target rules, matching, signing, the retry
//! schedule) are separate modules with their own unit tests; the worker is
//! the only part that talks to the network. Deliveries are created by the
//! consumer in its transaction (`crate::handlers`), so an event applied once
//! yields exactly one delivery per matching subscription.

pub mod matching;
pub mod payloads;
pub mod resolver;
pub mod retry;
pub mod secret;
pub mod signing;
pub mod target;
pub mod worker;

/// The scope a partner token needs to manage subscriptions and deliveries.
pub const SCOPE: &str = "webhooks:manage";

/// Media type of a delivery body: a CloudEvent in structured mode.
pub const CONTENT_TYPE: &str = "application/cloudevents+json";

/// Header carrying the delivery id (the same as `webhook-id`; kept for
/// receivers written before Standard Webhooks).
pub const DELIVERY_HEADER: &str = "X-Yizhan-Delivery";

/// Header carrying the event's `ce_type`.
pub const EVENT_TYPE_HEADER: &str = "X-Yizhan-Event-Type";
