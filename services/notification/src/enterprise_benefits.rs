//! In-app messages for 免申即享 benefits, addressed to the enterprise (its
//! applicants and the agents it authorised see them): matched, confirmed,
//! paid. Amounts in 元, policies by their titles.

use yizhan_events::contracts::{BenefitConfirmed, BenefitMatched, BenefitPaid, BenefitRef};

use crate::store::NewMessage;

/// `1,234.56 元`, or 金额待核定 when the amount awaits a fact.
fn amount(benefit: &BenefitRef) -> String {
    let Some(fen) = benefit.amount_fen else {
        return "金额待核定".to_owned();
    };
    yizhan_types::money::yuan(fen)
}

fn to_enterprise(benefit: &BenefitRef, title: &str, body: String) -> NewMessage {
    NewMessage {
        recipient_user: None,
        recipient_uscc: Some(benefit.enterprise_uscc.clone()),
        recipient_dept: None,
        category: "benefit",
        title: title.to_owned(),
        body,
        link: Some(format!(
            "/api/v1/enterprises/{}/benefits",
            benefit.enterprise_uscc
        )),
    }
}

/// 无需申请: the enterprise meets a policy.
pub fn matched(e: BenefitMatched) -> NewMessage {
    let b = &e.benefit;
    to_enterprise(
        b,
        "免申即享：无需申请",
        format!(
            "无需申请，您符合《{}》，金额 {}。符合的条件：{}。经部门审核后直接兑现；如不需要可放弃，如有异议可提出。",
            b.policy_title,
            amount(b),
            e.reasons.join("；")
        ),
    )
}

/// Confirmed by the department, in a disbursement batch.
pub fn confirmed(e: BenefitConfirmed) -> NewMessage {
    let b = &e.benefit;
    to_enterprise(
        b,
        "免申即享：已确认兑现",
        format!(
            "无需申请，您符合《{}》，金额 {}，部门已审核确认，将随本批次发放。",
            b.policy_title,
            amount(b)
        ),
    )
}

/// Paid.
pub fn paid(e: BenefitPaid) -> NewMessage {
    let b = &e.benefit;
    to_enterprise(
        b,
        "免申即享：已发放",
        format!(
            "无需申请，您符合《{}》，金额 {}，已发放，请留意账户入账。",
            b.policy_title,
            amount(b)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_enterprise_reads_the_policy_and_the_amount_in_yuan() {
        let benefit = BenefitRef {
            candidate_id: "c".into(),
            policy_id: "p".into(),
            policy_title: "小型旅馆纾困补助".into(),
            department: "commerce".into(),
            enterprise_uscc: "91350100M000100Y43".into(),
            amount_fen: Some(123_456_789),
        };
        let m = matched(BenefitMatched {
            benefit: benefit.clone(),
            reasons: vec!["从业人数不超过50人（实际：12人）".into()],
            at: chrono::Utc::now(),
        });
        assert!(
            m.body
                .starts_with("无需申请，您符合《小型旅馆纾困补助》，金额 1,234,567.89 元"),
            "{}",
            m.body
        );
        assert_eq!(m.recipient_uscc.as_deref(), Some("91350100M000100Y43"));
        assert_eq!(
            amount(&BenefitRef {
                amount_fen: None,
                ..benefit
            }),
            "金额待核定"
        );
    }
}
