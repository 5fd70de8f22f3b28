//! Which subscriptions an event goes to: its type is among the
//! subscription's types (or the subscription takes `*`), and every filter the
//! subscription sets is met by a field of the payload.
//!
//! A filter is a restriction: an event that carries no department (or no
//! enterprise) field does not match a subscription filtering on one, so a
//! partner that asked for one enterprise's events never receives events
//! that do not say whose they are.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Payload fields that name an enterprise (统一社会信用代码), across contracts.
pub const ENTERPRISE_FIELDS: [&str; 4] = [
    "enterprise_uscc",
    "holder_uscc",
    "applicant_uscc",
    "recipient_uscc",
];

/// Payload fields that name a department code, across contracts.
pub const DEPARTMENT_FIELDS: [&str; 3] = ["department_code", "dept_code", "dept"];

/// The wildcard event type.
pub const ANY_TYPE: &str = "*";

/// Optional restrictions of a subscription.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    /// Only events whose payload names this department code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department_code: Option<String>,
    /// Only events whose payload names this enterprise (统一社会信用代码).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_uscc: Option<String>,
}

/// What one subscription wants.
#[derive(Debug, Clone)]
pub struct Criteria<'a> {
    /// `ce_type`s, or `*`.
    pub event_types: &'a [String],
    /// Filters.
    pub filters: &'a Filters,
}

impl Criteria<'_> {
    /// Whether an event of `event_type` with payload `data` matches.
    pub fn matches(&self, event_type: &str, data: &serde_json::Value) -> bool {
        let type_ok = self
            .event_types
            .iter()
            .any(|t| t == ANY_TYPE || t == event_type);
        type_ok
            && field_matches(data, &DEPARTMENT_FIELDS, &self.filters.department_code)
            && field_matches(data, &ENTERPRISE_FIELDS, &self.filters.enterprise_uscc)
    }
}

fn field_matches(data: &serde_json::Value, fields: &[&str], wanted: &Option<String>) -> bool {
    let Some(wanted) = wanted else {
        return true;
    };
    fields
        .iter()
        .filter_map(|f| data.get(f).and_then(|v| v.as_str()))
        .any(|v| v == wanted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn types_and_wildcard() {
        let types = vec!["cn.yizhan.document.material_uploaded.v1".to_owned()];
        let none = Filters::default();
        let c = Criteria {
            event_types: &types,
            filters: &none,
        };
        assert!(c.matches("cn.yizhan.document.material_uploaded.v1", &json!({})));
        assert!(!c.matches("cn.yizhan.document.certificate_issued.v1", &json!({})));
        let any = vec!["*".to_owned()];
        let c = Criteria {
            event_types: &any,
            filters: &none,
        };
        assert!(c.matches("cn.yizhan.anything.v1", &json!(null)));
    }

    #[test]
    fn filters_need_a_matching_field_in_the_payload() {
        let any = vec!["*".to_owned()];
        let f = Filters {
            department_code: None,
            enterprise_uscc: Some("91350100M000100Y43".into()),
        };
        let c = Criteria {
            event_types: &any,
            filters: &f,
        };
        assert!(c.matches("t", &json!({"enterprise_uscc": "91350100M000100Y43"})));
        assert!(c.matches("t", &json!({"holder_uscc": "91350100M000100Y43"})));
        assert!(!c.matches("t", &json!({"enterprise_uscc": "91110000600037341L"})));
        assert!(
            !c.matches("t", &json!({"material_id": "m"})),
            "no field, no match"
        );

        let f = Filters {
            department_code: Some("market_supervision".into()),
            enterprise_uscc: Some("91350100M000100Y43".into()),
        };
        let c = Criteria {
            event_types: &any,
            filters: &f,
        };
        assert!(c.matches(
            "t",
            &json!({"department_code": "market_supervision", "applicant_uscc": "91350100M000100Y43"})
        ));
        assert!(!c.matches("t", &json!({"department_code": "market_supervision"})));
    }
}
