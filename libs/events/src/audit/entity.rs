//! The `audit_log` row.

use sea_orm::entity::prelude::*;

/// One recorded request.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    /// Insertion order; also the pagination and export key.
    #[sea_orm(primary_key)]
    pub id: i64,
    /// Unique per row; the in-transaction row's is the request's key.
    #[sea_orm(unique)]
    pub entry_key: String,
    /// When it was recorded.
    pub at: DateTimeUtc,
    /// Service that answered.
    pub service: String,
    /// The request id.
    pub request_id: String,
    /// Caller's subject id (none: no valid token).
    pub actor: Option<String>,
    /// Caller's display name.
    pub actor_name: Option<String>,
    /// Caller's roles (wire names, comma-separated).
    pub roles: String,
    /// Enterprise(s) acted for.
    pub enterprise: Option<String>,
    /// Reviewer's department.
    pub department: Option<String>,
    /// Method and route template.
    pub action: String,
    /// The object changed: the event's subject (aggregate id), else the path.
    pub object: String,
    /// `succeeded`, `refused` or `failed`.
    pub outcome: String,
    /// HTTP status answered (200 for a change recorded in its transaction).
    pub status: i32,
    /// Client address.
    pub client_addr: Option<String>,
}

/// No relations.
#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
