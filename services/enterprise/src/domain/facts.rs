//! The facts a 免申即享 policy may ask about, and an enterprise's profile
//! as the matcher sees it.
//!
//! The catalog is code, not data: a rule that names a fact the matcher does
//! not know must be refused when the policy is published, and a new fact
//! needs a source (an event or an officer's form) before any rule can use
//! it, which is a code change anyway.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What kind of value a fact holds; decides which comparisons a rule may
/// make on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FactKind {
    /// A whole number (people, 万元).
    Integer,
    /// Free text compared exactly (a region or industry code).
    Text,
    /// One code of a closed list, each with its Chinese name.
    Code(&'static [(&'static str, &'static str)]),
    /// A calendar date.
    Date,
    /// Yes or no.
    Flag,
}

/// One fact of the catalog.
#[derive(Debug, Clone, Copy)]
pub struct FactDef {
    /// Key used in rules and in the profile (`employee_count`).
    pub key: &'static str,
    /// Chinese name shown to people (`从业人数`).
    pub name: &'static str,
    /// Kind of value.
    pub kind: FactKind,
    /// Unit shown after a number, if any (`人`, `万元`).
    pub unit: &'static str,
}

/// 企业规模 (工信部联企业〔2011〕300号 size classes).
pub const SIZE_CLASSES: &[(&str, &str)] = &[
    ("large", "大型"),
    ("medium", "中型"),
    ("small", "小型"),
    ("micro", "微型"),
];

/// Every fact a rule may name, in display order.
pub const FACTS: &[FactDef] = &[
    FactDef {
        key: "industry_code",
        name: "行业代码（国民经济行业分类）",
        kind: FactKind::Text,
        unit: "",
    },
    FactDef {
        key: "registered_area",
        name: "注册地行政区划代码",
        kind: FactKind::Text,
        unit: "",
    },
    FactDef {
        key: "size_class",
        name: "企业规模",
        kind: FactKind::Code(SIZE_CLASSES),
        unit: "",
    },
    FactDef {
        key: "employee_count",
        name: "从业人数",
        kind: FactKind::Integer,
        unit: "人",
    },
    FactDef {
        key: "annual_revenue",
        name: "上年度营业收入",
        kind: FactKind::Integer,
        unit: "万元",
    },
    FactDef {
        key: "rd_expense",
        name: "上年度研发投入",
        kind: FactKind::Integer,
        unit: "万元",
    },
    FactDef {
        key: "established_on",
        name: "成立日期",
        kind: FactKind::Date,
        unit: "",
    },
    FactDef {
        key: "high_tech",
        name: "高新技术企业",
        kind: FactKind::Flag,
        unit: "",
    },
];

/// Index of a fact in [`FACTS`]; rules hold indices so that matching
/// hundreds of thousands of profiles compares integers, not strings.
pub type FactIndex = usize;

/// Looks a fact up by key.
pub fn fact(key: &str) -> Option<(FactIndex, &'static FactDef)> {
    FACTS.iter().enumerate().find(|(_, def)| def.key == key)
}

/// A fact's value. Written to JSON as the bare value; read only through
/// [`FactValue::parse`], which knows the fact's kind (a derived untagged
/// reader would take the text `"2026-01-31"` of a text fact for a date).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum FactValue {
    /// Yes or no.
    Flag(bool),
    /// A whole number.
    Integer(i64),
    /// A date (`2026-01-31`).
    Date(NaiveDate),
    /// Text or a code.
    Text(String),
}

impl FactValue {
    /// Reads `value` as a value of `kind`, or says what was expected.
    pub fn parse(kind: FactKind, value: &serde_json::Value) -> Result<Self, String> {
        use serde_json::Value;
        match (kind, value) {
            (FactKind::Integer, Value::Number(n)) => n
                .as_i64()
                .map(FactValue::Integer)
                .ok_or_else(|| "应为整数".to_owned()),
            (FactKind::Integer, _) => Err("应为整数".to_owned()),
            (FactKind::Flag, Value::Bool(b)) => Ok(FactValue::Flag(*b)),
            (FactKind::Flag, _) => Err("应为 true 或 false".to_owned()),
            (FactKind::Date, Value::String(s)) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .map(FactValue::Date)
                .map_err(|_| "应为日期（YYYY-MM-DD）".to_owned()),
            (FactKind::Date, _) => Err("应为日期（YYYY-MM-DD）".to_owned()),
            (FactKind::Text, Value::String(s)) if !s.trim().is_empty() && s.len() <= 64 => {
                Ok(FactValue::Text(s.clone()))
            }
            (FactKind::Text, _) => Err("应为 1-64 个字符的文本".to_owned()),
            (FactKind::Code(codes), Value::String(s)) if codes.iter().any(|(c, _)| c == s) => {
                Ok(FactValue::Text(s.clone()))
            }
            (FactKind::Code(codes), _) => Err(format!(
                "应为以下代码之一：{}",
                codes
                    .iter()
                    .map(|(c, n)| format!("{c}（{n}）"))
                    .collect::<Vec<_>>()
                    .join("、")
            )),
        }
    }

    /// The value as people read it: codes by their Chinese names, flags as
    /// 是/否, numbers with the fact's unit.
    pub fn display(&self, def: &FactDef) -> String {
        match (self, def.kind) {
            (FactValue::Text(code), FactKind::Code(codes)) => codes
                .iter()
                .find(|(c, _)| c == code)
                .map_or_else(|| code.clone(), |(_, name)| (*name).to_owned()),
            (FactValue::Flag(true), _) => "是".to_owned(),
            (FactValue::Flag(false), _) => "否".to_owned(),
            (FactValue::Integer(n), _) => format!("{n}{}", def.unit),
            (FactValue::Date(d), _) => d.format("%Y-%m-%d").to_string(),
            (FactValue::Text(s), _) => s.clone(),
        }
    }
}

/// A licence an enterprise holds, as the matcher needs it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct HeldLicence {
    /// Item code of the licence (`special_trade_permit_hotel`).
    pub item: String,
    /// Day it was issued.
    pub issued_on: NaiveDate,
    /// Last day it is valid; `None` for licences without an end.
    pub valid_until: Option<NaiveDate>,
    /// Revoked or cancelled licences are held no longer.
    pub revoked: bool,
}

impl HeldLicence {
    /// Whether the licence is in force on `day`.
    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        !self.revoked && self.issued_on <= day && self.valid_until.is_none_or(|end| day <= end)
    }
}

/// One enterprise as the matcher sees it: fact values by [`FactIndex`] and
/// the licences it holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    values: Vec<Option<FactValue>>,
    /// Licences held, in any order. Rules only ask whether one of them
    /// qualifies, so a record keeps each distinct one once
    /// (`EnterpriseRecord::profile`).
    pub licences: Vec<HeldLicence>,
}

impl Profile {
    /// A profile with no facts and no licences.
    pub fn new() -> Self {
        Self {
            values: vec![None; FACTS.len()],
            licences: Vec::new(),
        }
    }

    /// Builds a profile from facts keyed by name, refusing unknown keys and
    /// values of the wrong kind (`Err((key, reason))`).
    pub fn from_facts(
        facts: &BTreeMap<String, serde_json::Value>,
        licences: Vec<HeldLicence>,
    ) -> Result<Self, (String, String)> {
        let mut profile = Self::new();
        for (key, value) in facts {
            let (index, def) = fact(key).ok_or_else(|| (key.clone(), "未知的事实".to_owned()))?;
            let value = FactValue::parse(def.kind, value).map_err(|why| (key.clone(), why))?;
            profile.values[index] = Some(value);
        }
        profile.licences = licences;
        Ok(profile)
    }

    /// Sets one fact.
    pub fn set(&mut self, index: FactIndex, value: FactValue) {
        self.values[index] = Some(value);
    }

    /// The value of a fact, if the enterprise has one on file.
    pub fn get(&self, index: FactIndex) -> Option<&FactValue> {
        self.values.get(index).and_then(Option::as_ref)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_are_read_by_kind_and_shown_by_name() {
        let (_, size) = fact("size_class").unwrap();
        let small = FactValue::parse(size.kind, &json!("small")).unwrap();
        assert_eq!(small.display(size), "小型");
        let err = FactValue::parse(size.kind, &json!("tiny")).unwrap_err();
        assert!(err.contains("small（小型）"), "{err}");

        let (_, staff) = fact("employee_count").unwrap();
        assert_eq!(
            FactValue::parse(staff.kind, &json!(25))
                .unwrap()
                .display(staff),
            "25人"
        );
        assert!(FactValue::parse(staff.kind, &json!("25")).is_err());
        assert!(FactValue::parse(staff.kind, &json!(2.5)).is_err());
    }

    #[test]
    fn profiles_refuse_unknown_facts_and_wrong_kinds() {
        let facts = BTreeMap::from([("turnover".to_owned(), json!(1))]);
        assert_eq!(
            Profile::from_facts(&facts, vec![]).unwrap_err().0,
            "turnover"
        );
        let facts = BTreeMap::from([("high_tech".to_owned(), json!("yes"))]);
        assert_eq!(
            Profile::from_facts(&facts, vec![]).unwrap_err(),
            ("high_tech".to_owned(), "应为 true 或 false".to_owned())
        );
    }

    #[test]
    fn a_licence_is_in_force_between_issue_and_end_unless_revoked() {
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let mut licence = HeldLicence {
            item: "x".into(),
            issued_on: day("2026-03-01"),
            valid_until: Some(day("2029-02-28")),
            revoked: false,
        };
        assert!(!licence.in_force_on(day("2026-02-28")));
        assert!(licence.in_force_on(day("2026-03-01")));
        assert!(licence.in_force_on(day("2029-02-28")));
        assert!(!licence.in_force_on(day("2029-03-01")));
        licence.revoked = true;
        assert!(!licence.in_force_on(day("2027-01-01")));
    }
}
