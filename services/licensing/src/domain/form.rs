//! 一表申请 validation: the merged form's values and the materials
//! referenced, checked against a notice, every problem reported at once
//! (一次性告知) with the field it concerns.

use chrono::NaiveDate;
use serde_json::{Map, Value};
use yizhan_kit::FieldError;
use yizhan_kit::text::has_control_chars;
use yizhan_types::{IdCardNo, Uscc};

use super::catalog::FieldKind;
use super::notice::Notice;

/// Longest material id accepted (the document service's ids are UUIDs).
const MAX_MATERIAL_ID: usize = 64;

/// Checks `form` (field key → value) and `materials` (material code →
/// material id) against `notice`; problems are named `form.<key>` and
/// `materials.<code>`.
pub fn validate(
    notice: &Notice,
    form: &Map<String, Value>,
    materials: &Map<String, Value>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for f in &notice.form {
        let name = format!("form.{}", f.key);
        let value = form
            .get(&f.key)
            .filter(|v| !v.is_null() && v.as_str() != Some(""));
        let Some(value) = value else {
            if f.required {
                let items: Vec<&str> = notice
                    .items
                    .iter()
                    .filter(|i| f.items.contains(&i.code))
                    .map(|i| i.name.as_str())
                    .collect();
                errors.push(FieldError::new(
                    name,
                    "required",
                    format!("请填写{}（{}需要）", f.label, items.join("、")),
                ));
            }
            continue;
        };
        if let Some((code, message)) = check_value(&f.label, &f.kind, value) {
            errors.push(FieldError::new(name, code, message));
        }
    }
    for key in form.keys() {
        if !notice.form.iter().any(|f| &f.key == key) {
            errors.push(FieldError::new(
                format!("form.{key}"),
                "unknown_field",
                format!("所选事项不需要填写 {key}"),
            ));
        }
    }
    for m in &notice.materials {
        let name = format!("materials.{}", m.code);
        match materials.get(&m.code) {
            None | Some(Value::Null) if m.key => errors.push(FieldError::new(
                name,
                "required",
                format!("请提交关键材料：{}", m.name),
            )),
            None | Some(Value::Null) => {}
            Some(Value::String(id))
                if !id.is_empty()
                    && id.len() <= MAX_MATERIAL_ID
                    && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') => {}
            Some(_) => errors.push(FieldError::new(
                name,
                "invalid_material_id",
                format!("{}须为材料服务返回的材料编号", m.name),
            )),
        }
    }
    for key in materials.keys() {
        if !notice.materials.iter().any(|m| &m.code == key) {
            errors.push(FieldError::new(
                format!("materials.{key}"),
                "unknown_material",
                format!("所选事项不需要材料 {key}"),
            ));
        }
    }
    errors
}

/// The problem with one present value, as (code, zh-CN message).
fn check_value(label: &str, kind: &FieldKind, value: &Value) -> Option<(&'static str, String)> {
    let wrong = |what: &str| Some(("invalid_type", format!("{label}须为{what}")));
    match kind {
        FieldKind::Text { max_len } => match value.as_str() {
            None => wrong("文字"),
            Some(s) if s.trim().is_empty() => Some(("required", format!("请填写{label}"))),
            Some(s) if has_control_chars(s) => {
                Some(("invalid_character", format!("{label}含有不可见的控制字符")))
            }
            Some(s) if s.chars().count() > *max_len => {
                Some(("too_long", format!("{label}最多 {max_len} 个字")))
            }
            Some(_) => None,
        },
        FieldKind::Integer { min, max } => match value.as_i64() {
            None => wrong("整数"),
            Some(n) if n < *min || n > *max => {
                Some(("out_of_range", format!("{label}须在 {min} 到 {max} 之间")))
            }
            Some(_) => None,
        },
        FieldKind::Number { min, max } => match value.as_f64() {
            None => wrong("数字"),
            Some(n) if n < *min || n > *max => {
                Some(("out_of_range", format!("{label}须在 {min} 到 {max} 之间")))
            }
            Some(_) => None,
        },
        FieldKind::Boolean => {
            (!value.is_boolean()).then(|| ("invalid_type", format!("{label}须为是或否")))
        }
        FieldKind::Date => match value.as_str() {
            Some(s) if NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok() => None,
            _ => Some(("invalid_date", format!("{label}须为 YYYY-MM-DD 格式的日期"))),
        },
        FieldKind::Uscc => match value.as_str() {
            None => wrong("文字"),
            Some(s) => Uscc::parse(s).err().map(|e| (e.code(), e.message())),
        },
        FieldKind::IdCardNo => match value.as_str() {
            None => wrong("文字"),
            Some(s) => IdCardNo::parse(s).err().map(|e| (e.code(), e.message())),
        },
        FieldKind::Phone => match value.as_str() {
            Some(s) if is_phone(s) => None,
            _ => Some((
                "invalid_phone",
                format!("{label}须为 11 位手机号或带区号的固定电话（如 0591-87654321）"),
            )),
        },
        FieldKind::Choice { options } => match value.as_str() {
            Some(s) if options.iter().any(|o| o == s) => None,
            _ => Some((
                "invalid_choice",
                format!("{label}须为以下之一：{}", options.join("、")),
            )),
        },
    }
}

fn is_phone(s: &str) -> bool {
    let mobile = s.len() == 11 && s.starts_with('1') && s.bytes().all(|b| b.is_ascii_digit());
    let landline = s.split_once('-').is_some_and(|(area, number)| {
        (3..=4).contains(&area.len())
            && area.starts_with('0')
            && (7..=8).contains(&number.len())
            && area
                .bytes()
                .chain(number.bytes())
                .all(|b| b.is_ascii_digit())
    });
    mobile || landline
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

    #[test]
    fn control_characters_and_ids() {
        use yizhan_kit::text::is_plausible_id;
        assert!(has_control_chars("a\u{0}b"));
        assert!(!has_control_chars("第一行\n第二行"));
        assert!(is_plausible_id("0193aa00-0000-7000-8000-000000000001"));
        assert!(!is_plausible_id("a\u{0}"));
        assert!(!is_plausible_id(""));
        let k = FieldKind::Text { max_len: 10 };
        assert_eq!(
            check_value("名称", &k, &json!("a\u{0}")).unwrap().0,
            "invalid_character"
        );
    }

    #[test]
    fn ranges_and_phones() {
        assert!(is_phone("13800138000"));
        assert!(is_phone("0591-87654321"));
        assert!(!is_phone("1380013800"));
        assert!(!is_phone("591-87654321"));
        let k = FieldKind::Integer { min: 1, max: 10 };
        assert_eq!(
            check_value("间数", &k, &json!(11)).unwrap().0,
            "out_of_range"
        );
        assert_eq!(
            check_value("间数", &k, &json!(1.5)).unwrap().0,
            "invalid_type"
        );
        assert!(check_value("间数", &k, &json!(3)).is_none());
    }
}
