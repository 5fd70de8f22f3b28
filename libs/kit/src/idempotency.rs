//! `Idempotency-Key` for creating POSTs.
//!
//! A client that retries a POST with the same key gets the response the first
//! attempt produced instead of a second resource; the same key with a
//! different body is a client bug and answers 422. The stored response is
//! written in the same transaction as the resource it describes, so a crash
//! can never leave a resource without its replay record or the reverse.

use std::future::{Ready, ready};

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, Set};
use sha2::{Digest, Sha256};

use crate::problem::Problem;

/// Request header name.
pub const HEADER: &str = "Idempotency-Key";

/// The optional `Idempotency-Key` header, validated (1-255 visible ASCII).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub Option<String>);

impl FromRequest for IdempotencyKey {
    type Error = Problem;
    type Future = Ready<Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let Some(raw) = req.headers().get(HEADER) else {
            return ready(Ok(Self(None)));
        };
        let valid = raw
            .to_str()
            .ok()
            .filter(|v| !v.is_empty() && v.len() <= 255 && v.bytes().all(|b| b.is_ascii_graphic()));
        ready(match valid {
            Some(v) => Ok(Self(Some(v.to_owned()))),
            None => Err(Problem::bad_request(
                HEADER,
                "invalid_idempotency_key",
                "Idempotency-Key 须为 1 至 255 个可见 ASCII 字符",
            )),
        })
    }
}

/// SHA-256 over the parts that make two requests "the same request".
pub fn fingerprint(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_be_bytes());
        hasher.update(part);
    }
    hex::encode(hasher.finalize())
}

/// A response recorded for replay.
#[derive(Debug, Clone)]
pub struct StoredResponse {
    /// HTTP status of the first answer.
    pub status: u16,
    /// JSON body of the first answer.
    pub body: serde_json::Value,
}

impl StoredResponse {
    /// Rebuilds the HTTP answer, marked as a replay.
    pub fn into_response(self) -> HttpResponse {
        HttpResponse::build(StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK))
            .insert_header(("Idempotent-Replayed", "true"))
            .json(self.body)
    }
}

/// Looks the key up. `Ok(Some)` is a replay; `Err` a 422 when the key was
/// used for a different request. `scope` separates callers and routes
/// (e.g. `"<sub> POST /api/v1/materials"`), so keys never collide across them.
pub async fn lookup(
    db: &impl ConnectionTrait,
    scope: &str,
    key: &str,
    fingerprint: &str,
) -> Result<Option<StoredResponse>, LookupError> {
    let found = entity::Entity::find_by_id((scope.to_owned(), key.to_owned()))
        .one(db)
        .await?;
    match found {
        None => Ok(None),
        Some(row) if row.fingerprint == fingerprint => Ok(Some(StoredResponse {
            status: row.status as u16,
            body: serde_json::from_str(&row.body).unwrap_or(serde_json::Value::Null),
        })),
        Some(_) => Err(LookupError::Reused(Problem::field(
            HEADER,
            "idempotency_key_reused",
            "该 Idempotency-Key 已用于另一个不同内容的请求，请换用新的键",
        ))),
    }
}

/// Records the response of a fresh request, in the caller's transaction.
pub async fn record(
    db: &impl ConnectionTrait,
    scope: &str,
    key: &str,
    fingerprint: &str,
    status: StatusCode,
    body: &impl serde::Serialize,
) -> Result<(), sea_orm::DbErr> {
    entity::ActiveModel {
        scope: Set(scope.to_owned()),
        key: Set(key.to_owned()),
        fingerprint: Set(fingerprint.to_owned()),
        status: Set(i32::from(status.as_u16())),
        body: Set(serde_json::to_string(body).unwrap_or_else(|_| "null".into())),
        created_at: Set(chrono::Utc::now()),
    }
    .insert(db)
    .await
    .map(|_| ())
}

/// Records the 201 answer of a fresh creating request, in the caller's
/// transaction (for stores that take no HTTP types).
pub async fn record_created(
    db: &impl ConnectionTrait,
    scope: &str,
    key: &str,
    fingerprint: &str,
    body: &impl serde::Serialize,
) -> Result<(), sea_orm::DbErr> {
    record(db, scope, key, fingerprint, StatusCode::CREATED, body).await
}

/// Why a lookup did not produce an answer.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// Same key, different request.
    #[error("idempotency key reused for a different request")]
    Reused(Problem),
    /// Database failure.
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// The `idempotency_keys` table.
pub mod entity {
    use sea_orm::entity::prelude::*;

    /// One recorded response.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "idempotency_keys")]
    pub struct Model {
        /// Caller and route.
        #[sea_orm(primary_key, auto_increment = false)]
        pub scope: String,
        /// The client's key.
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        /// SHA-256 of the request's identifying parts.
        pub fingerprint: String,
        /// Status of the first answer.
        pub status: i32,
        /// JSON body of the first answer.
        #[sea_orm(column_type = "Text")]
        pub body: String,
        /// When it was recorded.
        pub created_at: DateTimeUtc,
    }

    /// No relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Migration creating `idempotency_keys`; every service lists it.
pub mod migration {
    use sea_orm_migration::prelude::*;
    use sea_orm_migration::schema::*;

    /// Creates the table.
    pub struct Migration;

    impl MigrationName for Migration {
        fn name(&self) -> &str {
            "m0001_create_idempotency_keys"
        }
    }

    #[async_trait::async_trait]
    impl MigrationTrait for Migration {
        async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .create_table(
                    Table::create()
                        .table("idempotency_keys")
                        .if_not_exists()
                        .col(string("scope"))
                        .col(string("key"))
                        .col(string("fingerprint"))
                        .col(integer("status"))
                        .col(text("body"))
                        .col(timestamp_with_time_zone("created_at"))
                        .primary_key(Index::create().col("scope").col("key"))
                        .to_owned(),
                )
                .await
        }

        async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
            manager
                .drop_table(Table::drop().table("idempotency_keys").to_owned())
                .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_separates_parts() {
        assert_ne!(fingerprint(&[b"ab", b"c"]), fingerprint(&[b"a", b"bc"]));
        assert_eq!(fingerprint(&[b"x"]), fingerprint(&[b"x"]));
    }
}
