//! 工程建设项目 — a project's stage applications and their rules: the
//! stage outcome (all items approved, nothing owed under 容缺), and the
//! project's whole-process budget clock across stages.
//!
//! **Stage rule.** A stage completes when every item task is approved
//! (BLZT 11, or 12 for 容缺 / 告知承诺 approvals), no 容缺 material is
//! still owed, and the previous stage is complete. A rejected (13) or
//! revoked (15) item stops the stage; the builder files the stage again.
//!
//! **Budget clock.** The category's budget counts the working days in
//! which at least one stage is with the centre: from each stage's
//! acceptance to its completion, overlapping stages (拿地即开工) counted
//! once. Between stages the clock is paused (the builder's time, like a
//! 补正); it uses the approval engine's `Clock`, so the acceptance day is
//! not counted and warnings follow the engine's warning share.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yizhan_approval::{Clock, ClockEvent, Limits, PauseReason, Status, WorkingTime};

/// 阶段申请状态.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StageStatus {
    /// 已接件 (BLZT 1).
    Submitted,
    /// 不受理（一次性告知）(BLZT 4); the builder files the stage again.
    Returned,
    /// 并联审批中 (BLZT 3).
    InReview,
    /// 阶段办结: every item approved.
    Completed,
    /// 终止办理: an item was rejected or revoked, or 容缺 materials were not
    /// supplied in time.
    Stopped,
}

impl StageStatus {
    /// Every status.
    pub const ALL: [Self; 5] = [
        Self::Submitted,
        Self::Returned,
        Self::InReview,
        Self::Completed,
        Self::Stopped,
    ];

    /// Wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Returned => "returned",
            Self::InReview => "in_review",
            Self::Completed => "completed",
            Self::Stopped => "stopped",
        }
    }

    /// zh-CN name.
    pub const fn zh_name(self) -> &'static str {
        match self {
            Self::Submitted => "已接件",
            Self::Returned => "不受理（待补齐）",
            Self::InReview => "并联审批中",
            Self::Completed => "阶段办结",
            Self::Stopped => "终止办理",
        }
    }

    /// The status for a stored name.
    pub fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether the application still counts as the stage's filing (a new
    /// one may be filed only when it does not).
    pub const fn is_live(self) -> bool {
        matches!(self, Self::Submitted | Self::InReview | Self::Completed)
    }

    /// The intake status in BLZT terms: 1, 4 or 3 once accepted.
    pub const fn intake_status(self) -> Status {
        match self {
            Self::Submitted => Status::Received,
            Self::Returned => Status::Returned,
            _ => Status::Accepted,
        }
    }
}

/// 项目状态.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProjectStatus {
    /// 审批中: stages still to file or decide.
    Active,
    /// 全流程办结: the completion stage is complete.
    Completed,
}

impl ProjectStatus {
    /// Wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Completed => "completed",
        }
    }

    /// zh-CN name.
    pub const fn zh_name(self) -> &'static str {
        match self {
            Self::Active => "审批中",
            Self::Completed => "全流程办结",
        }
    }
}

/// What a stage's tasks add up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StageOutcome {
    /// Still waiting (for decisions, owed materials or the previous stage).
    Pending,
    /// Every item approved and nothing owed.
    Complete,
    /// An item rejected or revoked.
    Stop,
}

/// The stage rule of the module docs. `pre_approved` tasks (拿地即开工,
/// approved ahead of the land grant) are not approved yet.
pub fn stage_outcome(
    tasks: &[Status],
    owed_materials: usize,
    previous_complete: bool,
) -> StageOutcome {
    if tasks
        .iter()
        .any(|s| matches!(s, Status::Rejected | Status::Revoked))
    {
        return StageOutcome::Stop;
    }
    let all_approved = !tasks.is_empty()
        && tasks
            .iter()
            .all(|s| matches!(s, Status::Approved | Status::ApprovedWithTolerance));
    if all_approved && owed_materials == 0 && previous_complete {
        StageOutcome::Complete
    } else {
        StageOutcome::Pending
    }
}

/// One stage's time with the centre, China local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StageSpan {
    /// Acceptance.
    pub from: NaiveDateTime,
    /// Completion or stop; `None` while running.
    pub until: Option<NaiveDateTime>,
}

/// The project's budget clock from its stages' spans, or `None` before the
/// first acceptance. `finished` stops the clock at the last span's end.
pub fn budget_clock(budget: WorkingTime, spans: &[StageSpan], finished: bool) -> Option<Clock> {
    let mut spans: Vec<StageSpan> = spans.to_vec();
    spans.sort_by_key(|s| s.from);
    let first = spans.first()?;
    let limits = Limits::new(budget, budget).ok()?;
    let mut clock = Clock::start(first.from, limits);
    // Merge overlapping spans; each gap between merged spans is a pause.
    let mut end = first.until;
    for span in &spans[1..] {
        match end {
            None => {}
            Some(e) if span.from <= e => end = span.until.map(|u| u.max(e)),
            Some(e) => {
                clock
                    .record(ClockEvent::pause(e, PauseReason::Supplement))
                    .ok()?;
                clock.record(ClockEvent::resume(span.from)).ok()?;
                end = span.until;
            }
        }
    }
    if let Some(e) = end {
        if finished {
            clock.record(ClockEvent::stop(e)).ok()?;
        } else {
            clock
                .record(ClockEvent::pause(e, PauseReason::Supplement))
                .ok()?;
        }
    }
    Some(clock)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use yizhan_approval::{Calendar, SlaState};

    fn at(d: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2026, 12, d)
            .unwrap()
            .and_hms_opt(h, 0, 0)
            .unwrap()
    }

    #[test]
    fn stage_rule() {
        use Status::*;
        assert_eq!(
            stage_outcome(&[Approved, InReview], 0, true),
            StageOutcome::Pending
        );
        assert_eq!(
            stage_outcome(&[Approved, ApprovedWithTolerance], 0, true),
            StageOutcome::Complete
        );
        assert_eq!(stage_outcome(&[Approved], 1, true), StageOutcome::Pending);
        assert_eq!(stage_outcome(&[Approved], 0, false), StageOutcome::Pending);
        assert_eq!(
            stage_outcome(&[Approved, Revoked], 0, true),
            StageOutcome::Stop
        );
        assert_eq!(stage_outcome(&[], 0, true), StageOutcome::Pending);
    }

    #[test]
    fn budget_counts_overlapping_stages_once_and_pauses_between() {
        let cal = Calendar::weekends_only();
        // Tue 1 Dec accepted, done Thu 3 Dec (2 days used: Wed, Thu);
        // next stage accepted Mon 7 Dec and running on Wed 9 Dec (Tue, Wed).
        // A third stage overlapping the second adds nothing.
        let spans = [
            StageSpan {
                from: at(1, 10),
                until: Some(at(3, 16)),
            },
            StageSpan {
                from: at(7, 10),
                until: None,
            },
            StageSpan {
                from: at(8, 9),
                until: None,
            },
        ];
        let clock = budget_clock(WorkingTime::from_days(24), &spans, false).unwrap();
        let r = clock.reading_on(&cal, NaiveDate::from_ymd_opt(2026, 12, 9).unwrap());
        assert_eq!(r.used, WorkingTime::from_days(4));
        assert_eq!(r.committed.state, SlaState::OnTime);
        let r = clock.reading_on(&cal, NaiveDate::from_ymd_opt(2027, 1, 29).unwrap());
        assert_eq!(r.committed.state, SlaState::Overdue);
    }
}
