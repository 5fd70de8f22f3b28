//! 联合验收 — one joint completion inspection: the departments invited to
//! one slot, each recording pass or fail with the points that failed. The
//! inspection concludes when every invited department has recorded; it
//! passes when all passed, otherwise the failed points form one
//! rectification list (整改清单) and, once the builder reports it done, a
//! re-inspection invites the departments that have not passed yet.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// 验收状态.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InspectionStatus {
    /// 已排期: waiting for the departments' results.
    Scheduled,
    /// 验收通过.
    Passed,
    /// 验收未通过: rectification owed.
    Failed,
    /// 已整改: the builder reported the rectification; re-inspection due.
    Rectified,
}

impl InspectionStatus {
    /// Every status.
    pub const ALL: [Self; 4] = [Self::Scheduled, Self::Passed, Self::Failed, Self::Rectified];

    /// Wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Scheduled => "scheduled",
            Self::Passed => "passed",
            Self::Failed => "failed",
            Self::Rectified => "rectified",
        }
    }

    /// zh-CN name.
    pub const fn zh_name(self) -> &'static str {
        match self {
            Self::Scheduled => "已排期",
            Self::Passed => "验收通过",
            Self::Failed => "验收未通过（待整改）",
            Self::Rectified => "已整改（待复验）",
        }
    }

    /// The status for a stored name.
    pub fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// One department's recorded result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DepartmentResult {
    /// Department code.
    pub department_code: String,
    /// Whether its items passed.
    pub passed: bool,
    /// 验收意见书编号 when passed.
    pub record_number: Option<String>,
    /// Failed points (整改事项) when failed.
    pub points: Vec<String>,
    /// Recording reviewer.
    pub recorded_by: String,
}

/// One entry of the rectification list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RectificationItem {
    /// The department that found it.
    pub department_code: String,
    /// What to fix.
    pub point: String,
}

/// The inspection's outcome once `results` are in for `invited`.
pub fn conclude(invited: &[String], results: &[DepartmentResult]) -> Option<InspectionStatus> {
    let all_in = invited
        .iter()
        .all(|d| results.iter().any(|r| &r.department_code == d));
    if !all_in {
        return None;
    }
    Some(if results.iter().all(|r| r.passed) {
        InspectionStatus::Passed
    } else {
        InspectionStatus::Failed
    })
}

/// Every failed point, department by department.
pub fn rectification_list(results: &[DepartmentResult]) -> Vec<RectificationItem> {
    results
        .iter()
        .filter(|r| !r.passed)
        .flat_map(|r| {
            r.points.iter().map(|p| RectificationItem {
                department_code: r.department_code.clone(),
                point: p.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(dept: &str, passed: bool) -> DepartmentResult {
        DepartmentResult {
            department_code: dept.into(),
            passed,
            record_number: passed.then(|| "YS-1".into()),
            points: if passed {
                vec![]
            } else {
                vec!["疏散指示标志缺失".into()]
            },
            recorded_by: "r".into(),
        }
    }

    #[test]
    fn concludes_only_when_everyone_recorded() {
        let invited = vec!["fire_review".to_owned(), "archives".to_owned()];
        assert_eq!(conclude(&invited, &[result("archives", true)]), None);
        let results = [result("archives", true), result("fire_review", false)];
        assert_eq!(conclude(&invited, &results), Some(InspectionStatus::Failed));
        assert_eq!(rectification_list(&results).len(), 1);
        let results = [result("archives", true), result("fire_review", true)];
        assert_eq!(conclude(&invited, &results), Some(InspectionStatus::Passed));
    }
}
