//! 一企一档 — one record per enterprise (per USCC), built from what the
//! government already knows: certificates from the document service, the
//! items they carry from the requesting service, materials on file, and
//! facts set by officers with their source and date.
//!
//! The record is a projection of events that arrive on different topics in
//! any order: the issue request (licensing or construction topic) may be
//! read after the certificate it led to (document topic). Every `on_*`
//! method therefore merges into what is there and can be applied twice
//! with the same result; the inbox makes a second application rare, not
//! impossible to survive.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::facts::{FactValue, HeldLicence, Profile, fact};

/// Status of a certificate as the record keeps it (the national codes'
/// meaning, not their numbers: only "is it in force" matters here).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertificateState {
    /// Requested, not yet issued.
    Requested,
    /// 有效.
    Valid,
    /// 暂扣: suspended, may come back.
    Suspended,
    /// 撤销, 注销, 吊销 or 失效: no longer held.
    Ended,
}

/// One licence or permit of the enterprise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LicenceEntry {
    /// The issue request's id (the application's id).
    pub request_id: String,
    /// 电子证照标识, once issued.
    pub certificate_id: Option<String>,
    /// Certificate type (`industry_comprehensive_licence`, …).
    pub certificate_type: String,
    /// Items it carries: code and Chinese name. Empty until the issue
    /// request has been read.
    pub items: Vec<(String, String)>,
    /// Day it was issued (China local), once issued.
    pub issued_on: Option<NaiveDate>,
    /// Last valid day; `None` for 长期有效.
    pub valid_until: Option<NaiveDate>,
    /// Where it stands.
    pub state: CertificateState,
}

/// A material type the enterprise has on file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MaterialOnFile {
    /// Latest version number.
    pub version: i32,
    /// Its material id.
    pub material_id: String,
    /// When that version was stored.
    pub uploaded_at: DateTime<Utc>,
}

/// A fact set by an officer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfficerFact {
    /// The value.
    pub value: FactValue,
    /// Where the officer took it from (`统计年报 2025`, `税务登记`).
    pub source: String,
    /// Who set it (`sub` of the officer).
    pub set_by: String,
    /// When.
    pub set_at: DateTime<Utc>,
}

/// 一企一档: everything known about one enterprise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterpriseRecord {
    /// 统一社会信用代码.
    pub uscc: String,
    /// Registered name, from the latest certificate or request.
    pub name: Option<String>,
    /// Licences by issue-request id.
    pub licences: BTreeMap<String, LicenceEntry>,
    /// Materials by type code.
    pub materials: BTreeMap<String, MaterialOnFile>,
    /// Officer-set facts by key, each with its history (latest last).
    pub facts: BTreeMap<String, Vec<OfficerFact>>,
}

impl EnterpriseRecord {
    /// An empty record for `uscc`.
    pub fn new(uscc: impl Into<String>) -> Self {
        Self {
            uscc: uscc.into(),
            name: None,
            licences: BTreeMap::new(),
            materials: BTreeMap::new(),
            facts: BTreeMap::new(),
        }
    }

    fn licence(&mut self, request_id: &str, certificate_type: &str) -> &mut LicenceEntry {
        self.licences
            .entry(request_id.to_owned())
            .or_insert_with(|| LicenceEntry {
                request_id: request_id.to_owned(),
                certificate_id: None,
                certificate_type: certificate_type.to_owned(),
                items: Vec::new(),
                issued_on: None,
                valid_until: None,
                state: CertificateState::Requested,
            })
    }

    /// A certificate was requested for the enterprise, carrying `items`.
    pub fn on_issue_requested(
        &mut self,
        request_id: &str,
        certificate_type: &str,
        holder_name: &str,
        items: Vec<(String, String)>,
    ) {
        if self.name.is_none() {
            self.name = Some(holder_name.to_owned());
        }
        self.licence(request_id, certificate_type).items = items;
    }

    /// The certificate was issued. Its issue request may not have been read
    /// yet; the entry then waits for its items.
    pub fn on_certificate_issued(
        &mut self,
        request_id: &str,
        certificate_id: &str,
        certificate_type: &str,
        holder_name: &str,
        issued_on: NaiveDate,
        valid_until: Option<NaiveDate>,
    ) {
        self.name = Some(holder_name.to_owned());
        let entry = self.licence(request_id, certificate_type);
        entry.certificate_id = Some(certificate_id.to_owned());
        entry.issued_on = Some(issued_on);
        entry.valid_until = valid_until;
        if entry.state == CertificateState::Requested {
            entry.state = CertificateState::Valid;
        }
    }

    /// A certificate's status changed; `false` when the record holds no
    /// such certificate (the caller retries later or records the orphan).
    pub fn on_status_changed(&mut self, certificate_id: &str, state: CertificateState) -> bool {
        match self
            .licences
            .values_mut()
            .find(|l| l.certificate_id.as_deref() == Some(certificate_id))
        {
            Some(entry) => {
                entry.state = state;
                true
            }
            None => false,
        }
    }

    /// A material was stored; only a newer version replaces the one on file.
    pub fn on_material_uploaded(
        &mut self,
        material_type: &str,
        material_id: &str,
        version: i32,
        uploaded_at: DateTime<Utc>,
    ) {
        let newer = self
            .materials
            .get(material_type)
            .is_none_or(|on_file| version > on_file.version);
        if newer {
            self.materials.insert(
                material_type.to_owned(),
                MaterialOnFile {
                    version,
                    material_id: material_id.to_owned(),
                    uploaded_at,
                },
            );
        }
    }

    /// An officer sets a fact; refused for an unknown fact, a value of the
    /// wrong kind or an empty source (`Err((field, why))`). Setting the same
    /// value from the same source again changes nothing and answers `false`.
    pub fn set_fact(
        &mut self,
        key: &str,
        value: &serde_json::Value,
        source: &str,
        set_by: &str,
        set_at: DateTime<Utc>,
    ) -> Result<bool, (String, String)> {
        let (_, def) =
            fact(key).ok_or_else(|| ("fact".to_owned(), format!("未知的事实“{key}”")))?;
        let value = FactValue::parse(def.kind, value)
            .map_err(|why| ("value".to_owned(), format!("{}{why}", def.name)))?;
        let source = source.trim();
        if source.is_empty() || source.chars().count() > 100 {
            return Err(("source".to_owned(), "请填写 1-100 字的数据来源".to_owned()));
        }
        let history = self.facts.entry(key.to_owned()).or_default();
        if history
            .last()
            .is_some_and(|last| last.value == value && last.source == source)
        {
            return Ok(false);
        }
        history.push(OfficerFact {
            value,
            source: source.to_owned(),
            set_by: set_by.to_owned(),
            set_at,
        });
        Ok(true)
    }

    /// The record as the policy matcher sees it: the latest value of every
    /// fact, and one held licence per item of every issued certificate that
    /// has not ended (a suspended one is not held while suspended).
    ///
    /// The held licences are sorted and each distinct one kept once: rules
    /// only ask whether some held licence qualifies, so duplicates change
    /// no answer, while they would make the matcher's column, and every
    /// comparison of profiles, grow with every certificate of the same item
    /// and dates; and a certificate that adds nothing new then leaves the
    /// profile as it was, so the policies are not matched again for it.
    pub fn profile(&self) -> Profile {
        let mut profile = Profile::new();
        for (key, history) in &self.facts {
            if let (Some((index, _)), Some(latest)) = (fact(key), history.last()) {
                profile.set(index, latest.value.clone());
            }
        }
        for entry in self.licences.values() {
            let Some(issued_on) = entry.issued_on else {
                continue;
            };
            for (item, _) in &entry.items {
                profile.licences.push(HeldLicence {
                    item: item.clone(),
                    issued_on,
                    valid_until: entry.valid_until,
                    revoked: entry.state != CertificateState::Valid,
                });
            }
        }
        profile.licences.sort_unstable();
        profile.licences.dedup();
        profile
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rules::Rule;
    use serde_json::json;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    fn hotel_items() -> Vec<(String, String)> {
        vec![
            ("business_licence".into(), "营业执照".into()),
            (
                "special_trade_permit_hotel".into(),
                "特种行业许可证（旅馆业）".into(),
            ),
        ]
    }

    fn items(code: &str) -> Option<String> {
        hotel_items()
            .into_iter()
            .find(|(c, _)| c == code)
            .map(|(_, n)| n)
    }

    #[test]
    fn the_certificate_may_arrive_before_its_request_and_twice() {
        let rule = Rule::parse(&json!({"licence": "special_trade_permit_hotel"}), &items).unwrap();
        let today = day("2026-12-03");
        let mut record = EnterpriseRecord::new("91350100M000100Y43");
        record.on_certificate_issued(
            "app-1",
            "cert-1",
            "industry_comprehensive_licence",
            "榕城酒店",
            day("2026-11-30"),
            None,
        );
        // Issued, but its items are not known yet: no licence held.
        assert!(!rule.holds(&record.profile(), today));
        record.on_issue_requested(
            "app-1",
            "industry_comprehensive_licence",
            "榕城酒店",
            hotel_items(),
        );
        let once = record.clone();
        assert!(rule.holds(&record.profile(), today));
        // The same events again change nothing.
        record.on_issue_requested(
            "app-1",
            "industry_comprehensive_licence",
            "榕城酒店",
            hotel_items(),
        );
        record.on_certificate_issued(
            "app-1",
            "cert-1",
            "industry_comprehensive_licence",
            "榕城酒店",
            day("2026-11-30"),
            None,
        );
        assert_eq!(record, once);
        // Suspended: not held; valid again: held.
        assert!(record.on_status_changed("cert-1", CertificateState::Suspended));
        assert!(!rule.holds(&record.profile(), today));
        assert!(record.on_status_changed("cert-1", CertificateState::Valid));
        assert!(rule.holds(&record.profile(), today));
        assert!(!record.on_status_changed("cert-unknown", CertificateState::Ended));
        assert_eq!(record.name.as_deref(), Some("榕城酒店"));
    }

    #[test]
    fn the_profile_keeps_each_distinct_held_licence_once() {
        let mut record = EnterpriseRecord::new("91350100M000100Y43");
        for n in 1..=3 {
            let (request, certificate) = (format!("app-{n}"), format!("cert-{n}"));
            record.on_issue_requested(
                &request,
                "industry_comprehensive_licence",
                "榕城酒店",
                hotel_items(),
            );
            record.on_certificate_issued(
                &request,
                &certificate,
                "industry_comprehensive_licence",
                "榕城酒店",
                day("2026-11-30"),
                None,
            );
        }
        let one = record.profile();
        assert_eq!(one.licences.len(), 2, "two items, each held once");
        // Suspending one of three leaves the others held: a distinct entry.
        assert!(record.on_status_changed("cert-2", CertificateState::Suspended));
        let profile = record.profile();
        assert_eq!(profile.licences.len(), 4);
        let rule = Rule::parse(&json!({"licence": "special_trade_permit_hotel"}), &items).unwrap();
        assert!(rule.holds(&profile, day("2026-12-03")));
    }

    #[test]
    fn officer_facts_keep_their_source_and_history() {
        let at = Utc::now();
        let mut record = EnterpriseRecord::new("91350100M000100Y43");
        assert_eq!(
            record.set_fact(
                "employee_count",
                &json!(30),
                "统计年报 2025",
                "officer-1",
                at
            ),
            Ok(true)
        );
        assert_eq!(
            record.set_fact(
                "employee_count",
                &json!(30),
                "统计年报 2025",
                "officer-2",
                at
            ),
            Ok(false)
        );
        assert_eq!(
            record.set_fact(
                "employee_count",
                &json!(28),
                "社保参保人数",
                "officer-1",
                at
            ),
            Ok(true)
        );
        assert_eq!(record.facts["employee_count"].len(), 2);
        let (staff, _) = fact("employee_count").unwrap();
        assert_eq!(record.profile().get(staff), Some(&FactValue::Integer(28)));
        assert_eq!(
            record
                .set_fact("employees", &json!(1), "x", "o", at)
                .unwrap_err()
                .0,
            "fact"
        );
        assert_eq!(
            record
                .set_fact("employee_count", &json!("many"), "x", "o", at)
                .unwrap_err(),
            ("value".to_owned(), "从业人数应为整数".to_owned())
        );
        assert_eq!(
            record
                .set_fact("employee_count", &json!(1), "  ", "o", at)
                .unwrap_err()
                .0,
            "source"
        );
    }

    #[test]
    fn only_a_newer_material_version_replaces_the_one_on_file() {
        let at = Utc::now();
        let mut record = EnterpriseRecord::new("91350100M000100Y43");
        record.on_material_uploaded("floor_plan", "m-2", 2, at);
        record.on_material_uploaded("floor_plan", "m-1", 1, at);
        assert_eq!(record.materials["floor_plan"].material_id, "m-2");
        record.on_material_uploaded("floor_plan", "m-3", 3, at);
        assert_eq!(record.materials["floor_plan"].version, 3);
    }
}
