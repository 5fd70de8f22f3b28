//! 事项实例状态机 — the life of one item instance (one permit item of one
//! application, reviewed by one department), in our own terms and in the
//! national 办理状态 (BLZT) codes partner systems already speak.
//!
//! [`apply`] is the whole machine: a [`Status`] and a [`Command`] give the
//! next status or a [`TransitionError`] (409 at the HTTP edge). Which
//! commands move the SLA clock is [`Command::clock_effect`].
//!
//! | from (BLZT) | command | to |
//! |---|---|---|
//! | 1 已接件 | `Accept` 受理 | 3 已受理 |
//! | 1 已接件 | `ReturnForCorrection` 退回补齐（不受理） | 4 不受理 |
//! | 1 已接件 | `RefuseIntake` 不予受理 | 5 不予受理 |
//! | 1, 4 | `Recall` 撤件 | 2 已撤件 |
//! | 4 不受理 | `Resubmit` 重新提交 | 1 已接件 |
//! | 3, 7, 10 | `StartReview` 开始办理 | 8 部门开始办理 |
//! | 8, 7, 10 | `RequestSupplement` 要求补正 | 6 补正（开始） |
//! | 6 补正（开始） | `ReceiveSupplement` 补正材料已收到 | 7 补正（结束） |
//! | 8, 7, 10 | `StartSpecialProcedure` 启动特别程序 | 9 特别程序（开始） |
//! | 9 特别程序（开始） | `EndSpecialProcedure` 结束特别程序 | 10 特别程序（结束） |
//! | 8, 7, 10 | `Approve` 审批通过 | 11 办结（通过） |
//! | 8, 7, 10 | `ApproveWithTolerance` 容缺/承诺通过 | 12 办结（容缺通过） |
//! | 8, 7, 10 | `Reject` 审批不通过 | 13 办结（不通过） |
//! | 3, 6, 7, 8, 9, 10 | `Withdraw` 申请人撤回 | 14 撤回 |
//! | 11, 12 | `Revoke` 撤销 | 15 撤销 |
//!
//! Everything else is refused.
//!
//! **7 and 10 are review states.** 补正（结束） and 特别程序（结束） record
//! that the pause is over and the department holds the file again, so they
//! accept every command 8 accepts; `StartReview` moves them to 8 explicitly
//! for partners that expect to see 部门开始办理 again. Decisions are not
//! taken *during* 6 or 9: the pause has to end first, which also restarts
//! the clock, so the time it took is on record.
//!
//! **4 versus 5.** 不受理 (4) is the window handing an incomplete file back
//! with the one-time list of deficiencies (一次性告知); the applicant may
//! correct and resubmit the same application (`Resubmit`, back to 1) or
//! abandon it (`Recall`, 2). 不予受理 (5) is the formal decision not to
//! accept (行政许可法 Art. 32: not this authority's matter, or not
//! admissible) and is final.
//!
//! **Terminal.** 2, 5, 13, 14 and 15 accept nothing. 11 and 12 accept only
//! `Revoke`: a permit granted on a commitment (告知承诺制) or with materials
//! still owed (容缺) is revoked if the check afterwards fails, and any permit
//! can be revoked under 行政许可法 Art. 69.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::sla::PauseReason;

/// 办理状态 — the status of one item instance, each with its BLZT code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 1 已接件: received at the window, not yet accepted.
    Received,
    /// 2 已撤件: the applicant took it back before acceptance.
    ReceiptRecalled,
    /// 3 已受理: accepted; the clock runs.
    Accepted,
    /// 4 不受理: handed back incomplete with the one-time notice; may be
    /// resubmitted.
    Returned,
    /// 5 不予受理: formally refused at intake.
    IntakeRefused,
    /// 6 补正（开始）: supplement requested; the clock is paused.
    SupplementRequested,
    /// 7 补正（结束）: supplement received; back in review.
    SupplementReceived,
    /// 8 部门开始办理: the department is reviewing.
    InReview,
    /// 9 特别程序（开始）: hearing, testing, expert review…; the clock is paused.
    SpecialProcedure,
    /// 10 特别程序（结束）: special procedure over; back in review.
    SpecialProcedureEnded,
    /// 11 办结（通过）: approved.
    Approved,
    /// 12 办结（容缺通过）: approved with materials still owed (容缺) or on
    /// the applicant's commitment (告知承诺制), to be verified.
    ApprovedWithTolerance,
    /// 13 办结（不通过）: rejected.
    Rejected,
    /// 14 撤回: the applicant withdrew after acceptance.
    Withdrawn,
    /// 15 撤销: an approval revoked.
    Revoked,
}

impl Status {
    /// Every status, in BLZT code order.
    pub const ALL: [Self; 15] = [
        Self::Received,
        Self::ReceiptRecalled,
        Self::Accepted,
        Self::Returned,
        Self::IntakeRefused,
        Self::SupplementRequested,
        Self::SupplementReceived,
        Self::InReview,
        Self::SpecialProcedure,
        Self::SpecialProcedureEnded,
        Self::Approved,
        Self::ApprovedWithTolerance,
        Self::Rejected,
        Self::Withdrawn,
        Self::Revoked,
    ];

    /// The national 办理状态 (BLZT) code, 1–15.
    pub const fn code(self) -> u8 {
        match self {
            Self::Received => 1,
            Self::ReceiptRecalled => 2,
            Self::Accepted => 3,
            Self::Returned => 4,
            Self::IntakeRefused => 5,
            Self::SupplementRequested => 6,
            Self::SupplementReceived => 7,
            Self::InReview => 8,
            Self::SpecialProcedure => 9,
            Self::SpecialProcedureEnded => 10,
            Self::Approved => 11,
            Self::ApprovedWithTolerance => 12,
            Self::Rejected => 13,
            Self::Withdrawn => 14,
            Self::Revoked => 15,
        }
    }

    /// The status for a BLZT code.
    pub const fn from_code(code: u8) -> Option<Self> {
        if code >= 1 && code <= 15 {
            Some(Self::ALL[code as usize - 1])
        } else {
            None
        }
    }

    /// The national zh-CN name, e.g. `补正（开始）`.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Received => "已接件",
            Self::ReceiptRecalled => "已撤件",
            Self::Accepted => "已受理",
            Self::Returned => "不受理",
            Self::IntakeRefused => "不予受理",
            Self::SupplementRequested => "补正（开始）",
            Self::SupplementReceived => "补正（结束）",
            Self::InReview => "部门开始办理",
            Self::SpecialProcedure => "特别程序（开始）",
            Self::SpecialProcedureEnded => "特别程序（结束）",
            Self::Approved => "办结（通过）",
            Self::ApprovedWithTolerance => "办结（容缺通过）",
            Self::Rejected => "办结（不通过）",
            Self::Withdrawn => "撤回",
            Self::Revoked => "撤销",
        }
    }

    /// Whether the department holds the file and may decide: 8, and 7 and
    /// 10 (see the module docs).
    pub const fn is_in_review(self) -> bool {
        matches!(
            self,
            Self::InReview | Self::SupplementReceived | Self::SpecialProcedureEnded
        )
    }

    /// Whether a decision was made (办结): 11, 12 or 13.
    pub const fn is_concluded(self) -> bool {
        matches!(
            self,
            Self::Approved | Self::ApprovedWithTolerance | Self::Rejected
        )
    }

    /// Whether no command is accepted any more: 2, 5, 13, 14, 15.
    pub const fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::ReceiptRecalled
                | Self::IntakeRefused
                | Self::Rejected
                | Self::Withdrawn
                | Self::Revoked
        )
    }

    /// The status after `command`; see [`apply`].
    pub fn apply(self, command: Command) -> Result<Self, TransitionError> {
        apply(self, command)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// 办理操作 — what someone asks to happen to an item instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// 受理: the window accepts the file (starts the clock).
    Accept,
    /// 退回补齐: the window hands an incomplete file back with the one-time
    /// notice (不受理).
    ReturnForCorrection,
    /// 不予受理: the window formally refuses the application.
    RefuseIntake,
    /// 重新提交: the applicant resubmits a returned file.
    Resubmit,
    /// 撤件: the applicant takes the file back before acceptance.
    Recall,
    /// 开始办理: the department starts (or, after 7 or 10, resumes) review.
    StartReview,
    /// 要求补正: the reviewer asks for more (pauses the clock).
    RequestSupplement,
    /// 补正材料已收到: the supplement is in (resumes the clock).
    ReceiveSupplement,
    /// 启动特别程序: hearing, testing, expert review… (pauses the clock).
    StartSpecialProcedure,
    /// 结束特别程序: the special procedure is over (resumes the clock).
    EndSpecialProcedure,
    /// 审批通过 (stops the clock).
    Approve,
    /// 容缺/承诺通过: approve with materials owed or on commitment (stops
    /// the clock).
    ApproveWithTolerance,
    /// 审批不通过 (stops the clock).
    Reject,
    /// 申请人撤回: the applicant withdraws after acceptance (stops the clock).
    Withdraw,
    /// 撤销: revoke an approval.
    Revoke,
}

/// How a command moves the SLA clock, when it is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ClockEffect {
    /// Start it (acceptance).
    Start,
    /// Pause it.
    Pause(PauseReason),
    /// Resume it.
    Resume,
    /// Stop it.
    Stop,
}

impl Command {
    /// Every command.
    pub const ALL: [Self; 15] = [
        Self::Accept,
        Self::ReturnForCorrection,
        Self::RefuseIntake,
        Self::Resubmit,
        Self::Recall,
        Self::StartReview,
        Self::RequestSupplement,
        Self::ReceiveSupplement,
        Self::StartSpecialProcedure,
        Self::EndSpecialProcedure,
        Self::Approve,
        Self::ApproveWithTolerance,
        Self::Reject,
        Self::Withdraw,
        Self::Revoke,
    ];

    /// zh-CN name of the action, as shown in refusals.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Accept => "受理",
            Self::ReturnForCorrection => "退回补齐（不受理）",
            Self::RefuseIntake => "不予受理",
            Self::Resubmit => "重新提交",
            Self::Recall => "撤件",
            Self::StartReview => "开始办理",
            Self::RequestSupplement => "要求补正",
            Self::ReceiveSupplement => "确认补正材料已收到",
            Self::StartSpecialProcedure => "启动特别程序",
            Self::EndSpecialProcedure => "结束特别程序",
            Self::Approve => "审批通过",
            Self::ApproveWithTolerance => "容缺/承诺通过",
            Self::Reject => "审批不通过",
            Self::Withdraw => "撤回申请",
            Self::Revoke => "撤销",
        }
    }

    /// What an allowed command does to the SLA clock of the item instance.
    /// A withdrawal stops the clock whether it was running or paused.
    pub const fn clock_effect(self) -> Option<ClockEffect> {
        match self {
            Self::Accept => Some(ClockEffect::Start),
            Self::RequestSupplement => Some(ClockEffect::Pause(PauseReason::Supplement)),
            Self::StartSpecialProcedure => Some(ClockEffect::Pause(PauseReason::SpecialProcedure)),
            Self::ReceiveSupplement | Self::EndSpecialProcedure => Some(ClockEffect::Resume),
            Self::Approve | Self::ApproveWithTolerance | Self::Reject | Self::Withdraw => {
                Some(ClockEffect::Stop)
            }
            Self::ReturnForCorrection
            | Self::RefuseIntake
            | Self::Resubmit
            | Self::Recall
            | Self::StartReview
            | Self::Revoke => None,
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// 非法状态变更 — `command` is not allowed in status `from`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct TransitionError {
    /// The current status.
    pub from: Status,
    /// The refused command.
    pub command: Command,
}

impl TransitionError {
    /// Stable machine code: `illegal_transition`.
    pub const fn code(&self) -> &'static str {
        "illegal_transition"
    }

    /// zh-CN message naming the current status and the refused action.
    pub fn message(&self) -> String {
        format!(
            "事项当前状态为「{}」，不能{}",
            self.from.name(),
            self.command.name()
        )
    }
}

/// The status after `command` in status `from`, per the table in the module
/// docs.
pub fn apply(from: Status, command: Command) -> Result<Status, TransitionError> {
    use Command as C;
    use Status as S;
    let to = match (from, command) {
        (S::Received, C::Accept) => S::Accepted,
        (S::Received, C::ReturnForCorrection) => S::Returned,
        (S::Received, C::RefuseIntake) => S::IntakeRefused,
        (S::Received | S::Returned, C::Recall) => S::ReceiptRecalled,
        (S::Returned, C::Resubmit) => S::Received,
        (S::Accepted | S::SupplementReceived | S::SpecialProcedureEnded, C::StartReview) => {
            S::InReview
        }
        (s, C::RequestSupplement) if s.is_in_review() => S::SupplementRequested,
        (S::SupplementRequested, C::ReceiveSupplement) => S::SupplementReceived,
        (s, C::StartSpecialProcedure) if s.is_in_review() => S::SpecialProcedure,
        (S::SpecialProcedure, C::EndSpecialProcedure) => S::SpecialProcedureEnded,
        (s, C::Approve) if s.is_in_review() => S::Approved,
        (s, C::ApproveWithTolerance) if s.is_in_review() => S::ApprovedWithTolerance,
        (s, C::Reject) if s.is_in_review() => S::Rejected,
        (s, C::Withdraw)
            if s.is_in_review()
                || matches!(
                    s,
                    S::Accepted | S::SupplementRequested | S::SpecialProcedure
                ) =>
        {
            S::Withdrawn
        }
        (S::Approved | S::ApprovedWithTolerance, C::Revoke) => S::Revoked,
        _ => return Err(TransitionError { from, command }),
    };
    Ok(to)
}

#[cfg(test)]
mod tests;
