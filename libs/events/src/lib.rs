//! yizhan event backbone.
//!
//! One topic per producing service, key = aggregate id, CloudEvents 1.0 in
//! Kafka binary mode. Producers write events into an outbox in the same
//! transaction as the state change ([`outbox`]); a relay publishes them.
//! Consumers apply each event exactly once through an inbox ([`consumer`]).
//! With no brokers configured, an embedded mock cluster speaks the real Kafka
//! protocol on loopback ([`broker`]).

pub mod asyncapi;
pub mod audit;
pub mod broker;
pub mod consumer;
pub mod contracts;
pub mod dlq;
pub mod envelope;
pub mod http_guards;
pub mod kafka;
pub mod migration;
pub mod one_time;
pub mod outbox;
pub mod probe;
pub mod runtime;
pub mod traffic;

pub use contracts::Event;
pub use envelope::Envelope;
pub use yizhan_kit::telemetry::TRACEPARENT;
