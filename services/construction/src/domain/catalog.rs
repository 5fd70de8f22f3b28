//! 工程建设项目审批事项目录 — the construction catalog: departments, the
//! four stages, project categories, and the items (事项) each stage holds.
//!
//! Like the licensing catalog, fields and materials are defined once and
//! items refer to them by key, so a stage's merged form (分阶段一件事，一表
//! 申请) asks each thing once. A catalog is immutable and versioned; stage
//! applications keep the version they were made on.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yizhan_approval::WorkingTime;
pub use yizhan_workflow::form::{
    Department, FieldDef, FieldKind, ItemField, ItemMaterial, MaterialDef,
};

/// 审批阶段 — the four stages of a construction project, in order.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 立项用地规划许可.
    LandPlanning,
    /// 工程建设许可.
    EngineeringPermit,
    /// 施工许可.
    ConstructionPermit,
    /// 竣工验收.
    Completion,
}

impl Stage {
    /// Every stage, in order.
    pub const ALL: [Self; 4] = [
        Self::LandPlanning,
        Self::EngineeringPermit,
        Self::ConstructionPermit,
        Self::Completion,
    ];

    /// Wire name, as stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::LandPlanning => "land_planning",
            Self::EngineeringPermit => "engineering_permit",
            Self::ConstructionPermit => "construction_permit",
            Self::Completion => "completion",
        }
    }

    /// zh-CN name (the event contract's, so partners read the same).
    pub fn zh_name(self) -> &'static str {
        yizhan_events::contracts::stage_name(self.as_str()).unwrap_or("工程建设项目审批阶段")
    }

    /// Position, 1 to 4.
    pub const fn number(self) -> u8 {
        match self {
            Self::LandPlanning => 1,
            Self::EngineeringPermit => 2,
            Self::ConstructionPermit => 3,
            Self::Completion => 4,
        }
    }

    /// The stage before, if any.
    pub const fn previous(self) -> Option<Self> {
        match self {
            Self::LandPlanning => None,
            Self::EngineeringPermit => Some(Self::LandPlanning),
            Self::ConstructionPermit => Some(Self::EngineeringPermit),
            Self::Completion => Some(Self::ConstructionPermit),
        }
    }

    /// The stage after, if any.
    pub const fn next(self) -> Option<Self> {
        match self {
            Self::LandPlanning => Some(Self::EngineeringPermit),
            Self::EngineeringPermit => Some(Self::ConstructionPermit),
            Self::ConstructionPermit => Some(Self::Completion),
            Self::Completion => None,
        }
    }

    /// Whether items of this stage may be pre-reviewed before the land is
    /// granted (拿地即开工): the permits that follow land acquisition.
    pub const fn allows_pre_review(self) -> bool {
        matches!(self, Self::EngineeringPermit | Self::ConstructionPermit)
    }

    /// The stage for a stored name.
    pub fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// 项目分类 — selects the whole-process budget and which items apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// 政府投资项目.
    GovernmentInvestment,
    /// 社会投资项目.
    SocialInvestment,
    /// 社会投资小型低风险项目.
    SmallLowRisk,
}

impl Category {
    /// Every category.
    pub const ALL: [Self; 3] = [
        Self::GovernmentInvestment,
        Self::SocialInvestment,
        Self::SmallLowRisk,
    ];

    /// Wire name, as stored.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::GovernmentInvestment => "government_investment",
            Self::SocialInvestment => "social_investment",
            Self::SmallLowRisk => "small_low_risk",
        }
    }

    /// zh-CN name.
    pub const fn zh_name(self) -> &'static str {
        match self {
            Self::GovernmentInvestment => "政府投资项目",
            Self::SocialInvestment => "社会投资项目",
            Self::SmallLowRisk => "社会投资小型低风险项目",
        }
    }

    /// The category for a stored name.
    pub fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// 事项 — one approval of one stage, decided by one department.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Item {
    /// 事项编码.
    pub code: String,
    /// 事项名称.
    pub name: String,
    /// Deciding department's code.
    pub department: String,
    /// The stage it belongs to.
    pub stage: Stage,
    /// 法定时限, working days.
    #[schema(value_type = f64)]
    pub statutory_limit: WorkingTime,
    /// 承诺时限, working days.
    #[schema(value_type = f64)]
    pub committed_limit: WorkingTime,
    /// Materials it needs.
    pub materials: Vec<ItemMaterial>,
    /// Form fields it needs.
    pub fields: Vec<ItemField>,
    /// 告知承诺制: may be approved at once on the applicant's commitment.
    pub commitment_allowed: bool,
    /// The categories it applies to.
    pub categories: Vec<Category>,
    /// Decided in the joint completion inspection (联合验收) rather than
    /// alone.
    #[serde(default)]
    pub joint_inspection: bool,
    /// Certificate type the document service issues once the stage
    /// completes (e.g. `construction_permit`).
    #[serde(default)]
    pub certificate: Option<String>,
}

/// 事项目录 — one version of the construction catalog.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Catalog {
    /// Version, from 1.
    pub version: i32,
    /// 部门.
    pub departments: Vec<Department>,
    /// Every form field any item asks for.
    pub fields: Vec<FieldDef>,
    /// Every material any item asks for.
    pub materials: Vec<MaterialDef>,
    /// 事项.
    pub items: Vec<Item>,
}

impl Catalog {
    /// An item by code.
    pub fn item(&self, code: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.code == code)
    }

    /// A department by code.
    pub fn department(&self, code: &str) -> Option<&Department> {
        self.departments.iter().find(|d| d.code == code)
    }

    /// A department's name, or its code when unknown.
    pub fn department_name(&self, code: &str) -> String {
        self.department(code)
            .map_or_else(|| code.to_owned(), |d| d.name.clone())
    }

    /// A field by key.
    pub fn field(&self, key: &str) -> Option<&FieldDef> {
        self.fields.iter().find(|f| f.key == key)
    }

    /// A material by code.
    pub fn material(&self, code: &str) -> Option<&MaterialDef> {
        self.materials.iter().find(|m| m.code == code)
    }

    /// The items of `stage` that apply to `category`, in catalog order.
    pub fn items_for(&self, stage: Stage, category: Category) -> Vec<&Item> {
        self.items
            .iter()
            .filter(|i| i.stage == stage && i.categories.contains(&category))
            .collect()
    }

    /// Every dangling reference, unknown material type and impossible
    /// limit, as zh-CN sentences; a catalog is only stored, or used at
    /// start, when this is empty.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        // One material vocabulary: every material a catalog asks for is a
        // type the document service stores materials under.
        for m in &self.materials {
            if !yizhan_types::material_type::catalog_may_use(&m.code) {
                out.push(format!(
                    "材料编码 {} 不是材料服务的材料类型（见材料服务 GET /api/v1/material-types）",
                    m.code
                ));
            }
        }
        for item in &self.items {
            if self.department(&item.department).is_none() {
                out.push(format!(
                    "事项 {} 的部门 {} 不存在",
                    item.code, item.department
                ));
            }
            if yizhan_approval::Limits::new(item.statutory_limit, item.committed_limit).is_err() {
                out.push(format!("事项 {} 的承诺时限超过法定时限", item.code));
            }
            if item.categories.is_empty() {
                out.push(format!("事项 {} 未适用任何项目分类", item.code));
            }
            if item.joint_inspection && item.stage != Stage::Completion {
                out.push(format!("事项 {} 不在竣工验收阶段，不能联合验收", item.code));
            }
            for f in &item.fields {
                if self.field(&f.field).is_none() {
                    out.push(format!("事项 {} 的字段 {} 不存在", item.code, f.field));
                }
            }
            for m in &item.materials {
                if self.material(&m.material).is_none() {
                    out.push(format!("事项 {} 的材料 {} 不存在", item.code, m.material));
                }
            }
        }
        for stage in Stage::ALL {
            for category in Category::ALL {
                if self.items_for(stage, category).is_empty() {
                    out.push(format!(
                        "{}在{}阶段没有事项",
                        category.zh_name(),
                        stage.zh_name()
                    ));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_run_in_order() {
        let mut s = Stage::LandPlanning;
        let mut seen = vec![s];
        while let Some(n) = s.next() {
            assert_eq!(n.previous(), Some(s));
            seen.push(n);
            s = n;
        }
        assert_eq!(seen, Stage::ALL);
        for s in Stage::ALL {
            assert_eq!(Stage::from_wire(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for c in Category::ALL {
            assert_eq!(Category::from_wire(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
    }
}
