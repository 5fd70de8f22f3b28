//! In-app messages for 诉求 and 好差评: the enterprise hears that its
//! request was received, dispatched, transferred, answered, reopened, that
//! a department asks it something, and the result of its bad rating's
//! follow-up; the department hears of new and transferred requests, the
//! enterprise's reply and rating, deadline alarms and due follow-ups.
//! Every text names categories, channels, departments and statuses in
//! Chinese.

use yizhan_events::contracts::{FollowUpStep, RequestDeadlineNotice, RequestFacts, RequestStep};

use crate::licensing::to_enterprise;
use crate::store::NewMessage;

fn link(r: &RequestFacts) -> Option<String> {
    Some(format!("/api/v1/requests/{}", r.request_id))
}

fn to_department(
    dept: &str,
    category: &'static str,
    title: &str,
    body: String,
    link: Option<String>,
) -> NewMessage {
    NewMessage {
        recipient_user: None,
        recipient_uscc: None,
        recipient_dept: Some(dept.to_owned()),
        category,
        title: title.to_owned(),
        body,
        link,
    }
}

fn about(r: &RequestFacts) -> String {
    format!("「{}」类诉求（来源：{}）", r.category_name, r.channel_name)
}

/// 诉求已受理: the enterprise is told where it went.
pub fn filed(s: &RequestStep) -> Vec<NewMessage> {
    let r = &s.request;
    vec![to_enterprise(
        &r.enterprise_uscc,
        "您的诉求已受理",
        format!(
            "{}已受理，已派至{}办理，办理结果将通知您。",
            about(r),
            r.department_name
        ),
        link(r),
    )]
}

/// 诉求已派单 (at filing or after a transfer): the department's new work.
pub fn dispatched(s: &RequestStep) -> Vec<NewMessage> {
    let r = &s.request;
    vec![to_department(
        &r.department_code,
        "task",
        "收到新的企业诉求",
        format!("{}已派至本部门，请于 1 个工作日内签收或转办。", about(r)),
        link(r),
    )]
}

/// 诉求已转办: the enterprise hears where it is now.
pub fn transferred(s: &RequestStep) -> Vec<NewMessage> {
    let r = &s.request;
    vec![to_enterprise(
        &r.enterprise_uscc,
        "您的诉求已转办",
        format!(
            "{}已转至{}办理，理由：{}",
            about(r),
            r.department_name,
            s.text.as_deref().unwrap_or("")
        ),
        link(r),
    )]
}

/// 请企业补充: the enterprise is asked.
pub fn info_requested(s: &RequestStep) -> Vec<NewMessage> {
    let r = &s.request;
    vec![to_enterprise(
        &r.enterprise_uscc,
        "请补充诉求相关情况",
        format!(
            "{}向您了解：{}。补充前办理时限暂停计算。",
            r.department_name,
            s.text.as_deref().unwrap_or("")
        ),
        link(r),
    )]
}

/// 企业已补充: the department may go on.
pub fn info_supplied(s: &RequestStep) -> Vec<NewMessage> {
    let r = &s.request;
    vec![to_department(
        &r.department_code,
        "task",
        "企业已补充诉求情况",
        format!(
            "{}的企业已补充：{}",
            about(r),
            s.text.as_deref().unwrap_or("")
        ),
        link(r),
    )]
}

/// 诉求已答复: the enterprise reads the answer and is asked to rate it.
pub fn answered(s: &RequestStep) -> Vec<NewMessage> {
    let r = &s.request;
    vec![to_enterprise(
        &r.enterprise_uscc,
        "您的诉求已答复，请评价",
        format!(
            "{}答复：{}\n请对答复作出评价（满意 / 基本满意 / 不满意）。",
            r.department_name,
            s.text.as_deref().unwrap_or("")
        ),
        link(r),
    )]
}

/// 诉求已评价: the department hears the enterprise's verdict.
pub fn rated(s: &RequestStep) -> Vec<NewMessage> {
    let r = &s.request;
    vec![to_department(
        &r.department_code,
        "task",
        "企业已评价诉求答复",
        format!(
            "{}的企业评价为：{}。",
            about(r),
            s.satisfaction_name.as_deref().unwrap_or("")
        ),
        link(r),
    )]
}

/// 诉求重新办理: both hear that a second round began.
pub fn reopened(s: &RequestStep) -> Vec<NewMessage> {
    let r = &s.request;
    vec![
        to_enterprise(
            &r.enterprise_uscc,
            "您的诉求将重新办理",
            format!(
                "您对答复不满意，{}将重新办理并再次答复。",
                r.department_name
            ),
            link(r),
        ),
        to_department(
            &r.department_code,
            "task",
            "诉求因企业不满意重新办理",
            format!(
                "{}的企业对答复不满意，请重新办理并在时限内再次答复。",
                about(r)
            ),
            link(r),
        ),
    ]
}

/// 诉求时限即将届满 / 已超期: the department is alarmed.
pub fn deadline(n: &RequestDeadlineNotice, overdue: bool) -> Vec<NewMessage> {
    let r = &n.request;
    let (title, body) = if overdue {
        (
            "企业诉求已超期",
            format!(
                "{}已超过{}（{}），请立即办理。",
                about(r),
                n.limit_name,
                n.due_date
            ),
        )
    } else {
        (
            "企业诉求即将超期",
            format!(
                "{}的{}将于 {} 届满，剩余 {} 个工作日。",
                about(r),
                n.limit_name,
                n.due_date,
                n.working_days_remaining.max(0)
            ),
        )
    };
    vec![to_department(
        &r.department_code,
        "deadline",
        title,
        body,
        link(r),
    )]
}

/// 差评回访已生成 / 今日到期: the responsible department's task.
pub fn follow_up_for_department(s: &FollowUpStep, due_today: bool) -> Vec<NewMessage> {
    let r = &s.rating;
    let title = if due_today {
        "差评整改今日到期"
    } else {
        "收到差评，请核实整改"
    };
    vec![to_department(
        &r.department_code,
        if due_today { "deadline" } else { "task" },
        title,
        format!(
            "{}「{}」获评「{}」{}，请于 {} 前核实并整改。",
            r.subject_name,
            r.item_name,
            r.score_name,
            r.comment
                .as_deref()
                .map(|c| format!("（{c}）"))
                .unwrap_or_default(),
            s.due_date
        ),
        None,
    )]
}

/// 差评回访已办结: the applicant sees the result.
pub fn follow_up_concluded(s: &FollowUpStep) -> Vec<NewMessage> {
    let r = &s.rating;
    vec![to_enterprise(
        &r.enterprise_uscc,
        "您的差评已核实办结",
        format!(
            "您对{}「{}」的评价，{}已办结：{}。{}",
            r.subject_name,
            r.item_name,
            r.department_name,
            s.status_name,
            s.note.as_deref().unwrap_or("")
        ),
        None,
    )]
}
