//! 一单告知 — scenario + answers → the notice: the items needed, their
//! departments, every material once, the merged form (一表申请: a field
//! several items need is asked once and lists them all), and the time
//! limits.
//!
//! The notice is also the application's snapshot: it carries everything
//! later steps need (item names, departments, limits, field definitions), so
//! an application never consults the catalog again.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use yizhan_approval::WorkingTime;
use yizhan_kit::FieldError;

use yizhan_workflow::form::{MergedField, MergedForm, MergedMaterial};

use super::catalog::{Catalog, Condition, Department, QuestionKind, Scenario};

/// 告知单 — what a scenario with these answers needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Notice {
    /// Catalog version it was computed on.
    pub catalog_version: i32,
    /// 情形编码.
    pub scenario_code: String,
    /// 情形名称.
    pub scenario_name: String,
    /// Name of the comprehensive licence.
    pub licence_name: String,
    /// The answers it was computed from.
    #[schema(value_type = Object)]
    pub answers: Map<String, Value>,
    /// The items needed, in scenario order.
    pub items: Vec<NoticeItem>,
    /// Departments involved, each once.
    pub departments: Vec<Department>,
    /// Materials, each once, with the items needing it.
    pub materials: Vec<MergedMaterial>,
    /// 一表申请: the merged form.
    pub form: Vec<MergedField>,
    /// Sum of the items' statutory limits: the working days separate,
    /// one-after-another applications could take by law.
    #[schema(value_type = f64, example = 115)]
    pub statutory_total: WorkingTime,
    /// Committed limit of the bundle: items are reviewed in parallel, so the
    /// longest committed item limit.
    #[schema(value_type = f64, example = 5.5)]
    pub committed_total: WorkingTime,
}

/// One item of a notice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NoticeItem {
    /// 事项编码.
    pub code: String,
    /// 事项名称.
    pub name: String,
    /// Department code.
    pub department_code: String,
    /// Department name.
    pub department_name: String,
    /// 法定时限, working days.
    #[schema(value_type = f64)]
    pub statutory_limit: WorkingTime,
    /// 承诺时限, working days.
    #[schema(value_type = f64)]
    pub committed_limit: WorkingTime,
}

/// Computes the notice, or every problem with the answers (fields named
/// `answers.<key>`). The scenario must exist; callers look it up first so an
/// unknown one is reported on its own field.
pub fn compute(
    catalog: &Catalog,
    scenario: &Scenario,
    answers: &Map<String, Value>,
) -> Result<Notice, Vec<FieldError>> {
    let answers = check_answers(scenario, answers)?;
    let mut items = Vec::new();
    let mut departments: Vec<Department> = Vec::new();
    let mut merged = MergedForm::default();
    let mut statutory_total = WorkingTime::ZERO;
    let mut committed_total = WorkingTime::ZERO;
    for si in &scenario.items {
        let needed = match &si.condition {
            Condition::Always => true,
            Condition::IsTrue { question } => answers.get(question) == Some(&Value::Bool(true)),
            Condition::AtLeast { question, value } => answers
                .get(question)
                .and_then(Value::as_f64)
                .is_some_and(|v| v >= *value),
        };
        // `Catalog::problems` is empty for every stored catalog, so these
        // lookups succeed; skipping is the harmless fallback.
        let (true, Some(item)) = (needed, catalog.item(&si.item)) else {
            continue;
        };
        let Some(dept) = catalog.department(&item.department) else {
            continue;
        };
        if !departments.iter().any(|d| d.code == dept.code) {
            departments.push(dept.clone());
        }
        merged.add(
            &item.code,
            &item.fields,
            &item.materials,
            |key| catalog.field(key),
            |code| catalog.material(code),
        );
        statutory_total += item.statutory_limit;
        committed_total = committed_total.max(item.committed_limit);
        items.push(NoticeItem {
            code: item.code.clone(),
            name: item.name.clone(),
            department_code: dept.code.clone(),
            department_name: dept.name.clone(),
            statutory_limit: item.statutory_limit,
            committed_limit: item.committed_limit,
        });
    }
    Ok(Notice {
        catalog_version: catalog.version,
        scenario_code: scenario.code.clone(),
        scenario_name: scenario.name.clone(),
        licence_name: scenario.licence_name.clone(),
        answers,
        items,
        departments,
        materials: merged.materials,
        form: merged.fields,
        statutory_total,
        committed_total,
    })
}

impl Notice {
    /// The notice cut down to the items in `codes` (a change application
    /// reviewed by the items it concerns): their departments, materials and
    /// fields only, totals recomputed. A material keeps its key flag (key
    /// for any item of the scenario stays key), the stricter reading.
    #[must_use]
    pub fn restricted_to(&self, codes: &[String]) -> Self {
        let keep = |items: &[String]| -> Vec<String> {
            items
                .iter()
                .filter(|c| codes.contains(c))
                .cloned()
                .collect()
        };
        let items: Vec<NoticeItem> = self
            .items
            .iter()
            .filter(|i| codes.contains(&i.code))
            .cloned()
            .collect();
        Self {
            departments: self
                .departments
                .iter()
                .filter(|d| items.iter().any(|i| i.department_code == d.code))
                .cloned()
                .collect(),
            materials: self
                .materials
                .iter()
                .filter_map(|m| {
                    let items = keep(&m.items);
                    (!items.is_empty()).then(|| MergedMaterial { items, ..m.clone() })
                })
                .collect(),
            form: self
                .form
                .iter()
                .filter_map(|f| {
                    let items = keep(&f.items);
                    (!items.is_empty()).then(|| MergedField { items, ..f.clone() })
                })
                .collect(),
            statutory_total: items
                .iter()
                .fold(WorkingTime::ZERO, |sum, i| sum + i.statutory_limit),
            committed_total: items
                .iter()
                .map(|i| i.committed_limit)
                .max()
                .unwrap_or(WorkingTime::ZERO),
            items,
            ..self.clone()
        }
    }
}

/// Checks every answer against the questionnaire: all questions answered,
/// with the right type and range, and nothing else.
fn check_answers(
    scenario: &Scenario,
    answers: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut clean = Map::new();
    for q in &scenario.questions {
        let field = format!("answers.{}", q.key);
        let value = answers.get(&q.key).filter(|v| !v.is_null());
        match (value, &q.kind) {
            (None, _) => errors.push(FieldError::new(
                field,
                "required",
                format!("请回答：{}", q.label),
            )),
            (Some(v @ Value::Bool(_)), QuestionKind::Boolean) => {
                clean.insert(q.key.clone(), v.clone());
            }
            (Some(_), QuestionKind::Boolean) => errors.push(FieldError::new(
                field,
                "invalid_type",
                format!("「{}」须回答 true 或 false", q.label),
            )),
            (Some(v), QuestionKind::Number { min, max }) => match v.as_f64() {
                Some(n) if n >= *min && n <= *max => {
                    clean.insert(q.key.clone(), v.clone());
                }
                Some(_) => errors.push(FieldError::new(
                    field,
                    "out_of_range",
                    format!("「{}」须在 {min} 到 {max} 之间", q.label),
                )),
                None => errors.push(FieldError::new(
                    field,
                    "invalid_type",
                    format!("「{}」须为数字", q.label),
                )),
            },
        }
    }
    for key in answers.keys() {
        if !scenario.questions.iter().any(|q| &q.key == key) {
            errors.push(FieldError::new(
                format!("answers.{key}"),
                "unknown_field",
                format!("本情形没有问题 {key}"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(clean)
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::seed;

    fn hotel(answers: Value) -> Result<Notice, Vec<FieldError>> {
        let catalog = seed::catalog();
        let scenario = catalog.scenario("hotel").unwrap().clone();
        compute(&catalog, &scenario, answers.as_object().unwrap())
    }

    #[test]
    fn full_hotel_needs_six_items_of_five_departments() {
        let n =
            hotel(json!({"hosts_performances": true, "floor_area_m2": 1200, "serves_food": true}))
                .unwrap();
        let codes: Vec<&str> = n.items.iter().map(|i| i.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "business_licence",
                "food_business_permit",
                "public_health_permit",
                "special_trade_permit_hotel",
                "fire_safety_inspection",
                "performance_venue_filing"
            ]
        );
        assert_eq!(n.departments.len(), 5);
        assert_eq!(n.committed_total.half_days(), 11, "5.5 working days");
        assert!(n.statutory_total.whole_days().unwrap() >= 100);
    }

    #[test]
    fn answers_select_items() {
        let n =
            hotel(json!({"hosts_performances": false, "floor_area_m2": 120, "serves_food": false}))
                .unwrap();
        let codes: Vec<&str> = n.items.iter().map(|i| i.code.as_str()).collect();
        assert_eq!(
            codes,
            [
                "business_licence",
                "public_health_permit",
                "special_trade_permit_hotel"
            ]
        );
    }

    #[test]
    fn shared_fields_and_materials_appear_once_listing_their_items() {
        let n =
            hotel(json!({"hosts_performances": true, "floor_area_m2": 1200, "serves_food": true}))
                .unwrap();
        let name: Vec<_> = n
            .form
            .iter()
            .filter(|f| f.key == "enterprise_name")
            .collect();
        assert_eq!(name.len(), 1);
        assert_eq!(name[0].items.len(), 6);
        assert!(name[0].required);
        let mut keys: Vec<&str> = n.form.iter().map(|f| f.key.as_str()).collect();
        let before = keys.len();
        keys.dedup();
        assert_eq!(keys.len(), before);
        let id = n
            .materials
            .iter()
            .find(|m| m.code == "legal_rep_id_card")
            .unwrap();
        assert!(id.items.len() > 1);
        let codes: Vec<&str> = n.materials.iter().map(|m| m.code.as_str()).collect();
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), codes.len());
    }

    #[test]
    fn bad_answers_are_all_named() {
        let errors = hotel(json!({"hosts_performances": "yes", "floor_area_m2": -5, "pets": true}))
            .unwrap_err();
        let fields: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert!(fields.contains(&("answers.hosts_performances", "invalid_type")));
        assert!(fields.contains(&("answers.floor_area_m2", "out_of_range")));
        assert!(fields.contains(&("answers.serves_food", "required")));
        assert!(fields.contains(&("answers.pets", "unknown_field")));
    }

    #[test]
    fn restricting_keeps_only_what_the_items_need() {
        let n =
            hotel(json!({"hosts_performances": true, "floor_area_m2": 1200, "serves_food": true}))
                .unwrap();
        let r = n.restricted_to(&["food_business_permit".into()]);
        assert_eq!(r.items.len(), 1);
        assert_eq!(r.departments.len(), 1);
        assert_eq!(r.departments[0].code, r.items[0].department_code);
        assert!(r.form.iter().all(|f| f.items == ["food_business_permit"]));
        assert!(r.form.len() < n.form.len());
        assert!(
            r.materials
                .iter()
                .all(|m| m.items == ["food_business_permit"])
        );
        assert_eq!(r.committed_total, r.items[0].committed_limit);
        assert_eq!(r.statutory_total, r.items[0].statutory_limit);
        assert_eq!(r.answers, n.answers);
    }

    #[test]
    fn seeded_catalog_is_consistent() {
        assert_eq!(seed::catalog().problems(), Vec::<FieldError>::new());
        assert!(seed::catalog().scenarios.len() >= 6);
    }

    #[test]
    fn catalog_problems_name_items_and_scenarios_by_their_names() {
        let mut catalog = seed::catalog();
        catalog.items[0].department = "nowhere".into();
        catalog.scenarios[0].items[0].item = "no_such_item".into();
        let problems = catalog.problems();
        let item = &problems[0];
        assert_eq!(item.field, "items[0].department");
        assert!(
            item.message
                .contains(&format!("「{}」", catalog.items[0].name))
        );
        assert!(!item.message.contains(&catalog.items[0].code));
        let scenario = &problems[1];
        assert!(
            scenario
                .message
                .contains(&format!("「{}」", catalog.scenarios[0].name))
        );
        assert!(scenario.message.contains("no_such_item"), "what was typed");
    }
}
