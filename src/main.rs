//! `yizhan`: the one binary. With no arguments it runs the whole stack in one
//! process (embedded broker, SQLite under data/); `serve <service>` runs one
//! service; `broker` runs the embedded broker alone; `token` mints dev
//! tokens; `openapi` writes or checks the committed OpenAPI documents and
//! the AsyncAPI document of the events; `certificate-keys` rotates the
//! e-certificate signing key; `dlq` lists, shows and redrives
//! dead-lettered events.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use yizhan::{Broker, Service, Stack, StackSettings};
use yizhan_auth::{Role, TokenRequest};
use yizhan_events::broker::EmbeddedBroker;

#[derive(Parser)]
#[command(name = "yizhan", version, about = "一站 — 政务一站式审批平台")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run every service in this process (the default).
    All,
    /// Run one service against KAFKA_BROKERS (or a `yizhan broker` on this machine).
    Serve {
        /// Which service.
        service: Service,
    },
    /// Run the embedded Kafka broker alone, for several `serve` processes.
    Broker,
    /// Mint a development token (HS256 with this deployment's dev secret).
    Token {
        /// Role(s): applicant, agent, window_clerk, dept_reviewer, admin, partner,
        /// specialist, hotline_operator.
        #[arg(long = "role", required = true, value_delimiter = ',')]
        roles: Vec<String>,
        /// Subject (user id).
        #[arg(long, default_value = "dev-user")]
        sub: String,
        /// Display name.
        #[arg(long)]
        name: Option<String>,
        /// Applicant's enterprise USCC.
        #[arg(long)]
        uscc: Option<String>,
        /// Agent or specialist: an enterprise that authorised them or is
        /// assigned to them (repeatable).
        #[arg(long = "enterprise")]
        enterprises: Vec<String>,
        /// Reviewer's department code.
        #[arg(long)]
        dept: Option<String>,
        /// Partner scope (repeatable).
        #[arg(long = "scope")]
        scopes: Vec<String>,
        /// Lifetime in seconds.
        #[arg(long, default_value_t = 8 * 3600)]
        ttl: i64,
    },
    /// Manage the e-certificate signing keys (under `<data_dir>/certificate-keys/`).
    CertificateKeys {
        /// What to do.
        #[command(subcommand)]
        action: CertificateKeysAction,
    },
    /// Inspect and redrive a consumer's dead-letter topic (`yizhan.<consumer>.dlq`).
    Dlq {
        /// What to do.
        #[command(subcommand)]
        action: DlqAction,
    },
    /// Write each service's OpenAPI JSON and the events' AsyncAPI JSON
    /// (`asyncapi.json`) to a directory, or check they match.
    Openapi {
        /// Directory of the committed documents.
        #[arg(long, default_value = "openapi")]
        dir: PathBuf,
        /// Fail if the committed documents differ from the code.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Subcommand)]
enum CertificateKeysAction {
    /// Make a new signing key active. Old public keys stay published in the
    /// JWKS, so certificates signed before still verify; the old private key
    /// is deleted. A running document service signs with the new key from
    /// its next certificate on.
    ///
    /// With `--dir`, works on that directory instead of the configured one:
    /// how an operator prepares the files of a read-only Kubernetes Secret
    /// (docs/CERTIFICATES.md).
    Rotate {
        /// Key directory to work on (default: the configured one).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
    /// List the published key ids and the active one.
    List {
        /// Key directory to read (default: the configured one).
        #[arg(long)]
        dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum DlqAction {
    /// One line per dead-lettered message: offset, event type and id, when,
    /// attempts, and the error.
    List {
        /// The consuming service.
        consumer: Service,
    },
    /// Every header and the payload of one message.
    Show {
        /// The consuming service.
        consumer: Service,
        /// Offset in the dead-letter topic (from `list`).
        offset: i64,
    },
    /// Sends messages back to the topic they came from. The consumer's inbox
    /// applies each exactly once, even if it was applied (or redriven) before.
    Redrive {
        /// The consuming service.
        consumer: Service,
        /// Offsets to redrive (repeatable).
        #[arg(long = "offset", required_unless_present = "all")]
        offsets: Vec<i64>,
        /// Redrive every message in the topic.
        #[arg(long, conflicts_with = "offsets")]
        all: bool,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = StackSettings::load()?;
    match cli.command.unwrap_or(Command::All) {
        Command::All => run_all(settings).await,
        Command::Serve { service } => serve(service, settings).await,
        Command::Broker => broker(settings).await,
        Command::Token {
            roles,
            sub,
            name,
            uscc,
            enterprises,
            dept,
            scopes,
            ttl,
        } => {
            let roles = roles
                .iter()
                .map(|r| serde_json::from_value::<Role>(serde_json::Value::String(r.clone())))
                .collect::<Result<Vec<_>, _>>()
                .context("unknown role: use applicant, agent, window_clerk, dept_reviewer, admin, partner, specialist or hotline_operator")?;
            let secret = yizhan::hs256_secret(&settings.common)?;
            let request = TokenRequest {
                sub,
                name,
                roles,
                uscc,
                enterprises,
                dept,
                scopes,
                ttl_secs: ttl,
            };
            println!(
                "{}",
                yizhan_auth::mint_hs256(
                    &secret,
                    &settings.common.auth.issuer,
                    &settings.common.auth.audience,
                    &request
                )
            );
            Ok(())
        }
        Command::CertificateKeys { action } => certificate_keys(&settings, action),
        Command::Dlq { action } => dlq(&settings, action).await,
        Command::Openapi { dir, check } => openapi(&dir, check),
    }
}

async fn run_all(settings: StackSettings) -> anyhow::Result<()> {
    let _telemetry = yizhan_kit::telemetry::init("yizhan", &settings.common.log)?;
    let cancel = yizhan_kit::shutdown::on_signal();
    let stack = Stack::start(&Service::ALL, &settings, cancel.clone()).await?;
    print_banner(&settings, &stack);
    stack.wait().await
}

async fn serve(service: Service, settings: StackSettings) -> anyhow::Result<()> {
    let _telemetry = yizhan_kit::telemetry::init(service.name(), &settings.common.log)?;
    let cancel = yizhan_kit::shutdown::on_signal();
    let broker = match &settings.common.kafka.brokers {
        // The portal only calls the other services' REST APIs.
        _ if !service.has_database() => Broker::Unused,
        Some(b) => {
            yizhan::ensure_topics(b).await?;
            Broker::External(b.clone())
        }
        None => {
            // `yizhan broker` on this machine: follow it across its restarts.
            let file = yizhan::broker_address_file(&settings.common.data_dir);
            return yizhan::serve_following_broker(service, &settings, &file, cancel).await;
        }
    };
    let stack = Stack::start_with(&[service], &settings, broker, cancel).await?;
    tracing::info!(
        service = service.name(),
        port = stack.port(service),
        "service started"
    );
    stack.wait().await
}

async fn broker(settings: StackSettings) -> anyhow::Result<()> {
    let _telemetry = yizhan_kit::telemetry::init("yizhan-broker", &settings.common.log)?;
    let cancel = yizhan_kit::shutdown::on_signal();
    let broker = EmbeddedBroker::start(&[])?;
    let file = yizhan::broker_address_file(&settings.common.data_dir);
    yizhan::write_broker_address(&file, broker.bootstrap_servers())?;
    println!(
        "embedded Kafka broker at {} (recorded in {})",
        broker.bootstrap_servers(),
        file.display()
    );
    println!(
        "it keeps nothing on disk: after a restart it has a new address, which running \
         `yizhan serve` processes follow, re-sending their retained events to it"
    );
    cancel.cancelled().await;
    let _ = std::fs::remove_file(&file);
    Ok(())
}

fn certificate_keys(settings: &StackSettings, action: CertificateKeysAction) -> anyhow::Result<()> {
    let certificates = &settings.services.document.certificates;
    let configured_dir = certificates.keys_dir(&settings.common);
    match action {
        CertificateKeysAction::Rotate { dir } => {
            let dir = dir.unwrap_or(configured_dir);
            if certificates.signing_key.is_some() {
                anyhow::bail!(
                    "document.certificates.signing_key is set: the key comes from configuration; \
                     replace it there (its public key stays published in {})",
                    dir.display()
                );
            }
            let rotation = yizhan_document::store::keys::rotate(&dir)?;
            println!("新签名密钥已启用：{}", rotation.new_kid);
            if let Some(previous) = rotation.previous_kid {
                println!("原密钥 {previous} 已停用签名，其公钥继续公布，已签发的证照仍可验证");
            }
            println!("公布的公钥（{}）：", dir.display());
            for kid in rotation.published {
                println!("  {kid}");
            }
        }
        CertificateKeysAction::List { dir } => {
            let dir = dir.unwrap_or(configured_dir);
            let ring = yizhan_document::store::keys::KeyRing::open(
                &dir,
                certificates.signing_key.as_deref(),
            )?;
            let active = ring.active().kid.clone();
            for jwk in ring.jwks() {
                let mark = if jwk.kid == active {
                    "（当前签名密钥）"
                } else {
                    ""
                };
                println!("{}{mark}", jwk.kid);
            }
        }
    }
    Ok(())
}

async fn dlq(settings: &StackSettings, action: DlqAction) -> anyhow::Result<()> {
    let brokers = match &settings.common.kafka.brokers {
        Some(b) => b.clone(),
        None => {
            yizhan::read_broker_address(&yizhan::broker_address_file(&settings.common.data_dir))?
        }
    };
    let kafka = yizhan_events::kafka::KafkaConfig {
        brokers,
        client_id: "yizhan-dlq".into(),
    };
    let consumer_of = |service: Service| -> anyhow::Result<&'static str> {
        anyhow::ensure!(
            service.has_database(),
            "{} consumes no events, so has no dead-letter topic",
            service.name()
        );
        Ok(service.name())
    };
    match action {
        DlqAction::List { consumer } => {
            let consumer = consumer_of(consumer)?;
            let kafka = kafka.clone();
            let letters =
                tokio::task::spawn_blocking(move || yizhan_events::dlq::list(&kafka, consumer))
                    .await??;
            if letters.is_empty() {
                println!("{consumer} 的死信主题为空");
            }
            for d in letters {
                println!(
                    "{}\t{}\t{}\t{}\tattempts={}\t{}",
                    d.offset,
                    d.header("ce_type"),
                    d.header("ce_id"),
                    d.header("dlq_failed_at"),
                    d.header("dlq_attempts"),
                    d.header("dlq_error")
                );
            }
        }
        DlqAction::Show { consumer, offset } => {
            let consumer = consumer_of(consumer)?;
            let d = tokio::task::spawn_blocking(move || {
                yizhan_events::dlq::show(&kafka, consumer, offset)
            })
            .await??;
            println!("offset: {}\nkey: {}", d.offset, d.key);
            for (k, v) in &d.headers {
                println!("{k}: {v}");
            }
            println!();
            println!("{}", d.payload);
        }
        DlqAction::Redrive {
            consumer,
            offsets,
            all,
        } => {
            let consumer = consumer_of(consumer)?;
            let offsets = if all { Vec::new() } else { offsets };
            let redriven = yizhan_events::dlq::redrive(&kafka, consumer, &offsets).await?;
            for d in &redriven {
                println!(
                    "已重投 {} {} -> {}",
                    d.offset,
                    d.header("ce_id"),
                    d.origin_topic()
                );
            }
            println!("共重投 {} 条；收件箱保证每条事件只生效一次", redriven.len());
        }
    }
    Ok(())
}

fn openapi(dir: &std::path::Path, check: bool) -> anyhow::Result<()> {
    let mut drifted = Vec::new();
    let documents = Service::ALL
        .iter()
        .map(|service| {
            (
                format!("{}.json", service.name()),
                yizhan_kit::openapi::to_json(&service.openapi()),
            )
        })
        .chain([(
            "asyncapi.json".to_owned(),
            yizhan_events::asyncapi::to_json(&yizhan_events::asyncapi::document()),
        )]);
    for (name, json) in documents {
        let path = dir.join(name);
        if check {
            let committed = std::fs::read_to_string(&path).unwrap_or_default();
            if committed != json {
                drifted.push(path.display().to_string());
            }
        } else {
            std::fs::create_dir_all(dir)?;
            std::fs::write(&path, json)?;
            println!("wrote {}", path.display());
        }
    }
    if !drifted.is_empty() {
        anyhow::bail!(
            "API document drift: {} differ from the code; run `cargo run -- openapi` and commit",
            drifted.join(", ")
        );
    }
    Ok(())
}

fn print_banner(settings: &StackSettings, stack: &Stack) {
    let host = &settings.common.http.host;
    println!();
    println!(
        "一站 yizhan 已启动（单进程模式：内嵌 Kafka {}，SQLite 位于 {}/）",
        stack.broker.bootstrap(),
        settings.common.data_dir.display()
    );
    for (service, port) in &stack.ports {
        println!(
            "  {:<13} {:<10} http://{host}:{port}/swagger-ui/   (健康检查 /healthz /readyz)",
            service.name(),
            service.title()
        );
    }
    if let Some(port) = stack.port(Service::Portal) {
        println!();
        println!("办事门户（申请人、综合窗口、部门审批的网页）：http://{host}:{port}/");
        if yizhan::dev_signer(&settings.common)
            .ok()
            .flatten()
            .is_some()
            && settings.services.portal.dev_login
        {
            println!("  开发环境可在 http://{host}:{port}/login 直接选择演示账号登录");
        }
    }
    println!();
    println!("签发开发令牌（示例）：");
    println!(
        "  cargo run --release -- token --role applicant --sub applicant-1 --uscc 91350100M000100Y43"
    );
    println!("  cargo run --release -- token --role window_clerk --sub clerk-1");
    println!("按 Ctrl-C 停止。");
}
