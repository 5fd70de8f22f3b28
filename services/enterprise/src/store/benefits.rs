//! 免申即享 persistence: publishing a policy (and matching it at once),
//! the officer's review of candidates, disbursement batches within the
//! budget, and the enterprise's decline or objection. Every change commits
//! with its outbox events.

use chrono::{NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbErr,
    EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect, Set,
};
use yizhan_events::contracts::{
    Actor, BenefitConfirmed, BenefitDeclined, BenefitExcluded, BenefitObjected, BenefitPaid,
    BenefitPolicyPublished,
};
use yizhan_workflow::Error;
use yizhan_workflow::idempotent::{self, Idempotent, Recorded};

use super::SOURCE;
use super::benefits_schema::{batch, candidate, policy};
use super::matching::{self, benefit_ref, items};
use super::requests::commands::{NewRequest, file_in};
use crate::domain::amount::check_budget;
use crate::domain::benefits::{Candidate, CandidateAction, Draft, Policy};
use crate::domain::requests::{Category, Channel};

pub use super::benefits_schema::policy::Model as PolicyRow;
pub use super::benefits_schema::{batch::Model as Batch, candidate::Model as CandidateRow};

/// What a 404 names.
const NOT_FOUND: &str = "政策或候选企业";

/// A policy as an admin submits it.
#[derive(Debug, Clone)]
pub struct NewPolicy {
    /// Title.
    pub title: String,
    /// Responsible department code.
    pub department: String,
    /// Eligibility rule JSON.
    pub eligibility: serde_json::Value,
    /// Amount rule JSON.
    pub amount: serde_json::Value,
    /// Budget, 分.
    pub budget_fen: i64,
    /// First day.
    pub valid_from: NaiveDate,
    /// Last day.
    pub valid_until: NaiveDate,
}

/// Publishes a policy checked whole by `Policy::publish` (the first problem
/// named as a field), and matches it against every stored profile in the
/// same transaction, so no enterprise is told before the policy exists.
pub async fn publish(
    db: &DatabaseConnection,
    new: NewPolicy,
    actor: &Actor,
    key: Option<Idempotent<'_>>,
    respond: impl Fn(&(PolicyRow, i64)) -> serde_json::Value,
) -> Result<Recorded<(PolicyRow, i64)>, Error> {
    idempotent::create(
        db,
        key,
        async |txn: &DatabaseTransaction| {
            let now = Utc::now();
            let today = crate::today(now);
            let known = items(txn).await?;
            let names = |code: &str| known.get(code).cloned();
            let checked: Policy = Policy::publish(
                &Draft {
                    title: &new.title,
                    eligibility: &new.eligibility,
                    amount: &new.amount,
                    budget_fen: new.budget_fen,
                    valid_from: new.valid_from,
                    valid_until: new.valid_until,
                },
                &names,
                today,
            )
            .map_err(|e| Error::field(e.field, "invalid_policy", e.message))?;
            let department = new.department.trim();
            if department.is_empty() || department.len() > 64 {
                return Err(Error::field(
                    "department",
                    "required",
                    "请填写负责兑现的部门编码",
                ));
            }
            let row = policy::Model {
                id: uuid::Uuid::now_v7().to_string(),
                title: checked.title.clone(),
                department: department.to_owned(),
                eligibility: checked.eligibility.to_json().to_string(),
                amount: checked.amount.to_json().to_string(),
                budget_fen: checked.budget_fen,
                committed_fen: 0,
                valid_from: checked.valid_from,
                valid_until: checked.valid_until,
                published_by: actor.sub.clone(),
                published_at: now,
            };
            policy::ActiveModel::from(row.clone()).insert(txn).await?;
            let mut count = 0;
            if checked.in_force_on(today) {
                for m in matching::eligible(txn, &checked, &known, today).await? {
                    if matching::record_candidate(txn, &row, m, now).await? {
                        count += 1;
                    }
                }
            }
            yizhan_events::outbox::enqueue(
                txn,
                SOURCE,
                &BenefitPolicyPublished {
                    policy_id: row.id.clone(),
                    title: row.title.clone(),
                    department: row.department.clone(),
                    budget_fen: row.budget_fen,
                    valid_from: row.valid_from,
                    valid_until: row.valid_until,
                    matched: count,
                    actor: actor.clone(),
                    at: now,
                },
            )
            .await?;
            Ok((row, count))
        },
        respond,
    )
    .await
}

/// Every policy, newest first.
pub async fn policies(conn: &impl ConnectionTrait) -> Result<Vec<PolicyRow>, DbErr> {
    policy::Entity::find()
        .order_by_desc(policy::Column::Id)
        .all(conn)
        .await
}

/// One policy.
pub async fn find_policy(conn: &impl ConnectionTrait, id: &str) -> Result<PolicyRow, Error> {
    policy::Entity::find_by_id(id.to_owned())
        .one(conn)
        .await?
        .ok_or(Error::NotFound(NOT_FOUND))
}

/// A policy's candidates, in matching order.
pub async fn candidates(
    conn: &impl ConnectionTrait,
    policy_id: &str,
) -> Result<Vec<CandidateRow>, DbErr> {
    candidate::Entity::find()
        .filter(candidate::Column::PolicyId.eq(policy_id))
        .order_by_asc(candidate::Column::Id)
        .all(conn)
        .await
}

/// One candidate with its policy.
pub async fn find_candidate(
    conn: &impl ConnectionTrait,
    id: &str,
) -> Result<(CandidateRow, PolicyRow), Error> {
    let c = candidate::Entity::find_by_id(id.to_owned())
        .one(conn)
        .await?
        .ok_or(Error::NotFound(NOT_FOUND))?;
    let p = find_policy(conn, &c.policy_id).await?;
    Ok((c, p))
}

fn state_of(c: &CandidateRow) -> Candidate {
    Candidate::from_code(&c.state).unwrap_or(Candidate::Matched)
}

/// Moves one candidate by `action`, with its note; refused (409) when its
/// state does not allow it.
async fn step(
    txn: &DatabaseTransaction,
    c: CandidateRow,
    action: CandidateAction,
    note: Option<String>,
    batch_id: Option<&str>,
) -> Result<CandidateRow, Error> {
    let next = state_of(&c)
        .apply(action)
        .map_err(|why| Error::conflict("illegal_transition", why))?;
    let mut active = c.into_active_model();
    active.state = Set(next.code().to_owned());
    if note.is_some() {
        active.note = Set(note);
    }
    if let Some(b) = batch_id {
        active.batch_id = Set(Some(b.to_owned()));
    }
    active.updated_at = Set(Utc::now());
    Ok(active.update(txn).await?)
}

/// Locks one candidate's policy (its budget) and reads the candidate.
async fn locked(
    txn: &DatabaseTransaction,
    id: &str,
    may: impl Fn(&CandidateRow, &PolicyRow) -> bool,
) -> Result<(CandidateRow, PolicyRow), Error> {
    let (c, p) = find_candidate(txn, id).await?;
    if !may(&c, &p) {
        return Err(Error::NotFound(NOT_FOUND));
    }
    yizhan_kit::db::lock_key(txn, &format!("policy:{}", p.id)).await?;
    find_candidate(txn, id).await
}

/// An officer excludes a candidate, with a reason.
pub async fn exclude(
    db: &DatabaseConnection,
    id: &str,
    may: impl Fn(&CandidateRow, &PolicyRow) -> bool,
    reason: &str,
    actor: &Actor,
) -> Result<CandidateRow, Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let (c, p) = locked(&txn, id, may).await?;
    let c = step(
        &txn,
        c,
        CandidateAction::Exclude,
        Some(reason.to_owned()),
        None,
    )
    .await?;
    yizhan_events::outbox::enqueue(
        &txn,
        SOURCE,
        &BenefitExcluded {
            benefit: benefit_ref(&p, &c),
            reason: reason.to_owned(),
            actor: actor.clone(),
            at: c.updated_at,
        },
    )
    .await?;
    txn.commit().await?;
    Ok(c)
}

/// An officer confirms `candidate_ids` of a policy as one disbursement
/// batch: every one must be 待审核 with an amount, and their sum must fit
/// what is left of the budget, else nothing is confirmed (409 naming both
/// sums in 元).
pub async fn create_batch(
    db: &DatabaseConnection,
    policy_id: &str,
    candidate_ids: &[String],
    actor: &Actor,
) -> Result<(Batch, Vec<CandidateRow>), Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    yizhan_kit::db::lock_key(&txn, &format!("policy:{policy_id}")).await?;
    let p = find_policy(&txn, policy_id).await?;
    let mut chosen = Vec::new();
    for (i, id) in candidate_ids.iter().enumerate() {
        let field = format!("candidate_ids[{i}]");
        let c = candidate::Entity::find_by_id(id.clone())
            .one(&txn)
            .await?
            .filter(|c| c.policy_id == p.id)
            .ok_or_else(|| Error::field(&field, "unknown_candidate", "不是本政策的候选企业"))?;
        if state_of(&c) != Candidate::Matched {
            return Err(Error::field(
                &field,
                "not_matched",
                format!("该企业当前为“{}”，不能确认", state_of(&c).name()),
            ));
        }
        if c.amount_fen.is_none() {
            return Err(Error::field(
                &field,
                "no_amount",
                "计算金额所需的事实未登记，请先补录企业档案",
            ));
        }
        if chosen.iter().any(|o: &CandidateRow| o.id == c.id) {
            return Err(Error::field(&field, "duplicate", "同一企业在本批中重复"));
        }
        chosen.push(c);
    }
    if chosen.is_empty() {
        return Err(Error::field(
            "candidate_ids",
            "required",
            "请至少选择一家企业",
        ));
    }
    let total = check_budget(
        p.budget_fen,
        p.committed_fen,
        chosen.iter().filter_map(|c| c.amount_fen),
    )
    .map_err(|over| Error::conflict("over_budget", over.to_string()))?;
    let now = Utc::now();
    let b = batch::Model {
        id: uuid::Uuid::now_v7().to_string(),
        policy_id: p.id.clone(),
        total_fen: total,
        state: "confirmed".into(),
        created_by: actor.sub.clone(),
        created_at: now,
        paid_by: None,
        paid_at: None,
    };
    batch::ActiveModel::from(b.clone()).insert(&txn).await?;
    let mut confirmed = Vec::new();
    for c in chosen {
        let c = step(&txn, c, CandidateAction::Confirm, None, Some(&b.id)).await?;
        yizhan_events::outbox::enqueue(
            &txn,
            SOURCE,
            &BenefitConfirmed {
                benefit: benefit_ref(&p, &c),
                batch_id: b.id.clone(),
                actor: actor.clone(),
                at: now,
            },
        )
        .await?;
        confirmed.push(c);
    }
    let mut active = p.into_active_model();
    active.committed_fen = Set(active.committed_fen.as_ref() + total);
    active.update(&txn).await?;
    txn.commit().await?;
    Ok((b, confirmed))
}

/// One batch and its policy.
pub async fn find_batch(
    conn: &impl ConnectionTrait,
    id: &str,
) -> Result<(Batch, PolicyRow), Error> {
    let b = batch::Entity::find_by_id(id.to_owned())
        .one(conn)
        .await?
        .ok_or(Error::NotFound("发放批次"))?;
    let p = find_policy(conn, &b.policy_id).await?;
    Ok((b, p))
}

/// Records a batch as paid: every candidate still 已确认 in it becomes
/// 已发放 (one that declined or objected meanwhile is not paid, and its
/// amount goes back to the budget).
pub async fn pay_batch(
    db: &DatabaseConnection,
    id: &str,
    actor: &Actor,
) -> Result<(Batch, Vec<CandidateRow>), Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let (_, p) = find_batch(&txn, id).await?;
    yizhan_kit::db::lock_key(&txn, &format!("policy:{}", p.id)).await?;
    let (b, p) = find_batch(&txn, id).await?;
    if b.state != "confirmed" {
        return Err(Error::conflict("batch_paid", "该批次已发放"));
    }
    let now = Utc::now();
    let members = candidate::Entity::find()
        .filter(candidate::Column::BatchId.eq(b.id.as_str()))
        .order_by_asc(candidate::Column::Id)
        .all(&txn)
        .await?;
    let mut paid = Vec::new();
    let mut paid_fen = 0;
    for c in members {
        if state_of(&c) != Candidate::Confirmed {
            continue;
        }
        let c = step(&txn, c, CandidateAction::Pay, None, None).await?;
        paid_fen += c.amount_fen.unwrap_or_default();
        yizhan_events::outbox::enqueue(
            &txn,
            SOURCE,
            &BenefitPaid {
                benefit: benefit_ref(&p, &c),
                batch_id: b.id.clone(),
                actor: actor.clone(),
                at: now,
            },
        )
        .await?;
        paid.push(c);
    }
    let returned = b.total_fen - paid_fen;
    let mut active = b.into_active_model();
    active.state = Set("paid".into());
    active.total_fen = Set(paid_fen);
    active.paid_by = Set(Some(actor.sub.clone()));
    active.paid_at = Set(Some(now));
    let b = active.update(&txn).await?;
    if returned != 0 {
        let mut active = p.into_active_model();
        active.committed_fen = Set(active.committed_fen.as_ref() - returned);
        active.update(&txn).await?;
    }
    txn.commit().await?;
    Ok((b, paid))
}

/// Up to `limit` of an enterprise's benefits older than the id `before`
/// (exclusive), with their policies, newest first.
pub async fn of_enterprise(
    conn: &impl ConnectionTrait,
    uscc: &str,
    before: Option<String>,
    limit: u64,
) -> Result<Vec<(CandidateRow, PolicyRow)>, DbErr> {
    let mut q = candidate::Entity::find().filter(candidate::Column::EnterpriseUscc.eq(uscc));
    if let Some(id) = before {
        q = q.filter(candidate::Column::Id.lt(id));
    }
    let rows = q
        .order_by_desc(candidate::Column::Id)
        .limit(limit)
        .all(conn)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for c in rows {
        if let Some(p) = policy::Entity::find_by_id(c.policy_id.clone())
            .one(conn)
            .await?
        {
            out.push((c, p));
        }
    }
    Ok(out)
}

/// The enterprise declines (`object == false`) or objects to its benefit,
/// with a reason (required for an objection). A confirmed amount leaves
/// the batch's commitment when the batch is paid.
///
/// An objection is a 诉求 (政策咨询) to the policy's department, filed in
/// the same transaction: the objection is never recorded without the
/// request that answers it (nor filed twice, the candidate's state allows
/// one objection). With no dispatch rules set yet the objection is refused
/// (409) like any request.
pub async fn respond(
    db: &DatabaseConnection,
    calendar: &yizhan_approval::Calendar,
    id: &str,
    may: impl Fn(&CandidateRow, &PolicyRow) -> bool,
    object: bool,
    reason: Option<String>,
    actor: &Actor,
) -> Result<(CandidateRow, PolicyRow), Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let (c, p) = locked(&txn, id, may).await?;
    let now = Utc::now();
    let c = if object {
        let reason = reason.unwrap_or_default();
        let c = step(&txn, c, CandidateAction::Object, Some(reason.clone()), None).await?;
        yizhan_events::outbox::enqueue(
            &txn,
            SOURCE,
            &BenefitObjected {
                benefit: benefit_ref(&p, &c),
                reason: reason.clone(),
                actor: actor.clone(),
                at: now,
            },
        )
        .await?;
        let amount = c
            .amount_fen
            .map_or_else(|| "金额待核定".to_owned(), crate::domain::amount::yuan);
        let objection = NewRequest {
            enterprise_uscc: c.enterprise_uscc.clone(),
            category: Category::Policy,
            // Raised on the online platform, where the enterprise saw
            // the benefit.
            channel: Channel::Gaoxintong,
            description: format!(
                "对免申即享政策《{}》（{amount}）提出异议：{reason}",
                p.title
            ),
            attachments: Vec::new(),
            actor: actor.clone(),
        };
        file_in(&txn, calendar, &objection, Some(&p.department), now).await?;
        c
    } else {
        let c = step(&txn, c, CandidateAction::Decline, reason.clone(), None).await?;
        yizhan_events::outbox::enqueue(
            &txn,
            SOURCE,
            &BenefitDeclined {
                benefit: benefit_ref(&p, &c),
                reason,
                actor: actor.clone(),
                at: now,
            },
        )
        .await?;
        c
    };
    txn.commit().await?;
    Ok((c, p))
}
