//! Events the document service publishes (materials, e-certificates), and
//! the certificate requests other services send it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Event, topics};

/// 材料已上传: an applicant's file is stored and recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MaterialUploaded {
    /// Material id.
    pub material_id: String,
    /// Owner enterprise (统一社会信用代码).
    pub enterprise_uscc: String,
    /// Material type code, e.g. `business_licence_copy`.
    pub material_type: String,
    /// Version of this material type for this enterprise (1, 2, ...).
    pub version: i32,
    /// Sanitised original file name.
    pub filename: String,
    /// Sniffed content type.
    pub content_type: String,
    /// Size in bytes.
    pub size_bytes: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    /// Subject (`sub`) of the uploader.
    pub uploaded_by: String,
    /// Display name of the uploader, if the token carried one.
    pub uploaded_by_name: Option<String>,
    /// When it was stored.
    pub uploaded_at: DateTime<Utc>,
}

impl Event for MaterialUploaded {
    const TYPE: &'static str = "cn.yizhan.document.material_uploaded.v1";
    const TOPIC: &'static str = topics::DOCUMENT;
    fn subject(&self) -> String {
        self.material_id.clone()
    }
}

/// 证照状态: a certificate's status, using the codes national certificate
/// interfaces speak (01 有效, 02 暂扣, 03 撤销, 04 注销, 05 失效, 07 吊销; 06 is
/// not used). Travels as its two-digit code, so partners read it unchanged.
///
/// Its JSON Schema (the codes) is written in `crate::asyncapi`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum CertificateStatus {
    /// 01 有效: in force.
    Valid,
    /// 02 暂扣: suspended for a period; may return to 有效.
    Suspended,
    /// 03 撤销: the permit decision itself is annulled (行政许可法第六十九条).
    Annulled,
    /// 04 注销: formally cancelled; the final state of every certificate
    /// that ends (行政许可法第七十条).
    Cancelled,
    /// 05 失效: no longer in force, e.g. expired or replaced by a renewal.
    Lapsed,
    /// 07 吊销: withdrawn as an administrative penalty.
    Revoked,
}

impl CertificateStatus {
    /// Every status, in code order.
    pub const ALL: [CertificateStatus; 6] = [
        Self::Valid,
        Self::Suspended,
        Self::Annulled,
        Self::Cancelled,
        Self::Lapsed,
        Self::Revoked,
    ];

    /// The two-digit code, e.g. `03`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Valid => "01",
            Self::Suspended => "02",
            Self::Annulled => "03",
            Self::Cancelled => "04",
            Self::Lapsed => "05",
            Self::Revoked => "07",
        }
    }

    /// The zh-CN name, e.g. `撤销`.
    pub const fn zh_name(self) -> &'static str {
        match self {
            Self::Valid => "有效",
            Self::Suspended => "暂扣",
            Self::Annulled => "撤销",
            Self::Cancelled => "注销",
            Self::Lapsed => "失效",
            Self::Revoked => "吊销",
        }
    }

    /// The status with this code, if any.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Whether a certificate in this status can never change again.
    pub const fn is_final(self) -> bool {
        matches!(self, Self::Cancelled)
    }

    /// Checks a status change. 有效 may become anything else; 暂扣 may be
    /// lifted (back to 有效) or end in any other way; a certificate that has
    /// ended (撤销, 失效, 吊销) can only be formally cancelled (注销), which
    /// is final. Setting the current status again is refused too: the
    /// requester believes the certificate is in another state, and saying so
    /// beats silently agreeing.
    pub fn transition_to(self, to: CertificateStatus) -> Result<(), StatusTransitionError> {
        use CertificateStatus::*;
        let allowed = match (self, to) {
            (from, to) if from == to => false,
            (Valid, _) => true,
            (Suspended, _) => true,
            (Annulled | Lapsed | Revoked, Cancelled) => true,
            _ => false,
        };
        if allowed {
            Ok(())
        } else if self == to {
            Err(StatusTransitionError::Unchanged { status: self })
        } else {
            Err(StatusTransitionError::NotAllowed { from: self, to })
        }
    }
}

impl std::fmt::Display for CertificateStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.code(), self.zh_name())
    }
}

impl TryFrom<String> for CertificateStatus {
    type Error = UnknownCertificateStatus;

    fn try_from(code: String) -> Result<Self, Self::Error> {
        Self::from_code(&code).ok_or(UnknownCertificateStatus(code))
    }
}

impl From<CertificateStatus> for String {
    fn from(status: CertificateStatus) -> Self {
        status.code().to_owned()
    }
}

/// A status code that is not one of 01, 02, 03, 04, 05, 07.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("未知的证照状态代码 {0}（应为 01、02、03、04、05 或 07）")]
pub struct UnknownCertificateStatus(pub String);

/// A status change the rules forbid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StatusTransitionError {
    /// The certificate already has that status.
    #[error("证照已是「{}」状态", status.zh_name())]
    Unchanged {
        /// The current (and requested) status.
        status: CertificateStatus,
    },
    /// No such change is allowed from the current status.
    #[error("证照状态不能由「{}」变更为「{}」", from.zh_name(), to.zh_name())]
    NotAllowed {
        /// Current status.
        from: CertificateStatus,
        /// Requested status.
        to: CertificateStatus,
    },
}

impl StatusTransitionError {
    /// Stable machine code.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Unchanged { .. } => "status_unchanged",
            Self::NotAllowed { .. } => "status_transition_not_allowed",
        }
    }
}

/// One permit a certificate carries (e.g. one of the permits bundled into a
/// 行业综合许可证), with the number its department gave it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CertificateItem {
    /// 事项编码.
    pub item_code: String,
    /// 事项名称, e.g. `食品经营许可`.
    pub item_name: String,
    /// The deciding department's name, e.g. `市场监督管理局`.
    pub department: String,
    /// 许可证号 the department assigned.
    pub permit_number: String,
}

/// 申请签发电子证照: licensing or construction asks the document service to
/// issue a certificate for a decided application. Published on the
/// requester's own topic; `request_id` is the idempotency key, so the same
/// request never yields two certificates, whatever event ids carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CertificateIssueRequested {
    /// Idempotency key of the request, globally unique (e.g. the application id).
    pub request_id: String,
    /// Certificate type, e.g. `industry_comprehensive_licence`, `construction_permit`.
    pub certificate_type: String,
    /// Holder's 统一社会信用代码.
    pub holder_uscc: String,
    /// Holder's registered name.
    pub holder_name: String,
    /// 许可范围 / title text printed on the certificate (e.g. the business
    /// scope of a hotel, or the project name of a construction permit).
    pub scope: String,
    /// The permits it carries, each with its own number (at least one).
    pub items: Vec<CertificateItem>,
    /// First valid day.
    pub valid_from: chrono::NaiveDate,
    /// Last valid day; `None` for 长期有效.
    #[serde(default)]
    pub valid_until: Option<chrono::NaiveDate>,
    /// The requesting service, e.g. `licensing`.
    pub requested_by_service: String,
}

/// Two services publish this request, so its `ce_type` names the contract
/// (`certificate`) rather than a producer. As written here it goes on
/// licensing's topic; construction wraps it in [`ByConstruction`] to publish
/// it on its own. The consumer dispatches on `ce_type` and cannot tell them apart.
impl Event for CertificateIssueRequested {
    const TYPE: &'static str = "cn.yizhan.certificate.issue_requested.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.request_id.clone()
    }
}

/// 电子证照已签发: a certificate was issued, signed and recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CertificateIssued {
    /// 电子证照标识 (GB/T 36904 style).
    pub certificate_id: String,
    /// The request it answers.
    pub request_id: String,
    /// Certificate type, e.g. `industry_comprehensive_licence`.
    pub certificate_type: String,
    /// Holder's 统一社会信用代码.
    pub holder_uscc: String,
    /// Holder's name.
    pub holder_name: String,
    /// First valid day.
    pub valid_from: chrono::NaiveDate,
    /// Last valid day; `None` for 长期有效.
    pub valid_until: Option<chrono::NaiveDate>,
    /// The requesting service.
    pub requested_by_service: String,
    /// Public verification URL (what the QR code encodes).
    pub verify_url: String,
    /// Signing time.
    pub issued_at: DateTime<Utc>,
}

impl Event for CertificateIssued {
    const TYPE: &'static str = "cn.yizhan.document.certificate_issued.v1";
    const TOPIC: &'static str = topics::DOCUMENT;
    fn subject(&self) -> String {
        self.certificate_id.clone()
    }
}

/// 申请变更证照状态: licensing or construction asks for a certificate's
/// status to change (暂扣, 撤销, 注销, 吊销, 失效 when a renewal replaces
/// it, or back to 有效 when a suspension ends). Published on the
/// requester's topic; `request_id` makes it idempotent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CertificateStatusChangeRequested {
    /// 电子证照标识.
    pub certificate_id: String,
    /// The status wanted, as its code (`03` …).
    pub new_status: CertificateStatus,
    /// Why, in Chinese (kept on record; not shown publicly).
    pub reason: String,
    /// Idempotency key of this change request.
    pub request_id: String,
    /// The requesting service.
    #[serde(default)]
    pub requested_by_service: String,
}

/// Like [`CertificateIssueRequested`]: licensing's topic as written,
/// construction's through [`ByConstruction`].
impl Event for CertificateStatusChangeRequested {
    const TYPE: &'static str = "cn.yizhan.certificate.status_change_requested.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.certificate_id.clone()
    }
}

/// A request more than one service publishes (issue and status-change
/// requests to the document service).
pub trait CertificateRequest: Event {}

impl CertificateRequest for CertificateIssueRequested {}
impl CertificateRequest for CertificateStatusChangeRequested {}

/// A certificate request published by the construction service: the same
/// payload and `ce_type`, on construction's topic
/// (`outbox::enqueue(&txn, source, &ByConstruction(request))`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct ByConstruction<E>(pub E);

impl<E: CertificateRequest> Event for ByConstruction<E> {
    const TYPE: &'static str = E::TYPE;
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.0.subject()
    }
}

/// 电子证照状态已变更.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CertificateStatusChanged {
    /// 电子证照标识.
    pub certificate_id: String,
    /// Holder's 统一社会信用代码.
    pub holder_uscc: String,
    /// Status before.
    pub old_status: CertificateStatus,
    /// Status now.
    pub new_status: CertificateStatus,
    /// Why.
    pub reason: String,
    /// The change request it answers.
    pub request_id: String,
    /// When it changed.
    pub changed_at: DateTime<Utc>,
}

impl Event for CertificateStatusChanged {
    const TYPE: &'static str = "cn.yizhan.document.certificate_status_changed.v1";
    const TOPIC: &'static str = topics::DOCUMENT;
    fn subject(&self) -> String {
        self.certificate_id.clone()
    }
}

#[cfg(test)]
mod certificate_status_tests {
    use super::*;
    use CertificateStatus::*;

    #[test]
    fn codes_and_names_round_trip() {
        let table: Vec<(&str, &str)> = CertificateStatus::ALL
            .iter()
            .map(|s| (s.code(), s.zh_name()))
            .collect();
        assert_eq!(
            table,
            vec![
                ("01", "有效"),
                ("02", "暂扣"),
                ("03", "撤销"),
                ("04", "注销"),
                ("05", "失效"),
                ("07", "吊销"),
            ]
        );
        for s in CertificateStatus::ALL {
            assert_eq!(CertificateStatus::from_code(s.code()), Some(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.code()));
            assert_eq!(serde_json::from_str::<CertificateStatus>(&json).unwrap(), s);
        }
        assert_eq!(CertificateStatus::from_code("06"), None);
        assert!(serde_json::from_str::<CertificateStatus>("\"06\"").is_err());
        assert!(serde_json::from_str::<CertificateStatus>("\"1\"").is_err());
    }

    #[test]
    fn valid_and_suspended_may_change_to_anything_else() {
        for to in [Suspended, Annulled, Cancelled, Lapsed, Revoked] {
            assert_eq!(Valid.transition_to(to), Ok(()), "01 -> {to}");
        }
        for to in [Valid, Annulled, Cancelled, Lapsed, Revoked] {
            assert_eq!(Suspended.transition_to(to), Ok(()), "02 -> {to}");
        }
    }

    #[test]
    fn ended_certificates_can_only_be_cancelled_and_cancelled_is_final() {
        for from in [Annulled, Lapsed, Revoked] {
            assert_eq!(from.transition_to(Cancelled), Ok(()));
            for to in [Valid, Suspended, Annulled, Lapsed, Revoked] {
                if to == from {
                    continue;
                }
                assert_eq!(
                    from.transition_to(to),
                    Err(StatusTransitionError::NotAllowed { from, to }),
                    "{from} -> {to}"
                );
            }
        }
        assert!(Cancelled.is_final());
        for to in [Valid, Suspended, Annulled, Lapsed, Revoked] {
            assert!(Cancelled.transition_to(to).is_err());
        }
        let err = Revoked.transition_to(Valid).unwrap_err();
        assert_eq!(err.code(), "status_transition_not_allowed");
        assert_eq!(err.to_string(), "证照状态不能由「吊销」变更为「有效」");
    }

    #[test]
    fn construction_publishes_the_same_contract_on_its_topic() {
        let request = CertificateStatusChangeRequested {
            certificate_id: "1.2.156.3005.2.JY.91350100M000100Y43.0001.001.M".into(),
            new_status: Annulled,
            reason: "以欺骗手段取得许可".into(),
            request_id: "r-1".into(),
            requested_by_service: "construction".into(),
        };
        let wrapped = ByConstruction(request.clone());
        assert_eq!(
            <ByConstruction<CertificateStatusChangeRequested> as Event>::TYPE,
            CertificateStatusChangeRequested::TYPE
        );
        assert_eq!(
            <ByConstruction<CertificateStatusChangeRequested> as Event>::TOPIC,
            topics::CONSTRUCTION
        );
        assert_eq!(
            serde_json::to_value(&wrapped).unwrap(),
            serde_json::to_value(&request).unwrap()
        );
        assert_eq!(serde_json::to_value(&request).unwrap()["new_status"], "03");
    }

    #[test]
    fn the_same_status_again_is_refused() {
        for s in CertificateStatus::ALL {
            let err = s.transition_to(s).unwrap_err();
            assert_eq!(err, StatusTransitionError::Unchanged { status: s });
            assert_eq!(err.code(), "status_unchanged");
        }
    }
}

/// The outcome for one material of a [`MaterialsChecked`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MaterialCheckOutcome {
    /// The id asked about.
    pub material_id: String,
    /// `ok`, `expired` or `not_found` (absent or another enterprise's).
    pub status: String,
}

/// 材料核验: a caller asked whether materials exist and belong to an
/// enterprise, and got this answer (kept so checks are auditable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MaterialsChecked {
    /// Subject (`sub`) of the caller who checked.
    pub checked_by: String,
    /// The enterprise the materials had to belong to.
    pub enterprise_uscc: String,
    /// Per id, in request order.
    pub items: Vec<MaterialCheckOutcome>,
    /// True when every id was `ok`.
    pub all_ok: bool,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for MaterialsChecked {
    const TYPE: &'static str = "cn.yizhan.document.materials_checked.v1";
    const TOPIC: &'static str = topics::DOCUMENT;
    fn subject(&self) -> String {
        self.enterprise_uscc.clone()
    }
}
