//! 诉求 persistence: the request rows with their running clock, the
//! dispatch rules, and (beside them, same tables module) the 好差评 rows.
//! Every write takes the request's lock (the engine's subject lock) and
//! commits with its timeline entry (`workflow_timeline`) and outbox events.

pub mod commands;
pub mod deadlines;
pub mod entities;
pub mod migration;
pub mod queries;

use chrono::NaiveDateTime;
use yizhan_approval::{Calendar, Clock, ClockEvent, Deadline};
use yizhan_events::contracts::RequestFacts;
use yizhan_workflow::task::due_key;

pub use entities::{dispatch_rule, rateable, rating, request};
pub use yizhan_workflow::timeline_row as timeline;
pub use yizhan_workflow::{Actor, Error};

use crate::domain::requests::{self as domain, Category, Channel, Status};

/// What a 404 names.
pub(crate) const NOT_FOUND: &str = "诉求";

/// Which limit a request's running clock measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockKind {
    /// 签收: accept or transfer within 1 working day of dispatch.
    Accept,
    /// 答复: answer within the category's limit.
    Answer,
}

impl ClockKind {
    /// The code stored and published.
    pub const fn code(self) -> &'static str {
        match self {
            ClockKind::Accept => "accept",
            ClockKind::Answer => "answer",
        }
    }

    /// The Chinese name.
    pub const fn name(self) -> &'static str {
        match self {
            ClockKind::Accept => "签收时限",
            ClockKind::Answer => "答复时限",
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        [ClockKind::Accept, ClockKind::Answer]
            .into_iter()
            .find(|k| k.code() == code)
    }
}

impl request::Model {
    /// The stored category (only `Category` codes are written).
    pub fn category(&self) -> Category {
        Category::from_code(&self.category).unwrap_or(Category::Other)
    }

    /// The stored channel.
    pub fn channel(&self) -> Channel {
        Channel::from_code(&self.channel).unwrap_or(Channel::Gaoxintong)
    }

    /// The stored status.
    pub fn status(&self) -> Status {
        Status::from_code(&self.status).unwrap_or(Status::Dispatched)
    }

    /// The stored satisfaction.
    pub fn satisfaction(&self) -> Option<domain::Satisfaction> {
        self.satisfaction
            .as_deref()
            .and_then(domain::Satisfaction::from_code)
    }

    /// Material ids attached.
    pub fn attachments(&self) -> Vec<String> {
        serde_json::from_str(&self.attachments).unwrap_or_default()
    }

    /// The clock that runs now (or is paused), with its kind.
    pub fn clock(&self) -> Option<(ClockKind, Clock)> {
        let kind = ClockKind::from_code(self.clock_kind.as_deref()?)?;
        let start = self.clock_started_at?;
        let fresh = match kind {
            ClockKind::Accept => domain::accept_clock(start),
            ClockKind::Answer => domain::answer_clock(start, self.answer_limit_days).ok()?,
        };
        let events: Vec<ClockEvent> = serde_json::from_str(&self.clock_events).ok()?;
        Clock::from_events(start, fresh.limits(), events)
            .ok()
            .map(|c| (kind, c))
    }

    /// Installs `clock` (or none) and recomputes what is derived from it:
    /// the queue's due key and pause flag, and the next alarm. A new clock
    /// clears the alarms announced for the previous one.
    pub(crate) fn set_clock(
        &mut self,
        clock: Option<(ClockKind, &Clock)>,
        fresh: bool,
        calendar: &Calendar,
        at: NaiveDateTime,
    ) {
        if fresh {
            self.warned_at = None;
            self.overdue_notified_at = None;
        }
        let status = self.status();
        self.in_queue = matches!(
            status,
            Status::Dispatched | Status::InHandling | Status::AwaitingEnterprise
        );
        self.paused = status == Status::AwaitingEnterprise;
        match clock {
            Some((kind, clock)) => {
                self.clock_kind = Some(kind.code().to_owned());
                self.clock_started_at = Some(clock.accepted_at());
                self.clock_events =
                    serde_json::to_string(clock.events()).unwrap_or_else(|_| "[]".into());
                let reading = clock.reading_at(calendar, at);
                self.due_key = if self.paused {
                    due_key(None)
                } else {
                    due_key(reading.committed.due)
                };
                self.next_alarm_key = yizhan_workflow::deadlines::next_alarm_key(
                    clock,
                    calendar,
                    at,
                    self.warned_at.is_some(),
                    self.overdue_notified_at.is_some(),
                );
            }
            None => {
                self.clock_kind = None;
                self.clock_started_at = None;
                self.clock_events = "[]".into();
                self.due_key = due_key(None);
                self.next_alarm_key = None;
            }
        }
    }

    /// The facts every event of this request carries.
    pub fn facts(&self) -> RequestFacts {
        let (category, channel, status) = (self.category(), self.channel(), self.status());
        RequestFacts {
            request_id: self.id.clone(),
            enterprise_uscc: self.enterprise_uscc.clone(),
            category: category.code().to_owned(),
            category_name: category.name().to_owned(),
            channel: channel.code().to_owned(),
            channel_name: channel.name().to_owned(),
            department_code: self.department_code.clone(),
            department_name: self.department_name.clone(),
            status: status.code().to_owned(),
            status_name: status.name().to_owned(),
            round: u8::try_from(self.round).unwrap_or(1),
        }
    }
}

/// The due day of a reading's deadline, for events.
pub(crate) fn due_day(due: Option<Deadline>, fallback: NaiveDateTime) -> chrono::NaiveDate {
    due.map_or(fallback.date(), |d| d.date)
}
