//! How much a 免申即享 policy pays an eligible enterprise, and the budget
//! a disbursement batch must stay within.
//!
//! Money is whole 分 (fen) in `i64`: no floating point anywhere near an
//! amount paid out of public funds.
//!
//! An amount rule is JSON, one of:
//! - `{"fixed_fen": 5000000}`: the same amount for every enterprise;
//! - `{"per_fact": "employee_count", "fen_each": 100000, "cap_fen": 20000000}`:
//!   a number fact times a rate, capped (`cap_fen` optional).

use serde_json::{Value, json};

use super::facts::{FACTS, FactIndex, FactKind, FactValue, Profile, fact};
use super::rules::RuleError;

/// Largest amount one enterprise may be paid by one policy: 1 亿元.
pub const MAX_FEN: i64 = 100_000_000 * 100;

/// A parsed amount rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AmountRule {
    /// The same amount for everyone.
    Fixed(i64),
    /// A number fact times a rate, optionally capped.
    PerFact {
        /// Which fact (an integer fact).
        fact: FactIndex,
        /// 分 per unit of the fact.
        fen_each: i64,
        /// Most paid to one enterprise.
        cap_fen: Option<i64>,
    },
}

fn error(path: &str, message: impl Into<String>) -> RuleError {
    RuleError {
        path: path.to_owned(),
        message: message.into(),
    }
}

fn fen_at(map: &serde_json::Map<String, Value>, key: &str) -> Result<i64, RuleError> {
    map.get(key)
        .and_then(Value::as_i64)
        .filter(|fen| (1..=MAX_FEN).contains(fen))
        .ok_or_else(|| {
            error(
                &format!("$.{key}"),
                format!("应为 1 至 {MAX_FEN} 之间的整数（单位：分）"),
            )
        })
}

impl AmountRule {
    /// Reads an amount rule; errors name the key (`$.fen_each`).
    pub fn parse(value: &Value) -> Result<Self, RuleError> {
        let map = value
            .as_object()
            .ok_or_else(|| error("$", "金额规则应为 JSON 对象"))?;
        let allowed: &[&str] = if map.contains_key("fixed_fen") {
            &["fixed_fen"]
        } else if map.contains_key("per_fact") {
            &["per_fact", "fen_each", "cap_fen"]
        } else {
            return Err(error("$", "金额规则应含 fixed_fen 或 per_fact"));
        };
        if let Some(stray) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(error(&format!("$.{stray}"), "不认识的键"));
        }
        if map.contains_key("fixed_fen") {
            return fen_at(map, "fixed_fen").map(AmountRule::Fixed);
        }
        let key = map["per_fact"].as_str().unwrap_or_default();
        let index = fact(key)
            .filter(|(_, def)| def.kind == FactKind::Integer)
            .map(|(index, _)| index)
            .ok_or_else(|| error("$.per_fact", format!("“{key}”不是已知的数值事实")))?;
        let fen_each = fen_at(map, "fen_each")?;
        let cap_fen = match map.get("cap_fen") {
            None => None,
            Some(_) => Some(fen_at(map, "cap_fen")?),
        };
        Ok(AmountRule::PerFact {
            fact: index,
            fen_each,
            cap_fen,
        })
    }

    /// The rule in its JSON form.
    pub fn to_json(&self) -> Value {
        match self {
            AmountRule::Fixed(fen) => json!({"fixed_fen": fen}),
            AmountRule::PerFact {
                fact,
                fen_each,
                cap_fen: Some(cap),
            } => json!({"per_fact": FACTS[*fact].key, "fen_each": fen_each, "cap_fen": cap}),
            AmountRule::PerFact { fact, fen_each, .. } => {
                json!({"per_fact": FACTS[*fact].key, "fen_each": fen_each})
            }
        }
    }

    /// What `profile` is owed, in 分; `None` when the fact it is computed
    /// from is not on file (the candidate then needs an officer's look,
    /// never a guessed zero). Never above [`MAX_FEN`].
    pub fn amount(&self, profile: &Profile) -> Option<i64> {
        let fen = match self {
            AmountRule::Fixed(fen) => *fen,
            AmountRule::PerFact {
                fact,
                fen_each,
                cap_fen,
            } => {
                let Some(FactValue::Integer(units)) = profile.get(*fact) else {
                    return None;
                };
                let fen = (*units).max(0).saturating_mul(*fen_each);
                cap_fen.map_or(fen, |cap| fen.min(cap))
            }
        };
        Some(fen.min(MAX_FEN))
    }
}

/// Formats 分 as 元 for people: `123456` → `1,234.56 元` (shared with the
/// notification service's messages).
pub use yizhan_types::money::yuan;

/// A disbursement batch would overspend the policy's budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverBudget {
    /// What the batch asks for, 分.
    pub batch_fen: i64,
    /// What is left of the budget, 分.
    pub remaining_fen: i64,
}

impl std::fmt::Display for OverBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "本批合计 {}，超出预算余额 {}",
            yuan(self.batch_fen),
            yuan(self.remaining_fen)
        )
    }
}

/// Checks that a batch of `amounts` fits in what is left of `budget_fen`
/// after `committed_fen` of earlier batches. A batch that does not fit is
/// refused whole: trimming it silently would leave enterprises told
/// "无需申请" and then not paid.
pub fn check_budget(
    budget_fen: i64,
    committed_fen: i64,
    amounts: impl IntoIterator<Item = i64>,
) -> Result<i64, OverBudget> {
    let batch_fen = amounts.into_iter().fold(0i64, i64::saturating_add);
    let remaining_fen = budget_fen.saturating_sub(committed_fen);
    if batch_fen > remaining_fen {
        Err(OverBudget {
            batch_fen,
            remaining_fen,
        })
    } else {
        Ok(batch_fen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::facts::fact;

    #[test]
    fn amounts_follow_the_rule_and_the_cap() {
        let rule = AmountRule::parse(
            &json!({"per_fact": "employee_count", "fen_each": 100000, "cap_fen": 2000000}),
        )
        .unwrap();
        let mut p = Profile::new();
        assert_eq!(rule.amount(&p), None, "no staff count on file: no guess");
        let (staff, _) = fact("employee_count").unwrap();
        p.set(staff, FactValue::Integer(12));
        assert_eq!(rule.amount(&p), Some(1_200_000));
        p.set(staff, FactValue::Integer(30));
        assert_eq!(rule.amount(&p), Some(2_000_000));
        assert_eq!(AmountRule::parse(&rule.to_json()).unwrap(), rule);
        let fixed = AmountRule::parse(&json!({"fixed_fen": 50000})).unwrap();
        assert_eq!(fixed.amount(&Profile::new()), Some(50000));
    }

    #[test]
    fn bad_amount_rules_name_their_key() {
        for (rule, path) in [
            (json!({"fixed_fen": 0}), "$.fixed_fen"),
            (json!({"fixed_fen": 1.5}), "$.fixed_fen"),
            (
                json!({"per_fact": "industry_code", "fen_each": 1}),
                "$.per_fact",
            ),
            (json!({"per_fact": "employee_count"}), "$.fen_each"),
            (
                json!({"per_fact": "employee_count", "fen_each": 1, "cap": 3}),
                "$.cap",
            ),
            (json!({"amount": 1}), "$"),
        ] {
            assert_eq!(AmountRule::parse(&rule).unwrap_err().path, path, "{rule}");
        }
    }

    #[test]
    fn a_batch_over_budget_is_refused_whole() {
        assert_eq!(
            check_budget(1_000_000, 400_000, [300_000, 300_000]),
            Ok(600_000)
        );
        let over = check_budget(1_000_000, 400_000, [300_000, 300_001]).unwrap_err();
        assert_eq!(over.remaining_fen, 600_000);
        assert_eq!(
            over.to_string(),
            "本批合计 6,000.01 元，超出预算余额 6,000.00 元"
        );
        assert_eq!(yuan(801_000_000), "8,010,000.00 元");
    }
}
