//! 申请材料类型 — the one material vocabulary. Every material code in a
//! licensing or construction catalog is one of these types, and the
//! document service stores a material under exactly one of them: an
//! applicant uploads a floor plan as `floor_plan`, and a case files it
//! under `floor_plan`. The document service publishes the list
//! (`GET /api/v1/material-types`); catalogs are checked against it when a
//! service starts and when an administrator publishes one.
//!
//! Kept as data in one place (not fetched at run time), so a catalog and
//! the store it refers to can never disagree about a code: adding a type is
//! a change to this list, reviewed like any other.

/// Which file kinds a type accepts (judged by the bytes at upload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepts {
    /// PDF or OFD documents.
    Documents,
    /// Documents, or PNG/JPEG images (scans, photos of papers, drawings).
    DocumentsAndImages,
    /// PNG or JPEG images only.
    Images,
}

/// One material type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaterialType {
    /// Stable code used in APIs and catalogs.
    pub code: &'static str,
    /// 中文名称, as every page and message shows it.
    pub name: &'static str,
    /// File kinds accepted.
    pub accepts: Accepts,
}

const fn t(code: &'static str, name: &'static str, accepts: Accepts) -> MaterialType {
    MaterialType {
        code,
        name,
        accepts,
    }
}

use Accepts::{Documents as D, DocumentsAndImages as DI, Images as I};

/// Every material type, in the order lists show them.
pub const MATERIAL_TYPES: &[MaterialType] = &[
    // Enterprise records (一企一档).
    t("business_licence_copy", "营业执照副本", DI),
    t("legal_rep_id_card", "法定代表人身份证明", DI),
    t("articles_of_association", "公司章程", D),
    t("premises_lease", "经营场所租赁合同或产权证明", D),
    t("business_premises_proof", "经营场所使用证明", DI),
    t("floor_plan", "经营场所平面布局图", DI),
    t("site_photo", "经营场所照片", I),
    t("commitment_letter", "告知承诺书", D),
    t("health_certificates", "从业人员健康证明（汇总）", DI),
    t("fire_safety_plan", "消防安全制度及应急预案", D),
    // 一业一证 licensing.
    t("food_safety_rules", "食品安全管理制度", D),
    t("health_check_report", "从业人员健康证明", DI),
    t("health_facility_description", "卫生设施设置情况说明", DI),
    t("security_rules", "治安保卫制度", D),
    t("surveillance_plan", "视频监控安装说明", DI),
    t("fire_safety_commitment", "消防安全告知承诺书", D),
    t("fire_acceptance_proof", "建设工程消防验收或备案证明", DI),
    t("performance_safety_plan", "演出场所安全保障方案", D),
    t("pharmacist_certificate", "执业药师注册证", DI),
    t("drug_quality_rules", "药品质量管理制度", D),
    t("medical_device_rules", "医疗器械经营质量管理制度", D),
    t("lifeguard_certificates", "救生员资格证书", DI),
    t("pool_water_quality_report", "游泳池水质检测报告", DI),
    t("sign_design", "招牌设计效果图", DI),
    t("drainage_plan", "排水设施及排水量说明", DI),
    // 工程建设项目 construction.
    t("project_proposal", "项目建议书", D),
    t("feasibility_study", "可行性研究报告", D),
    t("filing_form", "企业投资项目备案表", DI),
    t("site_plan", "总平面图", DI),
    t("land_document", "土地出让合同或划拨决定书", DI),
    t("eia_report", "环境影响报告表", D),
    t("energy_report", "节能报告", D),
    t("soil_water_plan", "水土保持方案", D),
    t("heritage_report", "考古调查勘探报告", D),
    t("flood_report", "洪水影响评价报告", D),
    t("design_scheme", "设计方案文本", DI),
    t("preliminary_design", "初步设计文件", D),
    t("connection_plan", "市政接入方案", DI),
    t("occupation_plan", "占道挖掘施工方案", DI),
    t("greenery_plan", "绿地占用及恢复方案", DI),
    t("lightning_design", "防雷装置设计文件", DI),
    t("traffic_report", "交通影响评价报告", D),
    t("drawings", "施工图设计文件", DI),
    t("fire_design", "消防设计文件", DI),
    t("civil_defence_design", "人防工程设计文件", DI),
    t("safety_measures", "保证工程质量安全的具体措施", D),
    t("bid_notice", "中标通知书", DI),
    t("construction_contract", "施工合同", D),
    t("noise_plan", "夜间施工降噪方案", D),
    t("completion_survey", "竣工测量成果报告", DI),
    t("fire_test_report", "消防设施检测报告", DI),
    t("civil_defence_report", "人防工程竣工资料", D),
    t("archive_catalog", "建设工程档案目录", D),
    t("completion_report", "工程竣工验收报告", D),
    t("lightning_test_report", "防雷装置检测报告", DI),
    t("environment_report", "环保设施验收报告", D),
    // Anything else an enterprise keeps on file; no catalog asks for it.
    t("other", "其他材料", DI),
];

/// The type with `code`.
pub fn find(code: &str) -> Option<&'static MaterialType> {
    MATERIAL_TYPES.iter().find(|t| t.code == code)
}

/// The Chinese name of `code`, if it is a type.
pub fn name_of(code: &str) -> Option<&'static str> {
    find(code).map(|t| t.name)
}

/// Whether a catalog may ask for `code`: a known type other than the
/// catch-all `other`.
pub fn catalog_may_use(code: &str) -> bool {
    code != "other" && find(code).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_named() {
        for (i, a) in MATERIAL_TYPES.iter().enumerate() {
            assert!(!a.name.is_empty());
            assert!(
                a.code
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{}",
                a.code
            );
            for b in &MATERIAL_TYPES[i + 1..] {
                assert_ne!(a.code, b.code);
            }
        }
    }

    #[test]
    fn catalogs_may_not_ask_for_other() {
        assert!(catalog_may_use("floor_plan"));
        assert!(!catalog_may_use("other"));
        assert!(!catalog_may_use("no_such_type"));
        assert_eq!(name_of("site_plan"), Some("总平面图"));
    }
}
