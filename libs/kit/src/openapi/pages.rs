//! Examples for pages of a list (`Page<T>`): utoipa names each
//! instantiation (`Page_Message`) but cannot carry an example for a generic
//! type, so a page whose item type has an example gets one page of that
//! item, with a cursor, written here once for every list of every service.

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
}
