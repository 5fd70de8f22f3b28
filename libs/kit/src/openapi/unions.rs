//! Flattened tagged enums in a shape client generators keep.
//!
//! A struct with `#[serde(flatten)]` of an internally tagged enum
//! (`FieldDef { key, label, #[serde(flatten)] kind: FieldKind }`) is one
//! JSON object whose fields depend on the tag. utoipa documents it as
//! `allOf: [{$ref: FieldKind}, {object}]` where `FieldKind` is a `oneOf`:
//! valid JSON Schema, but generators such as openapi-python-client cannot
//! take "allOf a non-object" and drop the type and everything using it.
//!
//! This pass rewrites each such schema into what it means on the wire: one
//! named object schema per variant (the struct's own fields plus the
//! variant's, e.g. `FieldDefText`), under a `oneOf` with a `discriminator`
//! on the tag. The JSON is unchanged; only its description is. It works on
//! the document rather than per type so that every such struct, present or
//! future, is covered without a hand-written schema to keep in step.

use serde_json::{Map, Value, json};
use utoipa::openapi::OpenApi;

const SCHEMA_PREFIX: &str = "#/components/schemas/";

/// Rewrites every `allOf: [$ref to a tagged oneOf, object]` component schema
/// into a discriminated `oneOf` of named per-variant objects.
pub fn inline_flattened_unions(api: &mut OpenApi) {
    super::edit_schemas(api, |schemas| {
        let mut added = Map::new();
        let mut changed = false;
        let names: Vec<String> = schemas.keys().cloned().collect();
        for name in names {
            let Some(rewritten) = rewrite(&name, &schemas[&name], schemas, &mut added) else {
                continue;
            };
            schemas.insert(name, rewritten);
            changed = true;
        }
        schemas.extend(added);
        changed
    });
}

/// The rewritten schema of `name`, adding its variants to `added`; `None`
/// when it is not a flattened tagged enum.
fn rewrite(
    name: &str,
    schema: &Value,
    schemas: &Map<String, Value>,
    added: &mut Map<String, Value>,
) -> Option<Value> {
    let parts = schema.get("allOf")?.as_array()?;
    let [first, second] = parts.as_slice() else {
        return None;
    };
    let (reference, own) = if first.get("$ref").is_some() {
        (first, second)
    } else {
        (second, first)
    };
    let target = reference
        .get("$ref")?
        .as_str()?
        .strip_prefix(SCHEMA_PREFIX)?;
    let variants = schemas.get(target)?.get("oneOf")?.as_array()?;
    let own_properties = own.get("properties")?.as_object()?;
    let tag = common_tag(variants)?;

    let mut one_of = Vec::new();
    let mut mapping = Map::new();
    for variant in variants {
        let value = tag_value(variant, &tag)?;
        let variant_name = format!("{name}{}", pascal(&value));
        let mut properties = own_properties.clone();
        properties.extend(variant.get("properties")?.as_object()?.clone());
        let mut required: Vec<Value> = own
            .get("required")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for r in variant
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if !required.contains(r) {
                required.push(r.clone());
            }
        }
        let mut merged = json!({
            "type": "object",
            "required": required,
            "properties": properties,
        });
        if let Some(description) = variant.get("description") {
            merged["description"] = description.clone();
        }
        let reference = format!("{SCHEMA_PREFIX}{variant_name}");
        mapping.insert(value, Value::String(reference.clone()));
        one_of.push(json!({ "$ref": reference }));
        added.insert(variant_name, merged);
    }
    let mut rewritten = json!({
        "oneOf": one_of,
        "discriminator": { "propertyName": tag, "mapping": mapping },
    });
    if let Some(description) = schema.get("description") {
        rewritten["description"] = description.clone();
    }
    Some(rewritten)
}

/// The property every variant carries as a one-value string enum (serde's
/// `tag`), if there is exactly one such.
fn common_tag(variants: &[Value]) -> Option<String> {
    let first = variants.first()?.get("properties")?.as_object()?;
    let mut candidates = first
        .keys()
        .filter(|key| variants.iter().all(|v| tag_value(v, key).is_some()));
    let tag = candidates.next()?.clone();
    candidates.next().is_none().then_some(tag)
}

fn tag_value(variant: &Value, tag: &str) -> Option<String> {
    let values = variant
        .pointer(&format!("/properties/{tag}/enum"))?
        .as_array()?;
    match values.as_slice() {
        [Value::String(v)] => Some(v.clone()),
        _ => None,
    }
}

/// `id_card_no` -> `IdCardNo`.
fn pascal(snake: &str) -> String {
    snake
        .split(['_', '-', '.'])
        .map(|word| {
            let mut chars = word.chars();
            chars
                .next()
                .map(|c| c.to_uppercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(schemas: Value) -> OpenApi {
        serde_json::from_value(json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {},
            "components": {"schemas": schemas}
        }))
        .unwrap()
    }

    #[test]
    fn a_flattened_tagged_enum_becomes_a_discriminated_union_of_objects() {
        let mut api = doc(json!({
            "Kind": {"oneOf": [
                {"type": "object", "required": ["max_len", "type"], "properties": {
                    "max_len": {"type": "integer"},
                    "type": {"type": "string", "enum": ["text"]}}},
                {"type": "object", "required": ["type"], "properties": {
                    "type": {"type": "string", "enum": ["id_card_no"]}}}
            ]},
            "Field": {"description": "a field", "allOf": [
                {"$ref": "#/components/schemas/Kind"},
                {"type": "object", "required": ["key"], "properties": {"key": {"type": "string"}}}
            ]},
            "Plain": {"allOf": [
                {"$ref": "#/components/schemas/Other"},
                {"type": "object", "properties": {}}
            ]},
            "Other": {"type": "object", "properties": {}}
        }));
        inline_flattened_unions(&mut api);
        let v = serde_json::to_value(&api).unwrap();
        let s = &v["components"]["schemas"];
        assert_eq!(
            s["Field"],
            json!({
                "description": "a field",
                "oneOf": [
                    {"$ref": "#/components/schemas/FieldText"},
                    {"$ref": "#/components/schemas/FieldIdCardNo"}
                ],
                "discriminator": {"propertyName": "type", "mapping": {
                    "text": "#/components/schemas/FieldText",
                    "id_card_no": "#/components/schemas/FieldIdCardNo"
                }}
            })
        );
        assert_eq!(
            s["FieldText"]["required"],
            json!(["key", "max_len", "type"])
        );
        assert!(s["FieldIdCardNo"]["properties"]["key"].is_object());
        assert!(s["Plain"]["allOf"].is_array(), "allOf of objects is kept");
    }
}
