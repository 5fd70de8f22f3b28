//! Creates `audit_log`, with indexes for the admins' filters and a trigger
//! that refuses updates (the log is append-only; only pruning deletes).

use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

/// The audit log table.
pub struct CreateAuditLog;

impl MigrationName for CreateAuditLog {
    fn name(&self) -> &str {
        "m0005_create_audit_log"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for CreateAuditLog {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("audit_log")
                    .if_not_exists()
                    .col(big_pk_auto("id"))
                    .col(string_uniq("entry_key"))
                    .col(timestamp_with_time_zone("at"))
                    .col(string("service"))
                    .col(string("request_id"))
                    .col(string_null("actor"))
                    .col(string_null("actor_name"))
                    .col(string("roles"))
                    .col(string_null("enterprise"))
                    .col(string_null("department"))
                    .col(string("action"))
                    .col(string("object"))
                    .col(string("outcome"))
                    .col(integer("status"))
                    .col(string_null("client_addr"))
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("audit_log_at", "at"),
            ("audit_log_actor", "actor"),
            ("audit_log_object", "object"),
            ("audit_log_department", "department"),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table("audit_log")
                        .col(Alias::new(col))
                        .if_not_exists()
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        match db.get_database_backend() {
            DbBackend::Postgres => {
                db.execute_unprepared(
                    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger \
                     LANGUAGE plpgsql AS $$ BEGIN \
                     RAISE EXCEPTION 'audit_log is append-only'; END $$",
                )
                .await?;
                db.execute_unprepared(
                    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log \
                     FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
                )
                .await?;
            }
            _ => {
                db.execute_unprepared(
                    "CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log \
                     BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END",
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("audit_log").to_owned())
            .await
    }
}
