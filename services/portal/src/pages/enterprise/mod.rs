//! The enterprise service's pages (企业服务): 一企一档, 诉求, 免申即享 and
//! 好差评. [`own`] is what enterprises, their agents and 营商专员 see;
//! [`staff`] is the departments' and admins' side. Like every page they
//! hold no rules: they call the enterprise service's REST API with the
//! viewer's token and show what it answers.

pub mod own;
pub mod staff;
pub mod staff_admin;
pub mod staff_benefits;
pub mod staff_names;
pub mod staff_ratings;
pub mod staff_stats;

use actix_web::web;

/// A template of these pages, compiled in.
macro_rules! staff_template {
    ($name:literal) => {
        ($name, include_str!(concat!("../../../templates/", $name)))
    };
}

/// The templates of these pages (added to the portal's environment).
pub const TEMPLATES: &[(&str, &str)] = &[
    // Staff side (departments, admins): staff*.rs.
    staff_template!("ent_staff_queue.html"),
    staff_template!("ent_staff_request.html"),
    staff_template!("ent_staff_transfer.html"),
    staff_template!("ent_staff_ratings.html"),
    staff_template!("ent_staff_rating.html"),
    staff_template!("ent_staff_policies.html"),
    staff_template!("ent_staff_candidates.html"),
    staff_template!("ent_staff_rules.html"),
    staff_template!("ent_staff_policy_new.html"),
    staff_template!("ent_staff_stats.html"),
];

/// The flash messages these pages' redirects may carry (see
/// [`super::see_other`]).
pub const MESSAGES: &[&str] = &[
    // Staff side (departments, admins): staff*.rs.
    "诉求已签收，答复时限开始计时",
    "诉求已转办",
    "已请企业补充，答复时限暂停计时",
    "诉求已答复",
    "核实情况已登记",
    "整改情况已登记，回访办结",
    "已确认发放批次",
    "已排除该企业",
    "批次已标记为已发放",
    "派单规则已保存",
    "政策已发布，已完成企业匹配",
];

/// Registers these pages.
pub fn configure(c: &mut web::ServiceConfig) {
    c.configure(own::configure).configure(staff::configure);
}
