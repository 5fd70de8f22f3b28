//! The machine-readable contract of the event backbone: an AsyncAPI 3.0
//! document (`openapi/asyncapi.json`) with every topic, every event type
//! and its JSON Schema, the CloudEvents headers and the Kafka key.
//!
//! Schemas are derived from the Rust contract types with schemars, never
//! written by hand, so the document cannot drift from what producers
//! serialise. The same schemas describe the webhook payloads in the
//! notification service's OpenAPI document ([`contracts`]).
//!
//! Every published event type is listed once in [`catalogue`]; a test
//! reads the contract sources and fails when an `impl Event for` is missing
//! from it, so a new event cannot be left out of the document.

use std::borrow::Cow;

use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::transform::{RecursiveTransform, ReplaceConstValue};
use schemars::{JsonSchema, Schema, json_schema};
use serde_json::{Map, Value, json};

use crate::contracts::*;
use crate::envelope::SPEC_VERSION;

/// Where schemas live in both AsyncAPI and OpenAPI documents.
const SCHEMAS: &str = "#/components/schemas/";

/// One event type as published on one topic.
#[derive(Debug, Clone)]
pub struct EventContract {
    /// `ce_type`, e.g. `cn.yizhan.document.material_uploaded.v1`.
    pub event_type: &'static str,
    /// The topic it is published on.
    pub topic: &'static str,
    /// Name of its payload schema (the Rust type's name).
    pub name: String,
    /// First line of the type's documentation.
    pub summary: String,
}

/// Every event contract with the schemas they refer to
/// (`#/components/schemas/<name>`).
#[derive(Debug, Clone)]
pub struct Contracts {
    /// Each (event type, topic), in catalogue order.
    pub events: Vec<EventContract>,
    /// Payload schemas and the schemas they use, by name.
    pub schemas: Map<String, Value>,
}

impl EventContract {
    fn of<E: Event + JsonSchema>(generator: &mut SchemaGenerator) -> Self {
        Self::published_as::<E, E>(generator)
    }

    /// `P` is how it is published (type and topic), `E` its payload.
    fn published_as<P: Event, E: JsonSchema>(generator: &mut SchemaGenerator) -> Self {
        generator.subschema_for::<E>();
        Self {
            event_type: P::TYPE,
            topic: P::TOPIC,
            name: E::schema_name().into_owned(),
            summary: String::new(),
        }
    }
}

/// Every published event, and its topic. (`ProbeRecorded`, on the test-only
/// probe topic, is not part of the contract.)
fn catalogue(g: &mut SchemaGenerator) -> Vec<EventContract> {
    vec![
        // document
        EventContract::of::<MaterialUploaded>(g),
        EventContract::of::<MaterialsChecked>(g),
        EventContract::of::<CertificateIssued>(g),
        EventContract::of::<CertificateStatusChanged>(g),
        // licensing
        EventContract::of::<CatalogPublished>(g),
        EventContract::of::<ApplicationSubmitted>(g),
        EventContract::of::<ApplicationReturned>(g),
        EventContract::of::<ApplicationResubmitted>(g),
        EventContract::of::<ApplicationAccepted>(g),
        EventContract::of::<TaskCreated>(g),
        EventContract::of::<TaskDecided>(g),
        EventContract::of::<BundleApproved>(g),
        EventContract::of::<BundleRefused>(g),
        EventContract::of::<LicenceIssued>(g),
        EventContract::of::<LicenceHandedOut>(g),
        EventContract::of::<LicenceCancelled>(g),
        EventContract::of::<SupplementRequested>(g),
        EventContract::of::<SupplementProvided>(g),
        EventContract::of::<SpecialProcedureChanged>(g),
        EventContract::of::<ToleranceMaterialsProvided>(g),
        EventContract::of::<ApplicationTerminated>(g),
        EventContract::of::<DeadlineApproaching>(g),
        EventContract::of::<DeadlineOverdue>(g),
        EventContract::of::<CertificateIssueRequested>(g),
        EventContract::of::<CertificateStatusChangeRequested>(g),
        // construction
        EventContract::of::<ProjectRegistered>(g),
        EventContract::of::<StageApplicationSubmitted>(g),
        EventContract::of::<StageApplicationReturned>(g),
        EventContract::of::<StageApplicationAccepted>(g),
        EventContract::of::<ConstructionTaskStatusChanged>(g),
        EventContract::of::<ToleranceMaterialsSupplied>(g),
        EventContract::of::<StageCompleted>(g),
        EventContract::of::<StageStopped>(g),
        EventContract::of::<LandGrantRecorded>(g),
        EventContract::of::<ConsultationRequested>(g),
        EventContract::of::<ConsultationAnswered>(g),
        EventContract::of::<JointInspectionScheduled>(g),
        EventContract::of::<JointInspectionResultRecorded>(g),
        EventContract::of::<JointInspectionConcluded>(g),
        EventContract::of::<RectificationReported>(g),
        EventContract::of::<ConstructionCertificateRecorded>(g),
        EventContract::of::<ProjectBudgetAlerted>(g),
        EventContract::of::<StageResultHandedOut>(g),
        EventContract::of::<ConstructionDeadlineApproaching>(g),
        EventContract::of::<ConstructionDeadlineOverdue>(g),
        EventContract::published_as::<
            ByConstruction<CertificateIssueRequested>,
            CertificateIssueRequested,
        >(g),
        EventContract::published_as::<
            ByConstruction<CertificateStatusChangeRequested>,
            CertificateStatusChangeRequested,
        >(g),
        // notification
        EventContract::of::<InboxMessageDelivered>(g),
        // enterprise: profile and 免申即享
        EventContract::of::<EnterpriseFactSet>(g),
        EventContract::of::<EnterpriseLicenceRecorded>(g),
        EventContract::of::<BenefitPolicyPublished>(g),
        EventContract::of::<BenefitMatched>(g),
        EventContract::of::<BenefitConfirmed>(g),
        EventContract::of::<BenefitExcluded>(g),
        EventContract::of::<BenefitPaid>(g),
        EventContract::of::<BenefitDeclined>(g),
        EventContract::of::<BenefitObjected>(g),
        // enterprise: 诉求 and 好差评
        EventContract::of::<EnterpriseRequestFiled>(g),
        EventContract::of::<EnterpriseRequestDispatched>(g),
        EventContract::of::<EnterpriseRequestTransferred>(g),
        EventContract::of::<EnterpriseRequestAccepted>(g),
        EventContract::of::<EnterpriseRequestInfoRequested>(g),
        EventContract::of::<EnterpriseRequestInfoSupplied>(g),
        EventContract::of::<EnterpriseRequestAnswered>(g),
        EventContract::of::<EnterpriseRequestRated>(g),
        EventContract::of::<EnterpriseRequestReopened>(g),
        EventContract::of::<EnterpriseRequestDeadlineApproaching>(g),
        EventContract::of::<EnterpriseRequestDeadlineOverdue>(g),
        EventContract::of::<RatingRecorded>(g),
        EventContract::of::<RatingFollowUpOpened>(g),
        EventContract::of::<RatingFollowUpDue>(g),
        EventContract::of::<RatingFollowUpConcluded>(g),
    ]
}

/// Every event contract and its schemas, with references of the form
/// `#/components/schemas/<name>`.
pub fn contracts() -> Contracts {
    // `const` becomes a one-value `enum` and `default: null` (serde's
    // default of an `Option`) goes: the same meaning, in the subset that
    // OpenAPI tooling (utoipa's types among them) reads without loss.
    let settings = SchemaSettings::draft07()
        .with(|s| {
            s.definitions_path = SCHEMAS.trim_end_matches('/').into();
            s.meta_schema = None;
        })
        .with_transform(ReplaceConstValue::default())
        .with_transform(RecursiveTransform(drop_null_default as fn(&mut Schema)));
    let mut generator = settings.into_generator();
    let mut events = catalogue(&mut generator);
    let schemas = generator.take_definitions(true);
    for event in &mut events {
        event.summary = schemas
            .get(&event.name)
            .and_then(|s| s.get("description"))
            .and_then(Value::as_str)
            .and_then(|d| d.lines().next())
            .unwrap_or_default()
            .to_owned();
    }
    Contracts { events, schemas }
}

fn drop_null_default(schema: &mut Schema) {
    if schema.get("default").is_some_and(Value::is_null) {
        schema.remove("default");
    }
}

/// The service that publishes on `topic`, from its name `yizhan.<service>.v1`.
fn producer(topic: &str) -> &str {
    topic.split('.').nth(1).unwrap_or(topic)
}

/// The AsyncAPI 3.0 document of every topic and event.
pub fn document() -> Value {
    let Contracts {
        events,
        mut schemas,
    } = contracts();
    schemas.insert("CloudEventHeaders".into(), cloud_event_headers());

    let mut channels = Map::new();
    let mut operations = Map::new();
    let mut messages = Map::new();
    for topic in topics::ALL {
        let service = producer(topic);
        let on_topic: Vec<&EventContract> = events.iter().filter(|e| e.topic == topic).collect();
        let mut channel_messages = Map::new();
        for event in &on_topic {
            channel_messages.insert(
                event.name.clone(),
                json!({ "$ref": format!("#/components/messages/{}", event.name) }),
            );
        }
        channels.insert(
            service.to_owned(),
            json!({
                "address": topic,
                "title": format!("{service} 服务的事件"),
                "description": format!(
                    "{service} 服务发布的全部事件（每个生产服务一个主题）。消息键为聚合编号（与 ce_subject 相同），同一聚合的事件保持顺序。"
                ),
                "messages": channel_messages,
                "bindings": { "kafka": { "topic": topic, "bindingVersion": "0.5.0" } },
            }),
        );
        operations.insert(
            format!("publish_{service}"),
            json!({
                "action": "send",
                "channel": { "$ref": format!("#/channels/{service}") },
                "title": format!("{service} 服务发布事件"),
                "summary": "状态变更与事件在同一事务中写入发件箱，由中继发布（至少一次；消费方按 (ce_source, ce_id) 去重）。",
                "messages": on_topic
                    .iter()
                    .map(|e| json!({ "$ref": format!("#/channels/{service}/messages/{}", e.name) }))
                    .collect::<Vec<_>>(),
            }),
        );
    }
    for event in &events {
        if messages.contains_key(&event.name) {
            continue;
        }
        messages.insert(event.name.clone(), message(event));
    }
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "yizhan events",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "一站事件总线：每个生产服务一个 Kafka 主题，CloudEvents 1.0 二进制模式（属性在 ce_* 消息头，JSON 负载在消息体），键为聚合编号。事件类型名以 .v1 等版本结尾，负载的不兼容变更会使用新的类型名。",
            "license": { "name": env!("CARGO_PKG_LICENSE") },
            "contact": { "name": "一站平台接口支持", "email": "api-support@yizhan.example" },
        },
        "defaultContentType": "application/json",
        "servers": {
            "development": {
                "host": "127.0.0.1:9092",
                "protocol": "kafka",
                "description": "开发环境：KAFKA_BROKERS 指定的集群，或 `yizhan broker` 启动的内嵌 Kafka（地址写在 data/broker.addr）",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": schemas,
        },
    })
}

fn message(event: &EventContract) -> Value {
    json!({
        "name": event.event_type,
        "title": event.name,
        "summary": event.summary,
        "contentType": "application/json",
        "headers": {
            "allOf": [
                { "$ref": format!("{SCHEMAS}CloudEventHeaders") },
                {
                    "type": "object",
                    "properties": { "ce_type": { "type": "string", "enum": [event.event_type] } },
                },
            ],
        },
        "payload": { "$ref": format!("{SCHEMAS}{}", event.name) },
        "correlationId": {
            "description": "聚合编号：消息键与 ce_subject",
            "location": "$message.header#/ce_subject",
        },
        "bindings": {
            "kafka": {
                "key": { "type": "string", "description": "聚合编号（与 ce_subject 相同），同一聚合的事件进入同一分区并保持顺序" },
                "bindingVersion": "0.5.0",
            },
        },
    })
}

/// The `ce_*` headers of CloudEvents' Kafka binary mode, as `Envelope`
/// writes them.
fn cloud_event_headers() -> Value {
    json!({
        "type": "object",
        "description": "CloudEvents 1.0 Kafka 二进制模式的消息头",
        "required": ["ce_id", "ce_source", "ce_type", "ce_specversion", "ce_time", "ce_subject", "content-type"],
        "properties": {
            "ce_id": { "type": "string", "description": "事件编号（UUIDv7），同一来源内唯一；消费方按 (ce_source, ce_id) 去重" },
            "ce_source": { "type": "string", "pattern": "^/yizhan/[a-z]+$", "description": "发布服务，例如 /yizhan/document" },
            "ce_type": { "type": "string", "description": "事件类型，例如 cn.yizhan.document.material_uploaded.v1" },
            "ce_specversion": { "type": "string", "enum": [SPEC_VERSION] },
            "ce_time": { "type": "string", "format": "date-time", "description": "发生时间（RFC 3339）" },
            "ce_subject": { "type": "string", "description": "聚合编号，与消息键相同" },
            "content-type": { "type": "string", "enum": ["application/json"] },
            "traceparent": { "type": "string", "description": "W3C 追踪上下文（有则传递）" },
        },
    })
}

/// 证照状态 travels as its two-digit code (see its `Serialize`).
impl JsonSchema for CertificateStatus {
    fn schema_name() -> Cow<'static, str> {
        "CertificateStatus".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let codes: Vec<&str> = CertificateStatus::ALL.iter().map(|s| s.code()).collect();
        let meaning: Vec<String> = CertificateStatus::ALL
            .iter()
            .map(|s| format!("{} {}", s.code(), s.zh_name()))
            .collect();
        json_schema!({
            "type": "string",
            "enum": codes,
            "description": format!("证照状态代码：{}", meaning.join("，")),
        })
    }
}

/// Pretty JSON with a final newline, as committed.
pub fn to_json(document: &Value) -> String {
    let mut json = serde_json::to_string_pretty(document).unwrap_or_default();
    json.push('\n');
    json
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names after `impl Event for` in the contract sources.
    fn implemented_events() -> Vec<String> {
        let sources = [
            include_str!("contracts/construction.rs"),
            include_str!("contracts/deadlines.rs"),
            include_str!("contracts/document.rs"),
            include_str!("contracts/enterprise_benefits.rs"),
            include_str!("contracts/enterprise_requests.rs"),
            include_str!("contracts/licensing.rs"),
            include_str!("contracts/notification.rs"),
        ];
        sources
            .iter()
            .flat_map(|s| s.split("impl Event for ").skip(1))
            .filter_map(|rest| rest.split([' ', '{']).next())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn every_event_type_is_in_the_catalogue() {
        let contracts = contracts();
        let listed: Vec<&str> = contracts.events.iter().map(|e| e.name.as_str()).collect();
        for name in implemented_events() {
            assert!(
                listed.contains(&name.as_str()),
                "{name} implements Event but is not in asyncapi::catalogue"
            );
        }
        let mut pairs: Vec<_> = contracts
            .events
            .iter()
            .map(|e| (e.event_type, e.topic))
            .collect();
        let count = pairs.len();
        pairs.sort();
        pairs.dedup();
        assert_eq!(pairs.len(), count, "an event is listed twice");
    }

    #[test]
    fn schemas_come_from_the_types_and_references_resolve() {
        let Contracts { events, schemas } = contracts();
        let uploaded = &schemas["MaterialUploaded"];
        assert_eq!(uploaded["type"], "object");
        assert!(
            uploaded["required"]
                .as_array()
                .unwrap()
                .contains(&json!("material_id"))
        );
        assert_eq!(
            schemas["CertificateStatus"]["enum"],
            json!(["01", "02", "03", "04", "05", "07"])
        );
        let doc = document();
        let text = doc.to_string();
        for part in text.split("\"$ref\":\"").skip(1) {
            let target = part.split('"').next().unwrap();
            let pointer = target.trim_start_matches('#').replace("~1", "/");
            assert!(doc.pointer(&pointer).is_some(), "dangling $ref {target}");
        }
        assert!(
            events.iter().all(|e| !e.summary.is_empty()),
            "every event is documented"
        );
    }

    #[test]
    fn a_payload_validates_against_its_schema() {
        // The serialised event must be described by the schema: the names
        // and requiredness of its fields.
        let event = MaterialUploaded {
            material_id: "m1".into(),
            enterprise_uscc: "91350100M000100Y43".into(),
            material_type: "floor_plan".into(),
            version: 1,
            filename: "a.pdf".into(),
            content_type: "application/pdf".into(),
            size_bytes: 1,
            sha256: "00".into(),
            uploaded_by: "u".into(),
            uploaded_by_name: None,
            uploaded_at: chrono::Utc::now(),
        };
        let value = serde_json::to_value(&event).unwrap();
        let schemas = contracts().schemas;
        let schema = &schemas["MaterialUploaded"];
        let properties = schema["properties"].as_object().unwrap();
        for key in value.as_object().unwrap().keys() {
            assert!(properties.contains_key(key), "{key} undocumented");
        }
        for required in schema["required"].as_array().unwrap() {
            assert!(value.get(required.as_str().unwrap()).is_some());
        }
    }
}
