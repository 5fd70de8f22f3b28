//! In-app messages for 一业一证 licensing events. Applicant-facing messages
//! are addressed to the enterprise, so its applicants and the agents it
//! authorised all see them; new tasks go to the deciding department. Every
//! text names items, fields and materials by their Chinese names.

use yizhan_events::contracts::{
    ApplicationAccepted, ApplicationReturned, ApplicationTerminated, BundleRefused,
    IntakeDeficiency, LicenceCancelled, LicenceIssued, SupplementRequested, TaskCreated,
    TaskDecided,
};

use crate::store::NewMessage;

fn application_link(application_id: &str) -> Option<String> {
    Some(format!("/api/v1/applications/{application_id}"))
}

pub(crate) fn to_enterprise(
    uscc: &str,
    title: &str,
    body: String,
    link: Option<String>,
) -> NewMessage {
    NewMessage {
        recipient_user: None,
        recipient_uscc: Some(uscc.to_owned()),
        recipient_dept: None,
        category: "application",
        title: title.to_owned(),
        body,
        link,
    }
}

/// What a list entry is about, by name: the name the service gave it, else
/// the material vocabulary's name, else a neutral word (never a code).
fn subject_of(d: &IntakeDeficiency) -> String {
    if let Some(name) = &d.name {
        return name.clone();
    }
    match (&d.material, &d.field) {
        (Some(m), _) => yizhan_types::material_type::name_of(m)
            .map_or_else(|| "所列材料".to_owned(), str::to_owned),
        (None, Some(_)) => "表单内容".to_owned(),
        (None, None) => "申请".to_owned(),
    }
}

/// The entries of a one-time list, numbered, one per line.
pub(crate) fn numbered(list: &[IntakeDeficiency]) -> Vec<String> {
    list.iter()
        .enumerate()
        .map(|(i, d)| format!("{}. {}：{}", i + 1, subject_of(d), d.reason))
        .collect()
}

/// A material code by its name.
pub(crate) fn material_name(code: &str) -> String {
    yizhan_types::material_type::name_of(code).map_or_else(|| "所列材料".to_owned(), str::to_owned)
}

/// 申请已受理 (with the materials owed, when accepted with tolerance).
pub fn accepted(e: ApplicationAccepted) -> NewMessage {
    let mut body = format!(
        "您的申请（编号 {}）已受理，各审批部门将并联办理，承诺办结日期为 {}。",
        e.application_id, e.committed_due_date
    );
    if let Some(t) = &e.tolerance {
        body.push_str(&format!(
            "\n本申请为容缺受理，请于 {} 前补交以下材料，逾期未补交将终止办理：\n{}",
            t.due_date,
            numbered(&t.missing).join("\n")
        ));
    }
    to_enterprise(
        &e.enterprise_uscc,
        if e.tolerance.is_some() {
            "申请已容缺受理，请按期补交材料"
        } else {
            "申请已受理"
        },
        body,
        application_link(&e.application_id),
    )
}

/// 申请已终止: owed materials did not arrive in time.
pub fn terminated(e: ApplicationTerminated) -> NewMessage {
    to_enterprise(
        &e.enterprise_uscc,
        "申请已终止办理",
        format!(
            "您的申请（编号 {}）容缺受理的以下材料未在 {} 前补交，申请已终止办理：\n{}",
            e.application_id,
            e.due_date,
            numbered(&e.missing).join("\n")
        ),
        application_link(&e.application_id),
    )
}

/// 许可证已注销.
pub fn licence_cancelled(e: LicenceCancelled) -> NewMessage {
    to_enterprise(
        &e.enterprise_uscc,
        "行业综合许可证已注销",
        format!(
            "您的注销申请（编号 {}）已受理，行业综合许可证（标识 {}）已注销。",
            e.application_id, e.certificate_id
        ),
        Some(format!("/api/v1/verify?id={}", e.certificate_id)),
    )
}

/// 申请需补齐：the one-time list of every deficiency (一次性告知).
pub fn returned(e: ApplicationReturned) -> NewMessage {
    let items = numbered(&e.deficiencies);
    to_enterprise(
        &e.enterprise_uscc,
        "申请未予受理，请一次性补齐后重新提交",
        format!(
            "您的申请（编号 {}）存在以下 {} 项问题，请全部修改后重新提交：\n{}",
            e.application_id,
            items.len(),
            items.join("\n")
        ),
        application_link(&e.application_id),
    )
}

/// 新的待审事项, for the deciding department's reviewers.
pub fn task_created(e: TaskCreated) -> NewMessage {
    NewMessage {
        recipient_user: None,
        recipient_uscc: None,
        recipient_dept: Some(e.department_code.clone()),
        category: "task",
        title: "新的待审事项".to_owned(),
        body: format!(
            "「{}」（申请编号 {}）已进入本部门审批队列，请于 {} 前办结。",
            e.item_name, e.application_id, e.due_date
        ),
        link: Some(format!("/api/v1/tasks/{}", e.task_id)),
    }
}

/// 事项已办结: one item's decision, for the applicant.
pub fn task_decided(e: TaskDecided) -> NewMessage {
    let (title, body) = match (e.decision.as_str(), &e.permit_number, &e.reasons) {
        ("approve", permit, _) => (
            "审批事项已通过",
            format!(
                "申请（编号 {}）中的「{}」已审批通过{}。",
                e.application_id,
                e.item_name.as_deref().unwrap_or("审批事项"),
                permit
                    .as_deref()
                    .map(|p| format!("，许可证号 {p}"))
                    .unwrap_or_default()
            ),
        ),
        (_, _, reasons) => (
            "审批事项未通过",
            format!(
                "申请（编号 {}）中的「{}」未予通过。原因：{}",
                e.application_id,
                e.item_name.as_deref().unwrap_or("审批事项"),
                reasons.as_deref().unwrap_or("未说明")
            ),
        ),
    };
    to_enterprise(
        &e.enterprise_uscc,
        title,
        body,
        application_link(&e.application_id),
    )
}

/// 申请未获批准.
pub fn bundle_refused(e: BundleRefused) -> NewMessage {
    to_enterprise(
        &e.enterprise_uscc,
        "申请未获批准",
        format!(
            "您的申请（编号 {}）因「{}」未通过而未获批准。原因：{}",
            e.application_id,
            e.item_name.as_deref().unwrap_or("审批事项"),
            e.reasons
        ),
        application_link(&e.application_id),
    )
}

/// 需要补正: the reviewer's one-time list; the clock is paused until the
/// applicant answers.
pub fn supplement_requested(e: SupplementRequested) -> NewMessage {
    let items = numbered(&e.items);
    to_enterprise(
        &e.enterprise_uscc,
        "审批部门要求补正，请一次性补齐",
        format!(
            "您的申请（编号 {}）中的「{}」需要补正：{}请一次性补齐以下 {} 项（补正期间暂停计时）：\n{}",
            e.application_id,
            e.item_name.as_deref().unwrap_or("审批事项"),
            e.department_name.as_deref().unwrap_or("审批部门"),
            items.len(),
            items.join("\n")
        ),
        application_link(&e.application_id),
    )
}

/// 行业综合许可证已签发.
pub fn licence_issued(e: LicenceIssued) -> NewMessage {
    to_enterprise(
        &e.enterprise_uscc,
        "行业综合许可证已签发",
        format!(
            "您的申请（编号 {}）已全部办结，行业综合许可证（标识 {}）已签发，可到综合窗口领取，也可随时在线核验。",
            e.application_id, e.certificate_id
        ),
        Some(format!("/api/v1/verify?id={}", e.certificate_id)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use yizhan_events::contracts::{Actor, ToleranceTerms};

    fn owed(code: &str) -> IntakeDeficiency {
        IntakeDeficiency {
            field: None,
            material: Some(code.into()),
            reason: "待补".into(),
            name: None,
        }
    }

    #[test]
    fn tolerance_acceptance_names_what_is_owed_and_by_when() {
        let due = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let m = accepted(ApplicationAccepted {
            application_id: "A1".into(),
            number: None,
            enterprise_uscc: "91350100M000100Y43".into(),
            committed_half_days: 11,
            committed_due_date: due,
            tolerance: Some(ToleranceTerms {
                missing: vec![owed("surveillance_plan")],
                due_date: due,
            }),
            actor: Actor {
                sub: "clerk-1".into(),
                role: "window_clerk".into(),
            },
            at: chrono::Utc::now(),
        });
        assert_eq!(m.title, "申请已容缺受理，请按期补交材料");
        assert!(m.body.contains("请于 2026-12-04 前补交"));
        assert!(m.body.contains("1. 视频监控安装说明：待补"), "{}", m.body);
        let t = terminated(ApplicationTerminated {
            application_id: "A1".into(),
            enterprise_uscc: "91350100M000100Y43".into(),
            missing: vec![owed("surveillance_plan")],
            due_date: due,
            at: chrono::Utc::now(),
        });
        assert_eq!(t.title, "申请已终止办理");
        assert!(t.body.contains("视频监控安装说明") && !t.body.contains("surveillance_plan"));
    }

    #[test]
    fn returned_lists_every_deficiency_once() {
        let m = returned(ApplicationReturned {
            application_id: "A1".into(),
            number: None,
            enterprise_uscc: "91350100M000100Y43".into(),
            deficiencies: vec![
                IntakeDeficiency {
                    field: Some("legal_rep_name".into()),
                    material: None,
                    reason: "与营业执照不一致".into(),
                    name: Some("法定代表人姓名".into()),
                },
                IntakeDeficiency {
                    field: None,
                    material: Some("floor_plan".into()),
                    reason: "缺少消防通道标注".into(),
                    name: None,
                },
            ],
            actor: Actor {
                sub: "clerk-1".into(),
                role: "window_clerk".into(),
            },
            at: chrono::Utc::now(),
        });
        assert_eq!(m.recipient_uscc.as_deref(), Some("91350100M000100Y43"));
        assert!(m.body.contains("2 项问题"));
        assert!(m.body.contains("1. 法定代表人姓名：与营业执照不一致"));
        assert!(m.body.contains("2. 经营场所平面布局图：缺少消防通道标注"));
        assert!(!m.body.contains("floor_plan"));
    }

    #[test]
    fn new_tasks_go_to_the_department_only() {
        let m = task_created(TaskCreated {
            task_id: "T1".into(),
            application_id: "A1".into(),
            item_code: "SP-JY".into(),
            item_name: "食品经营许可".into(),
            department_code: "scjg".into(),
            enterprise_uscc: "91350100M000100Y43".into(),
            blzt: 8,
            due_date: chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
            at: chrono::Utc::now(),
        });
        assert_eq!(m.recipient_dept.as_deref(), Some("scjg"));
        assert!(m.recipient_uscc.is_none() && m.recipient_user.is_none());
    }
}
