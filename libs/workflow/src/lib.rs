//! The database half of the approval engine (审批引擎), under every service
//! that runs item tasks in departments' queues: licensing (一业一证),
//! construction (工程建设项目) and, later, enterprise requests.
//!
//! `yizhan_approval` holds the pure rules (working-day calendar, SLA clock,
//! the 办理状态 state machine). This crate makes them real in a database,
//! once, for every service:
//!
//! - [`task`]: the engine's task rows (`workflow_tasks`) with their status,
//!   clock and the one clock-stop rule; creation at acceptance;
//! - [`decide`]: decisions (approve, reject), 补正 request and answer,
//!   特别程序 start and end, withdrawal and revocation — each one
//!   transition of the state machine, its clock effect and a timeline entry;
//! - [`timeline`]: the append-only history of a case (`workflow_timeline`);
//! - [`lock`]: the subject lock and locked reads;
//! - [`queue`]: a department's queue in urgency order with its cursor;
//! - [`idempotent`]: creating requests under an `Idempotency-Key`;
//! - [`tolerance`]: the one 容缺 expiry rule (and the rule for a stopped
//!   case's open tasks);
//! - [`deadlines`]: the deadline-alarm sweep;
//! - [`form`]: 一表申请, the merged form and its check, for every service;
//! - [`numbers`]: 申请编号, the human number of an application, taken at
//!   filing; [`search`]: staff search by number, USCC or name.
//!
//! **Subjects and cases.** A *subject* is the aggregate whose lock guards a
//! change and whose timeline records it (a licensing application, a
//! construction project). A *case* is what a set of tasks was created for
//! (the application itself, or one stage application of a project).
//!
//! **Events stay the services'.** The engine writes rows and timeline
//! entries in the caller's transaction and answers what it changed; the
//! service publishes its own events in the same transaction, so partners
//! keep the event types they already consume.
//!
//! No HTTP here: errors are [`Error`], which the HTTP edge turns into
//! problem+json once ([`Error::problem`]).

pub mod actor;
pub mod answers;
pub mod api;
pub mod catalogs;
pub mod deadlines;
pub mod decide;
pub mod entities;
pub mod error;
pub mod form;
pub mod idempotent;
pub mod lock;
pub mod materials;
pub mod migration;
pub mod numbers;
pub mod open_tasks;
pub mod queue;
pub mod search;
pub mod stats;
pub mod task;
pub mod timeline;
pub mod tolerance;

pub use actor::Actor;
pub use entities::{task as task_row, timeline as timeline_row};
pub use error::Error;

/// Result of an engine operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;
