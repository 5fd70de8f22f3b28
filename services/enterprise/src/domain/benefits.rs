//! 免申即享 policies and their candidates: publishing a policy (rule,
//! amount, budget, validity window, all checked), and a candidate's way from
//! "matched" to "paid", declined or objected to.
//!
//! ```text
//!  matched 待审核 ──confirm──▶ 已确认 ──batch paid──▶ 已发放
//!     │                         │
//!     └──exclude (reason)──▶ 已排除    enterprise: decline ─▶ 企业放弃
//!                                      enterprise: object  ─▶ 有异议 (and a 诉求)
//! ```
//! The enterprise may decline or object while the candidate is matched or
//! confirmed, never after payment; an objection becomes a 诉求 to the
//! policy's department, which the caller files.

use chrono::NaiveDate;
use serde_json::Value;

use super::amount::AmountRule;
use super::rules::{Items, Rule, RuleError};

/// A policy that passed every check and may be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// Title shown to enterprises.
    pub title: String,
    /// Who is eligible.
    pub eligibility: Rule,
    /// How much each is paid.
    pub amount: AmountRule,
    /// Budget in 分.
    pub budget_fen: i64,
    /// First day the policy applies.
    pub valid_from: NaiveDate,
    /// Last day it applies.
    pub valid_until: NaiveDate,
}

/// A draft as an admin submits it.
#[derive(Debug, Clone)]
pub struct Draft<'a> {
    /// Title.
    pub title: &'a str,
    /// The eligibility rule's JSON.
    pub eligibility: &'a Value,
    /// The amount rule's JSON.
    pub amount: &'a Value,
    /// Budget in 分.
    pub budget_fen: i64,
    /// First day.
    pub valid_from: NaiveDate,
    /// Last day.
    pub valid_until: NaiveDate,
}

/// Why a draft cannot be published: the field (`eligibility.all[0].fact`)
/// and the reason in Chinese.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublishError {
    /// Field path in the draft.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

fn prefixed(field: &str, e: RuleError) -> PublishError {
    PublishError {
        field: format!("{field}{}", e.path.trim_start_matches('$')),
        message: e.message,
    }
}

impl Policy {
    /// Checks a draft for publishing on `today`: a title, a rule that names
    /// only known facts and items, an amount rule, a positive budget, and a
    /// window that ends no earlier than it starts and not in the past.
    pub fn publish(
        draft: &Draft<'_>,
        items: &dyn Items,
        today: NaiveDate,
    ) -> Result<Self, PublishError> {
        let fail = |field: &str, message: &str| PublishError {
            field: field.to_owned(),
            message: message.to_owned(),
        };
        let title = draft.title.trim();
        if title.is_empty() || title.chars().count() > 100 {
            return Err(fail("title", "请填写 1-100 字的政策名称"));
        }
        let eligibility =
            Rule::parse(draft.eligibility, items).map_err(|e| prefixed("eligibility", e))?;
        let amount = AmountRule::parse(draft.amount).map_err(|e| prefixed("amount", e))?;
        if draft.budget_fen <= 0 {
            return Err(fail("budget_fen", "预算应为正数（单位：分）"));
        }
        if draft.valid_until < draft.valid_from {
            return Err(fail("valid_until", "截止日期不能早于起始日期"));
        }
        if draft.valid_until < today {
            return Err(fail("valid_until", "截止日期已过，不能发布"));
        }
        Ok(Policy {
            title: title.to_owned(),
            eligibility,
            amount,
            budget_fen: draft.budget_fen,
            valid_from: draft.valid_from,
            valid_until: draft.valid_until,
        })
    }

    /// Whether matching may run on `day`.
    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        self.valid_from <= day && day <= self.valid_until
    }
}

/// Where a candidate stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Candidate {
    /// Matched by the rule; waiting for an officer.
    Matched,
    /// Confirmed by an officer; in or waiting for a batch.
    Confirmed,
    /// Excluded by an officer, with a reason.
    Excluded,
    /// Paid with its batch.
    Paid,
    /// The enterprise declined the benefit.
    Declined,
    /// The enterprise objected; a 诉求 carries the objection.
    Objected,
}

/// What happens to a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandidateAction {
    /// Officer confirms.
    Confirm,
    /// Officer excludes.
    Exclude,
    /// The batch it is in was paid.
    Pay,
    /// The enterprise declines.
    Decline,
    /// The enterprise objects.
    Object,
}

impl Candidate {
    /// Every state, in the order a candidate goes.
    pub const ALL: [Candidate; 6] = [
        Candidate::Matched,
        Candidate::Confirmed,
        Candidate::Excluded,
        Candidate::Paid,
        Candidate::Declined,
        Candidate::Objected,
    ];

    /// The code stored and sent (`matched` …).
    pub const fn code(self) -> &'static str {
        match self {
            Candidate::Matched => "matched",
            Candidate::Confirmed => "confirmed",
            Candidate::Excluded => "excluded",
            Candidate::Paid => "paid",
            Candidate::Declined => "declined",
            Candidate::Objected => "objected",
        }
    }

    /// The state of a stored code.
    pub fn from_code(code: &str) -> Option<Candidate> {
        Self::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The Chinese name shown to people.
    pub const fn name(self) -> &'static str {
        match self {
            Candidate::Matched => "待审核",
            Candidate::Confirmed => "已确认",
            Candidate::Excluded => "已排除",
            Candidate::Paid => "已发放",
            Candidate::Declined => "企业放弃",
            Candidate::Objected => "有异议",
        }
    }

    /// Applies `action`, or says in Chinese why it is not allowed now.
    pub fn apply(self, action: CandidateAction) -> Result<Candidate, String> {
        use Candidate as C;
        use CandidateAction as A;
        match (self, action) {
            (C::Matched, A::Confirm) => Ok(C::Confirmed),
            (C::Matched, A::Exclude) => Ok(C::Excluded),
            (C::Confirmed, A::Pay) => Ok(C::Paid),
            (C::Matched | C::Confirmed, A::Decline) => Ok(C::Declined),
            (C::Matched | C::Confirmed, A::Object) => Ok(C::Objected),
            (state, action) => Err(format!(
                "当前为“{}”，不能{}",
                state.name(),
                match action {
                    A::Confirm => "确认",
                    A::Exclude => "排除",
                    A::Pay => "发放",
                    A::Decline => "放弃",
                    A::Object => "提出异议",
                }
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn items(code: &str) -> Option<String> {
        (code == "special_trade_permit_hotel").then(|| "特种行业许可证（旅馆业）".to_owned())
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn publishing_checks_every_part_and_names_the_field() {
        let rule = json!({"all": [{"licence": "special_trade_permit_hotel"}, {"fact": "size_class", "in": ["small"]}]});
        let amount = json!({"fixed_fen": 500000});
        let draft = Draft {
            title: "小型旅馆纾困补助",
            eligibility: &rule,
            amount: &amount,
            budget_fen: 80_100_000_000,
            valid_from: day("2026-12-01"),
            valid_until: day("2027-03-31"),
        };
        let today = day("2026-12-03");
        let policy = Policy::publish(&draft, &items, today).unwrap();
        assert!(policy.in_force_on(today));
        assert!(!policy.in_force_on(day("2027-04-01")));

        let bad_rule = json!({"all": [{"licence": "special_trade_permit_hotel"}, {"fact": "size", "in": ["small"]}]});
        let err = Policy::publish(
            &Draft {
                eligibility: &bad_rule,
                ..draft.clone()
            },
            &items,
            today,
        )
        .unwrap_err();
        assert_eq!(err.field, "eligibility.all[1].fact");
        assert!(
            err.message.starts_with("未知的事实“size”"),
            "{}",
            err.message
        );

        let bad_amount = json!({"fixed_fen": -1});
        let err = Policy::publish(
            &Draft {
                amount: &bad_amount,
                ..draft.clone()
            },
            &items,
            today,
        )
        .unwrap_err();
        assert_eq!(err.field, "amount.fixed_fen");

        let err = Policy::publish(
            &Draft {
                budget_fen: 0,
                ..draft.clone()
            },
            &items,
            today,
        )
        .unwrap_err();
        assert_eq!(err.field, "budget_fen");
        let err = Policy::publish(
            &Draft {
                valid_until: day("2026-11-30"),
                ..draft.clone()
            },
            &items,
            today,
        )
        .unwrap_err();
        assert_eq!(
            (err.field.as_str(), err.message.as_str()),
            ("valid_until", "截止日期不能早于起始日期")
        );
        let err = Policy::publish(
            &Draft {
                valid_from: day("2026-01-01"),
                valid_until: day("2026-06-30"),
                ..draft.clone()
            },
            &items,
            today,
        )
        .unwrap_err();
        assert_eq!(err.message, "截止日期已过，不能发布");
        let err = Policy::publish(
            &Draft {
                title: "  ",
                ..draft
            },
            &items,
            today,
        )
        .unwrap_err();
        assert_eq!(err.field, "title");
    }

    #[test]
    fn a_candidate_is_paid_only_after_confirmation_and_never_declined_after() {
        use CandidateAction::*;
        let paid = Candidate::Matched
            .apply(Confirm)
            .unwrap()
            .apply(Pay)
            .unwrap();
        assert_eq!(paid, Candidate::Paid);
        assert_eq!(
            Candidate::Matched.apply(Pay).unwrap_err(),
            "当前为“待审核”，不能发放"
        );
        assert_eq!(paid.apply(Decline).unwrap_err(), "当前为“已发放”，不能放弃");
        assert_eq!(Candidate::Confirmed.apply(Object), Ok(Candidate::Objected));
        assert_eq!(Candidate::Matched.apply(Exclude), Ok(Candidate::Excluded));
        assert!(Candidate::Excluded.apply(Confirm).is_err());
        assert!(Candidate::Declined.apply(Object).is_err());
    }
}
