//! The OpenAPI `webhooks` section: what a partner's endpoint receives, one
//! entry per event type this service forwards, each a CloudEvent whose
//! `data` schema is the event contract's (derived from the Rust types, see
//! `yizhan_events::asyncapi`), with the signature headers.

use serde_json::{Map, Value, json};
use utoipa::openapi::OpenApi;
use yizhan_events::asyncapi::{Contracts, EventContract, contracts};
use yizhan_events::contracts::topics;

use super::signing::{ID_HEADER, LEGACY_SIGNATURE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER};
use super::{CONTENT_TYPE, DELIVERY_HEADER, EVENT_TYPE_HEADER};

/// The topics this service consumes, and so the events partners can
/// subscribe to.
pub const FORWARDED_TOPICS: [&str; 4] = [
    topics::DOCUMENT,
    topics::LICENSING,
    topics::CONSTRUCTION,
    topics::ENTERPRISE,
];

/// Adds a `webhooks` entry per forwarded event type, and the payload
/// schemas. Panics if an event schema's name is already taken by one of
/// the service's own: the document would silently describe the wrong type.
pub fn add_webhooks(api: &mut OpenApi) {
    let Contracts { events, schemas } = contracts();
    let mut webhooks = Map::new();
    let mut added = schemas;
    let mut seen = Vec::new();
    for event in events
        .iter()
        .filter(|e| FORWARDED_TOPICS.contains(&e.topic))
    {
        if seen.contains(&event.event_type) {
            continue;
        }
        seen.push(event.event_type);
        let envelope = format!("{}Delivery", event.name);
        added.insert(envelope.clone(), cloud_event(event));
        webhooks.insert(event.event_type.to_owned(), webhook(event, &envelope));
    }
    let components = api.components.get_or_insert_with(Default::default);
    for (name, schema) in added {
        assert!(
            !components.schemas.contains_key(&name),
            "event schema {name} collides with a notification schema"
        );
        let schema = serde_json::from_value(schema)
            .unwrap_or_else(|e| panic!("event schema {name} is not an OpenAPI schema: {e}"));
        components.schemas.insert(name, schema);
    }
    api.webhooks = Some(
        serde_json::from_value(Value::Object(webhooks))
            .expect("webhook entries are OpenAPI path items"),
    );
}

/// The structured-mode CloudEvent of one event type (see
/// `Envelope::to_structured_json`).
fn cloud_event(event: &EventContract) -> Value {
    json!({
        "type": "object",
        "description": format!("推送的 CloudEvent（结构化模式）：{}", event.summary),
        "required": ["specversion", "id", "source", "type", "subject", "time", "datacontenttype", "data"],
        "properties": {
            "specversion": { "type": "string", "enum": ["1.0"] },
            "id": { "type": "string", "description": "事件编号（UUIDv7）" },
            "source": { "type": "string", "description": "发布服务，例如 /yizhan/document" },
            "type": { "type": "string", "enum": [event.event_type] },
            "subject": { "type": "string", "description": "聚合编号" },
            "time": { "type": "string", "format": "date-time" },
            "datacontenttype": { "type": "string", "enum": ["application/json"] },
            "data": { "$ref": format!("#/components/schemas/{}", event.name) },
            "traceparent": { "type": "string", "description": "W3C 追踪上下文（有则附带）" },
        },
    })
}

fn header(name: &str, description: &str, required: bool) -> Value {
    json!({
        "name": name,
        "in": "header",
        "required": required,
        "description": description,
        "schema": { "type": "string" },
    })
}

fn webhook(event: &EventContract, envelope: &str) -> Value {
    let operation = event.event_type.split('.').nth(3).unwrap_or(&event.name);
    json!({
        "post": {
            "tags": ["webhooks"],
            "operationId": format!("receive_{}_{operation}", event.event_type.split('.').nth(2).unwrap_or_default()),
            "summary": event.summary,
            "description": format!(
                "订阅了 `{}` 的合作系统收到的推送。请按 Standard Webhooks 校验签名（见 docs/WEBHOOKS.md），并按 webhook-id 去重。",
                event.event_type
            ),
            "parameters": [
                header(ID_HEADER, "推送编号，重试时不变；按它去重", true),
                header(TIMESTAMP_HEADER, "本次发送的 Unix 时间（秒），参与签名", true),
                header(SIGNATURE_HEADER, "v1,<base64 HMAC-SHA256>，以空格分隔多个签名", true),
                header(DELIVERY_HEADER, "推送编号（与 webhook-id 相同，兼容旧接收方）", true),
                header(EVENT_TYPE_HEADER, "事件类型（ce_type）", true),
                header("X-Yizhan-Attempt", "第几次尝试，从 1 起", true),
                header(LEGACY_SIGNATURE_HEADER, "旧签名 t=<秒>,v1=<hex>，仅在运营方保留旧格式时发送（已弃用）", false),
            ],
            "requestBody": {
                "required": true,
                "content": { (CONTENT_TYPE): { "schema": { "$ref": format!("#/components/schemas/{envelope}") } } },
            },
            "responses": {
                "2XX": { "description": "已接收；其他答复（或超时）会按退避重试" },
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhooks_describe_every_forwarded_event_without_losing_schema_keywords() {
        let mut api = crate::openapi();
        let doc = serde_json::to_value(&api).unwrap();
        let webhooks = doc["webhooks"].as_object().unwrap();
        assert!(webhooks.contains_key("cn.yizhan.document.material_uploaded.v1"));
        assert!(webhooks.contains_key("cn.yizhan.licensing.application_accepted.v1"));
        assert!(!webhooks.contains_key("cn.yizhan.notification.inbox_message_delivered.v1"));
        // The schemas went through utoipa's types: nothing was dropped.
        let Contracts { schemas, .. } = contracts();
        for (name, schema) in schemas {
            assert_eq!(doc["components"]["schemas"][&name], schema, "{name}");
        }
        // Adding twice finds its own names taken.
        let again =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| add_webhooks(&mut api)));
        assert!(again.is_err());
    }
}
