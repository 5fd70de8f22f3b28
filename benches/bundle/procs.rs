//! The stack under test as real OS processes of the release binary, and
//! their own accounting from `/proc`: CPU time (user + system, every
//! thread), resident memory and thread count.
//!
//! - all-in-one: `yizhan` with no arguments, SQLite under a fresh data
//!   directory, embedded broker (what `cargo run --release` starts);
//! - multi-process: `yizhan broker` and one `yizhan serve <service>` per
//!   service, each on a fresh PostgreSQL database.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine;
use yizhan::Service;
use yizhan_auth::{Role, TokenRequest};
use yizhan_kit::testing::{Backend, TestDatabase};

/// The services a multi-process run starts: those a hotel bundle touches,
/// plus construction and notification, which consume its events as in a
/// real deployment.
const SERVICES: [Service; 4] = [
    Service::Document,
    Service::Licensing,
    Service::Construction,
    Service::Notification,
];

/// How the stack runs.
pub enum Mode {
    /// One process, SQLite, embedded broker.
    AllInOne,
    /// Broker and one process per service on PostgreSQL (admin URL).
    Multi(String),
}

/// The running processes.
pub struct Stack {
    children: Vec<Child>,
    ports: HashMap<Service, u16>,
    secret: Vec<u8>,
    /// Kept so the databases are dropped after the processes.
    _databases: Vec<TestDatabase>,
    /// Logs and SQLite files; removed at the end.
    data_dir: tempfile::TempDir,
    clk_tck: f64,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(0)
}

/// A command (with arguments) to run the stack's processes under.
const WRAPPER_ENV: &str = "YIZHAN_BENCH_WRAPPER";

/// Clock ticks per second of `/proc/<pid>/stat` times.
fn clk_tck() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

impl Stack {
    /// Starts the stack and waits until every service is ready.
    pub async fn start(mode: &Mode) -> anyhow::Result<Self> {
        let data_dir = tempfile::tempdir()?;
        let secret: Vec<u8> = (0..32).map(|_| rand::random::<u8>()).collect();
        let mut env = vec![
            (
                "YIZHAN_DATA_DIR".to_owned(),
                data_dir.path().display().to_string(),
            ),
            (
                "YIZHAN_AUTH__HS256_SECRET".to_owned(),
                base64::engine::general_purpose::STANDARD.encode(&secret),
            ),
        ];
        let mut ports = HashMap::new();
        for service in Service::ALL {
            let port = free_port();
            ports.insert(service, port);
            let upper = service.name().to_uppercase();
            env.push((format!("YIZHAN_{upper}__PORT"), port.to_string()));
        }
        let mut databases = Vec::new();
        let bin = PathBuf::from(env!("CARGO_BIN_EXE_yizhan"));
        let spawn = |args: &[&str], log: &str, env: &[(String, String)]| -> anyhow::Result<Child> {
            let log = std::fs::File::create(data_dir.path().join(log))?;
            // A profiler in front of the binary, e.g.
            // `YIZHAN_BENCH_WRAPPER="valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.%p"`:
            // valgrind runs the program in its own process, so the `/proc`
            // accounting still reads the right pid.
            let wrapper = std::env::var(WRAPPER_ENV).unwrap_or_default();
            let mut words = wrapper.split_whitespace();
            let mut command = match words.next() {
                Some(program) => {
                    let mut c = Command::new(program);
                    c.args(words).arg(&bin);
                    c
                }
                None => Command::new(&bin),
            };
            command
                .args(args)
                .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .spawn()
                .context("starting yizhan")
        };
        let mut children = Vec::new();
        let wait_for = match mode {
            Mode::AllInOne => {
                children.push(spawn(&[], "all-in-one.log", &env)?);
                vec![Service::Document, Service::Licensing, Service::Notification]
            }
            Mode::Multi(admin) => {
                let backend = Backend::Postgres(admin.clone());
                for service in SERVICES {
                    let db = backend
                        .fresh_database(&format!("bench_{}", service.name()))
                        .await;
                    let upper = service.name().to_uppercase();
                    env.push((format!("YIZHAN_{upper}__DATABASE_URL"), db.url.clone()));
                    databases.push(db);
                }
                for svc in ["LICENSING", "CONSTRUCTION"] {
                    env.push((
                        format!("YIZHAN_{svc}__DOCUMENT_URL"),
                        format!("http://127.0.0.1:{}", ports[&Service::Document]),
                    ));
                }
                children.push(spawn(&["broker"], "broker.log", &env)?);
                let addr = yizhan::broker_address_file(data_dir.path());
                wait(Duration::from_secs(60), "the broker", || {
                    let addr = addr.clone();
                    async move { yizhan::read_broker_address(&addr).is_ok() }
                })
                .await?;
                for service in SERVICES {
                    let log = format!("{}.log", service.name());
                    children.push(spawn(&["serve", service.name()], &log, &env)?);
                }
                SERVICES.to_vec()
            }
        };
        let stack = Self {
            children,
            ports,
            secret,
            _databases: databases,
            data_dir,
            clk_tck: clk_tck(),
        };
        let client = reqwest::Client::new();
        for service in wait_for {
            let url = stack.url(service, "/readyz");
            wait(Duration::from_secs(180), service.name(), || {
                let request = client.get(&url).send();
                async move { request.await.is_ok_and(|r| r.status() == 200) }
            })
            .await?;
        }
        Ok(stack)
    }

    /// `http://127.0.0.1:<port of service><path>`.
    pub fn url(&self, service: Service, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.ports[&service])
    }

    /// A bearer token of this stack.
    pub fn token(&self, sub: &str, role: Role, uscc: Option<&str>, dept: Option<&str>) -> String {
        let auth = yizhan_kit::settings::CommonSettings::default().auth;
        yizhan_auth::mint_hs256(
            &self.secret,
            &auth.issuer,
            &auth.audience,
            &TokenRequest {
                sub: sub.into(),
                name: Some("压测".into()),
                roles: vec![role],
                uscc: uscc.map(str::to_owned),
                dept: dept.map(str::to_owned),
                ttl_secs: 24 * 3600,
                ..Default::default()
            },
        )
    }

    /// CPU seconds (user + system, all threads) the stack's processes have
    /// used so far.
    pub fn cpu_secs(&self) -> f64 {
        self.children
            .iter()
            .filter_map(|c| std::fs::read_to_string(format!("/proc/{}/stat", c.id())).ok())
            .map(|stat| {
                // Fields after the command name (which may hold spaces):
                // utime and stime are the 14th and 15th of the whole line.
                let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
                let fields: Vec<&str> = rest.split_whitespace().collect();
                let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
                ticks(11).unwrap_or(0.0) + ticks(12).unwrap_or(0.0)
            })
            .sum::<f64>()
            / self.clk_tck
    }

    /// Context switches (voluntary and not) so far of the threads alive
    /// now, summed over the processes: each is a thread handing work to
    /// another or waiting for it (sqlx runs every SQLite statement on a
    /// worker thread of its connection). Threads that have ended are not
    /// counted; the stack's threads live as long as it does.
    pub fn context_switches(&self) -> u64 {
        let mut switches = 0;
        for c in &self.children {
            let Ok(tasks) = std::fs::read_dir(format!("/proc/{}/task", c.id())) else {
                continue;
            };
            for task in tasks.flatten() {
                let Ok(status) = std::fs::read_to_string(task.path().join("status")) else {
                    continue;
                };
                switches += status
                    .lines()
                    .filter(|l| l.contains("ctxt_switches:"))
                    .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                    .sum::<u64>();
            }
        }
        switches
    }

    /// Resident memory (MiB) and threads, summed over the processes.
    pub fn rss_and_threads(&self) -> (f64, u64) {
        let mut kib = 0u64;
        let mut threads = 0u64;
        for c in &self.children {
            let Ok(status) = std::fs::read_to_string(format!("/proc/{}/status", c.id())) else {
                continue;
            };
            for line in status.lines() {
                let value = || {
                    line.split_whitespace()
                        .nth(1)
                        .and_then(|v| v.parse::<u64>().ok())
                        .unwrap_or(0)
                };
                if line.starts_with("VmRSS:") {
                    kib += value();
                } else if line.starts_with("Threads:") {
                    threads += value();
                }
            }
        }
        (kib as f64 / 1024.0, threads)
    }

    /// The last lines of every process's log, for a run that failed.
    pub fn print_log_tails(&self) {
        let Ok(entries) = std::fs::read_dir(self.data_dir.path()) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "log") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let lines: Vec<&str> = text.lines().collect();
                eprintln!("--- {} (last 20 lines)", path.display());
                for line in &lines[lines.len().saturating_sub(20)..] {
                    eprintln!("{line}");
                }
            }
        }
    }

    /// Whether every process is still running.
    pub fn alive(&mut self) -> bool {
        self.children
            .iter_mut()
            .all(|c| matches!(c.try_wait(), Ok(None)))
    }
}

/// How long a process may take to stop after SIGTERM before it is killed:
/// a graceful stop drains the relays, and a profiler in front of the
/// binary (`YIZHAN_BENCH_WRAPPER`) writes its output only at a clean exit.
const STOP_PATIENCE: Duration = Duration::from_secs(60);

impl Drop for Stack {
    fn drop(&mut self) {
        // SIGTERM through kill(1): the process stops as it would in
        // production; std can only send SIGKILL.
        for c in &self.children {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + STOP_PATIENCE;
        for c in &mut self.children {
            while matches!(c.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Polls `ready` every 100 ms until it holds, or fails after `patience`.
async fn wait<F, Fut>(patience: Duration, what: &str, ready: F) -> anyhow::Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + patience;
    while !ready().await {
        if Instant::now() > deadline {
            bail!("{what} did not become ready within {patience:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(())
}
