//! Examples for lists: utoipa names each instantiation of a page
//! (`Page_Message`) but cannot carry an example for a generic type, and a
//! bare array body (`Vec<T>`) has no schema of its own to carry one. So a
//! page whose item type has an example gets one page of that item, with a
//! cursor, and an array body gets one item, written here once for every
//! list of every service.

use serde_json::{Value, json};
use utoipa::openapi::OpenApi;

/// A `next_cursor` as the server writes it (base64 of a position).
const EXAMPLE_CURSOR: &str = "eyJzZXEiOjQyfQ";

/// Adds an example to every `Page_*` schema whose items have one.
pub fn add_page_examples(api: &mut OpenApi) {
    super::edit_schemas(api, |schemas| {
        let mut examples = Vec::new();
        for (name, schema) in schemas.iter() {
            if !name.starts_with("Page_") || schema.get("example").is_some() {
                continue;
            }
            // utoipa writes the item schema inline, or as a reference.
            let Some(item) = schema.pointer("/properties/items/items") else {
                continue;
            };
            let item = match item.get("$ref").and_then(Value::as_str) {
                Some(r) => r.rsplit('/').next().and_then(|name| schemas.get(name)),
                None => Some(item),
            };
            if let Some(example) = item.and_then(|s| s.get("example")) {
                let page = json!({ "items": [example], "next_cursor": EXAMPLE_CURSOR });
                examples.push((name.clone(), page));
            }
        }
        let changed = !examples.is_empty();
        for (name, example) in examples {
            schemas[&name]["example"] = example;
        }
        changed
    });
}

/// Adds an example (one item) to every JSON request or response body that
/// is an array of a schema with an example.
pub fn add_array_examples(api: &mut OpenApi) {
    let Ok(mut doc) = serde_json::to_value(&*api) else {
        return;
    };
    let examples: std::collections::HashMap<String, Value> = doc
        .pointer("/components/schemas")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(name, schema)| {
            let example = schema.get("example")?.clone();
            Some((format!("#/components/schemas/{name}"), example))
        })
        .collect();
    let mut changed = false;
    let operations = doc
        .get_mut("paths")
        .and_then(Value::as_object_mut)
        .into_iter()
        .flat_map(|paths| paths.values_mut())
        .filter_map(Value::as_object_mut)
        .flat_map(|item| item.values_mut());
    for operation in operations {
        if let Some(content) = operation.pointer_mut("/requestBody/content") {
            changed |= add_to_content(content, &examples);
        }
        let responses = operation
            .get_mut("responses")
            .and_then(Value::as_object_mut);
        for response in responses.into_iter().flat_map(|r| r.values_mut()) {
            if let Some(content) = response.get_mut("content") {
                changed |= add_to_content(content, &examples);
            }
        }
    }
    if changed && let Ok(rewritten) = serde_json::from_value(doc) {
        *api = rewritten;
    }
}

/// Adds `[item example]` to each media type of `content` that is an array
/// of a referenced schema with an example; whether it added any.
fn add_to_content(
    content: &mut Value,
    examples: &std::collections::HashMap<String, Value>,
) -> bool {
    let mut changed = false;
    for media in content
        .as_object_mut()
        .into_iter()
        .flat_map(|c| c.values_mut())
    {
        if media.get("example").is_some() || media.get("examples").is_some() {
            continue;
        }
        let item = media
            .pointer("/schema/items/$ref")
            .filter(|_| media.pointer("/schema/type") == Some(&json!("array")))
            .and_then(Value::as_str)
            .and_then(|r| examples.get(r));
        if let Some(item) = item {
            media["example"] = json!([item]);
            changed = true;
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_gets_one_item_of_its_items_example() {
        let mut api: OpenApi = serde_json::from_value(json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {},
            "components": {"schemas": {
                "Message": {"type": "object", "example": {"id": "m1"}},
                "Plain": {"type": "object"},
                "Page_Message": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
                    "next_cursor": {"type": ["string", "null"]}}},
                "Page_Plain": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"$ref": "#/components/schemas/Plain"}}}},
                "Page_Inline": {"type": "object", "properties": {
                    "items": {"type": "array", "items": {"type": "object", "example": {"id": "i1"}}}}}
            }}
        }))
        .unwrap();
        add_page_examples(&mut api);
        let v = serde_json::to_value(&api).unwrap();
        assert_eq!(
            v["components"]["schemas"]["Page_Message"]["example"],
            json!({"items": [{"id": "m1"}], "next_cursor": EXAMPLE_CURSOR})
        );
        assert!(
            v["components"]["schemas"]["Page_Plain"]
                .get("example")
                .is_none()
        );
    }

    #[test]
    fn an_array_body_gets_one_item_of_its_items_example() {
        let list = |item: &str| {
            json!({"content": {"application/json": {"schema": {
                "type": "array", "items": {"$ref": format!("#/components/schemas/{item}")}}}}})
        };
        let mut api: OpenApi = serde_json::from_value(json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {"/things": {
                "get": {"responses": {"200": list("Message")}},
                "post": {"requestBody": list("Message"), "responses": {"200": list("Plain")}}
            }},
            "components": {"schemas": {
                "Message": {"type": "object", "example": {"id": "m1"}},
                "Plain": {"type": "object"}
            }}
        }))
        .unwrap();
        add_array_examples(&mut api);
        let v = serde_json::to_value(&api).unwrap();
        let things = &v["paths"]["/things"];
        let media = "application/json";
        assert_eq!(
            things["get"]["responses"]["200"]["content"][media]["example"],
            json!([{"id": "m1"}])
        );
        assert_eq!(
            things["post"]["requestBody"]["content"][media]["example"],
            json!([{"id": "m1"}])
        );
        assert!(
            things["post"]["responses"]["200"]["content"][media]
                .get("example")
                .is_none()
        );
    }
}
