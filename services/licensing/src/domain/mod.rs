//! The licensing domain: no I/O, no HTTP, no SQL. The state machine of
//! item tasks, the calendar and the SLA clock come from `yizhan_approval`.

pub mod application;
pub mod catalog;
pub mod draft;
pub mod form;
pub mod notice;
