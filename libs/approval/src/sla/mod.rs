//! 办理时限计时 — the SLA clock of a task, a bundle or a project.
//!
//! A [`Clock`] is a value: the moment of acceptance, the two limits
//! (statutory 法定 and committed 承诺, both tracked), a warning share, and
//! the pause / resume / stop events recorded since. [`Clock::reading_at`]
//! answers, for any moment and against a [`Calendar`], how much working time
//! is used and left, when the limit now runs out, and whether the clock is
//! on time, in warning, overdue, paused or stopped. Nothing is stored
//! besides the events, so a reading can be recomputed at any time (after a
//! calendar update, too) and always agrees with itself.
//!
//! # How time is counted
//!
//! The unit is the half working day ([`WorkingTime`]): each working day has
//! a morning half (before 12:00) and an afternoon half (from 12:00), China
//! local time. Whole-day limits behave exactly as whole days; half-day
//! limits such as 5.5 run out at noon.
//!
//! - **Acceptance.** The day of acceptance is not counted (DOMAIN.md, time
//!   rules); counting starts with the morning of the next working day.
//! - **A half-day once begun is used.** A reading at 09:00 on the first
//!   working day shows 0.5 used; one taken at any time in the afternoon, 1.
//!   So a limit of `n` days runs out at the end of the `n`-th working day
//!   after acceptance, and a limit of 5.5 at noon of the 6th.
//! - **Pause** (补正 requested, 特别程序 started): the half-day in which the
//!   pause happens is counted, nothing after it. A pause in the afternoon
//!   therefore counts the whole pause day; that day's work was done.
//! - **Resume** (materials received, 特别程序 ended): treated like
//!   acceptance — the rest of the resume day is not counted and counting
//!   picks up with the morning of the next working day, where it stopped.
//!   For a pause on working day P (afternoon) and a resume on day R, the
//!   working days in `(P, R]` are not counted: the same rule as "the day of
//!   acceptance is not counted", applied to each restart.
//! - **Stop** (decision, withdrawal): like a pause that never resumes;
//!   readings after it are the reading at the stop.
//!
//! Limits of 特别程序 time (行政许可法 Art. 45) and of 补正 time are not
//! this clock's business: it only excludes them.
//!
//! # Due date
//!
//! The due date is the last half-day the limit allows, counting the clock's
//! actual history and assuming it runs without further pauses from the
//! reading on (if paused, as if resumed at the reading). It moves later with
//! every pause, and lies in the past once a limit is passed.

mod clock;
mod working_time;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde::{Deserialize, Serialize};

use clock::Slot;
pub use clock::{Alarms, Clock, parallel_pauses};
pub use working_time::WorkingTime;

use crate::calendar::{Calendar, Coverage};

/// 计时暂停原因 — why a clock is paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseReason {
    /// 补正: the reviewer asked the applicant for more material.
    Supplement,
    /// 特别程序: hearing, testing, expert review and the like (行政许可法
    /// Art. 45).
    SpecialProcedure,
}

impl PauseReason {
    /// zh-CN name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Supplement => "补正",
            Self::SpecialProcedure => "特别程序",
        }
    }
}

/// What a [`ClockEvent`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClockEventKind {
    /// Stop counting until resumed.
    Pause {
        /// Why.
        reason: PauseReason,
    },
    /// Count again from the next working day.
    Resume,
    /// Stop counting for good (a decision was made, or the applicant
    /// withdrew).
    Stop,
}

/// 计时事件 — one thing that happened to a clock, at a China local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClockEvent {
    /// When (China local time; see [`crate::calendar::china_local`]).
    pub at: NaiveDateTime,
    /// What.
    #[serde(flatten)]
    pub kind: ClockEventKind,
}

impl ClockEvent {
    /// A pause at `at`.
    pub const fn pause(at: NaiveDateTime, reason: PauseReason) -> Self {
        Self {
            at,
            kind: ClockEventKind::Pause { reason },
        }
    }

    /// A resumption at `at`.
    pub const fn resume(at: NaiveDateTime) -> Self {
        Self {
            at,
            kind: ClockEventKind::Resume,
        }
    }

    /// A stop at `at`.
    pub const fn stop(at: NaiveDateTime) -> Self {
        Self {
            at,
            kind: ClockEventKind::Stop,
        }
    }
}

/// 办理时限 — the statutory (法定) and committed (承诺) limits of one clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Limits {
    statutory: WorkingTime,
    committed: WorkingTime,
}

impl Limits {
    /// Both limits; neither may be negative, and the centre never promises
    /// more time than the law allows.
    pub fn new(statutory: WorkingTime, committed: WorkingTime) -> Result<Self, ClockError> {
        for limit in [statutory, committed] {
            if limit.is_negative() {
                return Err(ClockError::NegativeLimit { limit });
            }
        }
        if committed > statutory {
            return Err(ClockError::CommittedExceedsStatutory {
                statutory,
                committed,
            });
        }
        Ok(Self {
            statutory,
            committed,
        })
    }

    /// 法定时限.
    pub const fn statutory(&self) -> WorkingTime {
        self.statutory
    }

    /// 承诺时限.
    pub const fn committed(&self) -> WorkingTime {
        self.committed
    }
}

/// 预警比例 — the share of a limit used at which a running clock turns
/// [`SlaState::Warning`]. Held in thousandths so comparisons are exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WarningShare(u16);

impl WarningShare {
    /// 80 %, the default.
    pub const DEFAULT: Self = Self(800);

    /// A share in thousandths, `1..=1000`.
    pub const fn from_permille(permille: u16) -> Option<Self> {
        if permille >= 1 && permille <= 1000 {
            Some(Self(permille))
        } else {
            None
        }
    }

    /// A share as a fraction in `(0, 1]`, e.g. `0.8`, rounded to thousandths.
    pub fn new(share: f64) -> Option<Self> {
        if share.is_finite() && share > 0.0 && share <= 1.0 {
            Self::from_permille((share * 1000.0).round() as u16)
        } else {
            None
        }
    }

    /// The share in thousandths.
    pub const fn permille(self) -> u16 {
        self.0
    }

    /// Whether `used` of `limit` reaches the share. A zero limit is reached
    /// at once: there is no time to spare from the start.
    fn reached(self, used: WorkingTime, limit: WorkingTime) -> bool {
        used.half_days() * 1000 >= i64::from(self.0) * limit.half_days()
    }
}

impl Default for WarningShare {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// 计时状态 — where a clock stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockPhase {
    /// Counting (or accepted and waiting for the next working day).
    Running,
    /// Paused, and why.
    Paused(PauseReason),
    /// Stopped for good.
    Stopped,
}

/// 时限状态 — how one limit stands at a reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    /// Running, below the warning share.
    OnTime,
    /// Running, at or past the warning share, not past the limit.
    Warning,
    /// Running, past the limit.
    Overdue,
    /// Paused; see `remaining` for whether the limit was already passed.
    Paused,
    /// Stopped; see `remaining` for whether it stopped in time.
    Stopped,
}

impl SlaState {
    /// zh-CN name.
    pub const fn name(self) -> &'static str {
        match self {
            Self::OnTime => "正常",
            Self::Warning => "预警",
            Self::Overdue => "超期",
            Self::Paused => "暂停计时",
            Self::Stopped => "已停止计时",
        }
    }
}

/// Which half of a working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Half {
    /// Before 12:00.
    Morning,
    /// From 12:00.
    Afternoon,
}

/// 办理期限 — the last half-day a limit allows: the work is on time if done
/// by the end of `half` on `date` (12:00 for the morning, the end of the day
/// for the afternoon).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Deadline {
    /// The day.
    pub date: NaiveDate,
    /// Its last allowed half.
    pub half: Half,
}

impl Deadline {
    /// The half-day a moment (China local time) falls in.
    pub fn containing(at: NaiveDateTime) -> Self {
        Self::from_slot(Slot::containing(at))
    }

    fn from_slot(slot: Slot) -> Self {
        Self {
            date: slot.date,
            half: if slot.pm {
                Half::Afternoon
            } else {
                Half::Morning
            },
        }
    }
}

impl std::fmt::Display for Deadline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.half {
            Half::Morning => write!(f, "{} 12:00 前", self.date),
            Half::Afternoon => write!(f, "{} 当日", self.date),
        }
    }
}

/// One limit at a reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LimitReading {
    /// The limit.
    pub limit: WorkingTime,
    /// Limit minus used; negative once passed.
    pub remaining: WorkingTime,
    /// When the limit runs out (see the module docs); `None` only when that
    /// lies beyond the dates the calendar can represent.
    pub due: Option<Deadline>,
    /// Where it stands.
    pub state: SlaState,
}

impl LimitReading {
    /// Whether more time was used than the limit allows, whatever the phase.
    pub const fn is_late(&self) -> bool {
        self.remaining.is_negative()
    }
}

/// 计时读数 — a clock's answer at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Reading {
    /// The moment read (not before acceptance; after a stop, the stop).
    pub at: NaiveDateTime,
    /// Running, paused or stopped at that moment.
    pub phase: ClockPhase,
    /// Working time counted so far.
    pub used: WorkingTime,
    /// 法定时限.
    pub statutory: LimitReading,
    /// 承诺时限.
    pub committed: LimitReading,
    /// Provisional if any day counted or projected lies in a year without a
    /// published schedule.
    pub coverage: Coverage,
}

/// Why a clock event or limit was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub enum ClockError {
    /// An event dated before acceptance.
    EventBeforeStart {
        /// The event's time.
        at: NaiveDateTime,
        /// Acceptance.
        accepted_at: NaiveDateTime,
    },
    /// An event dated before the previous one.
    OutOfOrder {
        /// The event's time.
        at: NaiveDateTime,
        /// The previous event's time.
        previous: NaiveDateTime,
    },
    /// A resume while the clock runs.
    ResumeWithoutPause {
        /// The event's time.
        at: NaiveDateTime,
    },
    /// A pause while already paused.
    AlreadyPaused {
        /// The event's time.
        at: NaiveDateTime,
        /// Why it is paused.
        reason: PauseReason,
    },
    /// Any event after the stop.
    AlreadyStopped {
        /// The event's time.
        at: NaiveDateTime,
    },
    /// A limit below zero.
    NegativeLimit {
        /// The limit.
        limit: WorkingTime,
    },
    /// A committed limit longer than the statutory one.
    CommittedExceedsStatutory {
        /// 法定时限.
        statutory: WorkingTime,
        /// 承诺时限.
        committed: WorkingTime,
    },
}

impl ClockError {
    /// Stable machine code.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::EventBeforeStart { .. } => "clock_event_before_start",
            Self::OutOfOrder { .. } => "clock_event_out_of_order",
            Self::ResumeWithoutPause { .. } => "clock_resume_without_pause",
            Self::AlreadyPaused { .. } => "clock_already_paused",
            Self::AlreadyStopped { .. } => "clock_already_stopped",
            Self::NegativeLimit { .. } => "negative_limit",
            Self::CommittedExceedsStatutory { .. } => "committed_exceeds_statutory",
        }
    }

    /// zh-CN message.
    pub fn message(&self) -> String {
        match self {
            Self::EventBeforeStart { at, accepted_at } => {
                format!("计时事件时间 {at} 早于受理时间 {accepted_at}")
            }
            Self::OutOfOrder { at, previous } => {
                format!("计时事件时间 {at} 早于上一事件时间 {previous}")
            }
            Self::ResumeWithoutPause { at } => format!("{at}：计时未暂停，不能恢复计时"),
            Self::AlreadyPaused { at, reason } => {
                format!("{at}：计时已因{}暂停，不能再次暂停", reason.name())
            }
            Self::AlreadyStopped { at } => format!("{at}：计时已停止，不能再记录计时事件"),
            Self::NegativeLimit { limit } => format!("办理时限不能为负数：{limit}"),
            Self::CommittedExceedsStatutory {
                statutory,
                committed,
            } => format!("承诺时限（{committed}）不能长于法定时限（{statutory}）"),
        }
    }
}

#[cfg(test)]
mod tests;
