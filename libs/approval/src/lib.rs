//! The pure-domain half of the shared approval engine (审批引擎) used by the
//! licensing and construction services.
//!
//! - [`calendar`]: which days are working days (工作日) — weekends, statutory
//!   holidays and make-up workdays (调休上班日) kept as data, one file per
//!   year — and arithmetic over them.
//! - [`sla`]: the time-limit clock (办理时限) of a task, bundle or project:
//!   statutory and committed limits, pauses for 补正 and 特别程序, warning
//!   and overdue states.
//! - [`task`]: the item-instance state machine, speaking the national
//!   办理状态 (BLZT) codes 1–15 beside its own enum.
//!
//! No I/O beyond reading calendar files, no HTTP, no SQL, no async: the
//! services own persistence and time sources and call in here with values.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod calendar;
pub mod sla;
pub mod task;

pub use calendar::{Calendar, CalendarError, Coverage, DateOutOfRange, Reckoned, YearSchedule};
pub use sla::{
    Alarms, Clock, ClockError, ClockEvent, ClockPhase, Deadline, Half, LimitReading, Limits,
    PauseReason, Reading, SlaState, WarningShare, WorkingTime, parallel_pauses,
};
pub use task::{ClockEffect, Command, Status, TransitionError, apply};
