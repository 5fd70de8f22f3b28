//! The 免申即享 bodies the routes answer with (policies, candidates,
//! batches), and how a stored row becomes one.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::amount::yuan;
use crate::domain::benefits::Candidate;
use crate::store::benefits::{Batch, CandidateRow, PolicyRow};

/// A policy as an admin submits it.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({
    "title": "小型旅馆纾困补助",
    "department": "commerce",
    "eligibility": {"all": [
        {"licence": "special_trade_permit_hotel", "issued_after": "2026-01-01"},
        {"fact": "employee_count", "op": "le", "value": 50}
    ]},
    "amount": {"fixed_fen": 500000},
    "budget_fen": 100000000,
    "valid_from": "2026-12-01",
    "valid_until": "2027-03-31"
}))]
pub struct PolicyDraft {
    /// Title shown to enterprises (1-100 characters).
    pub title: String,
    /// Code of the department that reviews and pays.
    pub department: String,
    /// Eligibility rule (docs/ENTERPRISE.md).
    #[schema(value_type = Object)]
    pub eligibility: serde_json::Value,
    /// Amount rule (`fixed_fen` or `per_fact`).
    #[schema(value_type = Object)]
    pub amount: serde_json::Value,
    /// Budget, 分.
    pub budget_fen: i64,
    /// First day.
    pub valid_from: NaiveDate,
    /// Last day.
    pub valid_until: NaiveDate,
}

/// A published policy.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193aa00-0000-7000-8000-000000000010", "title": "小型旅馆纾困补助",
    "department": "commerce",
    "eligibility": {"licence": "special_trade_permit_hotel"}, "amount": {"fixed_fen": 500000},
    "budget_fen": 100000000, "budget": "1,000,000.00 元", "committed_fen": 0,
    "remaining": "1,000,000.00 元", "valid_from": "2026-12-01", "valid_until": "2027-03-31",
    "matched": 2
}))]
pub struct PolicyView {
    /// Id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Department code.
    pub department: String,
    /// Eligibility rule as stored.
    #[schema(value_type = Object)]
    pub eligibility: serde_json::Value,
    /// Amount rule as stored.
    #[schema(value_type = Object)]
    pub amount: serde_json::Value,
    /// Budget, 分.
    pub budget_fen: i64,
    /// Budget in 元.
    pub budget: String,
    /// Committed by batches, 分.
    pub committed_fen: i64,
    /// What is left, in 元.
    pub remaining: String,
    /// First day.
    pub valid_from: NaiveDate,
    /// Last day.
    pub valid_until: NaiveDate,
    /// Enterprises matched when published (list views: absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<i64>,
}

pub(crate) fn policy_view(p: &PolicyRow, matched: Option<i64>) -> PolicyView {
    PolicyView {
        id: p.id.clone(),
        title: p.title.clone(),
        department: p.department.clone(),
        eligibility: serde_json::from_str(&p.eligibility).unwrap_or_default(),
        amount: serde_json::from_str(&p.amount).unwrap_or_default(),
        budget_fen: p.budget_fen,
        budget: yuan(p.budget_fen),
        committed_fen: p.committed_fen,
        remaining: yuan(p.budget_fen - p.committed_fen),
        valid_from: p.valid_from,
        valid_until: p.valid_until,
        matched,
    }
}

/// One candidate (an officer's view) or benefit (the enterprise's).
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "0193aa00-0000-7000-8000-000000000011", "policy_id": "0193aa00-0000-7000-8000-000000000010",
    "policy_title": "小型旅馆纾困补助", "enterprise_uscc": "91350100M000100Y43",
    "enterprise_name": "榕城酒店有限公司", "state": "matched", "state_name": "待审核",
    "amount_fen": 500000, "amount": "5,000.00 元",
    "message": "无需申请，您符合《小型旅馆纾困补助》，金额 5,000.00 元",
    "reasons": ["持有有效的特种行业许可（旅馆业）（发证日期：2026-12-03）"],
    "note": null, "batch_id": null
}))]
pub struct CandidateView {
    /// Id.
    pub id: String,
    /// Policy id.
    pub policy_id: String,
    /// Policy title.
    pub policy_title: String,
    /// The enterprise.
    pub enterprise_uscc: String,
    /// Its name.
    pub enterprise_name: Option<String>,
    /// `matched`, `confirmed`, `excluded`, `paid`, `declined`, `objected`.
    pub state: String,
    /// 待审核, 已确认, 已排除, 已发放, 企业放弃, 有异议.
    pub state_name: String,
    /// Amount, 分, when known.
    pub amount_fen: Option<i64>,
    /// Amount in 元, or 金额待核定.
    pub amount: String,
    /// What the enterprise is told.
    pub message: String,
    /// Why it matched.
    pub reasons: Vec<String>,
    /// Exclusion, decline or objection reason.
    pub note: Option<String>,
    /// The disbursement batch.
    pub batch_id: Option<String>,
}

pub(crate) fn candidate_view(c: &CandidateRow, p: &PolicyRow) -> CandidateView {
    let state = Candidate::from_code(&c.state).unwrap_or(Candidate::Matched);
    let amount = c.amount_fen.map_or_else(|| "金额待核定".to_owned(), yuan);
    CandidateView {
        id: c.id.clone(),
        policy_id: p.id.clone(),
        policy_title: p.title.clone(),
        enterprise_uscc: c.enterprise_uscc.clone(),
        enterprise_name: c.enterprise_name.clone(),
        state: state.code().to_owned(),
        state_name: state.name().to_owned(),
        amount_fen: c.amount_fen,
        message: format!("无需申请，您符合《{}》，金额 {amount}", p.title),
        amount,
        reasons: serde_json::from_str(&c.reasons).unwrap_or_default(),
        note: c.note.clone(),
        batch_id: c.batch_id.clone(),
    }
}

/// A list of candidates or benefits.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": []}))]
pub struct CandidateList {
    /// Entries.
    pub items: Vec<CandidateView>,
}

/// The policies.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"items": []}))]
pub struct PolicyList {
    /// Policies, newest first.
    pub items: Vec<PolicyView>,
}

/// A disbursement batch and its benefits.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"id": "0193aa00-0000-7000-8000-000000000020",
    "policy_id": "0193aa00-0000-7000-8000-000000000010", "state": "confirmed",
    "total_fen": 1000000, "total": "10,000.00 元", "items": []}))]
pub struct BatchView {
    /// Id.
    pub id: String,
    /// Policy id.
    pub policy_id: String,
    /// `confirmed` or `paid`.
    pub state: String,
    /// Sum, 分.
    pub total_fen: i64,
    /// Sum in 元.
    pub total: String,
    /// Its benefits (on payment: those paid).
    pub items: Vec<CandidateView>,
}

pub(crate) fn batch_view(b: &Batch, p: &PolicyRow, members: &[CandidateRow]) -> BatchView {
    BatchView {
        id: b.id.clone(),
        policy_id: p.id.clone(),
        state: b.state.clone(),
        total_fen: b.total_fen,
        total: yuan(b.total_fen),
        items: members.iter().map(|c| candidate_view(c, p)).collect(),
    }
}
