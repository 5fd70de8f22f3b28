//! 事项目录 — the catalog: departments, permit items (事项), the form fields
//! and materials items ask for, and industry scenarios (情形) whose
//! questionnaire selects items.
//!
//! Fields and materials are defined once for the whole catalog and items
//! refer to them by key. That is what makes 一表申请 possible: two items
//! asking for `enterprise_name` ask for the same thing, so the merged form
//! asks once. A catalog is immutable and versioned; applications keep the
//! version they were made on (see `store::catalog`).
//!
//! The types derive `ToSchema` because the public read endpoints show them
//! as they are; nothing here does I/O.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yizhan_approval::WorkingTime;
use yizhan_kit::FieldError;
pub use yizhan_workflow::form::{
    Department, FieldDef, FieldKind, ItemField, ItemMaterial, MaterialDef,
};

/// 事项目录 — one version of the whole catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Catalog {
    /// Version, from 1; applications record it.
    pub version: i32,
    /// 部门.
    pub departments: Vec<Department>,
    /// Every form field any item asks for.
    pub fields: Vec<FieldDef>,
    /// Every material any item asks for.
    pub materials: Vec<MaterialDef>,
    /// 事项.
    pub items: Vec<Item>,
    /// 情形.
    pub scenarios: Vec<Scenario>,
}

/// 事项 — one permit a department grants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Item {
    /// 事项编码.
    pub code: String,
    /// 事项名称.
    pub name: String,
    /// Deciding department's code.
    pub department: String,
    /// 法定时限, working days.
    #[schema(value_type = f64)]
    pub statutory_limit: WorkingTime,
    /// 承诺时限, working days (may be x.5).
    #[schema(value_type = f64)]
    pub committed_limit: WorkingTime,
    /// Materials it needs.
    pub materials: Vec<ItemMaterial>,
    /// Form fields it needs.
    pub fields: Vec<ItemField>,
}

/// The type of a questionnaire answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionKind {
    /// Yes or no.
    Boolean,
    /// A number in `min..=max`.
    Number {
        /// Smallest allowed.
        min: f64,
        /// Largest allowed.
        max: f64,
    },
}

/// 情形问题 — one question of a scenario's questionnaire. Every question
/// must be answered: an unanswered one would silently drop items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Question {
    /// Key in the `answers` object.
    pub key: String,
    /// zh-CN question.
    pub label: String,
    /// Answer type.
    #[serde(flatten)]
    pub kind: QuestionKind,
}

/// When a scenario needs an item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "when", rename_all = "snake_case")]
pub enum Condition {
    /// Always.
    Always,
    /// When the boolean answer `question` is `true`.
    IsTrue {
        /// Question key.
        question: String,
    },
    /// When the number answer `question` is at least `value`.
    AtLeast {
        /// Question key.
        question: String,
        /// Threshold.
        value: f64,
    },
}

/// One item of a scenario and when it applies.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ScenarioItem {
    /// 事项编码.
    pub item: String,
    /// When it is needed.
    #[serde(flatten)]
    pub condition: Condition,
}

/// 情形 — an industry scenario (hotel, restaurant …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Scenario {
    /// 情形编码, e.g. `hotel`.
    pub code: String,
    /// zh-CN name, e.g. `开办酒店（旅馆）`.
    pub name: String,
    /// Name of the comprehensive licence issued, e.g. `酒店行业综合许可证`.
    pub licence_name: String,
    /// zh-CN description.
    pub description: String,
    /// 问卷.
    pub questions: Vec<Question>,
    /// Items and when each applies.
    pub items: Vec<ScenarioItem>,
}

impl Catalog {
    /// A scenario by code.
    pub fn scenario(&self, code: &str) -> Option<&Scenario> {
        self.scenarios.iter().find(|s| s.code == code)
    }

    /// An item by code.
    pub fn item(&self, code: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.code == code)
    }

    /// A department by code.
    pub fn department(&self, code: &str) -> Option<&Department> {
        self.departments.iter().find(|d| d.code == code)
    }

    /// A field by key.
    pub fn field(&self, key: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// A material by code.
    pub fn material(&self, code: &str) -> Option<&MaterialDef> {
        self.materials.iter().find(|m| m.code == code)
    }

    /// Every dangling reference (item → department/field/material, scenario
    /// → item/question) and limit that the clock would refuse, as zh-CN
    /// sentences. A catalog is only stored when this is empty, so the rest
    /// of the code may look references up without a fallback path.
    pub fn problems(&self) -> Vec<FieldError> {
        let mut out = Vec::new();
        let mut push = |field: String, code: &str, message: String| {
            out.push(FieldError::new(field, code, message));
        };
        let dup = |codes: Vec<&str>| -> Vec<usize> {
            (0..codes.len())
                .filter(|&i| codes[..i].contains(&codes[i]))
                .collect()
        };
        for i in dup(self.departments.iter().map(|d| d.code.as_str()).collect()) {
            push(
                format!("departments[{i}].code"),
                "duplicate",
                "部门编码重复".into(),
            );
        }
        for i in dup(self.fields.iter().map(|f| f.key.as_str()).collect()) {
            push(
                format!("fields[{i}].key"),
                "duplicate",
                "字段编码重复".into(),
            );
        }
        for i in dup(self.materials.iter().map(|m| m.code.as_str()).collect()) {
            push(
                format!("materials[{i}].code"),
                "duplicate",
                "材料编码重复".into(),
            );
        }
        // One material vocabulary: every material a catalog asks for is a
        // type the document service stores materials under.
        for (i, m) in self.materials.iter().enumerate() {
            if !yizhan_types::material_type::catalog_may_use(&m.code) {
                push(
                    format!("materials[{i}].code"),
                    "unknown_material_type",
                    format!(
                        "材料编码 {} 不是材料服务的材料类型（见材料服务 GET /api/v1/material-types）",
                        m.code
                    ),
                );
            }
        }
        for i in dup(self.items.iter().map(|x| x.code.as_str()).collect()) {
            push(
                format!("items[{i}].code"),
                "duplicate",
                "事项编码重复".into(),
            );
        }
        for i in dup(self.scenarios.iter().map(|x| x.code.as_str()).collect()) {
            push(
                format!("scenarios[{i}].code"),
                "duplicate",
                "情形编码重复".into(),
            );
        }
        for (i, item) in self.items.iter().enumerate() {
            if self.department(&item.department).is_none() {
                push(
                    format!("items[{i}].department"),
                    "unknown_department",
                    format!("事项「{}」的部门编码 {} 不存在", item.name, item.department),
                );
            }
            if yizhan_approval::Limits::new(item.statutory_limit, item.committed_limit).is_err() {
                push(
                    format!("items[{i}].committed_limit"),
                    "invalid_limits",
                    format!(
                        "事项「{}」的时限无效（不得为负，承诺时限不得超过法定时限）",
                        item.name
                    ),
                );
            }
            for (k, f) in item.fields.iter().enumerate() {
                if self.field(&f.field).is_none() {
                    push(
                        format!("items[{i}].fields[{k}].field"),
                        "unknown_field",
                        format!("事项「{}」引用的字段编码 {} 不存在", item.name, f.field),
                    );
                }
            }
            for (k, m) in item.materials.iter().enumerate() {
                if self.material(&m.material).is_none() {
                    push(
                        format!("items[{i}].materials[{k}].material"),
                        "unknown_material",
                        format!("事项「{}」引用的材料编码 {} 不存在", item.name, m.material),
                    );
                }
            }
        }
        for (i, s) in self.scenarios.iter().enumerate() {
            if s.items.is_empty() {
                push(
                    format!("scenarios[{i}].items"),
                    "required",
                    format!("情形「{}」至少须包含一个事项", s.name),
                );
            }
            for (k, si) in s.items.iter().enumerate() {
                if self.item(&si.item).is_none() {
                    push(
                        format!("scenarios[{i}].items[{k}].item"),
                        "unknown_item",
                        format!("情形「{}」引用的事项编码 {} 不存在", s.name, si.item),
                    );
                }
                let question = match &si.condition {
                    Condition::Always => None,
                    Condition::IsTrue { question } | Condition::AtLeast { question, .. } => {
                        Some(question)
                    }
                };
                if let Some(q) = question
                    && !s.questions.iter().any(|x| &x.key == q)
                {
                    push(
                        format!("scenarios[{i}].items[{k}].condition.question"),
                        "unknown_question",
                        format!("情形「{}」引用的问题编码 {} 不存在", s.name, q),
                    );
                }
            }
        }
        out
    }
}
