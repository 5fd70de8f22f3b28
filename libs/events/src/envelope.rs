//! CloudEvents 1.0 envelope in Kafka binary mode: the attributes travel as
//! `ce_*` headers, the JSON payload is the message value, and the W3C
//! `traceparent` rides along so one trace spans every service.

use chrono::{DateTime, Utc};
use rdkafka::Message;
use rdkafka::message::{Header, Headers, OwnedHeaders};
use serde::de::DeserializeOwned;

use crate::contracts::Event;

/// CloudEvents spec version written on every event.
pub const SPEC_VERSION: &str = "1.0";

/// One event as it travels: attributes plus the JSON payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// `ce_id`: unique per source; consumers dedupe on (source, id).
    pub id: String,
    /// `ce_source`: the producing service, e.g. `/yizhan/document`.
    pub source: String,
    /// `ce_type`: reverse-DNS, versioned, past tense.
    pub event_type: String,
    /// `ce_subject`: the aggregate id (also the Kafka key).
    pub subject: String,
    /// `ce_time`.
    pub time: DateTime<Utc>,
    /// W3C trace context of the producing request, if any.
    pub traceparent: Option<String>,
    /// The payload, JSON.
    pub data: serde_json::Value,
}

/// Why a Kafka message is not a readable event.
#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    /// A required `ce_*` header is absent.
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    /// A header is not valid UTF-8 or not the right shape.
    #[error("invalid header {0}")]
    InvalidHeader(&'static str),
    /// The value is not JSON.
    #[error("payload is not JSON: {0}")]
    Payload(#[from] serde_json::Error),
    /// Decoding as a type that does not match `ce_type`.
    #[error("event type {actual} is not {expected}")]
    WrongType {
        /// Type asked for.
        expected: &'static str,
        /// Type carried.
        actual: String,
    },
}

impl Envelope {
    /// Wraps a typed event for `source`.
    pub fn new<E: Event>(source: &str, event: &E, traceparent: Option<String>) -> Self {
        Self {
            id: uuid::Uuid::now_v7().to_string(),
            source: source.to_owned(),
            event_type: E::TYPE.to_owned(),
            subject: event.subject(),
            time: Utc::now(),
            traceparent,
            data: serde_json::to_value(event).unwrap_or(serde_json::Value::Null),
        }
    }

    /// The typed payload; an error when `ce_type` is another event.
    pub fn decode<E: Event + DeserializeOwned>(&self) -> Result<E, EnvelopeError> {
        if self.event_type != E::TYPE {
            return Err(EnvelopeError::WrongType {
                expected: E::TYPE,
                actual: self.event_type.clone(),
            });
        }
        Ok(serde_json::from_value(self.data.clone())?)
    }

    /// Kafka headers in CloudEvents binary mode.
    pub fn headers(&self) -> OwnedHeaders {
        let time = self.time.to_rfc3339();
        let mut headers = OwnedHeaders::new()
            .insert(header("ce_id", &self.id))
            .insert(header("ce_source", &self.source))
            .insert(header("ce_type", &self.event_type))
            .insert(header("ce_specversion", SPEC_VERSION))
            .insert(header("ce_time", &time))
            .insert(header("ce_subject", &self.subject))
            .insert(header("content-type", "application/json"));
        if let Some(tp) = &self.traceparent {
            headers = headers.insert(header(crate::TRACEPARENT, tp));
        }
        headers
    }

    /// Reads an envelope back from a consumed message.
    pub fn from_message<M: Message>(message: &M) -> Result<Self, EnvelopeError> {
        let headers = message.headers();
        let get = |name: &'static str| -> Result<Option<String>, EnvelopeError> {
            let Some(headers) = headers else {
                return Ok(None);
            };
            for h in headers.iter() {
                if h.key == name {
                    return match h.value {
                        Some(v) => std::str::from_utf8(v)
                            .map(|s| Some(s.to_owned()))
                            .map_err(|_| EnvelopeError::InvalidHeader(name)),
                        None => Ok(None),
                    };
                }
            }
            Ok(None)
        };
        let required = |name: &'static str| -> Result<String, EnvelopeError> {
            get(name)?.ok_or(EnvelopeError::MissingHeader(name))
        };
        let time = required("ce_time")?;
        let time = DateTime::parse_from_rfc3339(&time)
            .map_err(|_| EnvelopeError::InvalidHeader("ce_time"))?
            .with_timezone(&Utc);
        let data = match message.payload() {
            Some(bytes) => serde_json::from_slice(bytes)?,
            None => serde_json::Value::Null,
        };
        Ok(Self {
            id: required("ce_id")?,
            source: required("ce_source")?,
            event_type: required("ce_type")?,
            subject: get("ce_subject")?.unwrap_or_default(),
            time,
            traceparent: get(crate::TRACEPARENT)?,
            data,
        })
    }

    /// Structured-mode JSON (for webhooks and logs): attributes and `data` in one object.
    pub fn to_structured_json(&self) -> serde_json::Value {
        serde_json::json!({
            "specversion": SPEC_VERSION,
            "id": self.id,
            "source": self.source,
            "type": self.event_type,
            "subject": self.subject,
            "time": self.time.to_rfc3339(),
            "datacontenttype": "application/json",
            "data": self.data,
        })
    }
}

fn header<'a>(key: &'a str, value: &'a str) -> Header<'a, &'a str> {
    Header {
        key,
        value: Some(value),
    }
}
