//! In-app messages for construction-project events: the builder (建设单位,
//! addressed as its enterprise, so its applicants and authorised agents see
//! them) hears of acceptance, return with the one-time list, 补正 requests,
//! each decision, stage completion and permits, inspection results and a
//! stopped stage; departments hear of new tasks, invitations to a joint
//! inspection and consultations. Every text names stages, items, materials
//! and departments by their Chinese names.

use yizhan_events::contracts::{
    ConstructionCertificateRecorded, ConstructionTaskStatusChanged, ConsultationAnswered,
    ConsultationRequested, JointInspectionConcluded, JointInspectionScheduled,
    StageApplicationAccepted, StageApplicationReturned, StageCompleted, StageStopped, stage_name,
};

use crate::licensing::{material_name, numbered, to_enterprise};
use crate::store::NewMessage;

fn project_link(project_id: &str) -> Option<String> {
    Some(format!("/api/v1/projects/{project_id}"))
}

fn stage(code: &str) -> &str {
    stage_name(code).unwrap_or("审批阶段")
}

fn to_department(dept: &str, title: &str, body: String, link: Option<String>) -> NewMessage {
    NewMessage {
        recipient_user: None,
        recipient_uscc: None,
        recipient_dept: Some(dept.to_owned()),
        category: "task",
        title: title.to_owned(),
        body,
        link,
    }
}

/// 阶段申请已受理 (with the materials owed, when accepted with tolerance).
pub fn stage_accepted(e: StageApplicationAccepted) -> NewMessage {
    let mut body = format!(
        "「{}」阶段申请已受理，各审批部门将并联办理。",
        stage(&e.stage)
    );
    if !e.owed_materials.is_empty() {
        let owed: Vec<String> = e.owed_materials.iter().map(|m| material_name(m)).collect();
        body.push_str(&format!(
            "本阶段为容缺受理，请于 {} 前补交：{}；逾期未补交将终止办理。",
            e.tolerance_due.map(|d| d.to_string()).unwrap_or_default(),
            owed.join("、")
        ));
    }
    to_enterprise(
        &e.builder_uscc,
        if e.owed_materials.is_empty() {
            "阶段申请已受理"
        } else {
            "阶段申请已容缺受理，请按期补交材料"
        },
        body,
        project_link(&e.project_id),
    )
}

/// 阶段申请未予受理: the one-time list.
pub fn stage_returned(e: StageApplicationReturned) -> NewMessage {
    let items = numbered(&e.deficiencies);
    to_enterprise(
        &e.builder_uscc,
        "阶段申请未予受理，请一次性补齐后重新申报",
        format!(
            "「{}」阶段申请存在以下 {} 项问题，请全部修改后重新申报：\n{}",
            stage(&e.stage),
            items.len(),
            items.join("\n")
        ),
        project_link(&e.project_id),
    )
}

/// A task's change: the department hears of new work, the builder of
/// requests and decisions. Some changes tell nobody (a withdrawal is part
/// of the stop the builder hears about).
pub fn task_changed(e: ConstructionTaskStatusChanged) -> Vec<NewMessage> {
    let item = &e.item_name;
    let dept = e.department_name.as_deref().unwrap_or("审批部门");
    let link = project_link(&e.project_id);
    let to_builder =
        |title: &str, body: String| vec![to_enterprise(&e.builder_uscc, title, body, link.clone())];
    match e.action.as_str() {
        "created" => vec![to_department(
            &e.department_code,
            "新的待审事项",
            format!(
                "工程建设项目「{}」阶段的「{item}」已进入本部门审批队列{}。",
                stage(&e.stage),
                e.due_date
                    .map(|d| format!("，请于 {d} 前办结"))
                    .unwrap_or_default()
            ),
            Some(format!("/api/v1/tasks/{}", e.task_id)),
        )],
        "commitment_approved" => vec![to_department(
            &e.department_code,
            "告知承诺事项待核查",
            format!(
                "「{item}」已按告知承诺制即时办结（容缺通过），请于 {} 前完成核查。",
                e.due_date.map(|d| d.to_string()).unwrap_or_default()
            ),
            Some(format!("/api/v1/tasks/{}", e.task_id)),
        )],
        "supplement_requested" => {
            let items = numbered(&e.supplement);
            to_builder(
                "审批部门要求补正，请一次性补齐",
                format!(
                    "「{item}」需要补正：{dept}请一次性补齐以下 {} 项（补正期间暂停计时）：\n{}",
                    items.len(),
                    items.join("\n")
                ),
            )
        }
        "approved" | "finalised" => to_builder(
            "审批事项已通过",
            format!(
                "「{item}」已由{dept}审批通过{}。",
                e.permit_number
                    .as_deref()
                    .map(|p| format!("，文号 {p}"))
                    .unwrap_or_default()
            ),
        ),
        "pre_approved" => to_builder(
            "预审已通过",
            format!("「{item}」已由{dept}预审通过，土地出让登记后即时转为正式批准。"),
        ),
        "rejected" => to_builder(
            "审批事项未通过",
            format!(
                "「{item}」未获{dept}批准。原因：{}",
                e.reasons.as_deref().unwrap_or("未说明")
            ),
        ),
        "revoked" => to_builder(
            "审批决定已撤销",
            format!(
                "「{item}」的审批决定已撤销。原因：{}",
                e.reasons.as_deref().unwrap_or("未说明")
            ),
        ),
        "special_procedure_started" => to_builder(
            "事项进入特别程序",
            format!(
                "「{item}」进入特别程序（{}），所需时间不计入审批时限。",
                e.reasons.as_deref().unwrap_or("听证、检验检测或专家评审")
            ),
        ),
        _ => Vec::new(),
    }
}

/// 阶段已办结.
pub fn stage_completed(e: StageCompleted) -> NewMessage {
    to_enterprise(
        &e.builder_uscc,
        "阶段审批已办结",
        format!(
            "「{}」阶段的全部事项已办结{}。",
            stage(&e.stage),
            if e.certificates_requested.is_empty() {
                String::new()
            } else {
                "，电子证照正在签发".to_owned()
            }
        ),
        project_link(&e.project_id),
    )
}

/// 电子证照已签发 (the construction permit, or a stage's certificate).
pub fn certificate_recorded(e: ConstructionCertificateRecorded) -> NewMessage {
    to_enterprise(
        &e.builder_uscc,
        "电子证照已签发",
        format!(
            "{}已签发（电子证照标识 {}），可到综合窗口领取，也可随时在线核验。",
            if e.certificate_type == "construction_permit" {
                "建筑工程施工许可证"
            } else {
                "阶段审批电子证照"
            },
            e.certificate_id
        ),
        Some(format!("/api/v1/verify?id={}", e.certificate_id)),
    )
}

/// 阶段已终止办理.
pub fn stage_stopped(e: StageStopped) -> NewMessage {
    to_enterprise(
        &e.builder_uscc,
        "阶段审批已终止",
        format!("「{}」阶段已终止办理：{}", stage(&e.stage), e.reason),
        project_link(&e.project_id),
    )
}

/// 联合验收已安排: every invited department, and the builder.
pub fn inspection_scheduled(e: JointInspectionScheduled) -> Vec<NewMessage> {
    let when = yizhan_approval::calendar::china_local(e.slot).format("%Y-%m-%d %H:%M");
    let mut out: Vec<NewMessage> = e
        .departments
        .iter()
        .map(|d| {
            to_department(
                d,
                "联合验收邀请",
                format!(
                    "第 {} 轮联合验收定于 {when} 在{}进行，请本部门派员参加并录入验收结果。",
                    e.round, e.location
                ),
                project_link(&e.project_id),
            )
        })
        .collect();
    if let Some(builder) = &e.builder_uscc {
        out.push(to_enterprise(
            builder,
            "联合验收已安排",
            format!(
                "第 {} 轮联合验收定于 {when} 在{}进行，参加部门：{}。",
                e.round,
                e.location,
                if e.department_names.is_empty() {
                    format!("{} 个部门", e.departments.len())
                } else {
                    e.department_names.join("、")
                }
            ),
            project_link(&e.project_id),
        ));
    }
    out
}

/// 联合验收结果, for the builder.
pub fn inspection_concluded(e: JointInspectionConcluded) -> Vec<NewMessage> {
    let Some(builder) = &e.builder_uscc else {
        return Vec::new();
    };
    let (title, body) = if e.passed {
        (
            "联合验收合格",
            format!("第 {} 轮联合验收全部合格。", e.round),
        )
    } else {
        let points: Vec<String> = e
            .rectification
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{}. {}", i + 1, p.point))
            .collect();
        (
            "联合验收未通过，请一次性整改",
            format!(
                "第 {} 轮联合验收未通过，请按以下 {} 项整改后报告，再申请复验：\n{}",
                e.round,
                points.len(),
                points.join("\n")
            ),
        )
    };
    vec![to_enterprise(
        builder,
        title,
        body,
        project_link(&e.project_id),
    )]
}

/// 征求意见, for the asked department.
pub fn consultation_requested(e: ConsultationRequested) -> NewMessage {
    to_department(
        &e.to_department,
        "收到征求意见",
        format!(
            "{}就「{}」征求本部门意见，请于 {} 前答复：{}",
            e.from_department_name.as_deref().unwrap_or("审批部门"),
            e.item_name.as_deref().unwrap_or("审批事项"),
            e.due_date,
            e.question
        ),
        Some("/api/v1/consultations".into()),
    )
}

/// 意见已答复, for the asking department.
pub fn consultation_answered(e: ConsultationAnswered) -> Option<NewMessage> {
    let asker = e.from_department.as_deref()?;
    Some(to_department(
        asker,
        if e.late {
            "征求意见已答复（逾期）"
        } else {
            "征求意见已答复"
        },
        format!(
            "{}答复：{}",
            e.to_department_name.as_deref().unwrap_or("被征求意见部门"),
            e.opinion
        ),
        Some(format!("/api/v1/tasks/{}", e.task_id)),
    ))
}
