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

mod working_time;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use serde::{Deserialize, Serialize};

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

/// 计时器 — the SLA clock of one task, bundle or project. See the module
/// docs for how time is counted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clock {
    accepted_at: NaiveDateTime,
    limits: Limits,
    #[serde(skip)]
    warning: WarningShare,
    events: Vec<ClockEvent>,
}

impl Clock {
    /// A clock started by acceptance at `accepted_at` (China local time).
    pub fn start(accepted_at: NaiveDateTime, limits: Limits) -> Self {
        Self {
            accepted_at,
            limits,
            warning: WarningShare::DEFAULT,
            events: Vec::new(),
        }
    }

    /// The same clock with another warning share.
    #[must_use]
    pub fn with_warning_share(mut self, share: WarningShare) -> Self {
        self.warning = share;
        self
    }

    /// A clock rebuilt from stored events, checking their sequence.
    pub fn from_events(
        accepted_at: NaiveDateTime,
        limits: Limits,
        events: impl IntoIterator<Item = ClockEvent>,
    ) -> Result<Self, ClockError> {
        let mut clock = Self::start(accepted_at, limits);
        for event in events {
            clock.record(event)?;
        }
        Ok(clock)
    }

    /// Records an event, refusing sequences that make no sense: events
    /// before acceptance or before the previous event, a pause while paused,
    /// a resume while running, anything after a stop. A stop while paused is
    /// fine (a decision or withdrawal during 补正).
    pub fn record(&mut self, event: ClockEvent) -> Result<(), ClockError> {
        if event.at < self.accepted_at {
            return Err(ClockError::EventBeforeStart {
                at: event.at,
                accepted_at: self.accepted_at,
            });
        }
        if let Some(previous) = self.events.last()
            && event.at < previous.at
        {
            return Err(ClockError::OutOfOrder {
                at: event.at,
                previous: previous.at,
            });
        }
        match (self.phase(), event.kind) {
            (ClockPhase::Stopped, _) => Err(ClockError::AlreadyStopped { at: event.at }),
            (ClockPhase::Paused(reason), ClockEventKind::Pause { .. }) => {
                Err(ClockError::AlreadyPaused {
                    at: event.at,
                    reason,
                })
            }
            (ClockPhase::Running, ClockEventKind::Resume) => {
                Err(ClockError::ResumeWithoutPause { at: event.at })
            }
            _ => {
                self.events.push(event);
                Ok(())
            }
        }
    }

    /// Records a pause at `at`.
    pub fn pause(&mut self, at: NaiveDateTime, reason: PauseReason) -> Result<(), ClockError> {
        self.record(ClockEvent::pause(at, reason))
    }

    /// Records a resumption at `at`.
    pub fn resume(&mut self, at: NaiveDateTime) -> Result<(), ClockError> {
        self.record(ClockEvent::resume(at))
    }

    /// Records a stop at `at`.
    pub fn stop(&mut self, at: NaiveDateTime) -> Result<(), ClockError> {
        self.record(ClockEvent::stop(at))
    }

    /// When the clock was started.
    pub const fn accepted_at(&self) -> NaiveDateTime {
        self.accepted_at
    }

    /// Its limits.
    pub const fn limits(&self) -> Limits {
        self.limits
    }

    /// Its warning share.
    pub const fn warning_share(&self) -> WarningShare {
        self.warning
    }

    /// Events recorded so far, in order.
    pub fn events(&self) -> &[ClockEvent] {
        &self.events
    }

    /// The phase after the last recorded event.
    pub fn phase(&self) -> ClockPhase {
        phase_after(self.events.iter())
    }

    /// The reading at the end of `date` (every half-day of it begun).
    pub fn reading_on(&self, calendar: &Calendar, date: NaiveDate) -> Reading {
        let end_of_day = NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN);
        self.reading_at(calendar, date.and_time(end_of_day))
    }

    /// The reading at `at` (China local time). Before acceptance it reads
    /// as at acceptance; after a stop, as at the stop.
    pub fn reading_at(&self, calendar: &Calendar, at: NaiveDateTime) -> Reading {
        let mut tally = Tally {
            calendar,
            coverage: Coverage::Published,
        };
        let Spans {
            at,
            phase,
            closed,
            open,
        } = self.spans(at);
        let end = Slot::containing(at).next();
        let mut used = 0;
        for &(from, to) in &closed {
            used += tally.slots(from, to);
        }
        // A stop closes the open span at the stop itself: `at` is the stop.
        if let Some(from) = open {
            used += tally.slots(from, end);
        }
        let used = WorkingTime::from_half_days(used);
        // The projection continues the open span, or (paused, or stopped
        // while paused) restarts as if resumed at the reading.
        let future = open.unwrap_or_else(|| Slot::morning_after(at.date()));

        let mut limit_reading = |limit: WorkingTime| LimitReading {
            limit,
            remaining: limit - used,
            due: self.due(&mut tally, &closed, future, limit),
            state: match phase {
                ClockPhase::Stopped => SlaState::Stopped,
                ClockPhase::Paused(_) => SlaState::Paused,
                ClockPhase::Running if used > limit => SlaState::Overdue,
                ClockPhase::Running if self.warning.reached(used, limit) => SlaState::Warning,
                ClockPhase::Running => SlaState::OnTime,
            },
        };
        let statutory = limit_reading(self.limits.statutory);
        let committed = limit_reading(self.limits.committed);
        Reading {
            at,
            phase,
            used,
            statutory,
            committed,
            coverage: tally.coverage,
        }
    }

    /// The counting spans up to `at`: finished ones, the one still open (if
    /// running), the phase, and the effective moment (a stop caps it).
    fn spans(&self, at: NaiveDateTime) -> Spans {
        let mut at = at.max(self.accepted_at);
        let mut phase = ClockPhase::Running;
        let mut closed: Vec<(Slot, Slot)> = Vec::new();
        let mut open = Some(Slot::morning_after(self.accepted_at.date()));
        for event in self.events.iter().take_while(|e| e.at <= at) {
            match event.kind {
                ClockEventKind::Pause { reason } => {
                    if let Some(from) = open.take() {
                        closed.push((from, Slot::containing(event.at).next()));
                    }
                    phase = ClockPhase::Paused(reason);
                }
                ClockEventKind::Resume => {
                    open = Some(Slot::morning_after(event.at.date()));
                    phase = ClockPhase::Running;
                }
                ClockEventKind::Stop => {
                    at = event.at;
                    phase = ClockPhase::Stopped;
                    break;
                }
            }
        }
        Spans {
            at,
            phase,
            closed,
            open,
        }
    }

    /// When `limit` turns [`SlaState::Warning`] and [`SlaState::Overdue`],
    /// projected from `at` as the due date is (no further pauses): each is
    /// the first half-day in which that state holds, so a scheduler can
    /// wake then instead of reading every clock all the time. `None` unless
    /// the clock is running at `at`: a paused clock's alarms are unknown
    /// until it resumes, a stopped one has none.
    pub fn alarms(
        &self,
        calendar: &Calendar,
        at: NaiveDateTime,
        limit: WorkingTime,
    ) -> Option<Alarms> {
        let Spans {
            phase,
            closed,
            open,
            ..
        } = self.spans(at);
        let (ClockPhase::Running, Some(future)) = (phase, open) else {
            return None;
        };
        let mut tally = Tally {
            calendar,
            coverage: Coverage::Published,
        };
        // `reached` holds from the half-day that makes `used` at least the
        // share of the limit: the ceil(share × limit)-th counted half-day.
        let share = i64::from(self.warning.permille());
        let warning_at = (share * limit.half_days() + 999) / 1000;
        Some(Alarms {
            warning_from: self.due(
                &mut tally,
                &closed,
                future,
                WorkingTime::from_half_days(warning_at),
            ),
            overdue_from: self.due(
                &mut tally,
                &closed,
                future,
                WorkingTime::from_half_days(limit.half_days() + 1),
            ),
        })
    }

    /// The last half-day `limit` allows: the `limit`-th counted half-day
    /// along the closed spans, then along the open-ended `future`.
    fn due(
        &self,
        tally: &mut Tally<'_>,
        closed: &[(Slot, Slot)],
        future: Slot,
        limit: WorkingTime,
    ) -> Option<Deadline> {
        let mut left = limit.half_days();
        if left <= 0 {
            // Nothing may be counted: due by the end of acceptance day.
            return Some(Deadline {
                date: self.accepted_at.date(),
                half: Half::Afternoon,
            });
        }
        for &(from, to) in closed {
            let here = tally.slots(from, to);
            if here >= left {
                return tally.nth_slot(from, left).map(Deadline::from_slot);
            }
            left -= here;
        }
        tally.nth_slot(future, left).map(Deadline::from_slot)
    }
}

fn phase_after<'a>(events: impl Iterator<Item = &'a ClockEvent>) -> ClockPhase {
    events.fold(ClockPhase::Running, |_, e| match e.kind {
        ClockEventKind::Pause { reason } => ClockPhase::Paused(reason),
        ClockEventKind::Resume => ClockPhase::Running,
        ClockEventKind::Stop => ClockPhase::Stopped,
    })
}

/// The counting spans of a clock up to a moment (see [`Clock::spans`]).
struct Spans {
    at: NaiveDateTime,
    phase: ClockPhase,
    closed: Vec<(Slot, Slot)>,
    open: Option<Slot>,
}

/// 预警/超期时点 — the first half-days in which a running clock's limit is
/// in warning and overdue (see [`Clock::alarms`]). A `Deadline` here names
/// the half-day a state *begins*, not the last one allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alarms {
    /// First half-day in [`SlaState::Warning`] (or already past).
    pub warning_from: Option<Deadline>,
    /// First half-day in [`SlaState::Overdue`].
    pub overdue_from: Option<Deadline>,
}

/// The pause and resume events of a bundle clock over parallel task clocks:
/// the bundle pauses while at least one task waits (补正 or 特别程序) and
/// resumes when none does, so time spent waiting for the applicant or for
/// a hearing never counts against the bundle's promise either. A task
/// stopped while paused (withdrawn during 补正) stops waiting. Stops are
/// not copied: the bundle stops when its outcome is decided.
pub fn parallel_pauses<'a>(tasks: impl IntoIterator<Item = &'a [ClockEvent]>) -> Vec<ClockEvent> {
    // (moment, +1 pause / -1 resume, reason): pauses sort before resumes at
    // the same moment, so a hand-over between two tasks is no gap.
    let mut changes: Vec<(NaiveDateTime, i8, Option<PauseReason>)> = Vec::new();
    for events in tasks {
        let mut paused = false;
        for e in events {
            match e.kind {
                ClockEventKind::Pause { reason } if !paused => {
                    paused = true;
                    changes.push((e.at, 1, Some(reason)));
                }
                ClockEventKind::Resume | ClockEventKind::Stop if paused => {
                    paused = false;
                    changes.push((e.at, -1, None));
                }
                _ => {}
            }
        }
    }
    changes.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut waiting = 0i32;
    let mut out = Vec::new();
    for (at, delta, reason) in changes {
        let before = waiting;
        waiting += i32::from(delta);
        match (before, waiting, reason) {
            (0, 1, Some(reason)) => out.push(ClockEvent::pause(at, reason)),
            (1, 0, _) => out.push(ClockEvent::resume(at)),
            _ => {}
        }
    }
    out
}

/// A half working day: the morning or afternoon of a date. Ordered in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Slot {
    date: NaiveDate,
    pm: bool,
}

impl Slot {
    fn containing(at: NaiveDateTime) -> Self {
        Self {
            date: at.date(),
            pm: at.hour() >= 12,
        }
    }

    /// The morning of the day after `date`. At the last representable date
    /// it stays on that date: no clock event gets anywhere near it.
    fn morning_after(date: NaiveDate) -> Self {
        Self {
            date: date.succ_opt().unwrap_or(date),
            pm: false,
        }
    }

    fn next(self) -> Self {
        if self.pm {
            Self::morning_after(self.date)
        } else {
            Self {
                date: self.date,
                pm: true,
            }
        }
    }
}

/// Half-day counting against a calendar, remembering whether any
/// provisional year was consulted.
struct Tally<'a> {
    calendar: &'a Calendar,
    coverage: Coverage,
}

impl Tally<'_> {
    fn working(&mut self, date: NaiveDate) -> i64 {
        let r = self.calendar.is_working_day(date);
        self.coverage = self.coverage.combine(r.coverage);
        i64::from(r.value)
    }

    /// Working half-days in `[from, to)`.
    fn slots(&mut self, from: Slot, to: Slot) -> i64 {
        if to <= from {
            return 0;
        }
        if from.date == to.date {
            // from is the morning, to the afternoon: one half.
            return self.working(from.date);
        }
        let first = if from.pm { 1 } else { 2 } * self.working(from.date);
        // Whole days strictly between the two dates: (from.date, to.date - 1].
        let middle = match to.date.pred_opt() {
            Some(before) => {
                let r = self.calendar.working_days_between(from.date, before);
                self.coverage = self.coverage.combine(r.coverage);
                2 * r.value
            }
            None => 0,
        };
        let last = if to.pm { self.working(to.date) } else { 0 };
        first + middle + last
    }

    /// The `k`-th (`k >= 1`) working half-day at or after `from`.
    fn nth_slot(&mut self, from: Slot, k: i64) -> Option<Slot> {
        let mut k = k;
        let mut day = from.date;
        if from.pm {
            if self.working(day) == 1 {
                if k == 1 {
                    return Some(from);
                }
                k -= 1;
            }
            day = day.succ_opt()?;
        }
        // From a morning: halves 1 and 2 are the first working day, 3 and 4
        // the second, and so on.
        let nth_day = u32::try_from((k + 1) / 2).ok()?;
        let r = self
            .calendar
            .add_working_days(day.pred_opt()?, nth_day)
            .ok()?;
        self.coverage = self.coverage.combine(r.coverage);
        Some(Slot {
            date: r.value,
            pm: k % 2 == 0,
        })
    }
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
