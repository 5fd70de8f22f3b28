//! 分阶段一表申请 — a stage's merged form: the items of one stage for one
//! project category, the fields they ask for (each once) and the materials
//! (key if any item needs it as key), and the check of a submission against
//! it, every problem at once (一次性告知) naming its field.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use yizhan_kit::FieldError;

use yizhan_workflow::form::{
    MergedField, MergedForm, MergedMaterial, Wording, check_fields, check_materials,
};

use super::catalog::{Catalog, Category, Stage};

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
    pub fields: Vec<MergedField>,
    /// Merged materials.
    pub materials: Vec<MergedMaterial>,
    /// The stage's committed limit: items run in parallel, so the longest.
    pub committed_days: f64,
}

/// Builds the merged form of `stage` for `category`.
pub fn stage_form(catalog: &Catalog, stage: Stage, category: Category) -> StageForm {
    let items = catalog.items_for(stage, category);
    let mut merged = MergedForm::default();
    for item in &items {
        merged.add(
            &item.code,
            &item.fields,
            &item.materials,
            |key| catalog.field(key),
            |code| catalog.material(code),
        );
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
        fields: merged.fields,
        materials: merged.materials,
        committed_days: committed as f64 / 2.0,
    }
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
    let wording = Wording {
        scope: "本阶段",
        missing: &|f| format!("请填写{}", f.label),
    };
    let mut errors = check_fields(&form.fields, values, &wording);
    errors.extend(check_materials(
        &form.materials,
        materials,
        |m| m.items.iter().all(|i| committed.contains(i)),
        &wording,
    ));
    errors
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
