//! Form values as the services want them: picked by prefix, typed by their
//! field definitions (text that does not parse stays text, so the service
//! names the field rather than the page guessing).

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

/// A form value typed by its field definition (`type`: integer, number,
/// boolean, …). Text that does not parse is sent as text, so the service
/// names the field and says what is wrong instead of the page guessing.
pub fn typed_value(kind: &str, raw: &str) -> Value {
    let raw = raw.trim();
    match kind {
        "integer" => raw
            .parse::<i64>()
            .map(Value::from)
            .unwrap_or_else(|_| json!(raw)),
        "number" => raw
            .parse::<f64>()
            .ok()
            .and_then(|n| serde_json::Number::from_f64(n).map(Value::Number))
            .unwrap_or_else(|| json!(raw)),
        "boolean" => match raw {
            "true" => json!(true),
            "false" => json!(false),
            other => json!(other),
        },
        _ => json!(raw),
    }
}

/// Form fields of one prefix (`form.`, `q.`), prefix removed, empty values
/// left out (a missing required value is the service's to name).
pub fn prefixed(fields: &[(String, String)], prefix: &str) -> BTreeMap<String, String> {
    fields
        .iter()
        .filter_map(|(k, v)| {
            let key = k.strip_prefix(prefix)?;
            (!v.trim().is_empty()).then(|| (key.to_owned(), v.clone()))
        })
        .collect()
}

/// The first value of `name`.
pub fn value<'a>(fields: &'a [(String, String)], name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Typed values for `defs` (a list of `{key, type}`) from raw strings.
pub fn typed_map(defs: &Value, raw: &BTreeMap<String, String>) -> Map<String, Value> {
    let mut out = Map::new();
    for def in defs.as_array().into_iter().flatten() {
        let (Some(key), kind) = (def["key"].as_str(), def["type"].as_str().unwrap_or("text"))
        else {
            continue;
        };
        if let Some(raw) = raw.get(key) {
            out.insert(key.to_owned(), typed_value(kind, raw));
        }
    }
    out
}
