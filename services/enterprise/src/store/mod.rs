//! Enterprise persistence. Handlers never build queries; every write goes
//! through a function here, in one transaction with the outbox events it
//! causes (docs/ARCHITECTURE.md, outbox).

pub mod benefits;
pub mod benefits_schema;
pub mod dispatch;
pub mod licences;
pub mod matching;
pub mod migration;
pub mod profile;
pub mod ratings;
pub mod requests;

pub use migration::Migrator;

/// `ce_source` of enterprise events.
pub const SOURCE: &str = "/yizhan/enterprise";
