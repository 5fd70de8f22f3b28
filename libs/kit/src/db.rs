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

/// Opens a pool for `url`. For SQLite file URLs the parent directory is
/// created, and the database file is readable by its owner only.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    if let Some(path) = sqlite_file_path(url) {
        let path = std::path::Path::new(path);
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent)
                .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", parent.display())))?;
        }
        owner_only(path)
            .map_err(|e| DbErr::Custom(format!("cannot restrict {}: {e}", path.display())))?;
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
        options.map_sqlx_sqlite_pool_opts(|pool| {
            pool.after_connect(|conn, _| Box::pin(stable_query_plans(conn)))
        });
    } else {
        options.max_connections(20).min_connections(1);
    }
    Database::connect(options).await
}

/// Turns on SQLite's query planner stability guarantee
/// (`SQLITE_DBCONFIG_ENABLE_QPSG`) for a new connection.
///
/// Without it SQLite (3.51 here) plans some statements for the values bound
/// to them, and then re-prepares such a statement at its next step whenever
/// a value is bound again, even the same one. Every `LIMIT ?` is one: each
/// `find_by_id(..).one(..)` sea-orm runs binds its `LIMIT 1`, so the cached
/// statement was parsed and planned anew on every execution. Under the
/// bundle benchmark that re-preparing was half of the instructions spent
/// running statements, ~10 % of a bundle's (docs/BENCHMARKS.md). With the guarantee a statement keeps the plan it
/// was prepared with; none of ours depends on a bound value for its plan.
///
/// sqlx has no option for this setting, hence the one FFI call.
async fn stable_query_plans(
    conn: &mut sea_orm::sqlx::SqliteConnection,
) -> Result<(), sea_orm::sqlx::Error> {
    let enabled = query_planner_stability(conn, 1).await?;
    if enabled != 1 {
        return Err(sea_orm::sqlx::Error::Configuration(
            "SQLite kept its query planner stability guarantee off".into(),
        ));
    }
    Ok(())
}

/// Sets `SQLITE_DBCONFIG_ENABLE_QPSG` on `conn` (1 on, 0 off, -1 leaves it)
/// and returns the state it is in afterwards.
async fn query_planner_stability(
    conn: &mut sea_orm::sqlx::SqliteConnection,
    set: std::ffi::c_int,
) -> Result<std::ffi::c_int, sea_orm::sqlx::Error> {
    let mut handle = conn.lock_handle().await?;
    let raw = handle.as_raw_handle();
    let mut state: std::ffi::c_int = -1;
    // SAFETY: `raw` is the open connection's handle, held exclusively
    // through `handle` (sqlx's worker makes no calls on it meanwhile);
    // ENABLE_QPSG takes an int and a pointer to an int for the new state.
    let rc = unsafe {
        libsqlite3_sys::sqlite3_db_config(
            raw.as_ptr(),
            libsqlite3_sys::SQLITE_DBCONFIG_ENABLE_QPSG,
            set,
            &mut state as *mut std::ffi::c_int,
        )
    };
    if rc != libsqlite3_sys::SQLITE_OK {
        return Err(sea_orm::sqlx::Error::Configuration(
            format!("SQLite refused the query planner stability setting (code {rc})").into(),
        ));
    }
    Ok(state)
}

/// Creates the SQLite file `path` with mode 0600 (SQLite itself would
/// create it 0644 less the umask, readable by every local user, and
/// licensing.db holds legal representatives' ID numbers), or tightens an
/// existing one and its `-wal`/`-shm` to 0600. SQLite gives the `-wal` and
/// `-shm` files it creates the main file's mode, so they follow.
#[cfg(unix)]
fn owner_only(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    // An empty file is an empty database to SQLite.
    std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)?;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        match std::fs::metadata(&file) {
            Ok(m) if m.permissions().mode() & 0o077 != 0 => {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?;
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn owner_only(_path: &std::path::Path) -> std::io::Result<()> {
    Ok(())
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

/// True when the error says the database is unavailable rather than that
/// the statement is wrong: no connection (refused, reset, closed, pool
/// exhausted or timed out), the server shutting down or refusing
/// connections, the database missing, out of resources, or busy/locked.
/// The same statement may succeed later, so callers retry (consumers) or
/// answer 503 (HTTP); they never treat the input as bad.
pub fn is_transient(err: &DbErr) -> bool {
    use sea_orm::RuntimeErr;
    match err {
        DbErr::ConnectionAcquire(_) => true,
        // Failing to open or keep a connection is always about the server.
        DbErr::Conn(_) => true,
        DbErr::Exec(RuntimeErr::SqlxError(e)) | DbErr::Query(RuntimeErr::SqlxError(e)) => {
            sqlx_is_transient(e)
        }
        _ => false,
    }
}

fn sqlx_is_transient(err: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    match err {
        Error::Io(_)
        | Error::Tls(_)
        | Error::Protocol(_)
        | Error::PoolTimedOut
        | Error::PoolClosed
        | Error::WorkerCrashed
        | Error::BeginFailed => true,
        Error::Database(db) => match db.code() {
            Some(code) => database_code_is_transient(&code),
            None => false,
        },
        _ => false,
    }
}

/// SQLSTATE classes (PostgreSQL) and result codes (SQLite) that mean
/// "not now" rather than "never".
fn database_code_is_transient(code: &str) -> bool {
    // SQLSTATEs are always five characters; SQLite's extended result codes
    // are numbers below 10000, so at most four digits.
    if code.len() < 5
        && let Ok(sqlite) = code.parse::<i32>()
    {
        // The primary SQLite result code is the low byte of the extended one:
        // BUSY 5, LOCKED 6, IOERR 10, FULL 13, CANTOPEN 14, PROTOCOL 15.
        return matches!(sqlite & 0xff, 5 | 6 | 10 | 13 | 14 | 15);
    }
    // 08 connection exception, 53 insufficient resources, 57P01..57P03
    // admin/crash shutdown and "cannot connect now", 3D000 database does
    // not exist (renamed or dropped under us), 40001/40P01 serialization
    // failure and deadlock (retrying the transaction is the documented cure),
    // 55P03 lock not available.
    code.starts_with("08")
        || code.starts_with("53")
        || matches!(
            code,
            "57P01" | "57P02" | "57P03" | "3D000" | "40001" | "40P01" | "55P03"
        )
}

/// The answer a database error becomes at the edge. A unique-key violation
/// means a concurrent write won the race: 409 with the caller's code and
/// zh-CN detail. A database that is unavailable ([`is_transient`]) is a 503
/// with `Retry-After`, so clients retry instead of reporting a bug. Anything
/// else is logged with its cause and answered as an opaque 500. SQL and
/// driver messages never reach the client.
pub fn problem_for(e: &DbErr, conflict_code: &str, conflict_detail: &str) -> crate::Problem {
    if is_unique_violation(e) {
        crate::Problem::conflict(conflict_code, conflict_detail)
    } else if is_transient(e) {
        tracing::warn!(error = %e, "database unavailable");
        crate::Problem::unavailable("数据库暂时不可用，请稍后重试")
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
    fn unavailable_databases_are_transient_bad_statements_are_not() {
        assert!(is_transient(&DbErr::ConnectionAcquire(
            sea_orm::ConnAcquireErr::Timeout
        )));
        for code in ["08006", "57P01", "3D000", "53300", "5", "517", "6", "14"] {
            assert!(database_code_is_transient(code), "{code}");
        }
        // Syntax error, unique violation, not-null, SQLite constraint.
        for code in ["42601", "23505", "23502", "19", "2067"] {
            assert!(!database_code_is_transient(code), "{code}");
        }
        assert!(!is_transient(&DbErr::RecordNotFound("x".into())));
        assert!(!is_transient(&DbErr::Custom("bad".into())));
    }

    #[test]
    fn problem_for_an_unavailable_database_is_503_with_retry_after() {
        let p = problem_for(
            &DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout),
            "c",
            "d",
        );
        assert_eq!(p.status, 503);
        assert_eq!(
            p.retry_after,
            Some(crate::problem::DEFAULT_RETRY_AFTER_SECS)
        );
        assert!(!p.detail.unwrap_or_default().contains("pool"));
        let p = problem_for(&DbErr::Custom("boom".into()), "c", "d");
        assert_eq!(p.status, 500);
    }

    #[tokio::test]
    async fn every_pooled_sqlite_connection_keeps_its_query_plans() {
        let db = connect("sqlite::memory:").await.expect("connect");
        let pool = db.get_sqlite_connection_pool();
        // Two connections at once: the setting is per connection, so the
        // second one opened must have it too.
        let mut first = pool.acquire().await.expect("first connection");
        let mut second = pool.acquire().await.expect("second connection");
        for conn in [&mut first, &mut second] {
            let state = query_planner_stability(conn, -1).await.expect("query");
            assert_eq!(state, 1, "QPSG is off: `LIMIT ?` statements re-prepare");
        }
    }

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
