//! What reviewers and the engine do to a task: decide it, pause it for a
//! 补正 or a 特别程序 and resume it, withdraw or revoke it. Each is one
//! transition of the state machine (`yizhan_approval::task`), its clock
//! effect and a timeline entry, in the caller's transaction under the
//! subject's lock; the caller then publishes its own event and applies its
//! case rule (bundle, stage).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, DatabaseTransaction, IntoActiveModel, Set};
use serde::{Deserialize, Serialize};
use yizhan_approval::calendar::china_local;
use yizhan_approval::{ClockEffect, Command, Status};
use yizhan_events::contracts::IntakeDeficiency;
use yizhan_kit::FieldError;

use crate::deadlines::next_alarm_key;
use crate::task::{Engine, due_key, json, set_status, stop_clock};
use crate::task_row::Model;
use crate::timeline::{self, Entry};
use crate::{Actor, Error, Result};

/// A reviewer's decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// 审批通过 with the permit (or record) number; `with_tolerance` when
    /// materials are still owed (容缺) or it rests on a commitment
    /// (告知承诺): 办结（容缺通过）, BLZT 12.
    Approve {
        /// 许可证号 / 文号.
        permit_number: String,
        /// BLZT 12 rather than 11.
        with_tolerance: bool,
    },
    /// 审批不通过, with the reasons.
    Reject {
        /// Why.
        reasons: String,
    },
}

impl Decision {
    /// The decision as taken while materials are (or are not) owed: an
    /// approval with materials owed is 办结（容缺通过）(BLZT 12). The
    /// service knows what is owed; it asks under the case's lock.
    pub fn given_owed(self, owed: bool) -> Self {
        match self {
            Self::Approve { permit_number, .. } => Self::Approve {
                permit_number,
                with_tolerance: owed,
            },
            reject => reject,
        }
    }
}

/// Decides `t` (read under its subject's lock): the transition, the clock
/// stopped by the one rule, the decision on the row, a timeline entry.
pub async fn decide(
    engine: Engine<'_>,
    txn: &DatabaseTransaction,
    t: Model,
    decision: &Decision,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Model> {
    let command = match decision {
        Decision::Approve {
            with_tolerance: true,
            ..
        } => Command::ApproveWithTolerance,
        Decision::Approve { .. } => Command::Approve,
        Decision::Reject { .. } => Command::Reject,
    };
    let to = t.status().apply(command)?;
    let mut a = t.clone().into_active_model();
    set_status(&mut a, to);
    stop_clock(engine, &t, &mut a, china_local(now));
    a.decided_by = Set(Some(actor.sub.clone()));
    a.decided_at = Set(Some(now));
    let (action, title) = match decision {
        Decision::Approve {
            permit_number,
            with_tolerance,
        } => {
            let number = permit_number.trim();
            a.permit_number = Set((!number.is_empty()).then(|| number.to_owned()));
            (
                "task_approved",
                format!(
                    "{}：{}审批通过{}{}",
                    t.item_name,
                    t.department_name,
                    if *with_tolerance {
                        "（容缺通过）"
                    } else {
                        ""
                    },
                    if number.is_empty() {
                        String::new()
                    } else {
                        format!("，文号 {number}")
                    }
                ),
            )
        }
        Decision::Reject { reasons } => {
            a.reasons = Set(Some(reasons.clone()));
            (
                "task_rejected",
                format!(
                    "{}：{}审批不通过（{reasons}）",
                    t.item_name, t.department_name
                ),
            )
        }
    };
    let updated = a.update(txn).await?;
    record(txn, &updated, action, title, actor, now).await?;
    Ok(updated)
}

async fn record(
    txn: &DatabaseTransaction,
    t: &Model,
    action: &str,
    title: String,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<()> {
    timeline::append(
        txn,
        Entry {
            subject_id: &t.subject_id,
            case_id: Some(&t.case_id),
            task_id: Some(&t.id),
            action,
            title,
            blzt: Some(t.status()),
        },
        actor,
        now,
    )
    .await?;
    Ok(())
}

/// 特别程序 kinds (行政许可法 Art. 45): time they take is excluded from the
/// limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SpecialProcedureKind {
    /// 听证.
    Hearing,
    /// 检验检测.
    Testing,
    /// 专家评审.
    ExpertReview,
}

impl SpecialProcedureKind {
    /// Wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Hearing => "hearing",
            Self::Testing => "testing",
            Self::ExpertReview => "expert_review",
        }
    }

    /// zh-CN name.
    pub const fn zh_name(self) -> &'static str {
        match self {
            Self::Hearing => "听证",
            Self::Testing => "检验检测",
            Self::ExpertReview => "专家评审",
        }
    }
}

/// A pause or resumption of a task's review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// 要求补正 with the one-time list (BLZT 6, clock paused).
    RequestSupplement {
        /// Everything to supply.
        items: Vec<IntakeDeficiency>,
    },
    /// 补正材料提交 (BLZT 7 then 8, clock resumed). Every requested field and
    /// material must be supplied and nothing else (see
    /// [`check_supplement`]); checking the values is the service's.
    ProvideSupplement {
        /// Form fields supplied.
        fields: Vec<String>,
        /// Material codes supplied.
        materials: Vec<String>,
    },
    /// 启动特别程序 (BLZT 9, clock paused).
    StartSpecialProcedure {
        /// Which.
        kind: SpecialProcedureKind,
        /// Why.
        reason: String,
    },
    /// 结束特别程序 (BLZT 10, clock resumed, then back to 8 in the
    /// department's queue).
    EndSpecialProcedure,
}

/// Work on a task as a service takes it from its HTTP edge: a 补正 request,
/// the applicant's answer with its values, or a 特别程序 step. The values of
/// an answer are the service's to check and keep; the engine checks they
/// answer the list.
#[derive(Debug, Clone)]
pub enum TaskWork {
    /// 要求补正 with the one-time list (BLZT 6, clock paused).
    RequestSupplement {
        /// Everything to supply.
        items: Vec<IntakeDeficiency>,
    },
    /// 补正材料提交 (BLZT 7 then 8, clock resumed): every requested field
    /// and material, nothing else.
    ProvideSupplement {
        /// Form field key → value.
        form: serde_json::Map<String, serde_json::Value>,
        /// Material code → material id.
        materials: serde_json::Map<String, serde_json::Value>,
    },
    /// 启动 or 结束特别程序.
    Special(Step),
}

impl TaskWork {
    /// The engine's step.
    pub fn step(&self) -> Step {
        match self {
            Self::RequestSupplement { items } => Step::RequestSupplement {
                items: items.clone(),
            },
            Self::ProvideSupplement { form, materials } => Step::ProvideSupplement {
                fields: form.keys().cloned().collect(),
                materials: materials.keys().cloned().collect(),
            },
            Self::Special(step) => step.clone(),
        }
    }

    /// Every problem with an answer at once, before anything changes: what
    /// the open list asked for (`check_supplement`) and the values
    /// (`check_values`). Nothing to check without an open request (the
    /// state machine then refuses the step).
    pub fn check_answer(
        &self,
        t: &Model,
        check_values: impl FnOnce(
            &serde_json::Map<String, serde_json::Value>,
            &serde_json::Map<String, serde_json::Value>,
        ) -> Result<Vec<FieldError>>,
    ) -> Result<()> {
        let (Self::ProvideSupplement { form, materials }, Some(requested)) =
            (self, t.open_supplement())
        else {
            return Ok(());
        };
        let keys =
            |m: &serde_json::Map<String, serde_json::Value>| m.keys().cloned().collect::<Vec<_>>();
        let mut errors = check_supplement(&requested, &keys(form), &keys(materials));
        errors.extend(check_values(form, materials)?);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Invalid(errors))
        }
    }
}

/// Checks a supplement against the open request: every requested field and
/// material present, nothing else. Field errors name `form.<key>` and
/// `materials.<code>`.
pub fn check_supplement(
    requested: &[IntakeDeficiency],
    fields: &[String],
    materials: &[String],
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for d in requested {
        if let Some(f) = &d.field
            && !fields.contains(f)
        {
            errors.push(FieldError::new(
                format!("form.{f}"),
                "required",
                format!("补正清单要求补充此项：{}", d.reason),
            ));
        }
        if let Some(m) = &d.material
            && !materials.contains(m)
        {
            errors.push(FieldError::new(
                format!("materials.{m}"),
                "required",
                format!("补正清单要求补交此材料：{}", d.reason),
            ));
        }
    }
    for k in fields {
        if !requested.iter().any(|d| d.field.as_deref() == Some(k)) {
            errors.push(FieldError::new(
                format!("form.{k}"),
                "not_requested",
                "补正清单未要求补充此项",
            ));
        }
    }
    for k in materials {
        if !requested.iter().any(|d| d.material.as_deref() == Some(k)) {
            errors.push(FieldError::new(
                format!("materials.{k}"),
                "not_requested",
                "补正清单未要求补交此材料",
            ));
        }
    }
    errors
}

/// Pauses or resumes `t` (read under its subject's lock) per `step`: the
/// transitions, the clock paused or resumed where it stopped, the queue
/// order and next alarm recomputed, a timeline entry per status passed.
pub async fn step(
    engine: Engine<'_>,
    txn: &DatabaseTransaction,
    t: Model,
    step: &Step,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Model> {
    let commands: &[Command] = match step {
        Step::RequestSupplement { .. } => &[Command::RequestSupplement],
        Step::ProvideSupplement { .. } => &[Command::ReceiveSupplement, Command::StartReview],
        Step::StartSpecialProcedure { .. } => &[Command::StartSpecialProcedure],
        Step::EndSpecialProcedure => &[Command::EndSpecialProcedure, Command::StartReview],
    };
    let mut statuses = Vec::new();
    let mut status = t.status();
    for &c in commands {
        status = status.apply(c)?;
        statuses.push(status);
    }
    if let Step::ProvideSupplement { fields, materials } = step {
        let errors = check_supplement(&t.open_supplement().unwrap_or_default(), fields, materials);
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
    }
    let local = china_local(now);
    let mut clock = t
        .clock()
        .ok_or_else(|| sea_orm::DbErr::Custom(format!("task {}: unreadable clock", t.id)))?;
    let at = crate::task::stop_moment(local, t.accepted_at, clock.events().last());
    let clocked = match commands[0].clock_effect() {
        Some(ClockEffect::Pause(reason)) => clock.pause(at, reason),
        Some(ClockEffect::Resume) => clock.resume(at),
        _ => Ok(()),
    };
    clocked.map_err(|e| Error::conflict(e.code(), e.message()))?;
    let due = clock.reading_at(engine.calendar, local).committed.due;
    let mut a = t.clone().into_active_model();
    set_status(&mut a, status);
    a.clock_events = Set(json(&clock.events()));
    a.due_key = Set(due_key(due));
    a.next_alarm_key = Set(next_alarm_key(
        &clock,
        engine.calendar,
        local,
        t.warned_at.is_some(),
        t.overdue_notified_at.is_some(),
    ));
    if let Step::RequestSupplement { items } = step {
        a.supplement_request = Set(Some(json(items)));
    }
    let updated = a.update(txn).await?;
    let item = &t.item_name;
    let dept = &t.department_name;
    let entries: Vec<(&str, String, Status, Actor)> = match step {
        Step::RequestSupplement { items } => vec![(
            "supplement_requested",
            format!(
                "{item}：{dept}要求补正，一次性告知 {} 项，暂停计时",
                items.len()
            ),
            statuses[0],
            actor.clone(),
        )],
        Step::ProvideSupplement { .. } => vec![
            (
                "supplement_provided",
                format!("{item}：申请人已按补正清单提交，恢复计时"),
                statuses[0],
                actor.clone(),
            ),
            (
                "task_in_review",
                format!("{item}：{dept}继续办理"),
                statuses[1],
                engine.system(),
            ),
        ],
        Step::StartSpecialProcedure { kind, reason } => vec![(
            "special_procedure_started",
            format!(
                "{item}：{dept}启动特别程序（{}：{reason}），暂停计时",
                kind.zh_name()
            ),
            statuses[0],
            actor.clone(),
        )],
        Step::EndSpecialProcedure => vec![
            (
                "special_procedure_ended",
                format!("{item}：特别程序结束，恢复计时"),
                statuses[0],
                actor.clone(),
            ),
            (
                "task_in_review",
                format!("{item}：{dept}继续办理"),
                statuses[1],
                engine.system(),
            ),
        ],
    };
    for (action, title, blzt, who) in entries {
        timeline::append(
            txn,
            Entry {
                subject_id: &t.subject_id,
                case_id: Some(&t.case_id),
                task_id: Some(&t.id),
                action,
                title,
                blzt: Some(blzt),
            },
            &who,
            now,
        )
        .await?;
    }
    Ok(updated)
}

/// How a case's stop ended one of its tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Closed {
    /// An open task (in review, or paused for 补正 or 特别程序) was
    /// withdrawn: BLZT 14, clock stopped.
    Withdrawn,
    /// An approval given with tolerance (BLZT 12) was revoked: BLZT 15.
    Revoked,
}

/// Closes `t` because its case stopped (`reason`, zh-CN): an open task is
/// withdrawn (14), an approval given with tolerance is revoked (15) when
/// `revoke_tolerance` allows; a task decided otherwise stays on record
/// (`None`). The timeline says why. This is the one rule for a stopped
/// case, whether its 容缺 materials came too late or a department's
/// refusal stopped it.
pub async fn close_for_stop(
    engine: Engine<'_>,
    txn: &DatabaseTransaction,
    t: Model,
    reason: &str,
    revoke_tolerance: bool,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Option<(Model, Closed)>> {
    let from = t.status();
    let (command, closed, verb) = if from == Status::ApprovedWithTolerance {
        if !revoke_tolerance {
            return Ok(None);
        }
        (Command::Revoke, Closed::Revoked, "撤销容缺通过的审批决定")
    } else {
        (Command::Withdraw, Closed::Withdrawn, "终止办理")
    };
    let Ok(to) = from.apply(command) else {
        // Approved outright, rejected or already closed: stays on record.
        return Ok(None);
    };
    let mut a = t.clone().into_active_model();
    set_status(&mut a, to);
    if command == Command::Withdraw {
        stop_clock(engine, &t, &mut a, china_local(now));
    }
    a.reasons = Set(Some(reason.to_owned()));
    let updated = a.update(txn).await?;
    record(
        txn,
        &updated,
        if closed == Closed::Revoked {
            "task_revoked"
        } else {
            "task_withdrawn"
        },
        format!("{}：{reason}，{verb}", t.item_name),
        actor,
        now,
    )
    .await?;
    Ok(Some((updated, closed)))
}

/// Revokes an approval (BLZT 11 or 12 → 15), e.g. when a 告知承诺
/// verification finds the commitment untrue.
pub async fn revoke(
    txn: &DatabaseTransaction,
    t: Model,
    reasons: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Model> {
    let to = t.status().apply(Command::Revoke)?;
    let mut a = t.clone().into_active_model();
    set_status(&mut a, to);
    a.reasons = Set(Some(reasons.to_owned()));
    a.decided_by = Set(Some(actor.sub.clone()));
    a.decided_at = Set(Some(now));
    let updated = a.update(txn).await?;
    record(
        txn,
        &updated,
        "task_revoked",
        format!("{}：撤销审批决定（{reasons}）", t.item_name),
        actor,
        now,
    )
    .await?;
    Ok(updated)
}

/// Approves `t` at once on the applicant's commitment (告知承诺制): BLZT
/// 12 with its clock stopped at acceptance; the verification that follows
/// is the service's.
pub async fn approve_on_commitment(
    engine: Engine<'_>,
    txn: &DatabaseTransaction,
    t: Model,
    title: String,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Model> {
    let to = t.status().apply(Command::ApproveWithTolerance)?;
    let mut a = t.clone().into_active_model();
    set_status(&mut a, to);
    stop_clock(engine, &t, &mut a, t.accepted_at);
    let updated = a.update(txn).await?;
    record(txn, &updated, "task_commitment_approved", title, actor, now).await?;
    Ok(updated)
}

/// Makes a pre-approval final (拿地即开工: the land grant arrived): the
/// approval recorded ahead is now the decision, BLZT 11 or 12.
pub async fn finalise(
    engine: Engine<'_>,
    txn: &DatabaseTransaction,
    t: Model,
    with_tolerance: bool,
    title: String,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Model> {
    let command = if with_tolerance {
        Command::ApproveWithTolerance
    } else {
        Command::Approve
    };
    let to = t.status().apply(command)?;
    let mut a = t.clone().into_active_model();
    set_status(&mut a, to);
    stop_clock(engine, &t, &mut a, china_local(now));
    let updated = a.update(txn).await?;
    record(txn, &updated, "task_finalised", title, actor, now).await?;
    Ok(updated)
}
