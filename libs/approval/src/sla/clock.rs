//! The clock itself: recording events and reading used and remaining
//! working time, due dates, states and alarms (see the module header of
//! `sla` for how time is counted).

use super::*;

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
pub(super) struct Slot {
    pub(super) date: NaiveDate,
    pub(super) pm: bool,
}

impl Slot {
    pub(super) fn containing(at: NaiveDateTime) -> Self {
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
