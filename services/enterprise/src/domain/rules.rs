//! The eligibility rule language of 免申即享 policies.
//!
//! A rule is JSON, one of:
//!
//! | form | meaning |
//! |---|---|
//! | `{"all": [r, …]}` | every rule holds (at least one rule) |
//! | `{"any": [r, …]}` | at least one rule holds (at least one rule) |
//! | `{"not": r}` | `r` does not hold |
//! | `{"fact": "employee_count", "op": "ge", "value": 10}` | comparison: `eq` `ne` for every fact, `lt` `le` `gt` `ge` for numbers and dates |
//! | `{"fact": "industry_code", "in": ["I65", "I64"]}` | set membership (1-500 values) |
//! | `{"licence": "special_trade_permit_hotel", "issued_after": "2026-01-01"}` | holds a licence for the item, in force on the day of matching, issued on or after the date (`issued_after` optional) |
//!
//! Facts are those of [`super::facts::FACTS`]. A fact the enterprise has no
//! value for makes its comparison false (an unknown is never eligible), and
//! `not` of it true only if the officer wrote it that way. Rules nest at
//! most 8 deep.
//!
//! Written by hand rather than with a generic expression engine: the
//! language is six forms, every error must name its place in the rule in
//! Chinese, and the matcher must explain each match in words.

use chrono::NaiveDate;
use serde_json::{Map, Value, json};

use super::facts::{FACTS, FactIndex, FactKind, FactValue, Profile, fact};

/// Deepest nesting of `all`/`any`/`not` accepted.
pub const MAX_DEPTH: usize = 8;
/// Most values in one `in` list.
pub const MAX_IN_VALUES: usize = 500;

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
}

impl Op {
    const ALL: [(Op, &'static str, &'static str); 6] = [
        (Op::Eq, "eq", "等于"),
        (Op::Ne, "ne", "不等于"),
        (Op::Lt, "lt", "小于"),
        (Op::Le, "le", "不超过"),
        (Op::Gt, "gt", "大于"),
        (Op::Ge, "ge", "不少于"),
    ];

    fn code(self) -> &'static str {
        Self::ALL.iter().find(|(op, ..)| *op == self).unwrap().1
    }

    fn words(self) -> &'static str {
        Self::ALL.iter().find(|(op, ..)| *op == self).unwrap().2
    }

    fn holds(self, actual: &FactValue, wanted: &FactValue) -> bool {
        match self {
            Op::Eq => actual == wanted,
            Op::Ne => actual != wanted,
            Op::Lt => actual < wanted,
            Op::Le => actual <= wanted,
            Op::Gt => actual > wanted,
            Op::Ge => actual >= wanted,
        }
    }
}

/// A rule that parsed: every fact known, every value of its fact's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// Every rule holds.
    All(Vec<Rule>),
    /// At least one rule holds.
    Any(Vec<Rule>),
    /// The rule does not hold.
    Not(Box<Rule>),
    /// A fact compared with a value.
    Compare {
        /// Which fact.
        fact: FactIndex,
        /// How.
        op: Op,
        /// With what.
        value: FactValue,
    },
    /// A fact's value is one of a set.
    In {
        /// Which fact.
        fact: FactIndex,
        /// The set as written (duplicates dropped): shown to people in the
        /// officer's order.
        values: Vec<FactValue>,
        /// The same set sorted, for binary search while matching.
        sorted: Vec<FactValue>,
    },
    /// Holds a licence for an item.
    Licence {
        /// Item code.
        item: String,
        /// Issued on or after this day, if given.
        issued_after: Option<NaiveDate>,
    },
}

/// Why a rule was refused: where in the rule (`all[1].value`) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleError {
    /// Path from the rule's root, `$` for the root itself.
    pub path: String,
    /// What is wrong, in Chinese.
    pub message: String,
}

impl std::fmt::Display for RuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}：{}", self.path, self.message)
    }
}

impl std::error::Error for RuleError {}

/// What a rule's reader must know from outside the rule: the licence items
/// that exist, with their Chinese names.
pub trait Items {
    /// The Chinese name of an item, or `None` when there is no such item.
    fn item_name(&self, code: &str) -> Option<String>;
}

impl<F: Fn(&str) -> Option<String>> Items for F {
    fn item_name(&self, code: &str) -> Option<String> {
        self(code)
    }
}

impl Rule {
    /// Reads a rule, refusing anything the matcher could not evaluate
    /// exactly: unknown facts or items, values of the wrong kind, order
    /// comparisons on text, empty lists, stray keys, deep nesting.
    pub fn parse(value: &Value, items: &dyn Items) -> Result<Rule, RuleError> {
        parse_at(value, items, "$", 0)
    }

    /// The rule in its JSON form (what [`Rule::parse`] reads).
    pub fn to_json(&self) -> Value {
        match self {
            Rule::All(rules) => json!({"all": rules.iter().map(Rule::to_json).collect::<Vec<_>>()}),
            Rule::Any(rules) => json!({"any": rules.iter().map(Rule::to_json).collect::<Vec<_>>()}),
            Rule::Not(rule) => json!({"not": rule.to_json()}),
            Rule::Compare { fact, op, value } => {
                json!({"fact": FACTS[*fact].key, "op": op.code(), "value": value})
            }
            Rule::In { fact, values, .. } => json!({"fact": FACTS[*fact].key, "in": values}),
            Rule::Licence { item, issued_after } => match issued_after {
                Some(day) => json!({"licence": item, "issued_after": day}),
                None => json!({"licence": item}),
            },
        }
    }

    /// Whether `profile` satisfies the rule on `day`. Allocates nothing:
    /// this is the inner loop of matching a policy against every profile.
    pub fn holds(&self, profile: &Profile, day: NaiveDate) -> bool {
        match self {
            Rule::All(rules) => rules.iter().all(|r| r.holds(profile, day)),
            Rule::Any(rules) => rules.iter().any(|r| r.holds(profile, day)),
            Rule::Not(rule) => !rule.holds(profile, day),
            Rule::Compare { fact, op, value } => profile
                .get(*fact)
                .is_some_and(|actual| op.holds(actual, value)),
            Rule::In { fact, sorted, .. } => profile
                .get(*fact)
                .is_some_and(|actual| sorted.binary_search(actual).is_ok()),
            Rule::Licence { item, issued_after } => profile.licences.iter().any(|l| {
                l.item == *item
                    && l.in_force_on(day)
                    && issued_after.is_none_or(|after| l.issued_on >= after)
            }),
        }
    }

    /// Why the rule holds for `profile` on `day`, in Chinese, one line per
    /// deciding condition; `None` when it does not hold. For `any`, the
    /// first branch that holds is the reason recorded with the match.
    pub fn explain(
        &self,
        profile: &Profile,
        day: NaiveDate,
        items: &dyn Items,
    ) -> Option<Vec<String>> {
        if !self.holds(profile, day) {
            return None;
        }
        let mut lines = Vec::new();
        self.reasons(profile, day, items, &mut lines);
        Some(lines)
    }

    fn reasons(&self, profile: &Profile, day: NaiveDate, items: &dyn Items, out: &mut Vec<String>) {
        match self {
            Rule::All(rules) => rules
                .iter()
                .for_each(|r| r.reasons(profile, day, items, out)),
            Rule::Any(rules) => {
                if let Some(rule) = rules.iter().find(|r| r.holds(profile, day)) {
                    rule.reasons(profile, day, items, out);
                }
            }
            Rule::Not(rule) => out.push(format!("不满足：{}", rule.describe(items))),
            Rule::Compare { fact, .. } | Rule::In { fact, .. } => {
                let def = &FACTS[*fact];
                let actual = profile
                    .get(*fact)
                    .map_or_else(String::new, |v| v.display(def));
                out.push(format!("{}（实际：{actual}）", self.describe(items)));
            }
            Rule::Licence { item, .. } => {
                let held = profile
                    .licences
                    .iter()
                    .filter(|l| l.item == *item && l.in_force_on(day))
                    .map(|l| l.issued_on)
                    .max();
                let issued = held.map_or_else(String::new, |d| d.format("%Y-%m-%d").to_string());
                out.push(format!("{}（发证日期：{issued}）", self.describe(items)));
            }
        }
    }

    /// The rule in words, as an officer reads it on the policy page.
    pub fn describe(&self, items: &dyn Items) -> String {
        let join = |rules: &[Rule], word: &str| {
            rules
                .iter()
                .map(|r| match r {
                    Rule::All(_) | Rule::Any(_) => format!("（{}）", r.describe(items)),
                    _ => r.describe(items),
                })
                .collect::<Vec<_>>()
                .join(word)
        };
        match self {
            Rule::All(rules) => join(rules, "，且"),
            Rule::Any(rules) => join(rules, "，或"),
            Rule::Not(rule) => format!("并非（{}）", rule.describe(items)),
            Rule::Compare { fact, op, value } => {
                let def = &FACTS[*fact];
                format!("{}{}{}", def.name, op.words(), value.display(def))
            }
            Rule::In { fact, values, .. } => {
                let def = &FACTS[*fact];
                let shown: Vec<String> = values.iter().map(|v| v.display(def)).collect();
                format!("{}为{}之一", def.name, shown.join("、"))
            }
            Rule::Licence { item, issued_after } => {
                let name = items.item_name(item).unwrap_or_else(|| item.clone());
                match issued_after {
                    Some(day) => format!("持有有效的“{name}”，且发证日期不早于 {day}"),
                    None => format!("持有有效的“{name}”"),
                }
            }
        }
    }
}

fn error(path: &str, message: impl Into<String>) -> RuleError {
    RuleError {
        path: path.to_owned(),
        message: message.into(),
    }
}

/// Refuses keys other than `allowed`, so a misspelt `"isued_after"` is an
/// error and not a silently broader rule.
fn only_keys(map: &Map<String, Value>, allowed: &[&str], path: &str) -> Result<(), RuleError> {
    match map.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(stray) => Err(error(
            &format!("{path}.{stray}"),
            format!("不认识的键（此处可用：{}）", allowed.join("、")),
        )),
        None => Ok(()),
    }
}

fn parse_list(
    list: &Value,
    items: &dyn Items,
    path: &str,
    depth: usize,
) -> Result<Vec<Rule>, RuleError> {
    let list = list
        .as_array()
        .filter(|l| !l.is_empty())
        .ok_or_else(|| error(path, "应为至少含一条规则的数组"))?;
    list.iter()
        .enumerate()
        .map(|(i, rule)| parse_at(rule, items, &format!("{path}[{i}]"), depth + 1))
        .collect()
}

fn parse_at(value: &Value, items: &dyn Items, path: &str, depth: usize) -> Result<Rule, RuleError> {
    if depth > MAX_DEPTH {
        return Err(error(path, format!("规则嵌套超过 {MAX_DEPTH} 层")));
    }
    let map = value
        .as_object()
        .ok_or_else(|| error(path, "规则应为 JSON 对象"))?;
    if let Some(list) = map.get("all") {
        only_keys(map, &["all"], path)?;
        return parse_list(list, items, &format!("{path}.all"), depth).map(Rule::All);
    }
    if let Some(list) = map.get("any") {
        only_keys(map, &["any"], path)?;
        return parse_list(list, items, &format!("{path}.any"), depth).map(Rule::Any);
    }
    if let Some(inner) = map.get("not") {
        only_keys(map, &["not"], path)?;
        return parse_at(inner, items, &format!("{path}.not"), depth + 1)
            .map(|r| Rule::Not(Box::new(r)));
    }
    if let Some(item) = map.get("licence") {
        only_keys(map, &["licence", "issued_after"], path)?;
        let item_path = format!("{path}.licence");
        let item = item
            .as_str()
            .ok_or_else(|| error(&item_path, "应为事项编码"))?;
        if items.item_name(item).is_none() {
            return Err(error(&item_path, format!("未知的事项“{item}”")));
        }
        let issued_after = match map.get("issued_after") {
            None => None,
            Some(day) => match FactValue::parse(FactKind::Date, day) {
                Ok(FactValue::Date(day)) => Some(day),
                _ => {
                    return Err(error(
                        &format!("{path}.issued_after"),
                        "应为日期（YYYY-MM-DD）",
                    ));
                }
            },
        };
        return Ok(Rule::Licence {
            item: item.to_owned(),
            issued_after,
        });
    }
    let Some(key) = map.get("fact") else {
        return Err(error(path, "规则应含 all、any、not、fact 或 licence 之一"));
    };
    let fact_path = format!("{path}.fact");
    let key = key
        .as_str()
        .ok_or_else(|| error(&fact_path, "应为事实名称"))?;
    let (index, def) = fact(key).ok_or_else(|| {
        let known: Vec<String> = FACTS
            .iter()
            .map(|f| format!("{}（{}）", f.key, f.name))
            .collect();
        error(
            &fact_path,
            format!("未知的事实“{key}”；可用：{}", known.join("、")),
        )
    })?;
    if let Some(list) = map.get("in") {
        only_keys(map, &["fact", "in"], path)?;
        let in_path = format!("{path}.in");
        let list = list
            .as_array()
            .filter(|l| (1..=MAX_IN_VALUES).contains(&l.len()))
            .ok_or_else(|| error(&in_path, format!("应为 1-{MAX_IN_VALUES} 个取值的数组")))?;
        let mut values: Vec<FactValue> = Vec::with_capacity(list.len());
        for (i, v) in list.iter().enumerate() {
            let value = FactValue::parse(def.kind, v)
                .map_err(|why| error(&format!("{in_path}[{i}]"), format!("{}{why}", def.name)))?;
            if !values.contains(&value) {
                values.push(value);
            }
        }
        let mut sorted = values.clone();
        sorted.sort();
        return Ok(Rule::In {
            fact: index,
            values,
            sorted,
        });
    }
    only_keys(map, &["fact", "op", "value"], path)?;
    let op_path = format!("{path}.op");
    let op = map
        .get("op")
        .and_then(Value::as_str)
        .and_then(|code| Op::ALL.iter().find(|(_, c, _)| *c == code))
        .map(|(op, ..)| *op)
        .ok_or_else(|| error(&op_path, "应为 eq、ne、lt、le、gt、ge 之一（或改用 in）"))?;
    if !matches!(op, Op::Eq | Op::Ne) && !matches!(def.kind, FactKind::Integer | FactKind::Date) {
        return Err(error(
            &op_path,
            format!("“{}”不是数值或日期，只能用 eq、ne 或 in", def.name),
        ));
    }
    let value_path = format!("{path}.value");
    let value = map
        .get("value")
        .ok_or_else(|| error(&value_path, "缺少比较的取值"))?;
    let value = FactValue::parse(def.kind, value)
        .map_err(|why| error(&value_path, format!("{}{why}", def.name)))?;
    Ok(Rule::Compare {
        fact: index,
        op,
        value,
    })
}

#[cfg(test)]
mod tests;
