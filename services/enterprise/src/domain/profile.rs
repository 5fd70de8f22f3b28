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

/// 一企一档: everything known about one enterprise but its licence
/// entries, which are kept one by one beside it (an enterprise may hold
/// thousands; an event about one of them must not read them all).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnterpriseRecord {
    /// 统一社会信用代码.
    pub uscc: String,
    /// Registered name, from the latest certificate or request.
    pub name: Option<String>,
    /// Materials by type code.
    pub materials: BTreeMap<String, MaterialOnFile>,
    /// Officer-set facts by key, each with its history (latest last).
    pub facts: BTreeMap<String, Vec<OfficerFact>>,
    /// Each distinct licence held (see [`LicenceEntry::held`]) with the
    /// number of entries that hold it: counted rather than collected, so
    /// that an entry's change updates the profile from that entry alone.
    pub held: BTreeMap<HeldLicence, u32>,
}

impl LicenceEntry {
    /// An entry for the issue request `request_id`, nothing known yet.
    pub fn new(request_id: &str, certificate_type: &str) -> Self {
        Self {
            request_id: request_id.to_owned(),
            certificate_id: None,
            certificate_type: certificate_type.to_owned(),
            items: Vec::new(),
            issued_on: None,
            valid_until: None,
            state: CertificateState::Requested,
        }
    }

    /// The certificate was requested, carrying `items`.
    pub fn on_issue_requested(&mut self, items: Vec<(String, String)>) {
        self.items = items;
    }

    /// The certificate was issued. Its issue request may not have been read
    /// yet; the entry then waits for its items.
    pub fn on_certificate_issued(
        &mut self,
        certificate_id: &str,
        issued_on: NaiveDate,
        valid_until: Option<NaiveDate>,
    ) {
        self.certificate_id = Some(certificate_id.to_owned());
        self.issued_on = Some(issued_on);
        self.valid_until = valid_until;
        if self.state == CertificateState::Requested {
            self.state = CertificateState::Valid;
        }
    }

    /// The certificate's status changed.
    pub fn on_status_changed(&mut self, state: CertificateState) {
        self.state = state;
    }

    /// What the entry adds to the profile: one held licence per item, once
    /// issued (a suspended or ended certificate's are marked revoked).
    pub fn held(&self) -> impl Iterator<Item = HeldLicence> + '_ {
        self.issued_on.into_iter().flat_map(move |issued_on| {
            self.items.iter().map(move |(item, _)| HeldLicence {
                item: item.clone(),
                issued_on,
                valid_until: self.valid_until,
                revoked: self.state != CertificateState::Valid,
            })
        })
    }
}

impl EnterpriseRecord {
    /// An empty record for `uscc`.
    pub fn new(uscc: impl Into<String>) -> Self {
        Self {
            uscc: uscc.into(),
            name: None,
            materials: BTreeMap::new(),
            facts: BTreeMap::new(),
            held: BTreeMap::new(),
        }
    }

    /// A certificate request named the holder: its name, unless one is
    /// known (a certificate's name is the registered one).
    pub fn on_issue_requested(&mut self, holder_name: &str) {
        if self.name.is_none() {
            self.name = Some(holder_name.to_owned());
        }
    }

    /// A certificate was issued to the holder under this name.
    pub fn on_certificate_issued(&mut self, holder_name: &str) {
        self.name = Some(holder_name.to_owned());
    }

    /// One of the enterprise's licence entries changed from `before` (a
    /// [`LicenceEntry::new`] when it is new) to `after`: the held counts
    /// follow, from that entry alone.
    pub fn recount(&mut self, before: &LicenceEntry, after: &LicenceEntry) {
        if before == after {
            return;
        }
        for gone in before.held() {
            if let Some(count) = self.held.get_mut(&gone) {
                *count -= 1;
                if *count == 0 {
                    self.held.remove(&gone);
                }
            }
        }
        for held in after.held() {
            *self.held.entry(held).or_insert(0) += 1;
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
    /// fact, and each distinct licence held once, sorted.
    ///
    /// Rules only ask whether some held licence qualifies, so duplicates
    /// change no answer, while they would make the matcher's column, and
    /// every comparison of profiles, grow with every certificate of the
    /// same item and dates; and a certificate that adds nothing new then
    /// leaves the profile as it was, so the policies are not matched again
    /// for it.
    pub fn profile(&self) -> Profile {
        let mut profile = Profile::new();
        for (key, history) in &self.facts {
            if let (Some((index, _)), Some(latest)) = (fact(key), history.last()) {
                profile.set(index, latest.value.clone());
            }
        }
        profile.licences = self.held.keys().cloned().collect();
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

    /// A record and its licence entries by request, as the store keeps them.
    struct Book {
        record: EnterpriseRecord,
        entries: BTreeMap<String, LicenceEntry>,
    }

    impl Book {
        fn new() -> Self {
            Self {
                record: EnterpriseRecord::new("91350100M000100Y43"),
                entries: BTreeMap::new(),
            }
        }

        fn change(&mut self, request: &str, change: impl FnOnce(&mut LicenceEntry)) -> bool {
            let entry = self
                .entries
                .entry(request.to_owned())
                .or_insert_with(|| LicenceEntry::new(request, "industry_comprehensive_licence"));
            let before = entry.clone();
            change(entry);
            self.record.recount(&before, entry);
            before != *entry
        }

        fn request(&mut self, request: &str) {
            self.record.on_issue_requested("榕城酒店");
            self.change(request, |e| e.on_issue_requested(hotel_items()));
        }

        fn issue(&mut self, request: &str, certificate: &str) {
            self.record.on_certificate_issued("榕城酒店");
            self.change(request, |e| {
                e.on_certificate_issued(certificate, day("2026-11-30"), None)
            });
        }

        fn status(&mut self, certificate: &str, state: CertificateState) -> bool {
            let Some(request) = self
                .entries
                .values()
                .find(|e| e.certificate_id.as_deref() == Some(certificate))
                .map(|e| e.request_id.clone())
            else {
                return false;
            };
            self.change(&request, |e| e.on_status_changed(state));
            true
        }
    }

    #[test]
    fn the_certificate_may_arrive_before_its_request_and_twice() {
        let rule = Rule::parse(&json!({"licence": "special_trade_permit_hotel"}), &items).unwrap();
        let today = day("2026-12-03");
        let mut book = Book::new();
        book.issue("app-1", "cert-1");
        // Issued, but its items are not known yet: no licence held.
        assert!(!rule.holds(&book.record.profile(), today));
        book.request("app-1");
        let once = (book.record.clone(), book.entries.clone());
        assert!(rule.holds(&book.record.profile(), today));
        // The same events again change nothing.
        assert!(!book.change("app-1", |e| e.on_issue_requested(hotel_items())));
        book.request("app-1");
        book.issue("app-1", "cert-1");
        assert_eq!((book.record.clone(), book.entries.clone()), once);
        // Suspended: not held; valid again: held.
        assert!(book.status("cert-1", CertificateState::Suspended));
        assert!(!rule.holds(&book.record.profile(), today));
        assert!(book.status("cert-1", CertificateState::Valid));
        assert!(rule.holds(&book.record.profile(), today));
        assert_eq!(book.record, once.0, "the counts are back where they were");
        assert!(!book.status("cert-unknown", CertificateState::Ended));
        assert_eq!(book.record.name.as_deref(), Some("榕城酒店"));
    }

    #[test]
    fn the_profile_keeps_each_distinct_held_licence_once() {
        let mut book = Book::new();
        for n in 1..=3 {
            book.request(&format!("app-{n}"));
            book.issue(&format!("app-{n}"), &format!("cert-{n}"));
        }
        let one = book.record.profile();
        assert_eq!(one.licences.len(), 2, "two items, each held once");
        assert_eq!(
            book.record.held.values().copied().collect::<Vec<_>>(),
            [3, 3]
        );
        // Suspending one of three leaves the others held: a distinct entry.
        assert!(book.status("cert-2", CertificateState::Suspended));
        let profile = book.record.profile();
        assert_eq!(profile.licences.len(), 4);
        let rule = Rule::parse(&json!({"licence": "special_trade_permit_hotel"}), &items).unwrap();
        assert!(rule.holds(&profile, day("2026-12-03")));
        // Ending all three: only revoked entries remain, nothing held.
        for n in 1..=3 {
            assert!(book.status(&format!("cert-{n}"), CertificateState::Ended));
        }
        assert!(!rule.holds(&book.record.profile(), day("2026-12-03")));
        assert_eq!(book.record.held.len(), 2, "{:?}", book.record.held);
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
