//! The catalog seeded into an empty database (version 1): thirteen
//! departments and 32 high-frequency construction items over the four
//! stages, with the categories each applies to. Limits are working days.
//!
//! Data, written as code so a typo in a reference fails the unit test of
//! `Catalog::problems` instead of a start.

use serde_json::{Value, json};
use yizhan_approval::WorkingTime;

use crate::domain::catalog::{
    Catalog, Category, Department, FieldDef, FieldKind, Item, ItemField, ItemMaterial, MaterialDef,
    Stage,
};

fn text(max_len: usize) -> FieldKind {
    FieldKind::Text { max_len }
}

fn num(min: f64, max: f64) -> FieldKind {
    FieldKind::Number { min, max }
}

/// Categories from letters: `G` government, `S` social, `L` small low-risk.
fn categories(spec: &str) -> Vec<Category> {
    spec.chars()
        .filter_map(|c| match c {
            'G' => Some(Category::GovernmentInvestment),
            'S' => Some(Category::SocialInvestment),
            'L' => Some(Category::SmallLowRisk),
            _ => None,
        })
        .collect()
}

/// How one item reads in the table below: materials and fields are
/// comma-separated; a trailing `?` makes a material non-key (容缺-able) or
/// a field optional.
struct Spec {
    code: &'static str,
    name: &'static str,
    dept: &'static str,
    stage: Stage,
    limits: (i32, i32),
    materials: &'static str,
    fields: &'static str,
    commitment: bool,
    categories: &'static str,
    certificate: Option<&'static str>,
}

fn build(s: Spec) -> Item {
    let split = |list: &'static str| {
        list.split(',')
            .map(str::trim)
            .filter(|x| !x.is_empty())
            .map(|x| match x.strip_suffix('?') {
                Some(code) => (code.to_owned(), false),
                None => (x.to_owned(), true),
            })
            .collect::<Vec<_>>()
    };
    Item {
        code: s.code.into(),
        name: s.name.into(),
        department: s.dept.into(),
        stage: s.stage,
        statutory_limit: WorkingTime::from_days(s.limits.0),
        committed_limit: WorkingTime::from_days(s.limits.1),
        materials: split(s.materials)
            .into_iter()
            .map(|(material, key)| ItemMaterial { material, key })
            .collect(),
        fields: split(s.fields)
            .into_iter()
            .map(|(field, required)| ItemField { field, required })
            .collect(),
        commitment_allowed: s.commitment,
        categories: categories(s.categories),
        joint_inspection: s.stage == Stage::Completion,
        certificate: s.certificate.map(str::to_owned),
    }
}

macro_rules! items {
    ($( $code:literal, $name:literal, $dept:literal, $stage:ident, ($st:literal, $cm:literal), $mat:literal, $fields:literal, $commit:literal, $cats:literal, $cert:expr; )*) => {
        vec![$( build(Spec {
            code: $code, name: $name, dept: $dept, stage: Stage::$stage,
            limits: ($st, $cm), materials: $mat, fields: $fields,
            commitment: $commit, categories: $cats, certificate: $cert,
        }) ),*]
    };
}

/// Certificate type of the 建筑工程施工许可证 at the document service.
pub const PERMIT_CERTIFICATE: &str = "construction_permit";

/// The seed catalog.
pub fn catalog() -> Catalog {
    let departments = [
        ("development_reform", "发展和改革委员会"),
        ("natural_resources", "自然资源和规划局"),
        ("housing", "住房和城乡建设局"),
        ("fire_review", "建设工程消防审验中心"),
        ("civil_air_defence", "人民防空办公室"),
        ("ecology", "生态环境局"),
        ("water", "水务局"),
        ("urban_management", "城市管理局"),
        ("transport", "交通运输局"),
        ("meteorology", "气象局"),
        ("heritage", "文物局"),
        ("archives", "城建档案馆"),
        ("quality_supervision", "建设工程质量安全监督站"),
    ]
    .into_iter()
    .map(|(code, name)| Department {
        code: code.into(),
        name: name.into(),
    })
    .collect();
    let fields = vec![
        FieldDef {
            key: "project_name".into(),
            label: "项目名称".into(),
            kind: text(200),
        },
        FieldDef {
            key: "construction_site".into(),
            label: "建设地点".into(),
            kind: text(200),
        },
        FieldDef {
            key: "contact_person".into(),
            label: "联系人".into(),
            kind: text(50),
        },
        FieldDef {
            key: "contact_phone".into(),
            label: "联系电话".into(),
            kind: text(20),
        },
        FieldDef {
            key: "floor_area_m2".into(),
            label: "总建筑面积（平方米）".into(),
            kind: num(1.0, 10_000_000.0),
        },
        FieldDef {
            key: "building_height_m".into(),
            label: "建筑高度（米）".into(),
            kind: num(0.5, 1000.0),
        },
        FieldDef {
            key: "total_investment_wan".into(),
            label: "总投资（万元）".into(),
            kind: num(1.0, 100_000_000.0),
        },
        FieldDef {
            key: "land_contract_no".into(),
            label: "土地出让合同编号".into(),
            kind: text(64),
        },
        FieldDef {
            key: "design_unit".into(),
            label: "设计单位".into(),
            kind: text(200),
        },
        FieldDef {
            key: "construction_unit".into(),
            label: "施工单位".into(),
            kind: text(200),
        },
        FieldDef {
            key: "supervision_unit".into(),
            label: "监理单位".into(),
            kind: text(200),
        },
        FieldDef {
            key: "contract_amount_wan".into(),
            label: "合同价格（万元）".into(),
            kind: num(0.01, 100_000_000.0),
        },
        FieldDef {
            key: "planned_start".into(),
            label: "计划开工日期".into(),
            kind: FieldKind::Date,
        },
        FieldDef {
            key: "planned_completion".into(),
            label: "计划竣工日期".into(),
            kind: FieldKind::Date,
        },
        FieldDef {
            key: "has_basement".into(),
            label: "是否有地下室".into(),
            kind: FieldKind::Boolean,
        },
        FieldDef {
            key: "fire_class".into(),
            label: "建筑消防分类".into(),
            kind: FieldKind::Choice {
                options: vec![
                    "单层".into(),
                    "多层".into(),
                    "二类高层".into(),
                    "一类高层".into(),
                ],
            },
        },
        FieldDef {
            key: "completion_date".into(),
            label: "竣工日期".into(),
            kind: FieldKind::Date,
        },
    ];
    let materials = [
        ("project_proposal", "项目建议书"),
        ("feasibility_study", "可行性研究报告"),
        ("filing_form", "企业投资项目备案表"),
        ("site_plan", "总平面图"),
        ("land_document", "土地出让合同或划拨决定书"),
        ("eia_report", "环境影响报告表"),
        ("energy_report", "节能报告"),
        ("soil_water_plan", "水土保持方案"),
        ("heritage_report", "考古调查勘探报告"),
        ("flood_report", "洪水影响评价报告"),
        ("design_scheme", "设计方案文本"),
        ("preliminary_design", "初步设计文件"),
        ("connection_plan", "市政接入方案"),
        ("occupation_plan", "占道挖掘施工方案"),
        ("greenery_plan", "绿地占用及恢复方案"),
        ("lightning_design", "防雷装置设计文件"),
        ("traffic_report", "交通影响评价报告"),
        ("drawings", "施工图设计文件"),
        ("fire_design", "消防设计文件"),
        ("civil_defence_design", "人防工程设计文件"),
        ("safety_measures", "保证工程质量安全的具体措施"),
        ("bid_notice", "中标通知书"),
        ("construction_contract", "施工合同"),
        ("noise_plan", "夜间施工降噪方案"),
        ("legal_rep_id_card", "法定代表人身份证明"),
        ("completion_survey", "竣工测量成果报告"),
        ("fire_test_report", "消防设施检测报告"),
        ("civil_defence_report", "人防工程竣工资料"),
        ("archive_catalog", "建设工程档案目录"),
        ("completion_report", "工程竣工验收报告"),
        ("lightning_test_report", "防雷装置检测报告"),
        ("environment_report", "环保设施验收报告"),
    ]
    .into_iter()
    .map(|(code, name)| MaterialDef {
        code: code.into(),
        name: name.into(),
    })
    .collect();
    let items = items![
        "project_approval", "政府投资项目审批（可行性研究报告）", "development_reform", LandPlanning, (20, 10),
            "project_proposal, feasibility_study, site_plan?", "project_name, construction_site, total_investment_wan", false, "G", None;
        "project_filing", "企业投资项目备案", "development_reform", LandPlanning, (5, 1),
            "filing_form, legal_rep_id_card?", "project_name, construction_site, total_investment_wan, contact_person, contact_phone", false, "SL", None;
        "land_pre_review", "建设项目用地预审与选址意见书", "natural_resources", LandPlanning, (20, 7),
            "site_plan, feasibility_study?", "project_name, construction_site", false, "GS", None;
        "land_planning_permit", "建设用地规划许可证", "natural_resources", LandPlanning, (20, 5),
            "site_plan, land_document?", "project_name, construction_site, land_contract_no?", false, "GSL", None;
        "eia_approval", "环境影响评价审批", "ecology", LandPlanning, (30, 10),
            "eia_report", "project_name, construction_site", true, "GS", None;
        "energy_review", "固定资产投资项目节能审查", "development_reform", LandPlanning, (20, 5),
            "energy_report", "project_name, total_investment_wan", true, "GS", None;
        "soil_water_plan", "生产建设项目水土保持方案审批", "water", LandPlanning, (20, 5),
            "soil_water_plan", "project_name, construction_site", true, "GS", None;
        "heritage_survey", "建设工程文物保护和考古许可", "heritage", LandPlanning, (20, 10),
            "heritage_report", "project_name, construction_site", false, "GS", None;
        "flood_impact", "洪水影响评价审批", "water", LandPlanning, (20, 10),
            "flood_report", "project_name, construction_site", false, "G", None;
        "engineering_planning_permit", "建设工程规划许可证", "natural_resources", EngineeringPermit, (20, 5),
            "design_scheme, site_plan?", "project_name, floor_area_m2, building_height_m", false, "GSL", None;
        "preliminary_design_review", "初步设计审查", "housing", EngineeringPermit, (20, 10),
            "preliminary_design", "project_name, design_unit, total_investment_wan", false, "G", None;
        "design_scheme_review", "建设工程设计方案审查", "natural_resources", EngineeringPermit, (20, 7),
            "design_scheme", "project_name, design_unit, floor_area_m2", false, "GS", None;
        "municipal_connection", "市政设施建设类审批（给排水接入）", "water", EngineeringPermit, (20, 3),
            "connection_plan", "project_name, construction_site", true, "GSL", None;
        "road_occupation", "占用、挖掘城市道路审批", "urban_management", EngineeringPermit, (20, 3),
            "occupation_plan, site_plan?", "project_name, construction_site", true, "GSL", None;
        "greenery_occupation", "临时占用城市绿地审批", "urban_management", EngineeringPermit, (20, 3),
            "greenery_plan", "project_name, construction_site", false, "GS", None;
        "lightning_design_review", "防雷装置设计审核", "meteorology", EngineeringPermit, (20, 5),
            "lightning_design", "project_name, building_height_m", true, "GS", None;
        "traffic_impact", "建设项目交通影响评价审查", "transport", EngineeringPermit, (20, 7),
            "traffic_report", "project_name, floor_area_m2", false, "GS", None;
        "drawing_review", "施工图设计文件审查", "housing", ConstructionPermit, (20, 5),
            "drawings, safety_measures?", "project_name, design_unit, floor_area_m2", false, "GSL", None;
        "fire_design_review", "特殊建设工程消防设计审查", "fire_review", ConstructionPermit, (15, 5),
            "fire_design", "project_name, fire_class, has_basement", false, "GSL", None;
        "civil_defence_review", "人防工程设计审查", "civil_air_defence", ConstructionPermit, (20, 5),
            "civil_defence_design", "project_name, has_basement", true, "GS", None;
        "quality_safety_supervision", "工程质量安全监督手续", "quality_supervision", ConstructionPermit, (5, 1),
            "safety_measures, construction_contract?", "project_name, construction_unit, supervision_unit?", true, "GSL", None;
        "bidding_filing", "招标投标情况书面报告备案", "housing", ConstructionPermit, (5, 2),
            "bid_notice", "project_name, construction_unit", false, "GS", None;
        "contract_filing", "建设工程施工合同备案", "housing", ConstructionPermit, (5, 1),
            "construction_contract", "project_name, construction_unit, contract_amount_wan", true, "GS", None;
        "night_construction", "夜间施工许可", "urban_management", ConstructionPermit, (5, 1),
            "noise_plan", "project_name, construction_unit", false, "GS", None;
        "construction_permit", "建筑工程施工许可证核发", "housing", ConstructionPermit, (7, 1),
            "construction_contract, safety_measures, legal_rep_id_card?", "project_name, construction_site, construction_unit, supervision_unit?, contract_amount_wan, planned_start, planned_completion", false, "GSL", Some(PERMIT_CERTIFICATE);
        "planning_acceptance", "建设工程规划条件核实", "natural_resources", Completion, (20, 5),
            "completion_survey", "project_name, completion_date", false, "GSL", None;
        "fire_acceptance", "特殊建设工程消防验收", "fire_review", Completion, (15, 5),
            "fire_test_report", "project_name, fire_class, completion_date", false, "GSL", None;
        "civil_defence_acceptance", "人防工程竣工验收备案", "civil_air_defence", Completion, (15, 5),
            "civil_defence_report", "project_name, completion_date", false, "GS", None;
        "archives_acceptance", "建设工程档案验收", "archives", Completion, (10, 3),
            "archive_catalog", "project_name, completion_date", false, "GSL", None;
        "quality_acceptance", "工程竣工验收备案（质量监督）", "quality_supervision", Completion, (15, 5),
            "completion_report", "project_name, construction_unit, completion_date", false, "GSL", None;
        "lightning_acceptance", "防雷装置竣工验收", "meteorology", Completion, (10, 5),
            "lightning_test_report", "project_name, completion_date", false, "GS", None;
        "environment_acceptance", "建设项目环保设施竣工验收备案", "ecology", Completion, (10, 5),
            "environment_report", "project_name, completion_date", false, "GS", None;
    ];
    Catalog {
        version: 1,
        departments,
        fields,
        materials,
        items,
    }
}

/// A form that satisfies every field of every stage, for demos and tests.
pub fn sample_form() -> Value {
    json!({
        "project_name": "福州一站科创园配套仓储用房",
        "construction_site": "福州市闽侯县上街镇科技东路 8 号",
        "contact_person": "李四",
        "contact_phone": "13800138000",
        "floor_area_m2": 2400,
        "building_height_m": 12.5,
        "total_investment_wan": 1800,
        "land_contract_no": "闽侯出让〔2026〕18号",
        "design_unit": "福建一站建筑设计院有限公司",
        "construction_unit": "福建一站建工集团有限公司",
        "supervision_unit": "福建一站工程监理有限公司",
        "contract_amount_wan": 1500,
        "planned_start": "2026-12-01",
        "planned_completion": "2027-10-31",
        "has_basement": false,
        "fire_class": "多层",
        "completion_date": "2027-10-20",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_is_consistent_and_large_enough() {
        let c = catalog();
        assert_eq!(c.problems(), Vec::<String>::new());
        assert!(c.items.len() >= 30, "{} items", c.items.len());
        for stage in Stage::ALL {
            assert!(c.items.iter().filter(|i| i.stage == stage).count() >= 5);
        }
        let mut codes: Vec<&str> = c.items.iter().map(|i| i.code.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        assert_eq!(codes.len(), c.items.len(), "item codes are unique");
        // The small low-risk whole process fits its 24-day budget even if
        // every stage used its longest committed limit.
        let worst: i64 = Stage::ALL
            .iter()
            .map(|s| {
                c.items_for(*s, Category::SmallLowRisk)
                    .iter()
                    .map(|i| i.committed_limit.half_days())
                    .max()
                    .unwrap_or(0)
            })
            .sum();
        assert!(worst <= 48, "{worst} half days");
    }
}
