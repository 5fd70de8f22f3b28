//! 一表申请 — the merged form, once for every service: the catalog's field
//! and material definitions, the merge of several items' needs into one
//! form (a field or material several items need is asked once and lists
//! them all; required / key when any of them says so), and the check of a
//! submission against it, every problem at once (一次性告知) naming its field
//! (`form.<key>`, `materials.<code>`).
//!
//! The services keep what differs: which items a form is made of (a
//! licensing scenario's answers, a construction stage and category) and the
//! wording of "why" in their messages.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;
use yizhan_kit::FieldError;
use yizhan_kit::text::{has_control_chars, is_plausible_id};
use yizhan_types::{IdCardNo, Uscc};

/// 审批部门 — a department that decides items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Department {
    /// 部门编码 (the `dept` claim of its reviewers), e.g. `market_supervision`.
    pub code: String,
    /// 部门名称, e.g. `市场监督管理局`.
    pub name: String,
}

/// The type of a form field, with its checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FieldKind {
    /// Free text of at most `max_len` characters.
    Text {
        /// Longest allowed, in characters.
        max_len: usize,
    },
    /// A whole number in `min..=max`.
    Integer {
        /// Smallest allowed.
        min: i64,
        /// Largest allowed.
        max: i64,
    },
    /// A number in `min..=max`.
    Number {
        /// Smallest allowed.
        min: f64,
        /// Largest allowed.
        max: f64,
    },
    /// `true` or `false`.
    Boolean,
    /// A date, `YYYY-MM-DD`.
    Date,
    /// 统一社会信用代码, check character verified.
    Uscc,
    /// 居民身份证号码, check character verified.
    IdCardNo,
    /// 联系电话: an 11-digit mobile number or a landline like `0591-87654321`.
    Phone,
    /// One of `options`.
    Choice {
        /// Allowed values.
        options: Vec<String>,
    },
}

/// 表单字段 — one input any item may ask for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FieldDef {
    /// Key in the submitted `form` object.
    pub key: String,
    /// zh-CN label.
    pub label: String,
    /// Type and checks.
    #[serde(flatten)]
    pub kind: FieldKind,
}

/// 申请材料 — one material any item may ask for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MaterialDef {
    /// Material code (the document service's material type).
    pub code: String,
    /// zh-CN name.
    pub name: String,
}

/// An item's use of a field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ItemField {
    /// Field key.
    pub field: String,
    /// Whether this item needs it filled in.
    pub required: bool,
}

/// An item's use of a material.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ItemMaterial {
    /// Material code.
    pub material: String,
    /// 关键材料: without it the item cannot be accepted (only non-key
    /// materials may be owed under 容缺受理).
    pub key: bool,
}

/// One field of the merged form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct MergedField {
    /// Key in `form`.
    pub key: String,
    /// zh-CN label.
    pub label: String,
    /// Type and checks.
    #[serde(flatten)]
    pub kind: FieldKind,
    /// Required when any item needing it requires it.
    pub required: bool,
    /// Codes of the items needing it.
    pub items: Vec<String>,
}

/// One material of the merged form, once however many items need it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MergedMaterial {
    /// Material code.
    pub code: String,
    /// zh-CN name.
    pub name: String,
    /// Key material for at least one item.
    pub key: bool,
    /// Codes of the items needing it.
    pub items: Vec<String>,
}

/// The merged fields and materials, built item by item.
#[derive(Debug, Clone, Default)]
pub struct MergedForm {
    /// Fields, in the order items first ask for them.
    pub fields: Vec<MergedField>,
    /// Materials, in the order items first ask for them.
    pub materials: Vec<MergedMaterial>,
}

impl MergedForm {
    /// Adds what item `code` needs. `field` and `material` look definitions
    /// up in the catalog; an undefined one is skipped (a published catalog
    /// has none: its own check refuses them).
    pub fn add<'a>(
        &mut self,
        code: &str,
        fields: &[ItemField],
        materials: &[ItemMaterial],
        field: impl Fn(&str) -> Option<&'a FieldDef>,
        material: impl Fn(&str) -> Option<&'a MaterialDef>,
    ) {
        for f in fields {
            match self.fields.iter_mut().find(|x| x.key == f.field) {
                Some(x) => {
                    x.required |= f.required;
                    x.items.push(code.to_owned());
                }
                None => {
                    if let Some(def) = field(&f.field) {
                        self.fields.push(MergedField {
                            key: def.key.clone(),
                            label: def.label.clone(),
                            kind: def.kind.clone(),
                            required: f.required,
                            items: vec![code.to_owned()],
                        });
                    }
                }
            }
        }
        for m in materials {
            match self.materials.iter_mut().find(|x| x.code == m.material) {
                Some(x) => {
                    x.key |= m.key;
                    x.items.push(code.to_owned());
                }
                None => {
                    if let Some(def) = material(&m.material) {
                        self.materials.push(MergedMaterial {
                            code: def.code.clone(),
                            name: def.name.clone(),
                            key: m.key,
                            items: vec![code.to_owned()],
                        });
                    }
                }
            }
        }
    }
}

/// How a service words the form's problems.
pub struct Wording<'a> {
    /// Who does not need an unknown field or material, e.g. `所选事项`, `本阶段`.
    pub scope: &'a str,
    /// The "请填写…" message of a missing required field.
    pub missing: &'a dyn Fn(&MergedField) -> String,
}

/// Checks `values` (field key → value) against `fields`: required fields
/// present, each value of its type and within its limits, no unknown keys.
pub fn check_fields(
    fields: &[MergedField],
    values: &Map<String, Value>,
    wording: &Wording<'_>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for f in fields {
        let name = format!("form.{}", f.key);
        let value = values
            .get(&f.key)
            .filter(|v| !v.is_null() && v.as_str() != Some(""));
        match value {
            None if f.required => {
                errors.push(FieldError::new(name, "required", (wording.missing)(f)))
            }
            None => {}
            Some(v) => {
                if let Some((code, message)) = check_value(&f.label, &f.kind, v) {
                    errors.push(FieldError::new(name, code, message));
                }
            }
        }
    }
    for key in values.keys() {
        if !fields.iter().any(|f| &f.key == key) {
            errors.push(FieldError::new(
                format!("form.{key}"),
                "unknown_field",
                format!("{}不需要填写 {key}", wording.scope),
            ));
        }
    }
    errors
}

/// Checks `submitted` (material code → material id) against `materials`:
/// key materials present unless `excused` (e.g. every item needing it is
/// under 告知承诺制), each reference shaped like a document-service id, no
/// unknown codes. Whether the ids exist and belong to the applicant is
/// [`crate::materials::MaterialCheck`]'s, against the document service.
pub fn check_materials(
    materials: &[MergedMaterial],
    submitted: &Map<String, Value>,
    excused: impl Fn(&MergedMaterial) -> bool,
    wording: &Wording<'_>,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for m in materials {
        let name = format!("materials.{}", m.code);
        match submitted.get(&m.code) {
            None | Some(Value::Null) if m.key && !excused(m) => errors.push(FieldError::new(
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
    for key in submitted.keys() {
        if !materials.iter().any(|m| &m.code == key) {
            errors.push(FieldError::new(
                format!("materials.{key}"),
                "unknown_material",
                format!("{}不需要材料 {key}", wording.scope),
            ));
        }
    }
    errors
}

/// Whether `value` is shaped like a material id the document service hands
/// out (its ids are UUIDs; anything alphanumeric with dashes up to 64
/// characters passes here, the document service decides the rest).
pub fn is_material_id(value: &Value) -> bool {
    value.as_str().is_some_and(is_plausible_id)
}

/// The problem with one present value, as (code, zh-CN message).
pub fn check_value(label: &str, kind: &FieldKind, value: &Value) -> Option<(&'static str, String)> {
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

    fn def(key: &str, kind: FieldKind) -> FieldDef {
        FieldDef {
            key: key.into(),
            label: key.into(),
            kind,
        }
    }

    #[test]
    fn a_field_two_items_need_is_asked_once_and_required_if_either_requires_it() {
        let defs = [def("name", FieldKind::Text { max_len: 10 })];
        let mats = [MaterialDef {
            code: "licence".into(),
            name: "营业执照".into(),
        }];
        let mut form = MergedForm::default();
        for (code, required, key) in [("a", false, false), ("b", true, true)] {
            form.add(
                code,
                &[ItemField {
                    field: "name".into(),
                    required,
                }],
                &[ItemMaterial {
                    material: "licence".into(),
                    key,
                }],
                |k| defs.iter().find(|d| d.key == k),
                |c| mats.iter().find(|m| m.code == c),
            );
        }
        assert_eq!(form.fields.len(), 1);
        assert!(form.fields[0].required);
        assert_eq!(form.fields[0].items, ["a", "b"]);
        assert!(form.materials[0].key);
        let wording = Wording {
            scope: "本阶段",
            missing: &|f| format!("请填写{}", f.label),
        };
        let errors = check_materials(&form.materials, &Map::new(), |_| false, &wording);
        assert_eq!(errors[0].field, "materials.licence");
        let errors = check_materials(&form.materials, &Map::new(), |_| true, &wording);
        assert!(errors.is_empty(), "excused key materials are not required");
        let values = json!({"name": "", "colour": "red"});
        let errors = check_fields(&form.fields, values.as_object().unwrap(), &wording);
        let got: Vec<_> = errors
            .iter()
            .map(|e| (e.field.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            got,
            [("form.name", "required"), ("form.colour", "unknown_field")]
        );
    }

    #[test]
    fn values_are_checked_by_kind() {
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
        let t = FieldKind::Text { max_len: 10 };
        assert_eq!(
            check_value("名称", &t, &json!("a\u{0}")).unwrap().0,
            "invalid_character"
        );
        assert!(!is_material_id(&json!("not a uuid")));
        assert!(is_material_id(&json!(
            "0193aa00-0000-7000-8000-000000000001"
        )));
    }
}
