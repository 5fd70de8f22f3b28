//! What a token says (`Claims`), who the caller is once it checks out
//! (`Principal`), and minting HS256 tokens for development and tests.
//!
//! Scoping lives on the principal so that every service asks the same
//! questions the same way: `require_any` for role gates, `may_act_for` for
//! enterprise (USCC) scoping, `dept` for reviewers, `has_scope` for partners.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use yizhan_kit::Problem;

use crate::role::{Role, deserialize_roles};

/// The `aud` claim: RFC 7519 allows one string or an array of strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// `"aud": "yizhan"`
    One(String),
    /// `"aud": ["yizhan", "account"]`
    Many(Vec<String>),
}

impl Audience {
    /// Whether `audience` is among the token's audiences.
    pub fn contains(&self, audience: &str) -> bool {
        match self {
            Audience::One(one) => one == audience,
            Audience::Many(many) => many.iter().any(|a| a == audience),
        }
    }
}

impl From<&str> for Audience {
    fn from(value: &str) -> Self {
        Audience::One(value.to_owned())
    }
}

/// The claims yizhan reads from (and writes into) a JWT.
///
/// Unknown claims are ignored, and so are unknown names in `roles`, so tokens
/// from a real IdP (Keycloak adds `azp`, `sid`, its own roles, ...) still read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Stable subject id of the caller.
    pub sub: String,
    /// Issuer; must equal the configured issuer.
    pub iss: String,
    /// Audience(s); must contain the configured audience.
    pub aud: Audience,
    /// Expiry, seconds since the epoch.
    pub exp: i64,
    /// Issued at, seconds since the epoch (0 when the IdP left it out).
    #[serde(default)]
    pub iat: i64,
    /// Display name of the caller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// yizhan roles of the caller.
    #[serde(default, deserialize_with = "deserialize_roles")]
    pub roles: Vec<Role>,
    /// Applicant: the enterprise (统一社会信用代码) they act for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uscc: Option<String>,
    /// Agent: USCCs of the enterprises that authorised this agent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enterprises: Vec<String>,
    /// Reviewer: code of their department.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dept: Option<String>,
    /// Partner: granted scopes, e.g. `webhooks:write`, `queues:read`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scopes: Vec<String>,
}

/// Partner scope that reads the window and department queues (the
/// portal's merged queues fan out to the list endpoints with it).
pub const SCOPE_QUEUES_READ: &str = "queues:read";

/// The authenticated caller, as handlers see it.
///
/// Take it as a handler argument (it is an actix-web extractor) and the
/// request is refused with 401 before the handler runs unless it carries a
/// valid bearer token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[schema(example = json!({
    "sub": "applicant-1",
    "name": "张三",
    "roles": ["applicant"],
    "uscc": "91350100M000100Y43",
    "enterprises": [],
    "dept": null,
    "scopes": []
}))]
pub struct Principal {
    /// Stable subject id (the token's `sub`).
    pub sub: String,
    /// Display name.
    pub name: Option<String>,
    /// Roles held.
    pub roles: Vec<Role>,
    /// Applicant's enterprise USCC.
    pub uscc: Option<String>,
    /// Agent: USCCs of the enterprises that authorised this agent.
    pub enterprises: Vec<String>,
    /// Reviewer's department code.
    pub dept: Option<String>,
    /// Partner scopes.
    pub scopes: Vec<String>,
}

impl Principal {
    /// Whether the caller holds `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// The department of a reviewer (the token's `dept`), whose queue and
    /// tasks are theirs: a 403 for another role or a token without one.
    #[allow(clippy::result_large_err)]
    pub fn reviewer_department(&self) -> Result<String, Problem> {
        self.require_any(&[Role::DeptReviewer])?;
        self.dept
            .clone()
            .ok_or_else(|| Problem::forbidden("令牌未载明所属部门（dept），无法确定审批队列"))
    }

    /// Which departments a supervision figure (统计) covers for the caller:
    /// every department (`None`) for an administrator or window clerk, a
    /// reviewer's own; a 403 for anyone else or a reviewer's token without
    /// a department.
    #[allow(clippy::result_large_err)]
    pub fn statistics_scope(&self) -> Result<Option<String>, Problem> {
        if self.has_role(Role::Admin) || self.has_role(Role::WindowClerk) {
            return Ok(None);
        }
        self.reviewer_department().map(Some)
    }

    /// The role the caller acts in, for timelines and events: the first of
    /// `roles` it holds (`unknown` when none, which a role check before it
    /// rules out).
    pub fn acting_role(&self, roles: &[Role]) -> &'static str {
        roles
            .iter()
            .find(|r| self.has_role(**r))
            .map_or("unknown", |r| r.as_str())
    }

    /// Passes when the caller holds at least one of `roles`; otherwise a 403
    /// naming, in Chinese, the roles that may do this.
    // `Problem` is the workspace's one error type and handlers `?` it directly;
    // boxing it here would only move the allocation to every caller.
    #[allow(clippy::result_large_err)]
    pub fn require_any(&self, roles: &[Role]) -> Result<(), Problem> {
        if roles.iter().any(|r| self.has_role(*r)) {
            return Ok(());
        }
        if roles.is_empty() {
            return Err(Problem::forbidden("此操作不对任何角色开放"));
        }
        let allowed = roles
            .iter()
            .map(|r| r.zh_name())
            .collect::<Vec<_>>()
            .join("、");
        Err(Problem::forbidden(format!("此操作仅限{allowed}执行")))
    }

    /// Whether the caller may act for the enterprise `uscc`: an applicant of
    /// that enterprise, or an agent that enterprise has authorised. Other
    /// roles (clerks, reviewers, admins) are not enterprise-scoped and get
    /// `false`; check their role separately. Compare normalised USCCs.
    pub fn may_act_for(&self, uscc: &str) -> bool {
        (self.has_role(Role::Applicant) && self.uscc.as_deref() == Some(uscc))
            || (self.has_role(Role::Agent) && self.enterprises.iter().any(|e| e == uscc))
    }

    /// Whether a partner holds the scope (exact match, e.g. `webhooks:write`).
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// Whether the caller is a partner holding `queues:read` (read-only
    /// access to the window and department queues).
    pub fn reads_queues(&self) -> bool {
        self.has_role(Role::Partner) && self.has_scope(SCOPE_QUEUES_READ)
    }

    /// The department whose review queue the caller reads. A reviewer reads
    /// their token's `dept` only: `requested` may repeat it, naming another
    /// is a 403 (a query parameter must not widen a token). A partner with
    /// `queues:read` has no department of its own, so it must name one
    /// (`requested`, the `dept` query parameter; missing, or unknown to
    /// `known`, is a 422 naming `dept`: a typo must say so rather than look
    /// like an empty queue). Anyone else gets a 403.
    // See `require_any` for why `Problem` is not boxed.
    #[allow(clippy::result_large_err)]
    pub fn queue_department(
        &self,
        requested: Option<&str>,
        known: impl Fn(&str) -> bool,
    ) -> Result<String, Problem> {
        if self.has_role(Role::DeptReviewer) {
            let own = self.dept.clone().ok_or_else(|| {
                Problem::forbidden("令牌未载明所属部门（dept），无法确定审批队列")
            })?;
            return match requested {
                Some(other) if other != own => {
                    Err(Problem::forbidden("部门审批人员只能查看本部门的审批队列"))
                }
                _ => Ok(own),
            };
        }
        self.require_any(&[Role::DeptReviewer, Role::Partner])?;
        if !self.has_scope(SCOPE_QUEUES_READ) {
            return Err(Problem::forbidden(format!(
                "合作系统须具备 {SCOPE_QUEUES_READ} 权限才能查看审批队列"
            )));
        }
        match requested.map(str::trim).filter(|d| !d.is_empty()) {
            Some(dept) if known(dept) => Ok(dept.to_owned()),
            Some(_) => Err(Problem::field(
                "dept",
                "unknown_department",
                "部门编码不存在，请使用目录中的部门编码",
            )),
            None => Err(Problem::field(
                "dept",
                "required",
                "合作系统查看审批队列须以 dept 参数指明部门",
            )),
        }
    }
}

impl From<Claims> for Principal {
    fn from(c: Claims) -> Self {
        Principal {
            sub: c.sub,
            name: c.name,
            roles: c.roles,
            uscc: c.uscc,
            enterprises: c.enterprises,
            dept: c.dept,
            scopes: c.scopes,
        }
    }
}

/// What to put into a token minted by [`mint_hs256`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRequest {
    /// Subject id.
    pub sub: String,
    /// Display name.
    pub name: Option<String>,
    /// Roles to grant.
    pub roles: Vec<Role>,
    /// Applicant's enterprise USCC.
    pub uscc: Option<String>,
    /// Agent's authorising enterprises.
    pub enterprises: Vec<String>,
    /// Reviewer's department code.
    pub dept: Option<String>,
    /// Partner scopes.
    pub scopes: Vec<String>,
    /// Lifetime in seconds from now; negative gives an already expired token (tests).
    pub ttl_secs: i64,
}

/// Signs an HS256 token with the dev secret. For the `token` CLI and tests;
/// production tokens come from the IdP.
pub fn mint_hs256(secret: &[u8], issuer: &str, audience: &str, req: &TokenRequest) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: req.sub.clone(),
        iss: issuer.to_owned(),
        aud: Audience::One(audience.to_owned()),
        exp: now.saturating_add(req.ttl_secs),
        iat: now,
        name: req.name.clone(),
        roles: req.roles.clone(),
        uscc: req.uscc.clone(),
        enterprises: req.enterprises.clone(),
        dept: req.dept.clone(),
        scopes: req.scopes.clone(),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret),
    )
    // HMAC takes a key of any length and the claims always serialise.
    .expect("HS256 signing with an in-memory secret cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(roles: &[Role]) -> Principal {
        Principal {
            sub: "u1".into(),
            name: None,
            roles: roles.to_vec(),
            uscc: Some("91350100M000100Y43".into()),
            enterprises: vec!["91110000802100433B".into()],
            dept: None,
            scopes: vec!["queues:read".into()],
        }
    }

    #[test]
    fn require_any_names_the_allowed_roles_in_chinese() {
        let p = principal(&[Role::Applicant]);
        assert!(p.require_any(&[Role::Applicant, Role::Agent]).is_ok());
        let err = p
            .require_any(&[Role::WindowClerk, Role::DeptReviewer])
            .unwrap_err();
        assert_eq!(err.status, 403);
        assert_eq!(
            err.detail.as_deref(),
            Some("此操作仅限综合窗口人员、部门审批人员执行")
        );
        assert_eq!(p.require_any(&[]).unwrap_err().status, 403);
    }

    #[test]
    fn may_act_for_depends_on_role_and_scope() {
        let applicant = principal(&[Role::Applicant]);
        assert!(applicant.may_act_for("91350100M000100Y43"));
        // The enterprises list only counts for agents.
        assert!(!applicant.may_act_for("91110000802100433B"));

        let agent = principal(&[Role::Agent]);
        assert!(agent.may_act_for("91110000802100433B"));
        // An agent's own uscc claim does not make them that enterprise's applicant.
        assert!(!agent.may_act_for("91350100M000100Y43"));

        assert!(!principal(&[Role::Admin]).may_act_for("91350100M000100Y43"));
        assert!(!applicant.may_act_for("91350100M000100Y44"));
    }

    #[test]
    fn scopes_match_exactly() {
        let p = principal(&[Role::Partner]);
        assert!(p.has_scope("queues:read"));
        assert!(!p.has_scope("queues:write"));
        assert!(!p.has_scope("queues"));
    }

    #[test]
    fn queue_department_for_reviewers_and_partners() {
        let known = |d: &str| d == "tax" || d == "fire";
        let mut reviewer = principal(&[Role::DeptReviewer]);
        reviewer.dept = Some("fire".into());
        assert_eq!(reviewer.queue_department(None, known).unwrap(), "fire");
        assert_eq!(
            reviewer.queue_department(Some("fire"), known).unwrap(),
            "fire"
        );
        assert_eq!(
            reviewer
                .queue_department(Some("tax"), known)
                .unwrap_err()
                .status,
            403
        );
        reviewer.dept = None;
        assert_eq!(
            reviewer.queue_department(None, known).unwrap_err().status,
            403
        );

        let partner = principal(&[Role::Partner]);
        assert_eq!(partner.queue_department(Some("tax"), known).unwrap(), "tax");
        let missing = partner.queue_department(None, known).unwrap_err();
        assert_eq!(missing.status, 422);
        assert_eq!(missing.errors[0].field, "dept");
        assert_eq!(
            partner
                .queue_department(Some(" "), known)
                .unwrap_err()
                .status,
            422
        );
        let typo = partner.queue_department(Some("taxx"), known).unwrap_err();
        assert_eq!((typo.status, typo.errors[0].field.as_str()), (422, "dept"));
        let mut unscoped = principal(&[Role::Partner]);
        unscoped.scopes.clear();
        assert!(!unscoped.reads_queues());
        assert_eq!(
            unscoped
                .queue_department(Some("tax"), known)
                .unwrap_err()
                .status,
            403
        );

        assert_eq!(
            principal(&[Role::WindowClerk])
                .queue_department(Some("tax"), known)
                .unwrap_err()
                .status,
            403
        );
    }

    #[test]
    fn claims_read_one_or_many_audiences_and_skip_unknown_roles() {
        let c: Claims = serde_json::from_value(serde_json::json!({
            "sub": "s", "iss": "i", "aud": ["account", "yizhan"], "exp": 10,
            "roles": ["offline_access", "dept_reviewer"], "dept": "ZJJ"
        }))
        .unwrap();
        assert!(c.aud.contains("yizhan"));
        assert_eq!(c.roles, vec![Role::DeptReviewer]);
        assert!(c.enterprises.is_empty() && c.scopes.is_empty());
        assert_eq!(c.iat, 0);

        let c: Claims = serde_json::from_value(serde_json::json!({
            "sub": "s", "iss": "i", "aud": "yizhan", "exp": 10, "roles": null
        }))
        .unwrap();
        assert_eq!(c.aud, Audience::One("yizhan".into()));
        assert!(c.roles.is_empty());
    }
}
