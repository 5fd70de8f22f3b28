//! In-app messages for 一业一证 licensing events. Applicant-facing messages
//! are addressed to the enterprise, so its applicants and the agents it
//! authorised all see them; new tasks go to the deciding department.

use yizhan_events::contracts::{
    ApplicationAccepted, ApplicationReturned, ApplicationTerminated, BundleRefused,
    IntakeDeficiency, LicenceCancelled, LicenceIssued, TaskCreated, TaskDecided,
};

use crate::store::NewMessage;

fn application_link(application_id: &str) -> Option<String> {
    Some(format!("/api/v1/applications/{application_id}"))
}

fn to_enterprise(uscc: &str, title: &str, body: String, link: Option<String>) -> NewMessage {
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

/// The materials of a list, numbered, one per line.
fn numbered(list: &[IntakeDeficiency]) -> Vec<String> {
    list.iter()
        .enumerate()
        .map(|(i, d)| {
            let what = d
                .field
                .as_deref()
                .or(d.material.as_deref())
                .unwrap_or("申请");
            format!("{}. {what}：{}", i + 1, d.reason)
        })
        .collect()
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
                "申请（编号 {}）中的事项 {} 已审批通过{}。",
                e.application_id,
                e.item_code,
                permit
                    .as_deref()
                    .map(|p| format!("，许可证号 {p}"))
                    .unwrap_or_default()
            ),
        ),
        (_, _, reasons) => (
            "审批事项未通过",
            format!(
                "申请（编号 {}）中的事项 {} 未予通过。原因：{}",
                e.application_id,
                e.item_code,
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
            "您的申请（编号 {}）因事项 {} 未通过而未获批准。原因：{}",
            e.application_id, e.item_code, e.reasons
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
    use yizhan_events::contracts::{LicensingActor, ToleranceTerms};

    fn owed(code: &str) -> IntakeDeficiency {
        IntakeDeficiency {
            field: None,
            material: Some(code.into()),
            reason: "待补".into(),
        }
    }

    #[test]
    fn tolerance_acceptance_names_what_is_owed_and_by_when() {
        let due = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap();
        let m = accepted(ApplicationAccepted {
            application_id: "A1".into(),
            enterprise_uscc: "91350100M000100Y43".into(),
            committed_half_days: 11,
            committed_due_date: due,
            tolerance: Some(ToleranceTerms {
                missing: vec![owed("surveillance_plan")],
                due_date: due,
            }),
            actor: LicensingActor {
                sub: "clerk-1".into(),
                role: "window_clerk".into(),
            },
            at: chrono::Utc::now(),
        });
        assert_eq!(m.title, "申请已容缺受理，请按期补交材料");
        assert!(m.body.contains("请于 2026-12-04 前补交"));
        assert!(m.body.contains("1. surveillance_plan：待补"));
        let t = terminated(ApplicationTerminated {
            application_id: "A1".into(),
            enterprise_uscc: "91350100M000100Y43".into(),
            missing: vec![owed("surveillance_plan")],
            due_date: due,
            at: chrono::Utc::now(),
        });
        assert_eq!(t.title, "申请已终止办理");
        assert!(t.body.contains("surveillance_plan"));
    }

    #[test]
    fn returned_lists_every_deficiency_once() {
        let m = returned(ApplicationReturned {
            application_id: "A1".into(),
            enterprise_uscc: "91350100M000100Y43".into(),
            deficiencies: vec![
                IntakeDeficiency {
                    field: Some("form.legal_rep_name".into()),
                    material: None,
                    reason: "与营业执照不一致".into(),
                },
                IntakeDeficiency {
                    field: None,
                    material: Some("floor_plan".into()),
                    reason: "缺少消防通道标注".into(),
                },
            ],
            actor: LicensingActor {
                sub: "clerk-1".into(),
                role: "window_clerk".into(),
            },
            at: chrono::Utc::now(),
        });
        assert_eq!(m.recipient_uscc.as_deref(), Some("91350100M000100Y43"));
        assert!(m.body.contains("2 项问题"));
        assert!(m.body.contains("1. form.legal_rep_name：与营业执照不一致"));
        assert!(m.body.contains("2. floor_plan：缺少消防通道标注"));
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
