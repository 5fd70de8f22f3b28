//! Test support: a database outage that is real, for the tests that prove
//! a consumer waits (and loses nothing) and a request answers 503 while
//! the database is away.

use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};

use crate::testing::Backend;

/// Makes a service's database unavailable, for real: on SQLite another
/// connection holds the write lock (every write waits out the busy timeout
/// and fails `SQLITE_BUSY`, as under a long migration or backup); on
/// PostgreSQL the database stops accepting connections and its sessions
/// are terminated (as in a failover or restart).
pub enum DatabaseOutage {
    /// Another connection holds SQLite's write lock.
    Sqlite(sea_orm::DatabaseTransaction, DatabaseConnection),
    /// The PostgreSQL database refuses connections.
    Postgres {
        /// Connection to the server's admin database.
        admin: DatabaseConnection,
        /// The database taken away.
        name: String,
    },
}

impl DatabaseOutage {
    /// Takes the database at `url` (on `backend`) away.
    pub async fn begin(backend: &Backend, url: &str) -> Self {
        match backend {
            Backend::Sqlite => {
                let holder = crate::db::connect(url).await.unwrap();
                let txn = holder
                    .begin_with_options(sea_orm::TransactionOptions {
                        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Exclusive),
                        ..Default::default()
                    })
                    .await
                    .unwrap();
                Self::Sqlite(txn, holder)
            }
            Backend::Postgres(admin_url) => {
                let admin = sea_orm::Database::connect(admin_url.as_str())
                    .await
                    .unwrap();
                let name = url.rsplit('/').next().unwrap().split('?').next().unwrap();
                admin
                    .execute_unprepared(&format!(
                        "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS false"
                    ))
                    .await
                    .unwrap();
                admin
                    .execute_unprepared(&format!(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
                    ))
                    .await
                    .unwrap();
                Self::Postgres {
                    admin,
                    name: name.to_owned(),
                }
            }
        }
    }

    /// Gives it back.
    pub async fn end(self) {
        match self {
            Self::Sqlite(txn, holder) => {
                txn.rollback().await.unwrap();
                holder.close().await.unwrap();
            }
            Self::Postgres { admin, name } => {
                admin
                    .execute_unprepared(&format!(
                        "ALTER DATABASE \"{name}\" ALLOW_CONNECTIONS true"
                    ))
                    .await
                    .unwrap();
                admin.close().await.unwrap();
            }
        }
    }
}
