//! 草稿 (drafts): what an applicant has answered, filled in and picked so
//! far, kept so a long form survives leaving the page. A draft is not
//! checked against the catalog (it may be half done); it is checked for
//! shape and size only, every problem named by its field.

use serde_json::{Map, Value};
use yizhan_kit::FieldError;
use yizhan_kit::text::{has_control_chars, is_plausible_id};

/// At most this many entries in each of `answers`, `form`, `materials`
/// (the largest scenario has a few dozen).
pub const MAX_ENTRIES: usize = 100;

/// At most this many characters in one value.
pub const MAX_TEXT: usize = 2000;

/// At most this many bytes of the three objects together as JSON, so a
/// draft stays a small row.
pub const MAX_BYTES: usize = 64 * 1024;

/// Whether `key` can be a question, field or material code.
fn is_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 64
        && key.starts_with(|c: char| c.is_ascii_lowercase())
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Checks one object of values (`answers` or `form`): known-shaped keys,
/// scalar values, texts short and free of control characters.
fn check_values(name: &str, values: &Map<String, Value>, errors: &mut Vec<FieldError>) {
    if values.len() > MAX_ENTRIES {
        errors.push(FieldError::new(
            name,
            "too_many",
            format!("草稿最多保存 {MAX_ENTRIES} 项"),
        ));
        return;
    }
    for (key, value) in values {
        if !is_key(key) {
            errors.push(FieldError::new(
                name,
                "invalid_key",
                "字段编码须为小写字母开头的字母、数字或下划线，最长 64 个字符",
            ));
            continue;
        }
        let field = format!("{name}.{key}");
        match value {
            Value::String(s) if s.chars().count() > MAX_TEXT => errors.push(FieldError::new(
                field,
                "too_long",
                format!("最长 {MAX_TEXT} 个字符"),
            )),
            Value::String(s) if has_control_chars(s) => {
                errors.push(FieldError::new(field, "control_chars", "不能包含控制字符"))
            }
            Value::String(_) | Value::Number(_) | Value::Bool(_) | Value::Null => {}
            Value::Array(_) | Value::Object(_) => errors.push(FieldError::new(
                field,
                "not_scalar",
                "须为文字、数字或是/否",
            )),
        }
    }
}

/// Checks a draft's `answers`, `form` and `materials` (material code →
/// material id); problems are named `answers`, `form.<key>`,
/// `materials.<code>` and so on.
pub fn check(
    answers: &Map<String, Value>,
    form: &Map<String, Value>,
    materials: &Map<String, Value>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    check_values("answers", answers, &mut errors);
    check_values("form", form, &mut errors);
    if materials.len() > MAX_ENTRIES {
        errors.push(FieldError::new(
            "materials",
            "too_many",
            format!("草稿最多保存 {MAX_ENTRIES} 份材料"),
        ));
    } else {
        for (code, id) in materials {
            if !is_key(code) {
                errors.push(FieldError::new(
                    "materials",
                    "invalid_key",
                    "材料编码须为小写字母开头的字母、数字或下划线，最长 64 个字符",
                ));
            } else if !id.as_str().is_some_and(is_plausible_id) {
                errors.push(FieldError::new(
                    format!("materials.{code}"),
                    "invalid_id",
                    "须为材料档案中的材料编号",
                ));
            }
        }
    }
    let size: usize = [answers, form, materials]
        .iter()
        .map(|m| serde_json::to_string(m).map_or(0, |s| s.len()))
        .sum();
    if errors.is_empty() && size > MAX_BYTES {
        errors.push(FieldError::new(
            "form",
            "too_large",
            format!("草稿过大（{size} 字节），最多 {MAX_BYTES} 字节"),
        ));
    }
    errors
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn a_half_done_draft_passes() {
        let errors = check(
            &map(json!({"floor_area_m2": 1200, "serves_food": true})),
            &map(json!({"enterprise_name": "福州一站酒店", "room_count": ""})),
            &map(json!({"floor_plan": "0193aa00-0000-7000-8000-000000000001"})),
        );
        assert!(errors.is_empty(), "{errors:?}");
    }

    #[test]
    fn every_problem_names_its_field() {
        let errors = check(
            &map(json!({"Bad Key": 1})),
            &map(json!({"business_address": "x".repeat(MAX_TEXT + 1), "tags": [1]})),
            &map(json!({"floor_plan": "../etc/passwd"})),
        );
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "answers",
                "form.business_address",
                "form.tags",
                "materials.floor_plan"
            ]
        );
    }

    #[test]
    fn a_huge_draft_is_refused_at_the_form() {
        let form: Map<String, Value> = (0..40)
            .map(|i| (format!("f{i}"), json!("字".repeat(MAX_TEXT))))
            .collect();
        let errors = check(&Map::new(), &form, &Map::new());
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].field, "form");
        assert_eq!(errors[0].code, "too_large");
    }
}
