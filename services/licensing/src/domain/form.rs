//! 一表申请 validation: the merged form's values and the materials
//! referenced, checked against a notice, every problem reported at once
//! (一次性告知) with the field it concerns.

use serde_json::{Map, Value};
use yizhan_kit::FieldError;
use yizhan_workflow::form::{MergedField, Wording, check_fields, check_materials};

use super::notice::Notice;

/// Checks `form` (field key → value) and `materials` (material code →
/// material id) against `notice`; problems are named `form.<key>` and
/// `materials.<code>`. A missing field names the items that need it.
pub fn validate(
    notice: &Notice,
    form: &Map<String, Value>,
    materials: &Map<String, Value>,
) -> Vec<FieldError> {
    let missing = |f: &MergedField| {
        let items: Vec<&str> = notice
            .items
            .iter()
            .filter(|i| f.items.contains(&i.code))
            .map(|i| i.name.as_str())
            .collect();
        format!("请填写{}（{}需要）", f.label, items.join("、"))
    };
    let wording = Wording {
        scope: "所选事项",
        missing: &missing,
    };
    let mut errors = check_fields(&notice.form, form, &wording);
    errors.extend(check_materials(
        &notice.materials,
        materials,
        |_| false,
        &wording,
    ));
    errors
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::notice;
    use crate::seed;

    fn hotel_notice() -> Notice {
        let catalog = seed::catalog();
        let scenario = catalog.scenario("hotel").unwrap().clone();
        let answers =
            json!({"hosts_performances": true, "floor_area_m2": 1200, "serves_food": true});
        notice::compute(&catalog, &scenario, answers.as_object().unwrap()).unwrap()
    }

    #[test]
    fn the_seeded_good_form_passes() {
        let n = hotel_notice();
        let form = seed::sample_hotel_form();
        let materials: Map<String, Value> = n
            .materials
            .iter()
            .map(|m| {
                (
                    m.code.clone(),
                    json!("0193aa00-0000-7000-8000-000000000001"),
                )
            })
            .collect();
        assert_eq!(validate(&n, form.as_object().unwrap(), &materials), vec![]);
    }

    #[test]
    fn every_problem_at_once() {
        let n = hotel_notice();
        let mut form = seed::sample_hotel_form();
        let f = form.as_object_mut().unwrap();
        f.remove("room_count");
        f.insert("bed_count".into(), json!("很多"));
        f.insert("legal_rep_id_no".into(), json!("11010519491231002Y"));
        f.insert("contact_phone".into(), json!("12345"));
        f.insert("colour".into(), json!("red"));
        let errors = validate(&n, f, &Map::new());
        let got: Vec<(&str, &str)> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        for want in [
            ("form.room_count", "required"),
            ("form.bed_count", "invalid_type"),
            ("form.contact_phone", "invalid_phone"),
            ("form.colour", "unknown_field"),
            ("materials.business_premises_proof", "required"),
        ] {
            assert!(got.contains(&want), "{want:?} missing from {got:?}");
        }
        assert!(got.iter().any(|(f, _)| *f == "form.legal_rep_id_no"));
        let room = errors
            .iter()
            .find(|e| e.field == "form.room_count")
            .unwrap();
        assert!(room.message.contains("特种行业许可"), "{}", room.message);
    }
}
