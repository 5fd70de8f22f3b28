//! The enterprise service's pages (企业服务): 一企一档, 诉求, 免申即享 and
//! 好差评. [`own`] (and its `own_*` siblings) is what enterprises, their
//! agents, 营商专员 and 12345 operators see; [`staff`] is the departments'
//! and admins' side. Like every page they hold no rules: they call the
//! enterprise service's REST API with the viewer's token and show what it
//! answers.

pub mod own;
pub mod own_benefits;
pub mod own_ratings;
pub mod own_requests;
pub mod own_specialist;
// The lists' 下一页 (both sides).
pub mod paging;
pub mod staff;
pub mod staff_admin;
pub mod staff_benefits;
pub mod staff_names;
pub mod staff_ratings;
pub mod staff_stats;

use actix_web::web;

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../../templates/", $name)))),*]
    };
}

/// The templates of these pages (added to the portal's environment).
pub const TEMPLATES: &[(&str, &str)] = templates![
    // The enterprise's own side (own*.rs).
    "ent_own_home.html",
    "ent_own_profile.html",
    "ent_own_requests.html",
    "ent_own_request.html",
    "ent_own_request_new.html",
    "ent_own_benefits.html",
    "ent_own_ratings.html",
    "ent_own_rate.html",
    "ent_own_specialist.html",
    // Staff side (departments, admins): staff*.rs.
    "ent_staff_queue.html",
    "ent_staff_request.html",
    "ent_staff_transfer.html",
    "ent_staff_ratings.html",
    "ent_staff_rating.html",
    "ent_staff_policies.html",
    "ent_staff_candidates.html",
    "ent_staff_rules.html",
    "ent_staff_policy_new.html",
    "ent_staff_stats.html",
];

/// The flash messages these pages' redirects may carry (see
/// [`super::see_other`]).
pub const MESSAGES: &[&str] = &[
    // The enterprise's own side (own*.rs).
    "诉求已提交，已派单至承办部门",
    "补充内容已提交，承办部门继续办理",
    "诉求已撤回",
    "感谢评价，诉求已办结",
    "已评价为不满意，诉求已退回承办部门再次办理",
    "已放弃该项政策待遇",
    "异议已提交，已转为诉求由承办部门办理，可在“我的诉求”中查看",
    "评价已提交，感谢您的反馈",
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
