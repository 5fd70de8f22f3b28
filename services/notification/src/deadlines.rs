//! Deadline warnings (时限预警) as inbox messages: one for the assigned
//! reviewer, one for the department (every reviewer of it sees it), one for
//! the applicant (the person who filed and their enterprise). Each event
//! yields each message once: the consumer's inbox dedupes the event.

use yizhan_events::contracts::DeadlineNotice;

use crate::store::NewMessage;

/// Message category of every deadline warning.
pub const CATEGORY: &str = "deadline";

/// Messages for an approaching deadline (licensing or construction).
pub fn approaching(w: &DeadlineNotice) -> Vec<NewMessage> {
    let limit = w.limit_kind.zh_name();
    let left = w.working_days_remaining.max(0);
    messages(
        w,
        (
            "办理时限即将届满".to_owned(),
            format!(
                "您经办的「{}」{}将于 {} 届满，剩余 {} 个工作日，请及时办结。",
                w.item_name, limit, w.due_date, left
            ),
        ),
        (
            "本部门事项即将超期".to_owned(),
            format!(
                "{}中的「{}」{}将于 {} 届满，剩余 {} 个工作日{}。",
                case_of(w),
                w.item_name,
                limit,
                w.due_date,
                left,
                assignee(w)
            ),
        ),
        (
            "您的申请即将到期办结".to_owned(),
            format!(
                "您申请的「{}」{}将于 {} 届满，审批部门正在办理，如需补充材料将另行通知。",
                w.item_name, limit, w.due_date
            ),
        ),
    )
}

/// Messages for a passed deadline (licensing or construction).
pub fn overdue(w: &DeadlineNotice) -> Vec<NewMessage> {
    let limit = w.limit_kind.zh_name();
    let late = (-w.working_days_remaining).max(0);
    messages(
        w,
        (
            "办理已超期".to_owned(),
            format!(
                "您经办的「{}」已超过{}（{}），超期 {} 个工作日，请立即办结或说明原因。",
                w.item_name, limit, w.due_date, late
            ),
        ),
        (
            "本部门事项已超期".to_owned(),
            format!(
                "{}中的「{}」已超过{}（{}），超期 {} 个工作日{}。",
                case_of(w),
                w.item_name,
                limit,
                w.due_date,
                late,
                assignee(w)
            ),
        ),
        (
            "您的申请已超过办结时限".to_owned(),
            format!(
                "您申请的「{}」已超过{}（{}），我们已督促审批部门尽快办结；如有疑问可向综合窗口咨询。",
                w.item_name, limit, w.due_date
            ),
        ),
    )
}

/// How a department reads which case a task is of.
fn case_of(w: &DeadlineNotice) -> String {
    match &w.project_id {
        Some(_) => format!("工程建设项目阶段申请（编号 {}）", w.application_id),
        None => format!("申请（编号 {}）", w.application_id),
    }
}

fn assignee(w: &DeadlineNotice) -> String {
    match &w.reviewer_sub {
        Some(sub) => format!("，经办人 {sub}"),
        None => "，尚未分配经办人".to_owned(),
    }
}

/// (title, body) for the reviewer, the department and the applicant.
fn messages(
    w: &DeadlineNotice,
    reviewer: (String, String),
    department: (String, String),
    applicant: (String, String),
) -> Vec<NewMessage> {
    let link = Some(format!("/api/v1/tasks/{}", w.task_id));
    let mut out = Vec::with_capacity(3);
    if let Some(sub) = &w.reviewer_sub {
        out.push(NewMessage {
            recipient_user: Some(sub.clone()),
            recipient_uscc: None,
            recipient_dept: None,
            category: CATEGORY,
            title: reviewer.0,
            body: reviewer.1,
            link: link.clone(),
        });
    }
    out.push(NewMessage {
        recipient_user: None,
        recipient_uscc: None,
        recipient_dept: Some(w.department_code.clone()),
        category: CATEGORY,
        title: department.0,
        body: department.1,
        link: link.clone(),
    });
    // One message for the filer and their enterprise: addressed to both, so
    // the filer does not get it twice.
    out.push(NewMessage {
        recipient_user: w.applicant_sub.clone(),
        recipient_uscc: Some(w.applicant_uscc.clone()),
        recipient_dept: None,
        category: CATEGORY,
        title: applicant.0,
        body: applicant.1,
        link: Some(match &w.project_id {
            Some(p) => format!("/api/v1/projects/{p}"),
            None => format!("/api/v1/applications/{}", w.application_id),
        }),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    use yizhan_events::contracts::DeadlineLimit;

    fn event(reviewer: Option<&str>) -> DeadlineNotice {
        DeadlineNotice {
            task_id: "t-1".into(),
            application_id: "a-1".into(),
            project_id: None,
            item_code: "SC-001".into(),
            item_name: "食品经营许可".into(),
            department_code: "market_supervision".into(),
            reviewer_sub: reviewer.map(Into::into),
            applicant_uscc: "91350100M000100Y43".into(),
            applicant_sub: Some("alice".into()),
            due_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
            limit_kind: DeadlineLimit::Committed,
            working_days_remaining: 2,
        }
    }

    #[test]
    fn one_message_per_recipient() {
        let m = approaching(&event(Some("rev-1")));
        assert_eq!(m.len(), 3);
        assert_eq!(m[0].recipient_user.as_deref(), Some("rev-1"));
        assert_eq!(m[1].recipient_dept.as_deref(), Some("market_supervision"));
        assert_eq!(m[2].recipient_uscc.as_deref(), Some("91350100M000100Y43"));
        assert!(m[0].body.contains("承诺办结时限") && m[0].body.contains("2026-12-01"));
        assert_eq!(
            approaching(&event(None)).len(),
            2,
            "no reviewer, no reviewer message"
        );
    }
}
