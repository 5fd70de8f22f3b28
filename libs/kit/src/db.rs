//! Database connection for `sqlite://` and `postgres://` URLs, and the few
//! backend differences the rest of the code must know about.
//!
//! SQLite runs in WAL mode with a busy timeout so readers never block the
//! writer and short write bursts queue instead of failing.

use std::time::Duration;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

/// Opens a pool for `url` and runs `M`'s migrations.
pub async fn connect_and_migrate<M: MigratorTrait>(url: &str) -> Result<DatabaseConnection, DbErr> {
    let db = connect(url).await?;
    M::up(&db, None).await?;
    Ok(db)
}

/// Opens a pool for `url`. For SQLite file URLs the parent directory is created.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = sqlite_file_path(url)
        && let Some(parent) = std::path::Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", parent.display())))?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(15))
        .map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(15))
                .foreign_keys(true)
                .create_if_missing(true)
        });
    if url.starts_with("sqlite") {
        // One writer at a time anyway; a small pool avoids lock convoys.
        options.max_connections(8).min_connections(1);
    } else {
        options.max_connections(20).min_connections(1);
    }
    Database::connect(options).await
}

fn sqlite_file_path(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("sqlite://")?;
    let path = rest.split('?').next()?;
    (!path.is_empty() && path != ":memory:").then_some(path)
}

/// True when the error is a unique-key violation, on either backend.
/// Callers turn it into a 409 (duplicate) or an idempotent replay.
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(
        err.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}

/// Begins a transaction that will write.
///
/// On SQLite it starts `IMMEDIATE`, taking the write lock up front (waiting
/// out the busy timeout if another writer holds it). A default `DEFERRED`
/// transaction that reads first and writes later fails at once with
/// `SQLITE_BUSY` when another writer committed in between: busy_timeout
/// cannot help, and under load that surfaced as sporadic 500s. PostgreSQL
/// ignores the mode.
pub async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Serialises transactions that touch the same logical key (e.g. "next
/// version of this enterprise's floor plan") until the transaction ends.
/// PostgreSQL: a transaction-scoped advisory lock on the key's hash. SQLite:
/// nothing to do, a transaction from [`begin_write`] already holds the
/// database's single write lock.
pub async fn lock_key(txn: &DatabaseTransaction, key: &str) -> Result<(), DbErr> {
    if txn.get_database_backend() == DbBackend::Postgres {
        txn.execute_raw(sea_orm::Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
            [key.into()],
        ))
        .await?;
    }
    Ok(())
}

/// The answer a database error becomes at the edge. A unique-key violation
/// means a concurrent write won the race: 409 with the caller's code and
/// zh-CN detail. Anything else is logged with its cause and answered as an
/// opaque 500, never leaking SQL to the client.
pub fn problem_for(e: &DbErr, conflict_code: &str, conflict_detail: &str) -> crate::Problem {
    if is_unique_violation(e) {
        crate::Problem::conflict(conflict_code, conflict_detail)
    } else {
        tracing::error!(error = %e, "database error");
        crate::Problem::internal()
    }
}

/// A cheap round trip used by `/readyz`.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}

/// Whether the connection is PostgreSQL (row locking with `SKIP LOCKED` exists).
pub fn is_postgres(db: &impl ConnectionTrait) -> bool {
    db.get_database_backend() == DbBackend::Postgres
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_sqlite_file_paths() {
        assert_eq!(
            sqlite_file_path("sqlite://data/a.db?mode=rwc"),
            Some("data/a.db")
        );
        assert_eq!(sqlite_file_path("sqlite://:memory:"), None);
        assert_eq!(sqlite_file_path("postgres://x@y/z"), None);
    }
}
