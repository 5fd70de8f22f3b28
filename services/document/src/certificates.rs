//! The e-certificate (电子证照) side of the document service, wired
//! together: settings, the issuer catalog, the signing keys, and the two
//! operations events drive (issue, change status). Handlers and routes call
//! through here; the rules are in `domain::certificate`, the rows in
//! `store::certificates`, the key files in `store::keys`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use chrono::Utc;
use sea_orm::ConnectionTrait;
use serde::Deserialize;
use yizhan_events::contracts::{CertificateIssueRequested, CertificateStatusChangeRequested};
use yizhan_kit::settings::CommonSettings;

use crate::domain::certificate::{
    Catalog, CertificateType, DEFAULT_ISSUER_NAME, DEFAULT_ISSUER_USCC, IssueCommand,
    SignedContent, default_types,
};
use crate::domain::jws::{self, Parsed, SignatureFailure};
use crate::licence_pdf::FontSource;
use crate::store::certificates::{
    self as store, NewCertificate, StatusChange, StatusChangeOutcome, certificate,
};
use crate::store::keys::KeyRing;

/// `[document.certificates]`, `YIZHAN_DOCUMENT__CERTIFICATES__*`.
#[derive(Clone, Deserialize)]
#[serde(default)]
pub struct CertificateSettings {
    /// The issuing centre's 统一社会信用代码 (in every identifier).
    pub issuer_uscc: String,
    /// The issuing centre's name, printed on certificates.
    pub issuer_name: String,
    /// Certificate types by API name: `{ code, name }`. Setting this
    /// replaces the defaults (`industry_comprehensive_licence` → `HYZHXKZ`,
    /// `construction_permit` → `JZGCSGXKZ`).
    pub types: BTreeMap<String, CertificateType>,
    /// Key directory; defaults to `<data_dir>/certificate-keys`.
    pub keys_dir: Option<PathBuf>,
    /// A PKCS#8 PEM Ed25519 private key to sign with instead of the
    /// directory's active key (e.g. mounted from a secret). Never logged.
    pub signing_key: Option<String>,
    /// Base of the public verification URL (`<base>/verify?id=…`); defaults
    /// to `http.public_base_url`, else this service's own address.
    pub public_base_url: Option<String>,
    /// The Chinese font licence PDFs are set in (a `.ttc`, `.ttf` or
    /// `.otf` file); unset: the first of Debian's known CJK font paths
    /// (`fonts-noto-cjk` and others) that exists.
    pub pdf_font: Option<PathBuf>,
}

impl Default for CertificateSettings {
    fn default() -> Self {
        Self {
            issuer_uscc: DEFAULT_ISSUER_USCC.into(),
            issuer_name: DEFAULT_ISSUER_NAME.into(),
            types: default_types(),
            keys_dir: None,
            signing_key: None,
            public_base_url: None,
            pdf_font: None,
        }
    }
}

impl std::fmt::Debug for CertificateSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertificateSettings")
            .field("issuer_uscc", &self.issuer_uscc)
            .field("issuer_name", &self.issuer_name)
            .field("types", &self.types)
            .field("keys_dir", &self.keys_dir)
            .field(
                "signing_key",
                &self.signing_key.as_ref().map(|_| "<redacted>"),
            )
            .field("public_base_url", &self.public_base_url)
            .field("pdf_font", &self.pdf_font)
            .finish()
    }
}

impl CertificateSettings {
    /// The key directory these settings name.
    pub fn keys_dir(&self, common: &CommonSettings) -> PathBuf {
        self.keys_dir
            .clone()
            .unwrap_or_else(|| common.data_dir.join("certificate-keys"))
    }
}

/// What issuing came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Issued {
    /// A new certificate with this identifier.
    New(String),
    /// The request had been answered before, with this identifier.
    Already(String),
}

/// The certificate machinery of one service instance.
pub struct Certificates {
    /// Issuer and types.
    pub catalog: Catalog,
    /// Signing and published keys.
    pub keys: KeyRing,
    /// The font licence PDFs are set in.
    pub pdf_font: FontSource,
    base_url: OnceLock<String>,
}

impl std::fmt::Debug for Certificates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Certificates")
            .field("catalog", &self.catalog)
            .field("keys", &self.keys)
            .finish()
    }
}

impl Certificates {
    /// Checks the catalog and opens (on first start: creates) the keys.
    pub fn new(common: &CommonSettings, settings: &CertificateSettings) -> anyhow::Result<Self> {
        let catalog = Catalog::new(
            &settings.issuer_uscc,
            &settings.issuer_name,
            settings.types.clone(),
        )?;
        let keys = KeyRing::open(&settings.keys_dir(common), settings.signing_key.as_deref())?;
        let base_url = OnceLock::new();
        if let Some(base) = settings
            .public_base_url
            .clone()
            .or_else(|| common.http.public_base_url.clone())
        {
            let _ = base_url.set(base.trim_end_matches('/').to_owned());
        }
        let pdf_font = FontSource::new(settings.pdf_font.clone());
        // Only the PDF needs the font: without one the service runs and
        // says so, here and in each PDF request's 503.
        if let Err(e) = pdf_font.locate() {
            tracing::warn!(error = %e, "no CJK font: licence PDFs answer 503 until one is installed");
        }
        Ok(Self {
            catalog,
            keys,
            pdf_font,
            base_url,
        })
    }

    /// Falls back to this service's own address once it is bound, when no
    /// public base URL is configured.
    pub fn default_base_url(&self, host: &str, port: u16) {
        let host = match host {
            "0.0.0.0" | "::" | "[::]" => "127.0.0.1",
            h => h,
        };
        let _ = self.base_url.set(format!("http://{host}:{port}"));
    }

    /// The public verification URL of a certificate: what the QR code says.
    pub fn verify_url(&self, id: &str) -> String {
        // Identifiers are `0-9A-Z` and dots: nothing to percent-encode.
        let base = self.base_url.get().map(String::as_str).unwrap_or("");
        format!("{base}/verify?id={id}")
    }

    /// Issues the certificate `request` asks for, inside the consumer's
    /// transaction: at most one per `request_id`, signed, recorded, and
    /// announced by `CertificateIssued` in the same commit.
    pub async fn issue(
        &self,
        db: &impl ConnectionTrait,
        request: &CertificateIssueRequested,
        cause: String,
    ) -> anyhow::Result<Issued> {
        if let Some(existing) = store::find_by_request(db, &request.request_id).await? {
            if existing.holder_uscc != request.holder_uscc
                || existing.certificate_type != request.certificate_type
            {
                tracing::warn!(
                    request_id = %request.request_id,
                    certificate = %existing.id,
                    "a request id was reused for a different certificate; the first one stands"
                );
            }
            return Ok(Issued::Already(existing.id));
        }
        let command = IssueCommand::from_request(request, &self.catalog)?;
        let serial = store::next_serial(db, &command.kind.code).await?;
        let id = command.identifier(&self.catalog, serial, &random_nonce());
        let content = command.content(&self.catalog, &id, Utc::now());
        let key = self.keys.active();
        let jws = jws::sign(&key.signing, &key.kid, &serde_json::to_vec(&content)?);
        let row = certificate::Model {
            id: id.as_str().to_owned(),
            request_id: command.request_id.clone(),
            certificate_type: command.certificate_type.clone(),
            type_code: command.kind.code.clone(),
            type_name: command.kind.name.clone(),
            serial,
            holder_uscc: content.holder.uscc.clone(),
            holder_name: content.holder.name.clone(),
            scope: content.scope.clone(),
            items: serde_json::to_string(&content.items)?,
            valid_from: content.valid_from,
            valid_until: content.valid_until,
            issuer_uscc: content.issuer.uscc.clone(),
            issuer_name: content.issuer.name.clone(),
            issued_at: content.issued_at,
            status: content.status.code().to_owned(),
            status_reason: None,
            status_changed_at: None,
            key_id: key.kid.clone(),
            jws,
            requested_by_service: command.requested_by_service.clone(),
            cause,
        };
        store::insert(
            db,
            NewCertificate {
                row,
                verify_url: self.verify_url(id.as_str()),
            },
        )
        .await?;
        tracing::info!(certificate = %id, request_id = %command.request_id, "certificate issued");
        Ok(Issued::New(id.into_string()))
    }

    /// Applies a status change request inside the consumer's transaction.
    pub async fn change_status(
        &self,
        db: &impl ConnectionTrait,
        request: CertificateStatusChangeRequested,
        cause: String,
    ) -> anyhow::Result<StatusChangeOutcome> {
        let outcome = store::change_status(
            db,
            StatusChange {
                certificate_id: request.certificate_id.clone(),
                new_status: request.new_status,
                reason: request.reason,
                request_id: request.request_id,
                requested_by_service: request.requested_by_service,
                cause,
            },
            Utc::now(),
        )
        .await?;
        if let StatusChangeOutcome::Applied { from, to } = &outcome {
            tracing::info!(certificate = %request.certificate_id, %from, %to, "certificate status changed");
        }
        Ok(outcome)
    }

    /// Checks a parsed JWS against the published keys.
    pub fn check_signature(&self, parsed: &Parsed) -> Result<(), SignatureFailure> {
        parsed.verify(|kid| self.keys.verifying_key(kid))
    }

    /// The signed content of a stored certificate, if its JWS verifies and
    /// is about this very certificate.
    pub fn verified_content(
        &self,
        row: &certificate::Model,
    ) -> Result<SignedContent, SignatureFailure> {
        let parsed = Parsed::parse(&row.jws).map_err(|_| SignatureFailure::Mismatch)?;
        self.check_signature(&parsed)?;
        let content: SignedContent =
            serde_json::from_slice(&parsed.payload).map_err(|_| SignatureFailure::Mismatch)?;
        if content.id != row.id {
            return Err(SignatureFailure::Mismatch);
        }
        Ok(content)
    }
}

/// A serial nonce from the thread's CSPRNG (ChaCha, seeded by the OS).
fn random_nonce() -> crate::domain::certificate::SerialNonce {
    use rand::Rng;
    let mut rng = rand::rng();
    let draws = std::array::from_fn(|_| rng.random_range(0..36u8));
    crate::domain::certificate::SerialNonce::from_draws(draws)
}
