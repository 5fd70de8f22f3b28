//! Types and rules of the enterprise service; no I/O, no HTTP, no SQL.

pub mod amount;
pub mod benefits;
pub mod dispatch;
pub mod facts;
pub mod profile;
pub mod ratings;
pub mod requests;
pub mod rules;
pub mod stats;
