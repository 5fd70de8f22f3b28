//! Names for the staff pages: departments, facts and licence items by
//! their Chinese names, a 免申即享 eligibility rule read out in words, and
//! money in 元. The services answer with codes in a few places (a
//! policy's department, statistics keys, a rule as stored); these turn
//! them into what people read.

use std::collections::BTreeMap;

use serde_json::Value;

use super::staff::dispatch_rules;
use crate::AppState;
use crate::session::Viewer;
use crate::upstream::Upstream;

/// Chinese names by code, read from the services' catalogs.
#[derive(Debug, Default, Clone)]
pub struct Names {
    /// Department code → name.
    pub departments: BTreeMap<String, String>,
    /// Fact key → (name, unit, choice code → name).
    pub facts: BTreeMap<String, (String, String, BTreeMap<String, String>)>,
    /// Licence item code → name.
    pub items: BTreeMap<String, String>,
}

impl Names {
    /// Reads both approval catalogs, the fact catalog and the dispatch
    /// rules; a service that does not answer contributes none.
    pub async fn load(state: &AppState, viewer: &Viewer) -> Self {
        let mut names = Self::default();
        for service in [Upstream::Licensing, Upstream::Construction] {
            let Ok(catalog) = state.upstream.get(service, "/api/v1/catalog", None).await else {
                continue;
            };
            for (list, into) in [
                ("departments", &mut names.departments),
                ("items", &mut names.items),
            ] {
                for d in catalog[list].as_array().into_iter().flatten() {
                    if let (Some(code), Some(name)) = (d["code"].as_str(), d["name"].as_str()) {
                        into.entry(code.to_owned())
                            .or_insert_with(|| name.to_owned());
                    }
                }
            }
        }
        for rule in dispatch_rules(state, viewer).await {
            if let (Some(code), Some(name)) = (
                rule["department"].as_str(),
                rule["department_name"].as_str(),
            ) {
                names
                    .departments
                    .entry(code.to_owned())
                    .or_insert_with(|| name.to_owned());
            }
        }
        if let Ok(catalog) = state
            .upstream
            .get(Upstream::Enterprise, "/api/v1/facts", None)
            .await
        {
            names.facts = facts_of(&catalog);
        }
        names
    }

    /// A department's name, or a neutral word for one no catalog knows.
    pub fn department(&self, code: &str) -> String {
        self.departments
            .get(code)
            .cloned()
            .unwrap_or_else(|| "其他部门".to_owned())
    }
}

/// The fact catalog (`GET /api/v1/facts`) as a map.
pub fn facts_of(catalog: &Value) -> BTreeMap<String, (String, String, BTreeMap<String, String>)> {
    catalog["facts"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| {
            let choices = f["choices"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| {
                    Some((
                        c["code"].as_str()?.to_owned(),
                        c["name"].as_str()?.to_owned(),
                    ))
                })
                .collect();
            Some((
                f["key"].as_str()?.to_owned(),
                (
                    f["name"].as_str()?.to_owned(),
                    f["unit"].as_str().unwrap_or_default().to_owned(),
                    choices,
                ),
            ))
        })
        .collect()
}

fn op_words(op: &str) -> &'static str {
    match op {
        "eq" => "等于",
        "ne" => "不等于",
        "lt" => "小于",
        "le" => "不超过",
        "gt" => "大于",
        "ge" => "不少于",
        _ => "满足条件",
    }
}

/// One value of a fact as people read it: a code by its name, a flag as
/// 是/否, a number with its unit.
fn value_words(names: &Names, fact: &str, v: &Value) -> String {
    let (choices, unit) = names
        .facts
        .get(fact)
        .map(|(_, unit, choices)| (Some(choices), unit.as_str()))
        .unwrap_or((None, ""));
    match v {
        Value::String(s) => choices
            .and_then(|c| c.get(s))
            .cloned()
            .unwrap_or_else(|| s.clone()),
        Value::Bool(true) => "是".to_owned(),
        Value::Bool(false) => "否".to_owned(),
        Value::Number(n) => format!("{n}{unit}"),
        other => other.to_string(),
    }
}

/// An eligibility rule in words, e.g. `同时满足：从业人数不超过50人；持有
/// 特种行业许可（旅馆业）（2026-01-01 起发证）`.
pub fn rule_words(names: &Names, rule: &Value) -> String {
    if let Some(all) = rule["all"].as_array() {
        let parts: Vec<String> = all.iter().map(|r| rule_words(names, r)).collect();
        return format!("同时满足（{}）", parts.join("；"));
    }
    if let Some(any) = rule["any"].as_array() {
        let parts: Vec<String> = any.iter().map(|r| rule_words(names, r)).collect();
        return format!("满足其一（{}）", parts.join("；"));
    }
    if !rule["not"].is_null() {
        return format!("不满足（{}）", rule_words(names, &rule["not"]));
    }
    if let Some(fact) = rule["fact"].as_str() {
        let name = names
            .facts
            .get(fact)
            .map_or("企业信息", |(n, _, _)| n.as_str());
        if let Some(list) = rule["in"].as_array() {
            let values: Vec<String> = list.iter().map(|v| value_words(names, fact, v)).collect();
            return format!("{name}为{}之一", values.join("、"));
        }
        let op = op_words(rule["op"].as_str().unwrap_or_default());
        return format!("{name}{op}{}", value_words(names, fact, &rule["value"]));
    }
    if let Some(item) = rule["licence"].as_str() {
        let name = names.items.get(item).map_or("指定许可", String::as_str);
        return match rule["issued_after"].as_str() {
            Some(day) => format!("持有有效的{name}（{day} 起发证）"),
            None => format!("持有有效的{name}"),
        };
    }
    "（规则无法解读）".to_owned()
}

/// An amount rule in words.
pub fn amount_words(names: &Names, amount: &Value) -> String {
    if let Some(fen) = amount["fixed_fen"].as_i64() {
        return format!("每户 {}", yuan(fen));
    }
    if let Some(fact) = amount["per_fact"].as_str() {
        let (name, unit) = names
            .facts
            .get(fact)
            .map_or(("企业信息", ""), |(n, u, _)| (n.as_str(), u.as_str()));
        let each = yuan(amount["fen_each"].as_i64().unwrap_or_default());
        let mut words = format!(
            "按{name}计，每{} {each}",
            if unit.is_empty() { "单位" } else { unit }
        );
        if let Some(cap) = amount["cap_fen"].as_i64() {
            words.push_str(&format!("，最高 {}", yuan(cap)));
        }
        return words;
    }
    "（金额规则无法解读）".to_owned()
}

/// 分 as 元 with thousands separators: `1,234,567.89 元`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    let whole = (fen / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{:02} 元", fen % 100)
}

/// 元 as typed (`5000`, `1,000.5`) in 分, or `None` for what is not an
/// amount.
pub fn fen_of(yuan: &str) -> Option<i64> {
    let clean: String = yuan
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != '，')
        .collect();
    let (whole, frac) = clean.split_once('.').unwrap_or((clean.as_str(), ""));
    if whole.is_empty() || !whole.chars().all(|c| c.is_ascii_digit()) || frac.len() > 2 {
        return None;
    }
    if !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let cents: i64 = format!("{frac:0<2}").parse().ok()?;
    whole
        .parse::<i64>()
        .ok()?
        .checked_mul(100)?
        .checked_add(cents)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names() -> Names {
        let mut n = Names {
            facts: facts_of(&json!({"facts": [
                {"key": "employee_count", "name": "从业人数", "kind": "integer", "unit": "人", "choices": []},
                {"key": "size_class", "name": "企业规模", "kind": "code", "unit": "",
                 "choices": [{"code": "small", "name": "小型"}, {"code": "micro", "name": "微型"}]},
            ]})),
            ..Names::default()
        };
        n.items.insert(
            "special_trade_permit_hotel".into(),
            "特种行业许可（旅馆业）".into(),
        );
        n
    }

    #[test]
    fn a_rule_reads_in_words_without_codes() {
        let rule = json!({"all": [
            {"licence": "special_trade_permit_hotel", "issued_after": "2026-01-01"},
            {"any": [
                {"fact": "size_class", "in": ["small", "micro"]},
                {"fact": "employee_count", "op": "le", "value": 50}
            ]}
        ]});
        assert_eq!(
            rule_words(&names(), &rule),
            "同时满足（持有有效的特种行业许可（旅馆业）（2026-01-01 起发证）；满足其一（企业规模为小型、微型之一；从业人数不超过50人））"
        );
        assert_eq!(
            rule_words(
                &names(),
                &json!({"not": {"fact": "employee_count", "op": "gt", "value": 10}})
            ),
            "不满足（从业人数大于10人）"
        );
    }

    #[test]
    fn amounts_read_in_yuan() {
        assert_eq!(yuan(100_000_000), "1,000,000.00 元");
        assert_eq!(yuan(500_050), "5,000.50 元");
        assert_eq!(yuan(0), "0.00 元");
        assert_eq!(
            amount_words(&names(), &json!({"fixed_fen": 500_000})),
            "每户 5,000.00 元"
        );
        assert_eq!(
            amount_words(
                &names(),
                &json!({"per_fact": "employee_count", "fen_each": 100_000, "cap_fen": 20_000_000})
            ),
            "按从业人数计，每人 1,000.00 元，最高 200,000.00 元"
        );
        assert_eq!(fen_of("5000"), Some(500_000));
        assert_eq!(fen_of("1,000.5"), Some(100_050));
        assert_eq!(fen_of("很多"), None);
        assert_eq!(fen_of("1.234"), None);
        assert_eq!(fen_of(""), None);
    }
}
