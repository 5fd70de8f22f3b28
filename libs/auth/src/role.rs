//! The eight roles of the approval centre and their zh-CN names.
//!
//! Roles arrive in the token's `roles` claim as snake_case strings; everything
//! that shows a role to a person uses the `Display` name.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

/// Who the caller is in the approval process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// 申请人: a person filing for their own enterprise (scoped by `uscc`).
    Applicant,
    /// 帮办代办员: files on behalf of the enterprises that authorised them (`enterprises`).
    Agent,
    /// 综合窗口人员: the one-stop window clerk who accepts and routes applications.
    WindowClerk,
    /// 部门审批人员: a reviewer in one department (scoped by `dept`).
    DeptReviewer,
    /// 管理员: administers catalog, users and settings.
    Admin,
    /// 合作系统: a partner system calling the API (limited by `scopes`).
    Partner,
    /// 营商专员: a business-environment specialist serving the enterprises
    /// assigned to them (`enterprises`, like an agent's).
    Specialist,
    /// 12345热线话务员: a hotline operator filing requests for any enterprise.
    HotlineOperator,
}

impl Role {
    /// Every role, in the order of the approval process.
    pub const ALL: [Role; 8] = [
        Role::Applicant,
        Role::Agent,
        Role::WindowClerk,
        Role::DeptReviewer,
        Role::Admin,
        Role::Partner,
        Role::Specialist,
        Role::HotlineOperator,
    ];

    /// The wire name used in tokens (`window_clerk`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Applicant => "applicant",
            Role::Agent => "agent",
            Role::WindowClerk => "window_clerk",
            Role::DeptReviewer => "dept_reviewer",
            Role::Admin => "admin",
            Role::Partner => "partner",
            Role::Specialist => "specialist",
            Role::HotlineOperator => "hotline_operator",
        }
    }

    /// The zh-CN name shown to people.
    pub fn zh_name(self) -> &'static str {
        match self {
            Role::Applicant => "申请人",
            Role::Agent => "帮办代办员",
            Role::WindowClerk => "综合窗口人员",
            Role::DeptReviewer => "部门审批人员",
            Role::Admin => "管理员",
            Role::Partner => "合作系统",
            Role::Specialist => "营商专员",
            Role::HotlineOperator => "12345热线话务员",
        }
    }

    /// Parses the wire name; `None` for roles this system does not know.
    pub fn from_wire(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.zh_name())
    }
}

/// Reads a `roles` claim leniently: a real IdP puts its own roles
/// (`offline_access`, `uma_authorization`, ...) into the same list, and one
/// foreign role must not make an otherwise valid token unreadable. Unknown
/// names are dropped, never mapped to anything.
pub(crate) fn deserialize_roles<'de, D>(deserializer: D) -> Result<Vec<Role>, D::Error>
where
    D: Deserializer<'de>,
{
    let names: Option<Vec<String>> = Option::deserialize(deserializer)?;
    let mut roles = Vec::new();
    for name in names.unwrap_or_default() {
        match Role::from_wire(&name) {
            Some(role) if !roles.contains(&role) => roles.push(role),
            Some(_) => {}
            None => tracing::debug!(role = %name, "ignoring unknown role in token"),
        }
    }
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_names_are_snake_case_and_round_trip() {
        for role in Role::ALL {
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), role);
            assert_eq!(Role::from_wire(role.as_str()), Some(role));
        }
        assert_eq!(Role::WindowClerk.as_str(), "window_clerk");
        assert_eq!(Role::DeptReviewer.as_str(), "dept_reviewer");
        assert_eq!(Role::HotlineOperator.as_str(), "hotline_operator");
    }

    #[test]
    fn display_is_the_chinese_name() {
        assert_eq!(Role::Applicant.to_string(), "申请人");
        assert_eq!(Role::Agent.to_string(), "帮办代办员");
        assert_eq!(Role::WindowClerk.to_string(), "综合窗口人员");
        assert_eq!(Role::DeptReviewer.to_string(), "部门审批人员");
        assert_eq!(Role::Admin.to_string(), "管理员");
        assert_eq!(Role::Partner.to_string(), "合作系统");
        assert_eq!(Role::Specialist.to_string(), "营商专员");
        assert_eq!(Role::HotlineOperator.to_string(), "12345热线话务员");
    }
}
