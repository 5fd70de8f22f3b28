//! Test support: a fresh database per test, on SQLite always and on
//! PostgreSQL when `YIZHAN_TEST_DATABASE_URL` names a server (CI sets it).
//!
//! [`backend_tests!`](crate::backend_tests) turns one `async fn(Backend)` into
//! a `sqlite::name` and a `postgres::name` test, so the same assertions run on
//! both databases. A test that cannot run calls [`skip`]: `SKIPPED: …` on
//! stderr, or a failure under `CI=true`, never a silent pass.

use sea_orm::{ConnectionTrait, Database};

/// Environment variable with an admin URL of the PostgreSQL test server,
/// e.g. `postgres://postgres@127.0.0.1:5432/postgres`.
pub const TEST_DATABASE_URL_ENV: &str = "YIZHAN_TEST_DATABASE_URL";

/// Which database a test runs on.
#[derive(Debug, Clone)]
pub enum Backend {
    /// SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on this PostgreSQL server (admin URL).
    Postgres(String),
}

impl Backend {
    /// PostgreSQL from the environment, if configured.
    pub fn postgres_from_env() -> Option<Self> {
        std::env::var(TEST_DATABASE_URL_ENV)
            .ok()
            .filter(|u| !u.trim().is_empty())
            .map(Self::Postgres)
    }

    /// PostgreSQL from the environment; when it is not configured, the
    /// test [`skip`]s (which fails it under CI).
    pub fn postgres_or_skip() -> Option<Self> {
        let backend = Self::postgres_from_env();
        if backend.is_none() {
            skip(&format!(
                "PostgreSQL variant; set {TEST_DATABASE_URL_ENV} to run it"
            ));
        }
        backend
    }

    /// A new empty database; dropped (PostgreSQL) or deleted (SQLite) with the handle.
    pub async fn fresh_database(&self, label: &str) -> TestDatabase {
        match self {
            Self::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join(format!("{label}.db")).display()
                );
                TestDatabase {
                    url,
                    cleanup: Cleanup::Dir(dir),
                }
            }
            Self::Postgres(admin) => {
                let name = format!("yizhan_t_{}_{}", label, uuid::Uuid::new_v4().simple());
                let db = Database::connect(admin.as_str()).await.unwrap_or_else(|e| {
                    panic!("{TEST_DATABASE_URL_ENV} is set but PostgreSQL is unreachable: {e}")
                });
                db.execute_unprepared(&format!("CREATE DATABASE \"{name}\""))
                    .await
                    .expect("create test database");
                db.close().await.ok();
                let url = replace_database(admin, &name);
                TestDatabase {
                    url,
                    cleanup: Cleanup::Postgres {
                        admin: admin.clone(),
                        name,
                    },
                }
            }
        }
    }
}

/// Whether this is a CI run (`CI=true` or `CI=1`), where nothing may skip.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// A test that cannot run says so: under CI it fails with `reason` (a CI
/// run that silently left out a half of the tests would be a false green);
/// elsewhere it prints `SKIPPED: <reason>` and the caller returns.
///
/// # Panics
/// Under CI, always.
pub fn skip(reason: &str) {
    assert!(!in_ci(), "cannot run under CI: {reason}");
    eprintln!("SKIPPED: {reason}");
}

/// Swaps the database name in a PostgreSQL URL.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = base[scheme_end..].find('/').map(|i| i + scheme_end);
    let host = match path_start {
        Some(i) => &base[..i],
        None => base,
    };
    match query {
        Some(q) => format!("{host}/{name}?{q}"),
        None => format!("{host}/{name}"),
    }
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin: String, name: String },
}

/// A database for one test.
pub struct TestDatabase {
    /// Connection URL.
    pub url: String,
    cleanup: Cleanup,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin, name } = &self.cleanup {
            let admin = admin.clone();
            let name = name.clone();
            // Drop runs inside the test's runtime; use a thread with its own.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    if let Ok(db) = Database::connect(admin.as_str()).await {
                        let _ = db
                            .execute_unprepared(&format!(
                                "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                            ))
                            .await;
                        let _ = db.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// Generates `sqlite::<name>` and `postgres::<name>` tests from
/// `async fn <name>(backend: Backend)`. The PostgreSQL variant needs
/// `YIZHAN_TEST_DATABASE_URL`; without it, it prints `SKIPPED: …` (and
/// fails under `CI=true`, see [`skip`](crate::testing::skip)).
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    super::$name($crate::testing::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    if let Some(backend) = $crate::testing::Backend::postgres_or_skip() {
                        super::$name(backend).await
                    }
                }
            )*
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[ignore = "run by skip_passes_visibly_and_fails_under_ci in a child process"]
    fn skip_child() {
        skip("child reason");
    }

    #[test]
    fn skip_passes_visibly_and_fails_under_ci() {
        let run = |ci: &str| {
            std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "testing::tests::skip_child", "--ignored"])
                .args(["--nocapture", "--test-threads=1"])
                .env("CI", ci)
                .output()
                .unwrap()
        };
        let ci = run("true");
        assert!(!ci.status.success(), "a skip under CI fails");
        assert!(String::from_utf8_lossy(&ci.stderr).contains("cannot run under CI: child reason"));
        let local = run("");
        assert!(local.status.success());
        assert!(String::from_utf8_lossy(&local.stderr).contains("SKIPPED: child reason"));
    }

    #[test]
    fn swaps_database_names() {
        assert_eq!(
            replace_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
            "postgres://postgres@127.0.0.1:5432/x"
        );
        assert_eq!(
            replace_database("postgres://u:p@h/db?sslmode=disable", "x"),
            "postgres://u:p@h/x?sslmode=disable"
        );
        assert_eq!(
            replace_database("postgres://h:5432", "x"),
            "postgres://h:5432/x"
        );
    }
}
