//! 联办申请 — the combined application's own status, and the rule that
//! turns its tasks' decisions into one outcome (一标核准).
//!
//! **Rule on rejection.** The bundle is one licence: when any item is
//! rejected (BLZT 13) the bundle is refused (`refused`, 不予许可) at once and
//! no licence is requested. The other departments' tasks stay in their
//! queues and may still be decided; their decisions are recorded but cannot
//! change the outcome. The applicant files a new application once the
//! rejected item's problem is fixed. (Withdrawing one item and proceeding
//! with the rest is left for later.)
//!
//! **Rule on 容缺受理.** An application accepted with tolerance owes some
//! non-key materials by a due date. Departments review meanwhile; an
//! approval given while materials are owed is 办结（容缺通过）(BLZT 12).
//! The bundle is approved, and the licence requested, only once nothing is
//! owed. If the due date passes first, the application is stopped
//! (`terminated`): running tasks are withdrawn (BLZT 14), approvals given
//! with tolerance are revoked (BLZT 15), and no licence is issued.
//!
//! **Lifecycle.** A change (变更), renewal (延续) or cancellation (注销) is a
//! new application against an issued licence (its `predecessor`). A change
//! is reviewed by the items whose form fields it changes, a renewal by
//! every item; when the new licence is issued the old one becomes 失效 (05).
//! A cancellation has no review: accepting it at the window cancels the
//! licence (注销, 04).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yizhan_approval::Status;

/// 申请状态 — where a combined application stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationStatus {
    /// 已接件: submitted, waiting for intake (BLZT 1).
    Submitted,
    /// 不受理（待补齐）: returned with the one-time notice (BLZT 4).
    Returned,
    /// 并联审批中: accepted; departments review in parallel (BLZT 3).
    InReview,
    /// 审批通过（待发证）: every item approved; licence requested.
    Approved,
    /// 不予许可: an item was rejected.
    Refused,
    /// 已发证: the comprehensive licence was issued.
    LicenceIssued,
    /// 已出件: handed out at the window.
    HandedOut,
    /// 已终止: stopped because materials owed under 容缺受理 did not arrive
    /// by the due date.
    Terminated,
    /// 已注销: a cancellation was accepted; the licence is cancelled.
    Cancelled,
}

impl ApplicationStatus {
    /// Every status.
    pub const ALL: [Self; 9] = [
        Self::Submitted,
        Self::Returned,
        Self::InReview,
        Self::Approved,
        Self::Refused,
        Self::LicenceIssued,
        Self::HandedOut,
        Self::Terminated,
        Self::Cancelled,
    ];

    /// Wire name, as stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Returned => "returned",
            Self::InReview => "in_review",
            Self::Approved => "approved",
            Self::Refused => "refused",
            Self::LicenceIssued => "licence_issued",
            Self::HandedOut => "handed_out",
            Self::Terminated => "terminated",
            Self::Cancelled => "cancelled",
        }
    }

    /// zh-CN name.
    pub const fn zh_name(self) -> &'static str {
        match self {
            Self::Submitted => "已接件",
            Self::Returned => "不受理（待补齐）",
            Self::InReview => "并联审批中",
            Self::Approved => "审批通过（待发证）",
            Self::Refused => "不予许可",
            Self::LicenceIssued => "已发证",
            Self::HandedOut => "已出件",
            Self::Terminated => "已终止（容缺材料逾期未补）",
            Self::Cancelled => "已注销",
        }
    }

    /// The status for a stored name.
    pub fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The application's intake status in BLZT terms: 1, 4 or 3 once
    /// accepted (its items carry their own codes from then on).
    pub const fn intake_status(self) -> Status {
        match self {
            Self::Submitted => Status::Received,
            Self::Returned => Status::Returned,
            _ => Status::Accepted,
        }
    }
}

/// 申请类型 — what an application asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationKind {
    /// 新办: a first comprehensive licence.
    New,
    /// 变更: change what an issued licence says.
    Change,
    /// 延续: renew an issued licence for another term.
    Renewal,
    /// 注销: cancel an issued licence.
    Cancellation,
}

impl ApplicationKind {
    /// Every kind.
    pub const ALL: [Self; 4] = [Self::New, Self::Change, Self::Renewal, Self::Cancellation];

    /// Wire name, as stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Change => "change",
            Self::Renewal => "renewal",
            Self::Cancellation => "cancellation",
        }
    }

    /// zh-CN name.
    pub const fn zh_name(self) -> &'static str {
        match self {
            Self::New => "新办",
            Self::Change => "变更",
            Self::Renewal => "延续",
            Self::Cancellation => "注销",
        }
    }

    /// The kind for a stored name.
    pub fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What the bundle's outcome is after a task decision, given every task's
/// status (the one just decided included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BundleOutcome {
    /// Still waiting for decisions.
    Pending,
    /// Every item approved.
    Approved,
    /// At least one item rejected.
    Refused,
}

/// The bundle outcome under the rule in the module docs.
pub fn bundle_outcome(tasks: &[Status]) -> BundleOutcome {
    if tasks.contains(&Status::Rejected) {
        BundleOutcome::Refused
    } else if !tasks.is_empty()
        && tasks
            .iter()
            .all(|s| matches!(s, Status::Approved | Status::ApprovedWithTolerance))
    {
        BundleOutcome::Approved
    } else {
        BundleOutcome::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_rule() {
        use Status::*;
        assert_eq!(
            bundle_outcome(&[Approved, InReview]),
            BundleOutcome::Pending
        );
        assert_eq!(
            bundle_outcome(&[Approved, Approved]),
            BundleOutcome::Approved
        );
        assert_eq!(
            bundle_outcome(&[Approved, Rejected, InReview]),
            BundleOutcome::Refused
        );
        assert_eq!(bundle_outcome(&[]), BundleOutcome::Pending);
    }

    #[test]
    fn names_round_trip() {
        for s in ApplicationStatus::ALL {
            assert_eq!(ApplicationStatus::from_wire(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(ApplicationStatus::Submitted.intake_status().code(), 1);
        assert_eq!(ApplicationStatus::Returned.intake_status().code(), 4);
        for k in ApplicationKind::ALL {
            assert_eq!(ApplicationKind::from_wire(k.as_str()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }
}
