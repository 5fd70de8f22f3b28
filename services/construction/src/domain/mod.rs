//! The construction domain: no I/O, no HTTP, no SQL. The item-task state
//! machine, the calendar and the SLA clock come from `yizhan_approval`.

pub mod catalog;
pub mod form;
pub mod inspection;
pub mod project;
