//! Filing a 诉求 and every step after it, each in one transaction with its
//! timeline entry and events.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, EntityTrait, IntoActiveModel, QueryFilter,
};
use yizhan_approval::calendar::china_local;
use yizhan_approval::{Calendar, PauseReason};
use yizhan_events::contracts::{
    EnterpriseRequestAccepted, EnterpriseRequestAnswered, EnterpriseRequestDispatched,
    EnterpriseRequestFiled, EnterpriseRequestInfoRequested, EnterpriseRequestInfoSupplied,
    EnterpriseRequestRated, EnterpriseRequestReopened, EnterpriseRequestTransferred, RequestStep,
};
use yizhan_workflow::idempotent::{self, Idempotent, Recorded};
use yizhan_workflow::timeline::{self, Entry};

use super::{Actor, ClockKind, Error, NOT_FOUND, dispatch_rule, request};
use crate::domain::ratings::Subject;
use crate::domain::requests::{self as domain, Category, Channel, ClockChange, Command, Status};
use crate::store::SOURCE;
use crate::store::ratings::{self, RateableCase};

/// A request as filed.
#[derive(Debug, Clone)]
pub struct NewRequest {
    /// The enterprise (normalised USCC).
    pub enterprise_uscc: String,
    /// Category.
    pub category: Category,
    /// Channel.
    pub channel: Channel,
    /// What is asked.
    pub description: String,
    /// Material ids at the document service.
    pub attachments: Vec<String>,
    /// Who files.
    pub actor: Actor,
}

async fn append(
    txn: &DatabaseTransaction,
    id: &str,
    action: &str,
    title: String,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    timeline::append(
        txn,
        Entry {
            subject_id: id,
            case_id: Some(id),
            task_id: None,
            action,
            title,
            blzt: None,
        },
        actor,
        now,
    )
    .await?;
    Ok(())
}

fn step_of(row: &request::Model, actor: &Actor, now: DateTime<Utc>) -> RequestStep {
    RequestStep {
        request: row.facts(),
        actor: actor.clone(),
        at: now,
        text: None,
        from_department_code: None,
        satisfaction: None,
        satisfaction_name: None,
        late: None,
    }
}

async fn emit<E: yizhan_events::contracts::Event>(
    txn: &DatabaseTransaction,
    event: &E,
) -> Result<(), Error> {
    yizhan_events::outbox::enqueue(txn, SOURCE, event).await?;
    Ok(())
}

/// The route of `category` under the current rules; a 409 when an admin
/// has not set the rules yet.
async fn route_of(
    db: &impl ConnectionTrait,
    category: Category,
) -> Result<dispatch_rule::Model, Error> {
    dispatch_rule::Entity::find_by_id(category.code())
        .one(db)
        .await?
        .ok_or_else(|| {
            Error::conflict(
                "dispatch_rules_missing",
                "派单规则尚未配置，暂不能受理诉求，请联系管理员",
            )
        })
}

/// Files `new`, dispatches it by the rules and starts the 签收 clock,
/// under the `Idempotency-Key` if given.
pub async fn file<R: serde::Serialize>(
    db: &DatabaseConnection,
    calendar: &Calendar,
    new: NewRequest,
    key: Option<Idempotent<'_>>,
    respond: impl Fn(&request::Model) -> R,
    now: DateTime<Utc>,
) -> Result<Recorded<request::Model>, Error> {
    idempotent::create(
        db,
        key,
        async |txn| file_in(txn, calendar, &new, None, now).await,
        respond,
    )
    .await
}

/// Files `new` in the caller's transaction (with its events), so that what
/// caused it — an objection to a 免申即享 benefit — and the request commit
/// together. `department` sends it to that department when the rules know
/// it (their entry gives its name; the category keeps its answer limit);
/// otherwise the category's route applies, as for any request.
pub async fn file_in(
    txn: &DatabaseTransaction,
    calendar: &Calendar,
    new: &NewRequest,
    department: Option<&str>,
    now: DateTime<Utc>,
) -> Result<request::Model, Error> {
    let mut route = route_of(txn, new.category).await?;
    if let Some(code) = department
        && let Some(known) = dispatch_rule::Entity::find()
            .filter(dispatch_rule::Column::DepartmentCode.eq(code))
            .one(txn)
            .await?
    {
        route.department_code = known.department_code;
        route.department_name = known.department_name;
    }
    let local = china_local(now);
    let id = uuid::Uuid::now_v7().to_string();
    let mut row = request::Model {
        id: id.clone(),
        enterprise_uscc: new.enterprise_uscc.clone(),
        category: new.category.code().to_owned(),
        channel: new.channel.code().to_owned(),
        description: new.description.clone(),
        attachments: serde_json::to_string(&new.attachments).unwrap_or_else(|_| "[]".into()),
        filed_by: new.actor.sub.clone(),
        filed_role: new.actor.role.clone(),
        status: Status::Dispatched.code().to_owned(),
        round: 1,
        department_code: route.department_code.clone(),
        department_name: route.department_name.clone(),
        answer_limit_days: route.answer_limit_days,
        filed_at: now,
        clock_kind: None,
        clock_started_at: None,
        clock_events: "[]".into(),
        in_queue: true,
        paused: false,
        due_key: String::new(),
        next_alarm_key: None,
        warned_at: None,
        overdue_notified_at: None,
        answered_late: false,
        handling_half_days: None,
        answer: None,
        satisfaction: None,
        transfers: 0,
        updated_at: now,
    };
    let clock = domain::accept_clock(local);
    row.set_clock(Some((ClockKind::Accept, &clock)), true, calendar, local);
    yizhan_workflow::lock::subject(txn, &id).await?;
    request::Entity::insert(row.clone().into_active_model())
        .exec_without_returning(txn)
        .await?;
    let actor = &new.actor;
    append(
        txn,
        &id,
        "filed",
        format!(
            "诉求已受理（{}，{}）",
            new.channel.name(),
            new.category.name()
        ),
        actor,
        now,
    )
    .await?;
    append(
        txn,
        &id,
        "dispatched",
        format!("已派单至{}，请于 1 个工作日内签收", route.department_name),
        &system(),
        now,
    )
    .await?;
    emit(txn, &EnterpriseRequestFiled(step_of(&row, actor, now))).await?;
    emit(
        txn,
        &EnterpriseRequestDispatched(step_of(&row, &system(), now)),
    )
    .await?;
    Ok(row)
}

/// The service itself, for automatic steps.
pub(crate) fn system() -> Actor {
    yizhan_workflow::actor::system(crate::SERVICE)
}

/// One step on a request, with what it needs.
#[derive(Debug, Clone)]
pub enum Step {
    /// The department takes it.
    Accept,
    /// The department passes it to another, with a reason.
    Transfer {
        /// Target department code.
        to: String,
        /// Why.
        reason: String,
    },
    /// The department asks the enterprise.
    Ask {
        /// The question.
        question: String,
    },
    /// The enterprise replies.
    Reply {
        /// The reply.
        text: String,
    },
    /// The department answers.
    Answer {
        /// The answer.
        answer: String,
    },
    /// The enterprise rates the answer.
    Rate(domain::Satisfaction),
    /// The enterprise withdraws it.
    Withdraw,
}

impl Step {
    fn command(&self) -> Command {
        match self {
            Step::Accept => Command::Accept,
            Step::Transfer { .. } => Command::Transfer,
            Step::Ask { .. } => Command::AskEnterprise,
            Step::Reply { .. } => Command::Reply,
            Step::Answer { .. } => Command::Answer,
            Step::Rate(s) => Command::Rate(*s),
            Step::Withdraw => Command::Withdraw,
        }
    }
}

fn clock_error(e: yizhan_approval::ClockError) -> Error {
    Error::conflict("clock_out_of_order", e.message())
}

/// Applies `step` to request `id` at `now`. `may` says whether the caller
/// may act on the row as it is (a department on its own request, an
/// enterprise on its own); otherwise 404, its existence not revealed.
pub async fn act(
    db: &DatabaseConnection,
    calendar: &Calendar,
    id: &str,
    may: impl Fn(&request::Model) -> bool,
    step: Step,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<request::Model, Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    yizhan_workflow::lock::subject(&txn, id).await?;
    let mut row = request::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|r| may(r))
        .ok_or(Error::NotFound(NOT_FOUND))?;
    let transition = domain::apply(
        row.status(),
        u8::try_from(row.round).unwrap_or(1),
        step.command(),
    )
    .map_err(|e| Error::conflict("illegal_transition", e.to_string()))?;
    let local = china_local(now);
    let from_department = row.department_code.clone();
    if let Step::Transfer { to, .. } = &step {
        let target = dispatch_rule::Entity::find()
            .all(&txn)
            .await?
            .into_iter()
            .find(|r| &r.department_code == to)
            .ok_or_else(|| {
                Error::field(
                    "to_department",
                    "unknown_department",
                    "只能转办至派单规则中的承办部门",
                )
            })?;
        if *to == row.department_code {
            return Err(Error::field(
                "to_department",
                "same_department",
                "不能转办给本部门",
            ));
        }
        row.department_code = target.department_code;
        row.department_name = target.department_name;
        row.transfers += 1;
    }
    row.status = transition.to.code().to_owned();
    row.round = i32::from(transition.round);
    let mut late = None;
    let current = row.clock();
    match transition.clock {
        ClockChange::None => {
            let kept = current.as_ref().map(|(k, c)| (*k, c));
            row.set_clock(kept, false, calendar, local);
        }
        ClockChange::Accepted | ClockChange::SecondRound => {
            let clock = domain::answer_clock(local, row.answer_limit_days).map_err(clock_error)?;
            row.set_clock(Some((ClockKind::Answer, &clock)), true, calendar, local);
        }
        ClockChange::Redispatched => {
            let clock = domain::accept_clock(local);
            row.set_clock(Some((ClockKind::Accept, &clock)), true, calendar, local);
        }
        ClockChange::Pause | ClockChange::Resume => {
            let (kind, mut clock) = current.ok_or(Error::NotFound(NOT_FOUND))?;
            if transition.clock == ClockChange::Pause {
                clock.pause(local, PauseReason::Supplement)
            } else {
                clock.resume(local)
            }
            .map_err(clock_error)?;
            row.set_clock(Some((kind, &clock)), false, calendar, local);
        }
        ClockChange::StopAnswer => {
            if let Some((_, clock)) = current {
                let reading = clock.reading_at(calendar, local);
                let is_late = reading.committed.is_late();
                row.answered_late |= is_late;
                row.handling_half_days =
                    Some(row.handling_half_days.unwrap_or(0) + reading.used.half_days());
                late = Some(is_late);
            }
            row.set_clock(None, true, calendar, local);
        }
        ClockChange::StopAll => row.set_clock(None, true, calendar, local),
    }
    row.updated_at = now;
    let mut event = step_of(&row, actor, now);
    let (action, title) = match &step {
        Step::Accept => ("accepted", format!("{}已签收", row.department_name)),
        Step::Transfer { reason, .. } => {
            event.text = Some(reason.clone());
            event.from_department_code = Some(from_department);
            (
                "transferred",
                format!("转办至{}，理由：{reason}", row.department_name),
            )
        }
        Step::Ask { question } => {
            event.text = Some(question.clone());
            ("info_requested", format!("请企业补充：{question}"))
        }
        Step::Reply { text } => {
            event.text = Some(text.clone());
            ("info_supplied", format!("企业已补充：{text}"))
        }
        Step::Answer { answer } => {
            row.answer = Some(answer.clone());
            event.text = Some(answer.clone());
            event.late = late;
            let suffix = if late == Some(true) {
                "（已超过答复时限）"
            } else {
                ""
            };
            ("answered", format!("{}已答复{suffix}", row.department_name))
        }
        Step::Rate(s) => {
            row.satisfaction = Some(s.code().to_owned());
            event.satisfaction = Some(s.code().to_owned());
            event.satisfaction_name = Some(s.name().to_owned());
            ("rated", format!("企业评价：{}", s.name()))
        }
        Step::Withdraw => ("withdrawn", "企业已撤回诉求".to_owned()),
    };
    event.request = row.facts();
    let mut active = row.clone().into_active_model().reset_all();
    active.id = Set(row.id.clone());
    active.update(&txn).await?;
    append(&txn, id, action, title, actor, now).await?;
    match &step {
        Step::Accept => emit(&txn, &EnterpriseRequestAccepted(event)).await?,
        Step::Transfer { .. } => {
            emit(&txn, &EnterpriseRequestTransferred(event.clone())).await?;
            emit(&txn, &EnterpriseRequestDispatched(event)).await?;
        }
        Step::Ask { .. } => emit(&txn, &EnterpriseRequestInfoRequested(event)).await?,
        Step::Reply { .. } => emit(&txn, &EnterpriseRequestInfoSupplied(event)).await?,
        Step::Answer { .. } => emit(&txn, &EnterpriseRequestAnswered(event)).await?,
        Step::Rate(_) => {
            emit(&txn, &EnterpriseRequestRated(event.clone())).await?;
            if transition.clock == ClockChange::SecondRound {
                append(
                    &txn,
                    id,
                    "reopened",
                    format!("企业不满意，{}重新办理（第二轮）", row.department_name),
                    &system(),
                    now,
                )
                .await?;
                emit(&txn, &EnterpriseRequestReopened(event)).await?;
            }
        }
        Step::Withdraw => {}
    }
    if row.status() == Status::Closed {
        ratings::record_rateable(
            &txn,
            RateableCase {
                subject: Subject::Request,
                case_id: row.id.clone(),
                enterprise_uscc: row.enterprise_uscc.clone(),
                department_code: row.department_code.clone(),
                department_name: row.department_name.clone(),
                item_name: row.category().name().to_owned(),
                channel: row.channel.clone(),
                concluded_at: Some(now),
            },
        )
        .await?;
    }
    txn.commit().await?;
    Ok(row)
}
