//! Email over SMTP (lettre, rustls; never native-tls).

use std::time::Duration;

use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Mailbox, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// SMTP settings.
#[derive(Clone)]
pub struct SmtpConfig {
    /// Server host.
    pub host: String,
    /// Server port.
    pub port: u16,
    /// `starttls` (587), `tls` (implicit, 465) or `none` (a local relay only).
    pub tls: String,
    /// Login, if the server wants one.
    pub username: Option<String>,
    /// Password (never logged).
    pub password: Option<String>,
    /// Sender, e.g. `一站通知 <noreply@yizhan.example>`.
    pub from: String,
    /// Timeout of one SMTP conversation.
    pub timeout: Duration,
}

/// Sends one plain-text email per call.
pub struct EmailSender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl EmailSender {
    /// A sender for `config`; fails on a bad host, TLS mode or sender.
    pub fn new(config: &SmtpConfig) -> anyhow::Result<Self> {
        let builder = match config.tls.as_str() {
            "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&config.host)?,
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&config.host)?,
            "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&config.host),
            other => {
                anyhow::bail!("notification.smtp_tls must be starttls, tls or none, not {other}")
            }
        };
        let mut builder = builder
            .port(config.port)
            .timeout(Some(config.timeout))
            .hello_name(ClientId::Domain("yizhan".into()));
        if let (Some(user), Some(password)) = (&config.username, &config.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Self {
            transport: builder.build(),
            from: config
                .from
                .parse()
                .map_err(|e| anyhow::anyhow!("notification.smtp_from is not a mailbox: {e}"))?,
        })
    }

    /// Sends `body` to `to`; the error is shown in the delivery log.
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> Result<(), String> {
        let to: Mailbox = to.parse().map_err(|e| format!("收件地址无效：{e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            // Base64 keeps Chinese text intact through any relay.
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .header(ContentTransferEncoding::Base64)
                    .body(body.to_owned()),
            )
            .map_err(|e| format!("邮件无法生成：{e}"))?;
        self.transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| format!("邮件服务器未接收：{e}"))
    }
}
