//! The catalog seeded into an empty database (version 1): eight departments,
//! thirteen items and six scenarios of 一业一证 as a city centre publishes
//! them. Limits are working days; the hotel's six permits are committed in
//! 5.5 working days against over 100 statutory.
//!
//! Data, written as code so a typo in a reference fails the unit test of
//! `Catalog::problems` instead of a start.

use serde_json::{Value, json};
use yizhan_approval::WorkingTime;

use crate::domain::catalog::{
    Catalog, Condition, Department, FieldDef, FieldKind, Item, ItemField, ItemMaterial,
    MaterialDef, Question, QuestionKind, Scenario, ScenarioItem,
};

fn dept(code: &str, name: &str) -> Department {
    Department {
        code: code.into(),
        name: name.into(),
    }
}

fn field(key: &str, label: &str, kind: FieldKind) -> FieldDef {
    FieldDef {
        key: key.into(),
        label: label.into(),
        kind,
    }
}

fn text(max_len: usize) -> FieldKind {
    FieldKind::Text { max_len }
}

fn int(min: i64, max: i64) -> FieldKind {
    FieldKind::Integer { min, max }
}

fn num(min: f64, max: f64) -> FieldKind {
    FieldKind::Number { min, max }
}

fn material(code: &str, name: &str) -> MaterialDef {
    MaterialDef {
        code: code.into(),
        name: name.into(),
    }
}

/// `half_days` as a limit: 11 = 5.5 working days.
fn limit(half_days: i64) -> WorkingTime {
    WorkingTime::from_half_days(half_days)
}

/// An item; fields ending in `?` are optional, materials ending in `?` non-key.
fn item(
    code: &str,
    name: &str,
    department: &str,
    statutory_days: i32,
    committed_half_days: i64,
    fields: &[&str],
    materials: &[&str],
) -> Item {
    Item {
        code: code.into(),
        name: name.into(),
        department: department.into(),
        statutory_limit: WorkingTime::from_days(statutory_days),
        committed_limit: limit(committed_half_days),
        fields: fields
            .iter()
            .map(|f| ItemField {
                field: f.trim_end_matches('?').into(),
                required: !f.ends_with('?'),
            })
            .collect(),
        materials: materials
            .iter()
            .map(|m| ItemMaterial {
                material: m.trim_end_matches('?').into(),
                key: !m.ends_with('?'),
            })
            .collect(),
    }
}

fn yes_no(key: &str, label: &str) -> Question {
    Question {
        key: key.into(),
        label: label.into(),
        kind: QuestionKind::Boolean,
    }
}

fn area_question() -> Question {
    Question {
        key: "floor_area_m2".into(),
        label: "经营场所建筑面积（平方米）".into(),
        kind: QuestionKind::Number {
            min: 1.0,
            max: 1_000_000.0,
        },
    }
}

fn always(item: &str) -> ScenarioItem {
    ScenarioItem {
        item: item.into(),
        condition: Condition::Always,
    }
}

fn if_true(item: &str, question: &str) -> ScenarioItem {
    ScenarioItem {
        item: item.into(),
        condition: Condition::IsTrue {
            question: question.into(),
        },
    }
}

/// 公众聚集场所 of 300 m² and more need the pre-opening fire inspection;
/// smaller ones file a commitment elsewhere.
fn large_area(item: &str) -> ScenarioItem {
    ScenarioItem {
        item: item.into(),
        condition: Condition::AtLeast {
            question: "floor_area_m2".into(),
            value: 300.0,
        },
    }
}

const BASIC: [&str; 4] = [
    "enterprise_name",
    "legal_rep_name",
    "business_address",
    "contact_phone",
];

fn with_basic(extra: &[&'static str]) -> Vec<&'static str> {
    BASIC.iter().copied().chain(extra.iter().copied()).collect()
}

/// The version-1 catalog.
pub fn catalog() -> Catalog {
    let departments = vec![
        dept("market_supervision", "市场监督管理局"),
        dept("health", "卫生健康委员会"),
        dept("public_security", "公安局"),
        dept("fire_rescue", "消防救援支队"),
        dept("culture_tourism", "文化和旅游局"),
        dept("sport", "体育局"),
        dept("tobacco", "烟草专卖局"),
        dept("urban_management", "城市管理局"),
    ];
    let fields = vec![
        field("enterprise_name", "企业名称", text(100)),
        field("legal_rep_name", "法定代表人姓名", text(30)),
        field(
            "legal_rep_id_no",
            "法定代表人身份证号码",
            FieldKind::IdCardNo,
        ),
        field("contact_phone", "联系电话", FieldKind::Phone),
        field("business_address", "经营场所地址", text(200)),
        field(
            "registered_capital_wan",
            "注册资本（万元）",
            num(0.0, 10_000_000.0),
        ),
        field("business_scope", "经营范围", text(500)),
        field(
            "building_area_m2",
            "经营场所建筑面积（平方米）",
            num(1.0, 1_000_000.0),
        ),
        field("room_count", "客房数（间）", int(1, 10_000)),
        field("bed_count", "床位数（张）", int(1, 50_000)),
        field("employee_count", "从业人员数", int(1, 100_000)),
        field("food_safety_manager", "食品安全管理员", text(30)),
        field(
            "food_business_items",
            "食品经营项目",
            FieldKind::Choice {
                options: vec![
                    "预包装食品销售".into(),
                    "散装食品销售".into(),
                    "热食类食品制售".into(),
                    "冷食类食品制售".into(),
                ],
            },
        ),
        field("security_manager_name", "治安保卫负责人", text(30)),
        field(
            "security_manager_id_no",
            "治安保卫负责人身份证号码",
            FieldKind::IdCardNo,
        ),
        field("fire_safety_manager", "消防安全管理人", text(30)),
        field("opening_date", "拟开业日期", FieldKind::Date),
        field("audience_capacity", "观众容量（人）", int(1, 100_000)),
        field("pharmacist_name", "执业药师姓名", text(30)),
        field("pharmacist_cert_no", "执业药师注册证编号", text(50)),
        field(
            "drug_business_scope",
            "药品经营范围",
            FieldKind::Choice {
                options: vec![
                    "处方药、甲类非处方药、乙类非处方药".into(),
                    "乙类非处方药".into(),
                ],
            },
        ),
        field("quality_manager_name", "质量负责人", text(30)),
        field(
            "pool_area_m2",
            "游泳池水面面积（平方米）",
            num(1.0, 100_000.0),
        ),
        field("lifeguard_count", "救生员人数", int(1, 1_000)),
        field(
            "entertainment_type",
            "娱乐场所类型",
            FieldKind::Choice {
                options: vec!["歌舞娱乐场所".into(), "游艺娱乐场所".into()],
            },
        ),
        field("private_room_count", "包厢数（间）", int(0, 1_000)),
        field("sign_size_m2", "招牌面积（平方米）", num(0.1, 500.0)),
        field(
            "drainage_volume_m3_day",
            "日排水量（立方米）",
            num(0.1, 100_000.0),
        ),
    ];
    let materials = vec![
        material("legal_rep_id_card", "法定代表人身份证明"),
        material("business_premises_proof", "经营场所使用证明"),
        material("articles_of_association", "公司章程"),
        material("floor_plan", "经营场所平面布局图"),
        material("food_safety_rules", "食品安全管理制度"),
        material("health_check_report", "从业人员健康证明"),
        material("health_facility_description", "卫生设施设置情况说明"),
        material("security_rules", "治安保卫制度"),
        material("surveillance_plan", "视频监控安装说明"),
        material("fire_safety_commitment", "消防安全告知承诺书"),
        material("fire_acceptance_proof", "建设工程消防验收或备案证明"),
        material("performance_safety_plan", "演出场所安全保障方案"),
        material("pharmacist_certificate", "执业药师注册证"),
        material("drug_quality_rules", "药品质量管理制度"),
        material("medical_device_rules", "医疗器械经营质量管理制度"),
        material("lifeguard_certificates", "救生员资格证书"),
        material("pool_water_quality_report", "游泳池水质检测报告"),
        material("sign_design", "招牌设计效果图"),
        material("drainage_plan", "排水设施及排水量说明"),
    ];
    let items = vec![
        item(
            "business_licence",
            "营业执照",
            "market_supervision",
            15,
            1,
            &with_basic(&[
                "legal_rep_id_no",
                "registered_capital_wan",
                "business_scope",
            ]),
            &[
                "legal_rep_id_card",
                "business_premises_proof",
                "articles_of_association",
            ],
        ),
        item(
            "food_business_permit",
            "食品经营许可",
            "market_supervision",
            20,
            10,
            &with_basic(&[
                "food_safety_manager",
                "food_business_items",
                "building_area_m2",
            ]),
            &[
                "legal_rep_id_card",
                "business_premises_proof",
                "floor_plan",
                "food_safety_rules",
            ],
        ),
        item(
            "public_health_permit",
            "公共场所卫生许可",
            "health",
            20,
            10,
            &with_basic(&["building_area_m2", "employee_count", "bed_count?"]),
            &[
                "legal_rep_id_card",
                "health_check_report",
                "health_facility_description",
                "floor_plan?",
            ],
        ),
        item(
            "special_trade_permit_hotel",
            "特种行业许可（旅馆业）",
            "public_security",
            30,
            11,
            &with_basic(&[
                "legal_rep_id_no",
                "room_count",
                "bed_count",
                "security_manager_name",
                "security_manager_id_no",
            ]),
            &[
                "legal_rep_id_card",
                "business_premises_proof",
                "security_rules",
                "surveillance_plan?",
            ],
        ),
        item(
            "fire_safety_inspection",
            "公众聚集场所投入使用、营业前消防安全检查",
            "fire_rescue",
            10,
            10,
            &with_basic(&["building_area_m2", "fire_safety_manager", "opening_date"]),
            &[
                "fire_safety_commitment",
                "floor_plan",
                "fire_acceptance_proof?",
            ],
        ),
        item(
            "performance_venue_filing",
            "演出场所备案",
            "culture_tourism",
            20,
            6,
            &["enterprise_name", "business_address", "audience_capacity"],
            &["legal_rep_id_card", "performance_safety_plan"],
        ),
        item(
            "drug_retail_licence",
            "药品经营许可（零售）",
            "market_supervision",
            30,
            20,
            &with_basic(&[
                "pharmacist_name",
                "pharmacist_cert_no",
                "drug_business_scope",
                "building_area_m2",
            ]),
            &[
                "pharmacist_certificate",
                "drug_quality_rules",
                "floor_plan",
                "business_premises_proof",
            ],
        ),
        item(
            "medical_device_filing",
            "第二类医疗器械经营备案",
            "market_supervision",
            5,
            2,
            &[
                "enterprise_name",
                "business_address",
                "quality_manager_name",
            ],
            &["medical_device_rules"],
        ),
        item(
            "tobacco_retail_licence",
            "烟草专卖零售许可",
            "tobacco",
            20,
            10,
            &with_basic(&["legal_rep_id_no"]),
            &["legal_rep_id_card", "business_premises_proof"],
        ),
        item(
            "high_risk_sports_permit",
            "高危险性体育项目经营许可（游泳）",
            "sport",
            30,
            14,
            &with_basic(&["pool_area_m2", "lifeguard_count"]),
            &["lifeguard_certificates", "pool_water_quality_report"],
        ),
        item(
            "entertainment_venue_permit",
            "娱乐场所经营许可",
            "culture_tourism",
            20,
            10,
            &with_basic(&[
                "legal_rep_id_no",
                "entertainment_type",
                "private_room_count",
                "building_area_m2",
            ]),
            &["legal_rep_id_card", "business_premises_proof", "floor_plan"],
        ),
        item(
            "outdoor_sign_permit",
            "户外招牌设置审批",
            "urban_management",
            20,
            6,
            &["enterprise_name", "business_address", "sign_size_m2"],
            &["sign_design"],
        ),
        item(
            "drainage_permit",
            "城镇污水排入排水管网许可",
            "urban_management",
            20,
            10,
            &[
                "enterprise_name",
                "business_address",
                "drainage_volume_m3_day",
            ],
            &["drainage_plan"],
        ),
    ];
    let scenarios = vec![
        Scenario {
            code: "hotel".into(),
            name: "开办酒店（旅馆）".into(),
            licence_name: "酒店行业综合许可证".into(),
            description: "宾馆、酒店、民宿等住宿经营；提供餐饮、演出或面积较大时需办理更多事项。"
                .into(),
            questions: vec![
                yes_no("serves_food", "是否提供餐饮服务？"),
                area_question(),
                yes_no("hosts_performances", "是否举办营业性演出？"),
            ],
            items: vec![
                always("business_licence"),
                if_true("food_business_permit", "serves_food"),
                always("public_health_permit"),
                always("special_trade_permit_hotel"),
                large_area("fire_safety_inspection"),
                if_true("performance_venue_filing", "hosts_performances"),
            ],
        },
        Scenario {
            code: "convenience_store".into(),
            name: "开办便利店".into(),
            licence_name: "便利店行业综合许可证".into(),
            description: "零售便利店；销售食品、烟草或设置户外招牌时需办理相应事项。".into(),
            questions: vec![
                yes_no("sells_food", "是否销售食品？"),
                yes_no("sells_tobacco", "是否零售卷烟？"),
                yes_no("outdoor_sign", "是否设置户外招牌？"),
            ],
            items: vec![
                always("business_licence"),
                if_true("food_business_permit", "sells_food"),
                if_true("tobacco_retail_licence", "sells_tobacco"),
                if_true("outdoor_sign_permit", "outdoor_sign"),
            ],
        },
        Scenario {
            code: "restaurant".into(),
            name: "开办餐馆".into(),
            licence_name: "餐饮行业综合许可证".into(),
            description: "餐馆、小吃店等餐饮服务。".into(),
            questions: vec![
                area_question(),
                yes_no("outdoor_sign", "是否设置户外招牌？"),
            ],
            items: vec![
                always("business_licence"),
                always("food_business_permit"),
                always("drainage_permit"),
                large_area("fire_safety_inspection"),
                if_true("outdoor_sign_permit", "outdoor_sign"),
            ],
        },
        Scenario {
            code: "pharmacy".into(),
            name: "开办药店".into(),
            licence_name: "药店行业综合许可证".into(),
            description: "零售药店；兼营医疗器械或保健食品时需办理相应事项。".into(),
            questions: vec![
                yes_no("sells_medical_devices", "是否经营第二类医疗器械？"),
                yes_no("sells_health_food", "是否销售保健食品？"),
            ],
            items: vec![
                always("business_licence"),
                always("drug_retail_licence"),
                if_true("medical_device_filing", "sells_medical_devices"),
                if_true("food_business_permit", "sells_health_food"),
            ],
        },
        Scenario {
            code: "gym".into(),
            name: "开办健身房".into(),
            licence_name: "健身行业综合许可证".into(),
            description: "健身房、健身工作室；设游泳池的需办理高危险性体育项目及卫生许可。".into(),
            questions: vec![
                yes_no("has_swimming_pool", "是否设有游泳池？"),
                area_question(),
            ],
            items: vec![
                always("business_licence"),
                if_true("high_risk_sports_permit", "has_swimming_pool"),
                if_true("public_health_permit", "has_swimming_pool"),
                large_area("fire_safety_inspection"),
            ],
        },
        Scenario {
            code: "entertainment_venue".into(),
            name: "开办歌舞娱乐场所（KTV）".into(),
            licence_name: "娱乐场所行业综合许可证".into(),
            description: "歌舞厅、KTV 等娱乐场所。".into(),
            questions: vec![yes_no("sells_food", "是否提供餐饮或销售食品？")],
            items: vec![
                always("business_licence"),
                always("entertainment_venue_permit"),
                always("public_health_permit"),
                always("fire_safety_inspection"),
                if_true("food_business_permit", "sells_food"),
            ],
        },
    ];
    Catalog {
        version: 1,
        departments,
        fields,
        materials,
        items,
        scenarios,
    }
}

/// A complete, valid merged form for the full hotel (all six items), as an
/// example for the API docs and for tests.
pub fn sample_hotel_form() -> Value {
    json!({
        "enterprise_name": "福州一站酒店有限公司",
        "legal_rep_name": "张三",
        "legal_rep_id_no": "11010519491231002X",
        "contact_phone": "13800138000",
        "business_address": "福州市鼓楼区五四路 1 号",
        "registered_capital_wan": 500,
        "business_scope": "住宿服务；餐饮服务；营业性演出",
        "building_area_m2": 1200.5,
        "room_count": 80,
        "bed_count": 120,
        "employee_count": 45,
        "food_safety_manager": "李四",
        "food_business_items": "热食类食品制售",
        "security_manager_name": "王五",
        "security_manager_id_no": "11010519491231002X",
        "fire_safety_manager": "赵六",
        "opening_date": "2027-01-18",
        "audience_capacity": 300
    })
}
