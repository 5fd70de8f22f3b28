//! 派单规则 — which department a 诉求 of each category goes to, and how
//! many working days it has to answer; and the order of a department's
//! queue.
//!
//! Admins edit the rules; a rule set is accepted only whole (every category
//! routed, every limit in range), so a request can never be filed into a
//! category nobody owns.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use yizhan_approval::SlaState;
use yizhan_types::DepartmentCode;

use super::requests::Category;

/// Shortest answer limit an admin may set, working days.
pub const MIN_LIMIT_DAYS: i32 = 1;
/// Longest answer limit an admin may set, working days.
pub const MAX_LIMIT_DAYS: i32 = 60;

/// Where one category goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Responsible department.
    pub department: DepartmentCode,
    /// Working days to answer, from acceptance.
    pub answer_limit_days: i32,
}

/// A complete, checked rule set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchRules {
    routes: BTreeMap<Category, Route>,
}

/// A rule set that cannot be used: which field and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchError {
    /// Field path, e.g. `routes.finance.answer_limit_days`.
    pub field: String,
    /// What is wrong, in Chinese.
    pub message: String,
}

impl DispatchRules {
    /// Checks `routes` (category code → department code and limit): every
    /// category present, known categories only, valid department codes,
    /// limits in [`MIN_LIMIT_DAYS`]..=[`MAX_LIMIT_DAYS`].
    pub fn new(routes: &BTreeMap<String, (String, i32)>) -> Result<Self, DispatchError> {
        let error = |field: String, message: String| DispatchError { field, message };
        let mut checked = BTreeMap::new();
        for (code, (department, days)) in routes {
            let category = Category::from_code(code).ok_or_else(|| {
                error(format!("routes.{code}"), format!("未知的诉求类别“{code}”"))
            })?;
            let department: DepartmentCode = department.parse().map_err(|_| {
                error(
                    format!("routes.{code}.department"),
                    format!("“{department}”不是有效的部门编码"),
                )
            })?;
            if !(MIN_LIMIT_DAYS..=MAX_LIMIT_DAYS).contains(days) {
                return Err(error(
                    format!("routes.{code}.answer_limit_days"),
                    format!("答复时限应为 {MIN_LIMIT_DAYS}-{MAX_LIMIT_DAYS} 个工作日"),
                ));
            }
            checked.insert(
                category,
                Route {
                    department,
                    answer_limit_days: *days,
                },
            );
        }
        if let Some(missing) = Category::ALL.iter().find(|c| !checked.contains_key(c)) {
            return Err(error(
                format!("routes.{}", missing.code()),
                format!("类别“{}”未指定承办部门", missing.name()),
            ));
        }
        Ok(Self { routes: checked })
    }

    /// Where a request of `category` goes.
    pub fn route(&self, category: Category) -> &Route {
        // `new` refuses a rule set missing a category.
        &self.routes[&category]
    }
}

/// What a queue needs to know of one open request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueEntry<Id> {
    /// The request.
    pub id: Id,
    /// State of the clock that runs now (签收 or 答复).
    pub sla: SlaState,
    /// When that clock runs out, if it runs.
    pub due: Option<NaiveDateTime>,
    /// When it was filed.
    pub filed_at: NaiveDateTime,
}

/// Orders a department's queue by urgency: overdue, then warning, then on
/// time, then paused (waiting on the enterprise); within each, the earliest
/// due first, then the oldest filing. Stable, so equal entries keep their
/// order between refreshes.
pub fn by_urgency<Id>(queue: &mut [QueueEntry<Id>]) {
    let rank = |s: SlaState| match s {
        SlaState::Overdue => 0,
        SlaState::Warning => 1,
        SlaState::OnTime => 2,
        SlaState::Paused => 3,
        SlaState::Stopped => 4,
    };
    queue.sort_by(|a, b| {
        rank(a.sla)
            .cmp(&rank(b.sla))
            .then_with(|| match (a.due, b.due) {
                (Some(x), Some(y)) => x.cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            })
            .then_with(|| a.filed_at.cmp(&b.filed_at))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_routes() -> BTreeMap<String, (String, i32)> {
        Category::ALL
            .iter()
            .map(|c| (c.code().to_owned(), ("commerce".to_owned(), 5)))
            .collect()
    }

    #[test]
    fn a_rule_set_routes_every_category_or_is_refused() {
        let mut routes = all_routes();
        routes.insert("finance".into(), ("finance_bureau".into(), 10));
        let rules = DispatchRules::new(&routes).unwrap();
        assert_eq!(
            rules.route(Category::Finance).department.as_str(),
            "finance_bureau"
        );
        assert_eq!(rules.route(Category::Legal).answer_limit_days, 5);

        routes.remove("legal");
        let err = DispatchRules::new(&routes).unwrap_err();
        assert_eq!(err.field, "routes.legal");
        assert_eq!(err.message, "类别“法律服务”未指定承办部门");

        let mut routes = all_routes();
        routes.insert("tax".into(), ("tax".into(), 5));
        assert_eq!(DispatchRules::new(&routes).unwrap_err().field, "routes.tax");
        let mut routes = all_routes();
        routes.insert("talent".into(), ("Talent Office".into(), 5));
        assert_eq!(
            DispatchRules::new(&routes).unwrap_err().field,
            "routes.talent.department"
        );
        let mut routes = all_routes();
        routes.insert("talent".into(), ("hr".into(), 61));
        assert_eq!(
            DispatchRules::new(&routes).unwrap_err().field,
            "routes.talent.answer_limit_days"
        );
    }

    #[test]
    fn the_queue_puts_the_most_urgent_first() {
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        let entry = |id, sla, due: Option<&str>, filed: &str| QueueEntry {
            id,
            sla,
            due: due.map(at),
            filed_at: at(filed),
        };
        let mut queue = vec![
            entry(
                1,
                SlaState::Paused,
                Some("2026-12-01 17:30"),
                "2026-11-20 09:00",
            ),
            entry(
                2,
                SlaState::OnTime,
                Some("2026-12-10 17:30"),
                "2026-12-01 09:00",
            ),
            entry(
                3,
                SlaState::Overdue,
                Some("2026-12-02 17:30"),
                "2026-11-25 09:00",
            ),
            entry(
                4,
                SlaState::OnTime,
                Some("2026-12-08 17:30"),
                "2026-12-02 09:00",
            ),
            entry(
                5,
                SlaState::Warning,
                Some("2026-12-04 12:00"),
                "2026-11-28 09:00",
            ),
            entry(
                6,
                SlaState::Overdue,
                Some("2026-12-01 17:30"),
                "2026-11-26 09:00",
            ),
            entry(
                7,
                SlaState::OnTime,
                Some("2026-12-08 17:30"),
                "2026-12-01 15:00",
            ),
        ];
        by_urgency(&mut queue);
        let order: Vec<i32> = queue.iter().map(|e| e.id).collect();
        assert_eq!(order, [6, 3, 5, 7, 4, 2, 1]);
    }
}
