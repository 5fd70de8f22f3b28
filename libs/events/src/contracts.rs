//! Event contracts: every event type any service publishes, in one place, so
//! producer and consumers share one definition. Names are past-tense facts;
//! the `ce_type` carries a version suffix, and a breaking payload change gets
//! a new type rather than a silent reshape.

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Topic names: one per producing service.
pub mod topics {
    /// Licensing service events.
    pub const LICENSING: &str = "yizhan.licensing.v1";
    /// Construction service events.
    pub const CONSTRUCTION: &str = "yizhan.construction.v1";
    /// Document service events.
    pub const DOCUMENT: &str = "yizhan.document.v1";
    /// Notification service events.
    pub const NOTIFICATION: &str = "yizhan.notification.v1";
    /// Every service topic (created at start, and by the embedded broker).
    pub const ALL: [&str; 4] = [LICENSING, CONSTRUCTION, DOCUMENT, NOTIFICATION];

    /// Dead-letter topic of one consumer group (the consuming service).
    pub fn dead_letter(consumer: &str) -> String {
        format!("yizhan.{consumer}.dlq")
    }
}

/// A typed event payload.
pub trait Event: Serialize + DeserializeOwned + Send + Sync {
    /// `ce_type`, e.g. `cn.yizhan.document.material_uploaded.v1`.
    const TYPE: &'static str;
    /// The topic it is published on.
    const TOPIC: &'static str;
    /// The aggregate id: Kafka key and `ce_subject`, so one aggregate's
    /// events stay in order.
    fn subject(&self) -> String;
}

/// 材料已上传: an applicant's file is stored and recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// 站内消息已送达: a message was placed in an inbox (lets partners and the
/// supervision view follow deliveries).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxMessageDelivered {
    /// Message id.
    pub message_id: String,
    /// Recipient user (`sub`), when addressed to a person.
    pub recipient_user: Option<String>,
    /// Recipient enterprise, when addressed to an enterprise.
    pub recipient_uscc: Option<String>,
    /// The event that caused it (`source` + `id`).
    pub cause: String,
}

impl Event for InboxMessageDelivered {
    const TYPE: &'static str = "cn.yizhan.notification.inbox_message_delivered.v1";
    const TOPIC: &'static str = topics::NOTIFICATION;
    fn subject(&self) -> String {
        self.message_id.clone()
    }
}

/// Backbone test event: carries a key and a sequence number so tests and the
/// benchmark can check ordering per key. Never published by a service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProbeRecorded {
    /// Aggregate key.
    pub key: String,
    /// Sequence within the key.
    pub seq: u64,
    /// When the producing transaction was about to commit (for latency figures).
    pub sent_at_micros: i64,
    /// When true, test handlers fail on it (poison message).
    #[serde(default)]
    pub poison: bool,
}

impl Event for ProbeRecorded {
    const TYPE: &'static str = "cn.yizhan.test.probe_recorded.v1";
    const TOPIC: &'static str = "yizhan.probe.v1";
    fn subject(&self) -> String {
        self.key.clone()
    }
}

/// 证照状态: a certificate's status, using the codes national certificate
/// interfaces speak (01 有效, 02 暂扣, 03 撤销, 04 注销, 05 失效, 07 吊销; 06 is
/// not used). Travels as its two-digit code, so partners read it unchanged.
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// Which time limit a deadline warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineLimit {
    /// 承诺办结时限: the (shorter) limit the centre committed to.
    Committed,
    /// 法定办结时限: the limit the law sets.
    Statutory,
}

impl DeadlineLimit {
    /// The zh-CN name, e.g. `承诺办结时限`.
    pub const fn zh_name(self) -> &'static str {
        match self {
            Self::Committed => "承诺办结时限",
            Self::Statutory => "法定办结时限",
        }
    }
}

/// The facts of a deadline warning (时限预警), shared by
/// [`DeadlineApproaching`] and [`DeadlineOverdue`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineNotice {
    /// The item task whose clock runs.
    pub task_id: String,
    /// The combined application it belongs to.
    pub application_id: String,
    /// 事项编码.
    pub item_code: String,
    /// 事项名称.
    pub item_name: String,
    /// The reviewing department's code.
    pub department_code: String,
    /// The assigned reviewer (`sub`), if any.
    #[serde(default)]
    pub reviewer_sub: Option<String>,
    /// The applicant enterprise's 统一社会信用代码.
    pub applicant_uscc: String,
    /// The person who filed (`sub`), if known.
    #[serde(default)]
    pub applicant_sub: Option<String>,
    /// Last day of the limit.
    pub due_date: chrono::NaiveDate,
    /// Which limit.
    pub limit_kind: DeadlineLimit,
    /// Working days left, today excluded.
    pub working_days_remaining: i32,
}

/// 时限即将届满: a task used the warning share of its limit. Same JSON as
/// [`DeadlineNotice`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeadlineApproaching(pub DeadlineNotice);

impl Event for DeadlineApproaching {
    const TYPE: &'static str = "cn.yizhan.licensing.deadline_approaching.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.0.task_id.clone()
    }
}

/// 已超期: a task passed its limit. Same JSON as [`DeadlineNotice`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DeadlineOverdue(pub DeadlineNotice);

impl Event for DeadlineOverdue {
    const TYPE: &'static str = "cn.yizhan.licensing.deadline_overdue.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.0.task_id.clone()
    }
}

// --- 一业一证 joint licensing (licensing service) -------------------------
//
// Every state change of a combined application is one of these facts on
// `yizhan.licensing.v1`. The subject is always the application id, so one
// application's events (its tasks' included) stay in order on one partition.

/// Who did something, as recorded on an application's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicensingActor {
    /// The actor's `sub` (`document` for the certificate service).
    pub sub: String,
    /// The role acted in (`applicant`, `window_clerk`, `system` …).
    pub role: String,
}

/// 已接件: a combined application (一表申请) was submitted at the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationSubmitted {
    /// The application.
    pub application_id: String,
    /// 情形 / scenario code, e.g. `hotel`.
    pub scenario_code: String,
    /// Catalog version the application was made on.
    pub catalog_version: i32,
    /// The enterprise's 统一社会信用代码.
    pub enterprise_uscc: String,
    /// The enterprise's name as filled in.
    pub enterprise_name: String,
    /// The selected items (事项编码).
    pub item_codes: Vec<String>,
    /// Ids of the materials the application references (document service
    /// ids); absent in events from before this field existed.
    #[serde(default)]
    pub material_ids: Vec<String>,
    /// Who submitted (applicant or agent).
    pub actor: LicensingActor,
    /// When.
    pub at: DateTime<Utc>,
    /// `new`, `change` (变更), `renewal` (延续) or `cancellation` (注销).
    #[serde(default = "new_kind")]
    pub kind: String,
    /// For a change, renewal or cancellation: the application whose licence
    /// it concerns.
    #[serde(default)]
    pub predecessor_id: Option<String>,
}

fn new_kind() -> String {
    "new".into()
}

impl Event for ApplicationSubmitted {
    const TYPE: &'static str = "cn.yizhan.licensing.application_submitted.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// One deficiency of the one-time notice (一次性告知).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntakeDeficiency {
    /// The form field concerned, if any.
    #[serde(default)]
    pub field: Option<String>,
    /// The material concerned, if any.
    #[serde(default)]
    pub material: Option<String>,
    /// What is wrong, zh-CN.
    pub reason: String,
}

/// 不受理（退回补齐）: the window handed the application back with every
/// deficiency at once; the applicant may correct and resubmit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationReturned {
    /// The application.
    pub application_id: String,
    /// The enterprise.
    pub enterprise_uscc: String,
    /// Every deficiency found.
    pub deficiencies: Vec<IntakeDeficiency>,
    /// The window clerk.
    pub actor: LicensingActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for ApplicationReturned {
    const TYPE: &'static str = "cn.yizhan.licensing.application_returned.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 重新提交: a returned application was corrected and is 已接件 again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationResubmitted {
    /// The application.
    pub application_id: String,
    /// The enterprise.
    pub enterprise_uscc: String,
    /// The selected items after correction.
    pub item_codes: Vec<String>,
    /// Ids of the materials the corrected application references; absent
    /// in events from before this field existed.
    #[serde(default)]
    pub material_ids: Vec<String>,
    /// Who resubmitted.
    pub actor: LicensingActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for ApplicationResubmitted {
    const TYPE: &'static str = "cn.yizhan.licensing.application_resubmitted.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 已受理: the window accepted the application; its items became tasks
/// ([`TaskCreated`]) and the time-limit clock starts the next working day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationAccepted {
    /// The application.
    pub application_id: String,
    /// The enterprise.
    pub enterprise_uscc: String,
    /// Committed limit of the bundle in half working days (11 = 5.5 days).
    pub committed_half_days: i64,
    /// Last day of the committed limit.
    pub committed_due_date: chrono::NaiveDate,
    /// 容缺受理: what is still owed and by when; `None` for a plain
    /// acceptance.
    #[serde(default)]
    pub tolerance: Option<ToleranceTerms>,
    /// The window clerk.
    pub actor: LicensingActor,
    /// When.
    pub at: DateTime<Utc>,
}

/// 容缺受理 terms: the non-key materials accepted as missing and the day
/// (inclusive) by which they must arrive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToleranceTerms {
    /// What is owed (materials only).
    pub missing: Vec<IntakeDeficiency>,
    /// Last day to supply them.
    pub due_date: chrono::NaiveDate,
}

impl Event for ApplicationAccepted {
    const TYPE: &'static str = "cn.yizhan.licensing.application_accepted.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// An item of an accepted application entered its department's queue
/// (BLZT 3 then 8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskCreated {
    /// The task.
    pub task_id: String,
    /// Its application.
    pub application_id: String,
    /// 事项编码.
    pub item_code: String,
    /// 事项名称.
    pub item_name: String,
    /// The reviewing department's code.
    pub department_code: String,
    /// The applicant enterprise.
    pub enterprise_uscc: String,
    /// 办理状态 code (8).
    pub blzt: u8,
    /// Last day of the committed limit.
    pub due_date: chrono::NaiveDate,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for TaskCreated {
    const TYPE: &'static str = "cn.yizhan.licensing.task_created.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 办结: a department decided its task (BLZT 11 approved or 13 rejected).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskDecided {
    /// The task.
    pub task_id: String,
    /// Its application.
    pub application_id: String,
    /// 事项编码.
    pub item_code: String,
    /// The department.
    pub department_code: String,
    /// The applicant enterprise.
    pub enterprise_uscc: String,
    /// `approve` or `reject`.
    pub decision: String,
    /// 办理状态 code after the decision.
    pub blzt: u8,
    /// Permit number, when approved.
    #[serde(default)]
    pub permit_number: Option<String>,
    /// Reasons, when rejected.
    #[serde(default)]
    pub reasons: Option<String>,
    /// The reviewer.
    pub actor: LicensingActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for TaskDecided {
    const TYPE: &'static str = "cn.yizhan.licensing.task_decided.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 一标核准: every item approved; the comprehensive licence was requested
/// ([`CertificateIssueRequested`], `request_id` = application id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleApproved {
    /// The application.
    pub application_id: String,
    /// The enterprise.
    pub enterprise_uscc: String,
    /// The approved items with their permit numbers.
    pub items: Vec<CertificateItem>,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for BundleApproved {
    const TYPE: &'static str = "cn.yizhan.licensing.bundle_approved.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 不予许可: an item was rejected, so the bundle is refused (no licence).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleRefused {
    /// The application.
    pub application_id: String,
    /// The enterprise.
    pub enterprise_uscc: String,
    /// The rejected item.
    pub item_code: String,
    /// The department's reasons.
    pub reasons: String,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for BundleRefused {
    const TYPE: &'static str = "cn.yizhan.licensing.bundle_refused.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 已发证: the document service issued the comprehensive licence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceIssued {
    /// The application.
    pub application_id: String,
    /// The enterprise.
    pub enterprise_uscc: String,
    /// 电子证照标识.
    pub certificate_id: String,
    /// When licensing recorded it.
    pub at: DateTime<Utc>,
}

impl Event for LicenceIssued {
    const TYPE: &'static str = "cn.yizhan.licensing.licence_issued.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 统一窗口出件: the window handed the licence out; the application is done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceHandedOut {
    /// The application.
    pub application_id: String,
    /// The enterprise.
    pub enterprise_uscc: String,
    /// 电子证照标识.
    pub certificate_id: String,
    /// The window clerk.
    pub actor: LicensingActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for LicenceHandedOut {
    const TYPE: &'static str = "cn.yizhan.licensing.licence_handed_out.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// The outcome for one material of a [`MaterialsChecked`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaterialCheckOutcome {
    /// The id asked about.
    pub material_id: String,
    /// `ok`, `expired` or `not_found` (absent or another enterprise's).
    pub status: String,
}

/// 材料核验: a caller asked whether materials exist and belong to an
/// enterprise, and got this answer (kept so checks are auditable).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

#[cfg(test)]
mod material_ids_tests {
    use super::*;

    #[test]
    fn events_from_before_material_ids_still_decode() {
        let actor = r#"{"sub": "alice", "role": "applicant"}"#;
        let submitted: ApplicationSubmitted = serde_json::from_str(&format!(
            r#"{{"application_id": "a1", "scenario_code": "hotel", "catalog_version": 1,
                "enterprise_uscc": "91350100M000100Y43", "enterprise_name": "一站酒店",
                "item_codes": ["x"], "actor": {actor}, "at": "2026-01-01T00:00:00Z"}}"#
        ))
        .unwrap();
        assert!(submitted.material_ids.is_empty());
        let resubmitted: ApplicationResubmitted = serde_json::from_str(&format!(
            r#"{{"application_id": "a1", "enterprise_uscc": "91350100M000100Y43",
                "item_codes": ["x"], "actor": {actor}, "at": "2026-01-01T00:00:00Z"}}"#
        ))
        .unwrap();
        assert!(resubmitted.material_ids.is_empty());
    }
}

/// 补正（开始）: a reviewer asked the applicant for more, with the one-time
/// list of what to supply; the task's clock is paused (BLZT 6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplementRequested {
    /// The task.
    pub task_id: String,
    /// Its application.
    pub application_id: String,
    /// 事项编码.
    pub item_code: String,
    /// The department.
    pub department_code: String,
    /// The applicant enterprise.
    pub enterprise_uscc: String,
    /// Everything to supply, at once.
    pub items: Vec<IntakeDeficiency>,
    /// 办理状态 code after the request (6).
    pub blzt: u8,
    /// The reviewer.
    pub actor: LicensingActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for SupplementRequested {
    const TYPE: &'static str = "cn.yizhan.licensing.supplement_requested.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 补正（结束）: the applicant supplied what was asked; the task is back in
/// review (BLZT 7, then 8) and its clock resumed where it stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplementProvided {
    /// The task.
    pub task_id: String,
    /// Its application.
    pub application_id: String,
    /// 事项编码.
    pub item_code: String,
    /// The department.
    pub department_code: String,
    /// The applicant enterprise.
    pub enterprise_uscc: String,
    /// Form fields supplied.
    #[serde(default)]
    pub fields: Vec<String>,
    /// Material ids supplied (at the document service).
    #[serde(default)]
    pub material_ids: Vec<String>,
    /// 办理状态 code after the supplement (8).
    pub blzt: u8,
    /// The applicant or agent.
    pub actor: LicensingActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for SupplementProvided {
    const TYPE: &'static str = "cn.yizhan.licensing.supplement_provided.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 特别程序（开始 / 结束）: a reviewer started (BLZT 9, clock paused) or
/// ended (BLZT 10, clock resumed) a hearing, testing or expert review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecialProcedureChanged {
    /// The task.
    pub task_id: String,
    /// Its application.
    pub application_id: String,
    /// 事项编码.
    pub item_code: String,
    /// The department.
    pub department_code: String,
    /// The applicant enterprise.
    pub enterprise_uscc: String,
    /// `start` or `end`.
    pub action: String,
    /// `hearing`, `testing` or `expert_review` (with `start`).
    #[serde(default)]
    pub kind: Option<String>,
    /// Why (with `start`).
    #[serde(default)]
    pub reason: Option<String>,
    /// 办理状态 code after the change (9 or 10).
    pub blzt: u8,
    /// The reviewer.
    pub actor: LicensingActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for SpecialProcedureChanged {
    const TYPE: &'static str = "cn.yizhan.licensing.special_procedure_changed.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 容缺材料已补交: the applicant supplied materials owed under 容缺受理.
/// When `still_missing` is empty the tolerance is fulfilled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToleranceMaterialsProvided {
    /// The application.
    pub application_id: String,
    /// The applicant enterprise.
    pub enterprise_uscc: String,
    /// Material code → id now supplied, as ids.
    pub material_ids: Vec<String>,
    /// What is still owed.
    pub still_missing: Vec<IntakeDeficiency>,
    /// Who supplied.
    pub actor: LicensingActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for ToleranceMaterialsProvided {
    const TYPE: &'static str = "cn.yizhan.licensing.tolerance_materials_provided.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 已终止: an application accepted under 容缺受理 was stopped because the
/// owed materials did not arrive by the due date. Its running tasks were
/// withdrawn (BLZT 14) and approvals given with tolerance revoked (BLZT 15).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplicationTerminated {
    /// The application.
    pub application_id: String,
    /// The applicant enterprise.
    pub enterprise_uscc: String,
    /// What was still owed.
    pub missing: Vec<IntakeDeficiency>,
    /// The due date that passed.
    pub due_date: chrono::NaiveDate,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for ApplicationTerminated {
    const TYPE: &'static str = "cn.yizhan.licensing.application_terminated.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 已注销: a cancellation (注销) was accepted; the licence it names is
/// cancelled (the document service is asked to set 04).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceCancelled {
    /// The cancellation application.
    pub application_id: String,
    /// The application whose licence is cancelled.
    pub predecessor_id: String,
    /// The enterprise.
    pub enterprise_uscc: String,
    /// 电子证照标识 of the cancelled licence.
    pub certificate_id: String,
    /// The window clerk.
    pub actor: LicensingActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for LicenceCancelled {
    const TYPE: &'static str = "cn.yizhan.licensing.licence_cancelled.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        self.application_id.clone()
    }
}

/// 事项目录已发布: an administrator published a new catalog version. New
/// notices and applications use it; applications already made keep theirs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogPublished {
    /// The new version.
    pub version: i32,
    /// Its scenarios.
    pub scenario_codes: Vec<String>,
    /// Its items.
    pub item_codes: Vec<String>,
    /// The administrator.
    pub actor: LicensingActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for CatalogPublished {
    const TYPE: &'static str = "cn.yizhan.licensing.catalog_published.v1";
    const TOPIC: &'static str = topics::LICENSING;
    fn subject(&self) -> String {
        format!("catalog-{}", self.version)
    }
}

// ===========================================================================
// --- 一站式工程建设项目审批 (construction service) — BEGIN ----------------
//
// Every state change of a construction project is one of these facts on
// `yizhan.construction.v1`. The subject is always the project id, so one
// project's events (its stages, tasks, inspections included) stay in order
// on one partition. The construction permit itself is requested with
// `ByConstruction(CertificateIssueRequested)` (request id = the stage
// application id) and answered by `CertificateIssued` on the document topic.

/// Who did something on a construction project (`sub` and role; `system`
/// for automatic steps, `agent` for 帮办代办).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConstructionActor {
    /// The actor's `sub`.
    pub sub: String,
    /// The role acted in.
    pub role: String,
}

/// 项目已登记: a construction project was registered with its 项目代码.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectRegistered {
    /// The project.
    pub project_id: String,
    /// 投资项目代码.
    pub project_code: String,
    /// Project name.
    pub name: String,
    /// Builder (建设单位) 统一社会信用代码.
    pub builder_uscc: String,
    /// Builder name.
    pub builder_name: String,
    /// Category (`small_low_risk` …).
    pub category: String,
    /// Whole-process budget in working days.
    pub budget_days: i32,
    /// Who registered (builder or agent).
    pub actor: ConstructionActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for ProjectRegistered {
    const TYPE: &'static str = "cn.yizhan.construction.project_registered.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 阶段申请已接件: one stage's merged form was submitted (BLZT 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageApplicationSubmitted {
    /// The project.
    pub project_id: String,
    /// The stage application.
    pub stage_application_id: String,
    /// Stage (`land_planning` …).
    pub stage: String,
    /// Builder.
    pub builder_uscc: String,
    /// The stage's items.
    pub item_codes: Vec<String>,
    /// Material ids referenced (document service ids).
    pub material_ids: Vec<String>,
    /// Items applied for under 告知承诺制.
    pub commitments: Vec<String>,
    /// Filed for pre-review before the land grant (拿地即开工).
    pub pre_review: bool,
    /// Who submitted (builder or agent).
    pub actor: ConstructionActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for StageApplicationSubmitted {
    const TYPE: &'static str = "cn.yizhan.construction.stage_application_submitted.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 不受理: the window returned a stage application with the one-time list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageApplicationReturned {
    /// The project.
    pub project_id: String,
    /// The stage application.
    pub stage_application_id: String,
    /// Stage.
    pub stage: String,
    /// Builder.
    pub builder_uscc: String,
    /// Every deficiency at once.
    pub deficiencies: Vec<IntakeDeficiency>,
    /// The window clerk.
    pub actor: ConstructionActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for StageApplicationReturned {
    const TYPE: &'static str = "cn.yizhan.construction.stage_application_returned.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 已受理 (or 容缺受理 when `owed_materials` is not empty): the stage's
/// items became tasks in their departments' queues.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageApplicationAccepted {
    /// The project.
    pub project_id: String,
    /// The stage application.
    pub stage_application_id: String,
    /// Stage.
    pub stage: String,
    /// Builder.
    pub builder_uscc: String,
    /// Non-key materials owed under 容缺受理.
    pub owed_materials: Vec<String>,
    /// Last day to supply them.
    pub tolerance_due: Option<chrono::NaiveDate>,
    /// The window clerk.
    pub actor: ConstructionActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for StageApplicationAccepted {
    const TYPE: &'static str = "cn.yizhan.construction.stage_application_accepted.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// A construction item task changed status: `action` is one of `created`,
/// `commitment_approved`, `pre_approved`, `approved`, `rejected`,
/// `finalised` (pre-approval made final by the land grant), `verified`,
/// `revoked`, `stopped`; `blzt` is the national code after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConstructionTaskStatusChanged {
    /// The task.
    pub task_id: String,
    /// The project.
    pub project_id: String,
    /// The stage application.
    pub stage_application_id: String,
    /// Stage.
    pub stage: String,
    /// 事项编码.
    pub item_code: String,
    /// 事项名称.
    pub item_name: String,
    /// Department.
    pub department_code: String,
    /// Builder.
    pub builder_uscc: String,
    /// What happened.
    pub action: String,
    /// 办理状态 code after it.
    pub blzt: u8,
    /// Permit / record number, when approved.
    #[serde(default)]
    pub permit_number: Option<String>,
    /// Reasons, when rejected, revoked or stopped.
    #[serde(default)]
    pub reasons: Option<String>,
    /// Committed due date (created) or verification deadline (commitment).
    #[serde(default)]
    pub due_date: Option<chrono::NaiveDate>,
    /// Who.
    pub actor: ConstructionActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for ConstructionTaskStatusChanged {
    const TYPE: &'static str = "cn.yizhan.construction.task_status_changed.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 容缺材料已补齐.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToleranceMaterialsSupplied {
    /// The project.
    pub project_id: String,
    /// The stage application.
    pub stage_application_id: String,
    /// Builder.
    pub builder_uscc: String,
    /// Material codes supplied.
    pub materials: Vec<String>,
    /// Material ids supplied.
    pub material_ids: Vec<String>,
    /// Builder or agent.
    pub actor: ConstructionActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for ToleranceMaterialsSupplied {
    const TYPE: &'static str = "cn.yizhan.construction.tolerance_materials_supplied.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 阶段办结: every item of the stage approved; the next stage is unlocked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageCompleted {
    /// The project.
    pub project_id: String,
    /// The stage application.
    pub stage_application_id: String,
    /// Stage.
    pub stage: String,
    /// Builder.
    pub builder_uscc: String,
    /// Certificate types requested from the document service (request id
    /// = the stage application id).
    #[serde(default)]
    pub certificates_requested: Vec<String>,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for StageCompleted {
    const TYPE: &'static str = "cn.yizhan.construction.stage_completed.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 终止办理: a stage stopped (an item rejected or revoked, or 容缺
/// materials not supplied by the due date).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageStopped {
    /// The project.
    pub project_id: String,
    /// The stage application.
    pub stage_application_id: String,
    /// Stage.
    pub stage: String,
    /// Builder.
    pub builder_uscc: String,
    /// Why, zh-CN.
    pub reason: String,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for StageStopped {
    const TYPE: &'static str = "cn.yizhan.construction.stage_stopped.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 土地出让已登记 (拿地即开工): the land grant was recorded; pre-approved
/// items were finalised at once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LandGrantRecorded {
    /// The project.
    pub project_id: String,
    /// Builder.
    pub builder_uscc: String,
    /// 土地出让合同编号.
    pub contract_number: String,
    /// Day of the grant.
    pub granted_on: chrono::NaiveDate,
    /// Tasks finalised by it.
    pub finalised_task_ids: Vec<String>,
    /// Who recorded it.
    pub actor: ConstructionActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for LandGrantRecorded {
    const TYPE: &'static str = "cn.yizhan.construction.land_grant_recorded.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 征求意见: a reviewer asked another department for an opinion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsultationRequested {
    /// The consultation.
    pub consultation_id: String,
    /// The task it is about.
    pub task_id: String,
    /// The project.
    pub project_id: String,
    /// Asking department.
    pub from_department: String,
    /// Asked department.
    pub to_department: String,
    /// The question.
    pub question: String,
    /// Reply due by.
    pub due_date: chrono::NaiveDate,
    /// The asking reviewer.
    pub actor: ConstructionActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for ConsultationRequested {
    const TYPE: &'static str = "cn.yizhan.construction.consultation_requested.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 意见已回复.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsultationAnswered {
    /// The consultation.
    pub consultation_id: String,
    /// The task.
    pub task_id: String,
    /// The project.
    pub project_id: String,
    /// Answering department.
    pub to_department: String,
    /// The opinion.
    pub opinion: String,
    /// Whether it came after the due date.
    pub late: bool,
    /// The answering reviewer.
    pub actor: ConstructionActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for ConsultationAnswered {
    const TYPE: &'static str = "cn.yizhan.construction.consultation_answered.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 联合验收已排期: departments invited to one slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JointInspectionScheduled {
    /// The inspection.
    pub inspection_id: String,
    /// The project.
    pub project_id: String,
    /// The completion stage application.
    pub stage_application_id: String,
    /// 1 for the first inspection, 2 for the first re-inspection …
    pub round: i32,
    /// The slot.
    pub slot: DateTime<Utc>,
    /// Where.
    pub location: String,
    /// Invited departments.
    pub departments: Vec<String>,
    /// The window clerk.
    pub actor: ConstructionActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for JointInspectionScheduled {
    const TYPE: &'static str = "cn.yizhan.construction.joint_inspection_scheduled.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// One department recorded its joint-inspection result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JointInspectionResultRecorded {
    /// The inspection.
    pub inspection_id: String,
    /// The project.
    pub project_id: String,
    /// Department.
    pub department_code: String,
    /// Pass or fail.
    pub passed: bool,
    /// Failed points.
    pub points: Vec<String>,
    /// The reviewer.
    pub actor: ConstructionActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for JointInspectionResultRecorded {
    const TYPE: &'static str = "cn.yizhan.construction.joint_inspection_result_recorded.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// One point of a rectification list (整改清单).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RectificationPoint {
    /// The department that found it.
    pub department_code: String,
    /// What to fix.
    pub point: String,
}

/// 联合验收结论: every invited department recorded; passed, or failed
/// with the rectification list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JointInspectionConcluded {
    /// The inspection.
    pub inspection_id: String,
    /// The project.
    pub project_id: String,
    /// Whether every department passed.
    pub passed: bool,
    /// Failed points, when not passed.
    pub rectification: Vec<RectificationPoint>,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for JointInspectionConcluded {
    const TYPE: &'static str = "cn.yizhan.construction.joint_inspection_concluded.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 整改完成: the builder reported the rectification done; re-inspection due.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RectificationReported {
    /// The failed inspection.
    pub inspection_id: String,
    /// The project.
    pub project_id: String,
    /// The builder's statement.
    pub statement: String,
    /// Builder or agent.
    pub actor: ConstructionActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for RectificationReported {
    const TYPE: &'static str = "cn.yizhan.construction.rectification_reported.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// The document service issued a certificate a stage requested (e.g. the
/// 建筑工程施工许可证); recorded on the stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConstructionCertificateRecorded {
    /// The project.
    pub project_id: String,
    /// The stage application (the request id).
    pub stage_application_id: String,
    /// Builder.
    pub builder_uscc: String,
    /// 电子证照标识.
    pub certificate_id: String,
    /// Certificate type.
    pub certificate_type: String,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for ConstructionCertificateRecorded {
    const TYPE: &'static str = "cn.yizhan.construction.certificate_recorded.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 全流程时限预警 / 超期: a project's budget clock reached the warning
/// share (`level` = `warning`) or passed the budget (`overdue`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectBudgetAlerted {
    /// The project.
    pub project_id: String,
    /// Builder.
    pub builder_uscc: String,
    /// Category.
    pub category: String,
    /// `warning` or `overdue`.
    pub level: String,
    /// Budget, working days.
    pub budget_days: i32,
    /// Working days used.
    pub used_days: f64,
    /// Last day of the budget, as things stand.
    pub due_date: Option<chrono::NaiveDate>,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for ProjectBudgetAlerted {
    const TYPE: &'static str = "cn.yizhan.construction.project_budget_alerted.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

/// 统一窗口出件: the window handed a completed stage's result (its issued
/// certificate, e.g. the 建筑工程施工许可证) to the builder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageResultHandedOut {
    /// The project.
    pub project_id: String,
    /// The stage application.
    pub stage_application_id: String,
    /// Stage.
    pub stage: String,
    /// Builder.
    pub builder_uscc: String,
    /// 电子证照标识 handed out.
    pub certificate_id: String,
    /// The window clerk.
    pub actor: ConstructionActor,
    /// When.
    pub at: DateTime<Utc>,
}

impl Event for StageResultHandedOut {
    const TYPE: &'static str = "cn.yizhan.construction.stage_result_handed_out.v1";
    const TOPIC: &'static str = topics::CONSTRUCTION;
    fn subject(&self) -> String {
        self.project_id.clone()
    }
}

// --- 一站式工程建设项目审批 (construction service) — END ------------------
// ===========================================================================
