use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::{Value, json};

use super::{Rule, RuleError};
use crate::domain::facts::{HeldLicence, Profile};

fn items(code: &str) -> Option<String> {
    match code {
        "special_trade_permit_hotel" => Some("特种行业许可证（旅馆业）".to_owned()),
        "business_licence" => Some("营业执照".to_owned()),
        _ => None,
    }
}

fn parse(rule: Value) -> Result<Rule, RuleError> {
    Rule::parse(&rule, &items)
}

fn day(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn profile(facts: Value, licences: &[(&str, &str)]) -> Profile {
    let facts: BTreeMap<String, Value> = serde_json::from_value(facts).unwrap();
    let licences = licences
        .iter()
        .map(|(item, issued)| HeldLicence {
            item: (*item).to_owned(),
            issued_on: day(issued),
            valid_until: None,
            revoked: false,
        })
        .collect();
    Profile::from_facts(&facts, licences).unwrap()
}

/// The policy of the acceptance test: a licence item and an
/// officer-set fact.
fn hotel_policy() -> Rule {
    parse(json!({"all": [
        {"licence": "special_trade_permit_hotel", "issued_after": "2026-01-01"},
        {"any": [
            {"fact": "size_class", "in": ["small", "micro"]},
            {"fact": "employee_count", "op": "le", "value": 50}
        ]}
    ]}))
    .unwrap()
}

#[test]
fn matches_exactly_the_eligible_profiles() {
    let rule = hotel_policy();
    let today = day("2026-12-03");
    let cases = [
        // Small hotel licensed this year: eligible.
        (
            json!({"size_class": "small"}),
            vec![("special_trade_permit_hotel", "2026-03-01")],
            true,
        ),
        // Licensed before the cut-off date.
        (
            json!({"size_class": "small"}),
            vec![("special_trade_permit_hotel", "2025-12-31")],
            false,
        ),
        // Licensed on the cut-off day itself counts.
        (
            json!({"size_class": "micro"}),
            vec![("special_trade_permit_hotel", "2026-01-01")],
            true,
        ),
        // Large but few staff: the second branch of `any`.
        (
            json!({"size_class": "large", "employee_count": 50}),
            vec![("special_trade_permit_hotel", "2026-05-01")],
            true,
        ),
        (
            json!({"size_class": "large", "employee_count": 51}),
            vec![("special_trade_permit_hotel", "2026-05-01")],
            false,
        ),
        // No size and no staff count on file: unknown is never eligible.
        (
            json!({}),
            vec![("special_trade_permit_hotel", "2026-05-01")],
            false,
        ),
        // Another licence only.
        (
            json!({"size_class": "small"}),
            vec![("business_licence", "2026-05-01")],
            false,
        ),
        // A licence issued in the future (data from tomorrow) is not held today.
        (
            json!({"size_class": "small"}),
            vec![("special_trade_permit_hotel", "2026-12-04")],
            false,
        ),
    ];
    for (i, (facts, licences, eligible)) in cases.into_iter().enumerate() {
        let p = profile(facts, &licences);
        assert_eq!(rule.holds(&p, today), eligible, "case {i}");
        assert_eq!(
            rule.explain(&p, today, &items).is_some(),
            eligible,
            "case {i}"
        );
    }
}

#[test]
fn a_revoked_or_expired_licence_is_not_held() {
    let rule = hotel_policy();
    let mut p = profile(
        json!({"size_class": "small"}),
        &[("special_trade_permit_hotel", "2026-03-01")],
    );
    assert!(rule.holds(&p, day("2026-12-03")));
    p.licences[0].valid_until = Some(day("2026-12-02"));
    assert!(!rule.holds(&p, day("2026-12-03")));
    p.licences[0].valid_until = None;
    p.licences[0].revoked = true;
    assert!(!rule.holds(&p, day("2026-12-03")));
}

#[test]
fn a_match_explains_itself_in_chinese() {
    let rule = hotel_policy();
    let p = profile(
        json!({"size_class": "large", "employee_count": 12}),
        &[("special_trade_permit_hotel", "2026-03-01")],
    );
    let lines = rule.explain(&p, day("2026-12-03"), &items).unwrap();
    assert_eq!(
        lines,
        [
            "持有有效的“特种行业许可证（旅馆业）”，且发证日期不早于 2026-01-01（发证日期：2026-03-01）",
            "从业人数不超过50人（实际：12人）",
        ]
    );
    assert_eq!(
        rule.describe(&items),
        "持有有效的“特种行业许可证（旅馆业）”，且发证日期不早于 2026-01-01，且（企业规模为小型、微型之一，或从业人数不超过50人）"
    );
}

#[test]
fn json_form_round_trips() {
    let rule = parse(json!({"any": [
        {"not": {"fact": "high_tech", "op": "eq", "value": true}},
        {"fact": "established_on", "op": "ge", "value": "2024-01-01"},
        {"fact": "industry_code", "in": ["I65", "I64", "I65"]},
        {"licence": "business_licence"}
    ]}))
    .unwrap();
    let again = parse(rule.to_json()).unwrap();
    assert_eq!(rule, again);
    // The duplicate in `in` is gone; the officer's order stays.
    assert_eq!(rule.to_json()["any"][2]["in"], json!(["I65", "I64"]));
}

#[test]
fn refusals_name_the_place_in_the_rule() {
    let cases = [
        (
            json!({"all": [{"fact": "turnover", "op": "gt", "value": 1}]}),
            "$.all[0].fact",
            "未知的事实“turnover”",
        ),
        (json!({"all": []}), "$.all", "至少含一条规则"),
        (
            json!({"any": [{"fact": "industry_code", "op": "gt", "value": "I65"}]}),
            "$.any[0].op",
            "只能用 eq、ne 或 in",
        ),
        (
            json!({"fact": "employee_count", "op": "ge", "value": "10"}),
            "$.value",
            "从业人数应为整数",
        ),
        (
            json!({"fact": "employee_count", "op": "between", "value": 1}),
            "$.op",
            "eq、ne",
        ),
        (
            json!({"fact": "employee_count", "op": "ge"}),
            "$.value",
            "缺少",
        ),
        (
            json!({"fact": "size_class", "in": ["small", "huge"]}),
            "$.in[1]",
            "企业规模应为以下代码之一",
        ),
        (json!({"fact": "size_class", "in": []}), "$.in", "1-500"),
        (
            json!({"licence": "fishing_permit"}),
            "$.licence",
            "未知的事项“fishing_permit”",
        ),
        (
            json!({"licence": "business_licence", "isued_after": "2026-01-01"}),
            "$.isued_after",
            "不认识的键",
        ),
        (
            json!({"licence": "business_licence", "issued_after": "2026-13-01"}),
            "$.issued_after",
            "日期",
        ),
        (
            json!({"all": [{"fact": "high_tech", "op": "eq", "value": true}], "any": []}),
            "$.any",
            "不认识的键",
        ),
        (json!({"not": 3}), "$.not", "JSON 对象"),
        (json!({"foo": 1}), "$", "规则应含"),
        (json!([1]), "$", "JSON 对象"),
    ];
    for (rule, path, words) in cases {
        let err = parse(rule.clone()).expect_err(&rule.to_string());
        assert_eq!(err.path, path, "{rule}: {err}");
        assert!(err.message.contains(words), "{rule}: {err}");
    }
}

#[test]
fn nesting_is_bounded() {
    let mut rule = json!({"fact": "high_tech", "op": "eq", "value": true});
    for _ in 0..8 {
        rule = json!({"not": rule});
    }
    assert!(parse(rule.clone()).is_ok());
    let err = parse(json!({"not": rule})).unwrap_err();
    assert!(err.message.contains("嵌套超过 8 层"), "{err}");
}
