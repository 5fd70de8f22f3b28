//! 分阶段一表申请 — a stage's merged form: the items of one stage for one
//! project category, the fields they ask for (each once) and the materials
//! (key if any item needs it as key), and the check of a submission against
//! it, every problem at once (一次性告知) naming its field.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use yizhan_kit::FieldError;

use super::catalog::{Catalog, Category, FieldKind, Stage};

/// One item of a stage form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FormItem {
    /// 事项编码.
    pub code: String,
    /// 事项名称.
    pub name: String,
    /// Department code.
    pub department_code: String,
    /// Department name.
    pub department_name: String,
    /// 法定时限, working days.
    pub statutory_days: f64,
    /// 承诺时限, working days.
    pub committed_days: f64,
    /// Whether 告知承诺制 is allowed.
    pub commitment_allowed: bool,
    /// Whether decided in the joint inspection.
    pub joint_inspection: bool,
}

/// One field of the merged form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FormField {
    /// Key.
    pub key: String,
    /// zh-CN label.
    pub label: String,
    /// Type and checks.
    #[serde(flatten)]
    pub kind: FieldKind,
    /// Needed by at least one item.
    pub required: bool,
    /// The items that ask for it.
    pub items: Vec<String>,
}

/// One material of the merged form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FormMaterial {
    /// Material code.
    pub code: String,
    /// zh-CN name.
    pub name: String,
    /// 关键材料 (cannot be owed under 容缺受理).
    pub key: bool,
    /// The items that ask for it.
    pub items: Vec<String>,
}

/// 一表申请 of one stage for one category: what the applicant fills in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct StageForm {
    /// The stage.
    pub stage: Stage,
    /// zh-CN stage name.
    pub stage_name: String,
    /// The category.
    pub category: Category,
    /// Catalog version.
    pub catalog_version: i32,
    /// Items reviewed in parallel.
    pub items: Vec<FormItem>,
    /// Merged fields.
    pub fields: Vec<FormField>,
    /// Merged materials.
    pub materials: Vec<FormMaterial>,
    /// The stage's committed limit: items run in parallel, so the longest.
    pub committed_days: f64,
}

/// Builds the merged form of `stage` for `category`.
pub fn stage_form(catalog: &Catalog, stage: Stage, category: Category) -> StageForm {
    let items = catalog.items_for(stage, category);
    let mut fields: Vec<FormField> = Vec::new();
    let mut materials: Vec<FormMaterial> = Vec::new();
    for item in &items {
        for f in &item.fields {
            match fields.iter_mut().find(|x| x.key == f.field) {
                Some(x) => {
                    x.required |= f.required;
                    x.items.push(item.code.clone());
                }
                None => {
                    if let Some(def) = catalog.field(&f.field) {
                        fields.push(FormField {
                            key: def.key.clone(),
                            label: def.label.clone(),
                            kind: def.kind.clone(),
                            required: f.required,
                            items: vec![item.code.clone()],
                        });
                    }
                }
            }
        }
        for m in &item.materials {
            match materials.iter_mut().find(|x| x.code == m.material) {
                Some(x) => {
                    x.key |= m.key;
                    x.items.push(item.code.clone());
                }
                None => {
                    if let Some(def) = catalog.material(&m.material) {
                        materials.push(FormMaterial {
                            code: def.code.clone(),
                            name: def.name.clone(),
                            key: m.key,
                            items: vec![item.code.clone()],
                        });
                    }
                }
            }
        }
    }
    let committed = items
        .iter()
        .map(|i| i.committed_limit.half_days())
        .max()
        .unwrap_or(0);
    StageForm {
        stage,
        stage_name: stage.zh_name().into(),
        category,
        catalog_version: catalog.version,
        items: items
            .iter()
            .map(|i| FormItem {
                code: i.code.clone(),
                name: i.name.clone(),
                department_code: i.department.clone(),
                department_name: catalog.department_name(&i.department),
                statutory_days: i.statutory_limit.as_days_f64(),
                committed_days: i.committed_limit.as_days_f64(),
                commitment_allowed: i.commitment_allowed,
                joint_inspection: i.joint_inspection,
            })
            .collect(),
        fields,
        materials,
        committed_days: committed as f64 / 2.0,
    }
}

/// Longest material id accepted (the document service's ids are UUIDs).
const MAX_MATERIAL_ID: usize = 64;

/// Whether `value` is a material id as the document service hands out.
pub fn is_material_id(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|id| id.len() <= MAX_MATERIAL_ID && yizhan_kit::text::is_plausible_id(id))
}

/// Checks a submission against `form`. Materials of the `committed` items
/// (告知承诺制) are not required: the signed commitment stands in for them.
/// Problems are named `form.<key>`, `materials.<code>`.
pub fn validate(
    form: &StageForm,
    values: &Map<String, Value>,
    materials: &Map<String, Value>,
    committed: &BTreeSet<String>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for f in &form.fields {
        let name = format!("form.{}", f.key);
        let value = values
            .get(&f.key)
            .filter(|v| !v.is_null() && v.as_str() != Some(""));
        match value {
            None if f.required => errors.push(FieldError::new(
                name,
                "required",
                format!("请填写{}", f.label),
            )),
            None => {}
            Some(v) => {
                if let Some((code, message)) = check_value(&f.label, &f.kind, v) {
                    errors.push(FieldError::new(name, code, message));
                }
            }
        }
    }
    for key in values.keys() {
        if !form.fields.iter().any(|f| &f.key == key) {
            errors.push(FieldError::new(
                format!("form.{key}"),
                "unknown_field",
                format!("本阶段不需要填写 {key}"),
            ));
        }
    }
    for m in &form.materials {
        let name = format!("materials.{}", m.code);
        let only_committed = m.items.iter().all(|i| committed.contains(i));
        match materials.get(&m.code) {
            None | Some(Value::Null) if m.key && !only_committed => errors.push(FieldError::new(
                name,
                "required",
                format!("请提交关键材料：{}", m.name),
            )),
            None | Some(Value::Null) => {}
            Some(v) if is_material_id(v) => {}
            Some(_) => errors.push(FieldError::new(
                name,
                "invalid_material_id",
                format!("{}须为材料服务返回的材料编号", m.name),
            )),
        }
    }
    for key in materials.keys() {
        if !form.materials.iter().any(|m| &m.code == key) {
            errors.push(FieldError::new(
                format!("materials.{key}"),
                "unknown_material",
                format!("本阶段不需要材料 {key}"),
            ));
        }
    }
    errors
}

fn check_value(label: &str, kind: &FieldKind, value: &Value) -> Option<(&'static str, String)> {
    match kind {
        FieldKind::Text { max_len } => match value.as_str() {
            None => Some(("invalid_type", format!("{label}须为文字"))),
            Some(s) if s.trim().is_empty() => Some(("required", format!("请填写{label}"))),
            Some(s) if yizhan_kit::text::has_control_chars(s) => {
                Some(("invalid_character", format!("{label}含有不可见的控制字符")))
            }
            Some(s) if s.chars().count() > *max_len => {
                Some(("too_long", format!("{label}最多 {max_len} 个字")))
            }
            Some(_) => None,
        },
        FieldKind::Number { min, max } => match value.as_f64() {
            None => Some(("invalid_type", format!("{label}须为数字"))),
            Some(n) if n < *min || n > *max => {
                Some(("out_of_range", format!("{label}须在 {min} 到 {max} 之间")))
            }
            Some(_) => None,
        },
        FieldKind::Date => match value.as_str() {
            Some(s) if NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() => None,
            _ => Some(("invalid_date", format!("{label}须为 YYYY-MM-DD 格式的日期"))),
        },
        FieldKind::Boolean => {
            (!value.is_boolean()).then(|| ("invalid_type", format!("{label}须为是或否")))
        }
        FieldKind::Choice { options } => match value.as_str() {
            Some(s) if options.iter().any(|o| o == s) => None,
            _ => Some((
                "invalid_choice",
                format!("{label}须为以下之一：{}", options.join("、")),
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed;

    #[test]
    fn merged_form_asks_each_field_once_and_reports_everything() {
        let c = seed::catalog();
        let form = stage_form(&c, Stage::ConstructionPermit, Category::SmallLowRisk);
        assert_eq!(form.items.len(), 4);
        let names = form
            .fields
            .iter()
            .filter(|f| f.key == "project_name")
            .count();
        assert_eq!(names, 1);
        let mut values = seed::sample_form().as_object().unwrap().clone();
        values.retain(|k, _| form.fields.iter().any(|f| &f.key == k));
        values.insert("fire_class".into(), Value::String("超高层".into()));
        values.remove("construction_unit");
        let errors = validate(&form, &values, &Map::new(), &BTreeSet::new());
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert!(fields.contains(&"form.fire_class"), "{fields:?}");
        assert!(fields.contains(&"form.construction_unit"), "{fields:?}");
        assert!(fields.contains(&"materials.drawings"), "{fields:?}");
        // A committed item's key materials are not required.
        let safety = form
            .materials
            .iter()
            .find(|m| m.code == "fire_design")
            .unwrap();
        assert!(safety.key);
    }
}
