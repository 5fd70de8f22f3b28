//! The processes under test: `yizhan broker` and one `yizhan serve
//! <service>` per service, on PostgreSQL, each a real OS process that the
//! test SIGKILLs and starts again.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use yizhan::Service;
use yizhan_auth::{Role, TokenRequest};
use yizhan_kit::testing::{Backend, TestDatabase};

/// The services a hotel bundle touches, plus notification (inbox messages)
/// and construction (consumes document events too).
pub const SERVICES: [Service; 4] = [
    Service::Document,
    Service::Licensing,
    Service::Construction,
    Service::Notification,
];

/// A process the test can kill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Proc {
    /// `yizhan broker`.
    Broker,
    /// `yizhan serve <service>`.
    Serve(Service),
}

impl Proc {
    fn name(self) -> &'static str {
        match self {
            Self::Broker => "broker",
            Self::Serve(s) => s.name(),
        }
    }
}

pub struct Cluster {
    bin: PathBuf,
    pub data_dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    children: HashMap<Proc, Child>,
    pub ports: HashMap<Service, u16>,
    pub databases: Vec<(Service, TestDatabase)>,
    pub backend: Backend,
    secret: Vec<u8>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Cluster {
    /// Fresh PostgreSQL databases, ports and a data directory; nothing runs yet.
    pub async fn new(admin_url: String) -> Self {
        let backend = Backend::Postgres(admin_url);
        let data_dir = tempfile::tempdir().unwrap();
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
            (
                "YIZHAN_OUTBOX__POLL_INTERVAL_MS".to_owned(),
                "100".to_owned(),
            ),
            // The run drives every service from this one address on purpose.
            (
                "YIZHAN_HTTP__RATE_LIMIT__ENABLED".to_owned(),
                "false".to_owned(),
            ),
            ("RUST_LOG".to_owned(), "info".to_owned()),
        ];
        let mut ports = HashMap::new();
        let mut databases = Vec::new();
        for service in SERVICES {
            let port = free_port();
            ports.insert(service, port);
            let db = backend
                .fresh_database(&format!("crash_{}", service.name()))
                .await;
            let upper = service.name().to_uppercase();
            env.push((format!("YIZHAN_{upper}__PORT"), port.to_string()));
            env.push((format!("YIZHAN_{upper}__DATABASE_URL"), db.url.clone()));
            databases.push((service, db));
        }
        env.push((
            "YIZHAN_LICENSING__DOCUMENT_URL".to_owned(),
            format!("http://127.0.0.1:{}", ports[&Service::Document]),
        ));
        std::fs::create_dir_all(data_dir.path().join("logs")).unwrap();
        Self {
            bin: PathBuf::from(env!("CARGO_BIN_EXE_yizhan")),
            data_dir,
            env,
            children: HashMap::new(),
            ports,
            databases,
            backend,
            secret,
        }
    }

    /// Starts the broker and every service, and waits until they answer.
    pub async fn start_all(&mut self) {
        self.start(Proc::Broker).await;
        for service in SERVICES {
            self.start(Proc::Serve(service)).await;
        }
    }

    /// Starts `proc` and waits until it is usable: the broker has recorded
    /// a new address, a service answers `/healthz`.
    pub async fn start(&mut self, proc: Proc) {
        let addr_file = yizhan::broker_address_file(self.data_dir.path());
        let before = yizhan::read_broker_address(&addr_file).ok();
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(
                self.data_dir
                    .path()
                    .join(format!("logs/{}.log", proc.name())),
            )
            .unwrap();
        let mut command = Command::new(&self.bin);
        match proc {
            Proc::Broker => command.arg("broker"),
            Proc::Serve(s) => command.arg("serve").arg(s.name()),
        };
        let child = command
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        self.children.insert(proc, child);
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            assert!(Instant::now() < deadline, "{} did not come up", proc.name());
            let up = match proc {
                Proc::Broker => yizhan::read_broker_address(&addr_file)
                    .ok()
                    .is_some_and(|a| Some(&a) != before.as_ref()),
                Proc::Serve(s) => reqwest::get(self.url(s, "/healthz"))
                    .await
                    .is_ok_and(|r| r.status() == 200),
            };
            if up {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL: no shutdown code runs.
    pub fn kill(&mut self, proc: Proc) {
        if let Some(mut child) = self.children.remove(&proc) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills every process.
    pub fn kill_all(&mut self) {
        let procs: Vec<Proc> = self.children.keys().copied().collect();
        for p in procs {
            self.kill(p);
        }
    }

    pub fn url(&self, service: Service, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.ports[&service])
    }

    pub fn database_url(&self, service: Service) -> &str {
        &self
            .databases
            .iter()
            .find(|(s, _)| *s == service)
            .unwrap()
            .1
            .url
    }

    /// The broker's current address.
    pub fn brokers(&self) -> String {
        yizhan::read_broker_address(&yizhan::broker_address_file(self.data_dir.path())).unwrap()
    }

    pub fn token(&self, sub: &str, role: Role, uscc: Option<&str>, dept: Option<&str>) -> String {
        let issuer = yizhan_kit::settings::CommonSettings::default().auth;
        yizhan_auth::mint_hs256(
            &self.secret,
            &issuer.issuer,
            &issuer.audience,
            &TokenRequest {
                sub: sub.into(),
                name: Some("压测".into()),
                roles: vec![role],
                uscc: uscc.map(str::to_owned),
                dept: dept.map(str::to_owned),
                ttl_secs: 3600,
                ..Default::default()
            },
        )
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.kill_all();
    }
}
