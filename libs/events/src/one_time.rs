//! 一次性告知 — the one-time list of everything to fix, as clients send it
//! (a window returning an application, a reviewer asking for 补正) and as
//! both approval services check it before it becomes
//! [`IntakeDeficiency`] entries of an event.

use serde::Deserialize;
use utoipa::ToSchema;
use yizhan_kit::text::has_control_chars;
use yizhan_kit::{FieldError, Problem};

use crate::contracts::IntakeDeficiency;

/// Longest reason, in characters.
pub const MAX_REASON: usize = 500;

/// One deficiency: a field or a material (or neither), and why.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeficiencyInput {
    /// Form field key.
    pub field: Option<String>,
    /// Material code.
    pub material: Option<String>,
    /// What to fix.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

/// Checks a one-time list against what the application asks for: not
/// empty, every reason given (1 to [`MAX_REASON`] characters, no control
/// characters), every field and material one the form knows
/// (`field_name` and `material_name` give the Chinese name of a key the
/// form has, `None` otherwise). `name` is the list's body field
/// (`deficiencies`, `items`), so errors read `deficiencies[2].material`.
/// Every problem is reported at once. Each entry carries the name of what
/// it is about, so messages and pages show names, never codes.
pub fn check_list(
    list: &[DeficiencyInput],
    name: &str,
    field_name: impl Fn(&str) -> Option<String>,
    material_name: impl Fn(&str) -> Option<String>,
) -> Result<Vec<IntakeDeficiency>, Problem> {
    let mut errors = Vec::new();
    if list.is_empty() {
        errors.push(FieldError::new(
            name,
            "required",
            "须一次性列出全部需补齐的内容",
        ));
    }
    for (i, d) in list.iter().enumerate() {
        let reason = d.reason.trim();
        if reason.is_empty() || reason.chars().count() > MAX_REASON || has_control_chars(reason) {
            errors.push(FieldError::new(
                format!("{name}[{i}].reason"),
                "invalid_reason",
                format!("请说明需补齐的原因（1 至 {MAX_REASON} 字）"),
            ));
        }
        if let Some(f) = d.field.as_deref().filter(|f| field_name(f).is_none()) {
            errors.push(FieldError::new(
                format!("{name}[{i}].field"),
                "unknown_field",
                format!("本申请的表单没有字段 {f}"),
            ));
        }
        if let Some(m) = d.material.as_deref().filter(|m| material_name(m).is_none()) {
            errors.push(FieldError::new(
                format!("{name}[{i}].material"),
                "unknown_material",
                format!("本申请不需要材料 {m}"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(Problem::validation(errors));
    }
    Ok(list
        .iter()
        .map(|d| IntakeDeficiency {
            field: d.field.clone(),
            material: d.material.clone(),
            reason: d.reason.trim().to_owned(),
            name: d
                .field
                .as_deref()
                .and_then(&field_name)
                .or_else(|| d.material.as_deref().and_then(&material_name)),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(field: Option<&str>, material: Option<&str>, reason: &str) -> DeficiencyInput {
        DeficiencyInput {
            field: field.map(Into::into),
            material: material.map(Into::into),
            reason: reason.into(),
        }
    }

    #[test]
    fn every_problem_at_once_and_reasons_trimmed() {
        let known = |k: &str| (k == "known").then(|| "已知项".to_owned());
        let bad = check_list(
            &[
                input(Some("nope"), None, " "),
                input(None, Some("gone"), "x\u{0}"),
            ],
            "items",
            known,
            known,
        )
        .unwrap_err();
        let fields: Vec<&str> = bad.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "items[0].reason",
                "items[0].field",
                "items[1].reason",
                "items[1].material"
            ]
        );
        let empty = check_list(&[], "deficiencies", known, known).unwrap_err();
        assert_eq!(empty.errors[0].field, "deficiencies");
        let ok = check_list(
            &[input(Some("known"), None, " 缺签字 ")],
            "items",
            known,
            known,
        )
        .unwrap();
        assert_eq!(ok[0].reason, "缺签字");
        assert_eq!(ok[0].name.as_deref(), Some("已知项"));
    }
}
