//! E-certificates (电子证照): which types this centre issues, what an issue
//! request must carry, and the exact content that gets signed. No I/O.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yizhan_events::contracts::{CertificateIssueRequested, CertificateItem, CertificateStatus};
use yizhan_types::{CertificateId, Uscc};

/// Version part of every identifier issued here: a certificate is never
/// re-issued under the same identifier, a renewal is a new certificate.
pub const VERSION: &str = "001";

/// The centre's default 统一社会信用代码 as issuer: a 机关 (`11`) code in
/// region 350100 whose check characters (its GB 11714 organisation code's
/// and its own) are computed, not typed (see the test).
pub const DEFAULT_ISSUER_USCC: &str = "11350100MB01729372";

/// Default issuer name.
pub const DEFAULT_ISSUER_NAME: &str = "一站政务服务中心";

/// One certificate type: the code that goes into identifiers and the name
/// printed on the certificate.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct CertificateType {
    /// 证照类型代码 (1-20 of `0-9A-Z`, or the national format's 21), part of the identifier.
    pub code: String,
    /// 证照名称, e.g. `行业综合许可证`.
    pub name: String,
}

/// The default types: the 一业一证 comprehensive licence and the
/// construction permit. Deployments add or recode them in settings.
pub fn default_types() -> BTreeMap<String, CertificateType> {
    let mut types = BTreeMap::new();
    types.insert(
        "industry_comprehensive_licence".to_owned(),
        CertificateType {
            code: "HYZHXKZ".into(),
            name: "行业综合许可证".into(),
        },
    );
    types.insert(
        "construction_permit".to_owned(),
        CertificateType {
            code: "JZGCSGXKZ".into(),
            name: "建筑工程施工许可证".into(),
        },
    );
    types
}

/// Who issues, and which types: checked once at start, so a bad setting
/// stops the service instead of dead-lettering every request.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Issuer's code (part of every identifier).
    pub issuer_uscc: Uscc,
    /// Issuer's name.
    pub issuer_name: String,
    /// Types by their API name.
    pub types: BTreeMap<String, CertificateType>,
}

/// A setting that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// The issuer code is not a valid USCC.
    #[error("document.certificates.issuer_uscc: {0}")]
    Issuer(yizhan_types::IdentifierError),
    /// A type code cannot go into an identifier.
    #[error("document.certificates.types.{name}.code: {error}")]
    TypeCode {
        /// The type's API name.
        name: String,
        /// Why.
        error: yizhan_types::IdentifierError,
    },
}

impl Catalog {
    /// Validates the configured issuer and types.
    pub fn new(
        issuer_uscc: &str,
        issuer_name: &str,
        types: BTreeMap<String, CertificateType>,
    ) -> Result<Self, CatalogError> {
        let issuer_uscc = Uscc::parse(issuer_uscc).map_err(CatalogError::Issuer)?;
        for (name, t) in &types {
            CertificateId::new(&t.code, &issuer_uscc, "1", VERSION).map_err(|error| {
                CatalogError::TypeCode {
                    name: name.clone(),
                    error,
                }
            })?;
        }
        Ok(Self {
            issuer_uscc,
            issuer_name: issuer_name.to_owned(),
            types,
        })
    }
}

/// A party named on a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Party {
    /// 统一社会信用代码.
    pub uscc: String,
    /// Name.
    pub name: String,
}

/// Exactly what is signed. Field order is the JSON order; nothing here is
/// derived at verification time, so a verifier needs only this and the JWKS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedContent {
    /// 电子证照标识.
    pub id: String,
    /// Type API name, e.g. `industry_comprehensive_licence`.
    pub certificate_type: String,
    /// 证照类型代码.
    pub type_code: String,
    /// 证照名称.
    pub type_name: String,
    /// 持证主体.
    pub holder: Party,
    /// 许可范围 / title text.
    pub scope: String,
    /// The permits carried, each with its number.
    pub items: Vec<CertificateItem>,
    /// First valid day.
    pub valid_from: NaiveDate,
    /// Last valid day; `null` for 长期有效.
    pub valid_until: Option<NaiveDate>,
    /// 发证机构.
    pub issuer: Party,
    /// Signing time (whole seconds).
    pub issued_at: DateTime<Utc>,
    /// Status code at issue (`01`).
    pub status: CertificateStatus,
    /// Its zh-CN name.
    pub status_name: String,
}

/// A validated issue request, ready to number and sign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueCommand {
    /// Idempotency key.
    pub request_id: String,
    /// Type API name.
    pub certificate_type: String,
    /// The type's code and name.
    pub kind: CertificateType,
    /// Holder.
    pub holder_uscc: Uscc,
    /// Holder name.
    pub holder_name: String,
    /// Scope text.
    pub scope: String,
    /// Permits.
    pub items: Vec<CertificateItem>,
    /// First valid day.
    pub valid_from: NaiveDate,
    /// Last valid day.
    pub valid_until: Option<NaiveDate>,
    /// Requesting service.
    pub requested_by_service: String,
}

/// Why an issue request cannot be honoured: every problem, each naming its
/// field, so the requester fixes them in one go (一次性告知).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("签发请求无效：{}", .0.iter().map(|(f, m)| format!("{f}: {m}")).collect::<Vec<_>>().join("；"))]
pub struct InvalidIssueRequest(pub Vec<(String, String)>);

const MAX_TEXT: usize = 500;
const MAX_SCOPE: usize = 4000;
const MAX_ITEMS: usize = 100;

fn text_problem(field: String, value: &str, max: usize, out: &mut Vec<(String, String)>) {
    if value.trim().is_empty() {
        out.push((field, "不能为空".into()));
    } else if value.chars().count() > max {
        out.push((field, format!("不能超过 {max} 个字符")));
    }
}

impl IssueCommand {
    /// Checks a request against the catalog.
    pub fn from_request(
        r: &CertificateIssueRequested,
        catalog: &Catalog,
    ) -> Result<Self, InvalidIssueRequest> {
        let mut problems = Vec::new();
        text_problem("request_id".into(), &r.request_id, 128, &mut problems);
        let kind = catalog.types.get(&r.certificate_type).cloned();
        if kind.is_none() {
            let known: Vec<&str> = catalog.types.keys().map(String::as_str).collect();
            problems.push((
                "certificate_type".into(),
                format!(
                    "不签发此类证照 {}（可签发：{}）",
                    r.certificate_type,
                    known.join("、")
                ),
            ));
        }
        let holder = Uscc::parse(&r.holder_uscc);
        if let Err(e) = &holder {
            problems.push(("holder_uscc".into(), e.message()));
        }
        text_problem(
            "holder_name".into(),
            &r.holder_name,
            MAX_TEXT,
            &mut problems,
        );
        text_problem("scope".into(), &r.scope, MAX_SCOPE, &mut problems);
        if r.items.is_empty() {
            problems.push(("items".into(), "至少须载明一项许可事项".into()));
        } else if r.items.len() > MAX_ITEMS {
            problems.push(("items".into(), format!("最多载明 {MAX_ITEMS} 项许可事项")));
        }
        for (i, item) in r.items.iter().enumerate() {
            for (name, value) in [
                ("item_code", &item.item_code),
                ("item_name", &item.item_name),
                ("department", &item.department),
                ("permit_number", &item.permit_number),
            ] {
                text_problem(format!("items[{i}].{name}"), value, MAX_TEXT, &mut problems);
            }
        }
        if let Some(until) = r.valid_until
            && until < r.valid_from
        {
            problems.push(("valid_until".into(), "有效期截止日不能早于起始日".into()));
        }
        text_problem(
            "requested_by_service".into(),
            &r.requested_by_service,
            64,
            &mut problems,
        );
        match (kind, holder) {
            (Some(kind), Ok(holder_uscc)) if problems.is_empty() => Ok(Self {
                request_id: r.request_id.clone(),
                certificate_type: r.certificate_type.clone(),
                kind,
                holder_uscc,
                holder_name: r.holder_name.trim().to_owned(),
                scope: r.scope.trim().to_owned(),
                items: r.items.clone(),
                valid_from: r.valid_from,
                valid_until: r.valid_until,
                requested_by_service: r.requested_by_service.clone(),
            }),
            _ => Err(InvalidIssueRequest(problems)),
        }
    }

    /// The identifier for the `serial`-th certificate of this type, with
    /// `nonce` (see [`SerialNonce`]) after the counter.
    pub fn identifier(&self, catalog: &Catalog, serial: i64, nonce: &SerialNonce) -> CertificateId {
        CertificateId::new(
            &self.kind.code,
            &catalog.issuer_uscc,
            &format_serial(serial, nonce),
            VERSION,
        )
        // The type code was checked by `Catalog::new`; the serial is
        // digits and capitals, at most 20 + 10 characters.
        .expect("catalog type codes and counter + nonce serials form valid identifiers")
    }

    /// The content to sign for identifier `id`, issued `now`, in status 01.
    pub fn content(
        &self,
        catalog: &Catalog,
        id: &CertificateId,
        now: DateTime<Utc>,
    ) -> SignedContent {
        let status = CertificateStatus::Valid;
        SignedContent {
            id: id.as_str().to_owned(),
            certificate_type: self.certificate_type.clone(),
            type_code: self.kind.code.clone(),
            type_name: self.kind.name.clone(),
            holder: Party {
                uscc: self.holder_uscc.as_str().to_owned(),
                name: self.holder_name.clone(),
            },
            scope: self.scope.clone(),
            items: self.items.clone(),
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            issuer: Party {
                uscc: catalog.issuer_uscc.as_str().to_owned(),
                name: catalog.issuer_name.clone(),
            },
            issued_at: now.trunc_subsecs(0),
            status,
            status_name: status.zh_name().to_owned(),
        }
    }
}

/// Characters of the random part of a serial.
pub const NONCE_LEN: usize = 10;

/// The random part of a certificate's serial: ten characters of `0-9A-Z`
/// (36^10, about 3.7 × 10^15 values), so knowing one identifier tells
/// nothing about the next. The caller draws it (the domain does no I/O).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerialNonce(String);

impl SerialNonce {
    /// A nonce from `NONCE_LEN` draws in `0..36` (anything above is reduced).
    pub fn from_draws(draws: [u8; NONCE_LEN]) -> Self {
        const ALPHABET: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        Self(
            draws
                .iter()
                .map(|d| ALPHABET[usize::from(*d) % 36] as char)
                .collect(),
        )
    }
}

/// The serial part: the per-type counter zero-padded to eight digits (so
/// identifiers of one type read evenly; beyond 99,999,999 it grows), then
/// the nonce. Within the national format's 32 characters of `0-9A-Z`.
pub fn format_serial(serial: i64, nonce: &SerialNonce) -> String {
    format!("{serial:08}{}", nonce.0)
}

/// Where a certificate stands on `today` against its validity period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Validity {
    /// Before `valid_from`.
    NotYet,
    /// Within the period.
    Within,
    /// After `valid_until`.
    Expired,
}

/// Validity on `today`.
pub fn validity_on(today: NaiveDate, from: NaiveDate, until: Option<NaiveDate>) -> Validity {
    if today < from {
        Validity::NotYet
    } else if until.is_some_and(|u| today > u) {
        Validity::Expired
    } else {
        Validity::Within
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::new(DEFAULT_ISSUER_USCC, DEFAULT_ISSUER_NAME, default_types()).unwrap()
    }

    fn request() -> CertificateIssueRequested {
        CertificateIssueRequested {
            request_id: "app-1".into(),
            certificate_type: "industry_comprehensive_licence".into(),
            holder_uscc: "91350100M000100Y43".into(),
            holder_name: "福州一站酒店有限公司".into(),
            scope: "住宿服务；餐饮服务".into(),
            items: vec![CertificateItem {
                item_code: "SP-001".into(),
                item_name: "食品经营许可".into(),
                department: "市场监督管理局".into(),
                permit_number: "JY13501000000001".into(),
            }],
            valid_from: NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
            valid_until: NaiveDate::from_ymd_opt(2030, 12, 31),
            requested_by_service: "licensing".into(),
        }
    }

    #[test]
    fn default_issuer_is_a_valid_uscc_with_a_computed_check_char() {
        let computed = Uscc::with_check_char(&DEFAULT_ISSUER_USCC[..17]).unwrap();
        assert_eq!(computed.as_str(), DEFAULT_ISSUER_USCC);
        catalog();
    }

    #[test]
    fn a_bad_type_code_in_settings_is_refused_at_start() {
        let mut types = default_types();
        types.insert(
            "x".into(),
            CertificateType {
                code: "a-b".into(),
                name: "x".into(),
            },
        );
        let err = Catalog::new(DEFAULT_ISSUER_USCC, "x", types).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("document.certificates.types.x.code")
        );
        assert!(Catalog::new("91350100M000100Y44", "x", default_types()).is_err());
    }

    #[test]
    fn identifiers_carry_type_issuer_serial_and_a_valid_check_char() {
        let c = catalog();
        let cmd = IssueCommand::from_request(&request(), &c).unwrap();
        let nonce = SerialNonce::from_draws([0, 1, 9, 10, 35, 36, 71, 2, 3, 4]);
        let id = cmd.identifier(&c, 42, &nonce);
        assert_eq!(id.type_code(), "HYZHXKZ");
        assert_eq!(id.issuer(), c.issuer_uscc);
        assert_eq!(id.serial(), "00000042019AZ0Z234");
        assert_eq!(id.version(), "001");
        assert_eq!(CertificateId::parse(id.as_str()).unwrap(), id);
    }

    #[test]
    fn content_is_status_01_at_whole_seconds() {
        let c = catalog();
        let cmd = IssueCommand::from_request(&request(), &c).unwrap();
        let id = cmd.identifier(&c, 1, &SerialNonce::from_draws([0; NONCE_LEN]));
        let now = DateTime::parse_from_rfc3339("2026-11-23T08:00:00.123456Z")
            .unwrap()
            .with_timezone(&Utc);
        let content = cmd.content(&c, &id, now);
        let json = serde_json::to_value(&content).unwrap();
        assert_eq!(json["status"], "01");
        assert_eq!(json["status_name"], "有效");
        assert_eq!(json["issued_at"], "2026-11-23T08:00:00Z");
        assert_eq!(json["holder"]["uscc"], "91350100M000100Y43");
        assert_eq!(json["issuer"]["uscc"], DEFAULT_ISSUER_USCC);
        assert_eq!(json["items"][0]["permit_number"], "JY13501000000001");
    }

    #[test]
    fn every_problem_of_a_request_is_listed() {
        let mut r = request();
        r.certificate_type = "fishing_licence".into();
        r.holder_uscc = "91350100M000100Y44".into();
        r.items[0].permit_number = " ".into();
        r.valid_until = NaiveDate::from_ymd_opt(2025, 1, 1);
        let err = IssueCommand::from_request(&r, &catalog()).unwrap_err();
        let fields: Vec<&str> = err.0.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            vec![
                "certificate_type",
                "holder_uscc",
                "items[0].permit_number",
                "valid_until"
            ]
        );
        let mut r = request();
        r.items.clear();
        let err = IssueCommand::from_request(&r, &catalog()).unwrap_err();
        assert_eq!(err.0[0].0, "items");
    }

    #[test]
    fn validity_periods() {
        let d = |m, day| NaiveDate::from_ymd_opt(2026, m, day).unwrap();
        assert_eq!(validity_on(d(1, 1), d(1, 2), None), Validity::NotYet);
        assert_eq!(
            validity_on(d(1, 2), d(1, 2), Some(d(1, 2))),
            Validity::Within
        );
        assert_eq!(validity_on(d(5, 1), d(1, 2), None), Validity::Within);
        assert_eq!(
            validity_on(d(1, 3), d(1, 2), Some(d(1, 2))),
            Validity::Expired
        );
    }
}
