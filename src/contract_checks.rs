//! Checks on the committed partner documents that need every service's
//! document at once. Whether each example is valid against its schema is
//! checked in CI with a JSON Schema validator (`.ci/contract/examples.py`).

use serde_json::Value;

use crate::Service;

/// The examples of a media type object: its own, else those of the schema
/// it refers to.
fn examples<'a>(doc: &'a Value, media: &'a Value) -> Vec<&'a Value> {
    if let Some(example) = media.get("example") {
        return vec![example];
    }
    if let Some(examples) = media.get("examples").and_then(Value::as_object) {
        return examples.values().filter_map(|e| e.get("value")).collect();
    }
    let schema = &media["schema"];
    let schema = match schema["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.rsplit('/').next().unwrap_or_default()],
        None => schema,
    };
    match (schema.get("example"), schema.get("examples")) {
        (Some(example), _) => vec![example],
        (None, Some(Value::Array(examples))) => examples.iter().collect(),
        _ => Vec::new(),
    }
}

/// "Operation: what" for every JSON request body and 2xx JSON response of
/// `doc` without an example (or with a `null` one, what an unreadable
/// example file gives).
fn bodies_without_examples(doc: &Value) -> Vec<String> {
    let mut missing = Vec::new();
    let paths = doc["paths"].as_object().into_iter().flatten();
    for (path, item) in paths {
        let operations = item.as_object().into_iter().flatten();
        for (method, op) in operations.filter(|(m, _)| m.as_str() != "parameters") {
            let mut bodies = vec![("request".to_owned(), &op["requestBody"]["content"])];
            let responses = op["responses"].as_object().into_iter().flatten();
            for (status, response) in responses.filter(|(s, _)| s.starts_with('2')) {
                bodies.push((format!("{status} response"), &response["content"]));
            }
            for (what, content) in bodies {
                let media_types = content.as_object().into_iter().flatten();
                for (media_type, media) in media_types.filter(|(t, _)| t.contains("json")) {
                    let found = examples(doc, media);
                    if found.is_empty() || found.iter().any(|e| e.is_null()) {
                        let method = method.to_uppercase();
                        missing.push(format!("{method} {path}: {what} ({media_type})"));
                    }
                }
            }
        }
    }
    missing
}

/// A request and a response example on every operation that takes or
/// returns a JSON body, in every service's document.
#[test]
fn every_json_body_has_an_example() {
    let mut missing = Vec::new();
    for service in Service::ALL {
        let doc = serde_json::to_value(service.openapi()).unwrap();
        for body in bodies_without_examples(&doc) {
            missing.push(format!("{}: {body}", service.name()));
        }
    }
    assert!(
        missing.is_empty(),
        "bodies without an example:\n{}",
        missing.join("\n")
    );
}

/// The check sees a missing example, and one on the referenced schema.
#[test]
fn the_example_check_sees_what_is_missing() {
    let doc = serde_json::json!({
        "paths": {"/a": {"post": {
            "requestBody": {"content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/WithExample"}}}},
            "responses": {
                "200": {"content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/Without"}}}},
                "201": {"content": {"application/json": {
                    "schema": {"type": "object"}, "example": null}}},
                "422": {"content": {"application/problem+json": {
                    "schema": {"type": "object"}}}}
            }
        }}},
        "components": {"schemas": {
            "WithExample": {"type": "object", "example": {"a": 1}},
            "Without": {"type": "object"}
        }}
    });
    assert_eq!(
        bodies_without_examples(&doc),
        [
            "POST /a: 200 response (application/json)",
            "POST /a: 201 response (application/json)"
        ]
    );
}
