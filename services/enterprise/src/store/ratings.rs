//! 好差评 persistence: the cases that may be rated, ratings (once each),
//! the follow-up of a 差评 in the responsible department, and its figures.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    DatabaseTransaction, DbErr, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Serialize;
use utoipa::ToSchema;
use yizhan_approval::Calendar;
use yizhan_approval::calendar::china_local;
use yizhan_events::contracts::{
    FollowUpStep, RatingFacts, RatingFollowUpConcluded, RatingFollowUpDue, RatingFollowUpOpened,
    RatingRecorded,
};

use super::SOURCE;
use super::requests::{Actor, Error, rateable, rating};
use crate::domain::ratings::{FollowUp, Score, Subject};

/// What a 404 names.
const NOT_FOUND: &str = "评价对象";

/// A case that may be rated once it is concluded.
#[derive(Debug, Clone)]
pub struct RateableCase {
    /// What kind.
    pub subject: Subject,
    /// Its id.
    pub case_id: String,
    /// The applicant enterprise.
    pub enterprise_uscc: String,
    /// Responsible department.
    pub department_code: String,
    /// Its name.
    pub department_name: String,
    /// Item, stage or category, in Chinese.
    pub item_name: String,
    /// Channel code.
    pub channel: String,
    /// Concluded at; `None` while under way.
    pub concluded_at: Option<DateTime<Utc>>,
}

fn subject_code(s: Subject) -> &'static str {
    match s {
        Subject::LicensingApplication => "licensing_application",
        Subject::ConstructionStage => "construction_stage",
        Subject::Request => "request",
    }
}

/// The stored subject code's Chinese name.
pub fn subject_name(code: &str) -> &'static str {
    [
        Subject::LicensingApplication,
        Subject::ConstructionStage,
        Subject::Request,
    ]
    .into_iter()
    .find(|s| subject_code(*s) == code)
    .map_or("办件", Subject::name)
}

/// The id a case is rated under: `<subject>:<case id>`.
pub fn rateable_id(subject: Subject, case_id: &str) -> String {
    format!("{}:{case_id}", subject_code(subject))
}

/// Records or updates `case`: the responsible department follows the
/// latest event (the last deciding department), and a concluded case stays
/// concluded. Applied twice, the same row.
pub async fn record_rateable(txn: &DatabaseTransaction, case: RateableCase) -> Result<(), DbErr> {
    let id = rateable_id(case.subject, &case.case_id);
    let existing = rateable::Entity::find_by_id(id.as_str()).one(txn).await?;
    let row = rateable::Model {
        id,
        subject: subject_code(case.subject).to_owned(),
        case_id: case.case_id,
        enterprise_uscc: case.enterprise_uscc,
        department_code: case.department_code,
        department_name: case.department_name,
        item_name: case.item_name,
        channel: case.channel,
        concluded_at: case.concluded_at,
    };
    match existing {
        None => {
            rateable::Entity::insert(row.into_active_model())
                .exec_without_returning(txn)
                .await?;
        }
        Some(old) => {
            let mut active = old.clone().into_active_model();
            if !row.department_code.is_empty() {
                active.department_code = Set(row.department_code);
                active.department_name = Set(row.department_name);
            }
            if !row.item_name.is_empty() && old.item_name.is_empty() {
                active.item_name = Set(row.item_name);
            }
            if old.concluded_at.is_none() && row.concluded_at.is_some() {
                active.concluded_at = Set(row.concluded_at);
            }
            active.update(txn).await?;
        }
    }
    Ok(())
}

/// The facts every 好差评 event carries.
pub fn facts(r: &rating::Model) -> RatingFacts {
    let score = Score::new(i64::from(r.score)).ok();
    RatingFacts {
        rating_id: r.id.clone(),
        subject: r.subject.clone(),
        subject_name: subject_name(&r.subject).to_owned(),
        case_id: r.case_id.clone(),
        item_name: r.item_name.clone(),
        enterprise_uscc: r.enterprise_uscc.clone(),
        department_code: r.department_code.clone(),
        department_name: r.department_name.clone(),
        score: score.map_or(0, Score::value),
        score_name: score.map_or("", Score::name).to_owned(),
        comment: r.comment.clone(),
    }
}

impl rating::Model {
    /// The stored follow-up status.
    pub fn follow_up(&self) -> Option<FollowUp> {
        self.follow_up.as_deref().and_then(follow_up_of)
    }
}

fn follow_up_code(f: FollowUp) -> &'static str {
    match f {
        FollowUp::Open => "open",
        FollowUp::Verified => "verified",
        FollowUp::Rectified => "rectified",
        FollowUp::NotSubstantiated => "not_substantiated",
    }
}

fn follow_up_of(code: &str) -> Option<FollowUp> {
    [
        FollowUp::Open,
        FollowUp::Verified,
        FollowUp::Rectified,
        FollowUp::NotSubstantiated,
    ]
    .into_iter()
    .find(|f| follow_up_code(*f) == code)
}

fn follow_up_step(r: &rating::Model, note: Option<String>, now: DateTime<Utc>) -> FollowUpStep {
    let status = r.follow_up().unwrap_or(FollowUp::Open);
    FollowUpStep {
        rating: facts(r),
        status: follow_up_code(status).to_owned(),
        status_name: status.name().to_owned(),
        due_date: r.follow_up_due.unwrap_or_default(),
        note,
        on_time: r.follow_up_on_time,
        at: now,
    }
}

/// A rating as given.
#[derive(Debug, Clone)]
pub struct NewRating {
    /// What is rated.
    pub rateable_id: String,
    /// 1-5.
    pub score: Score,
    /// Optional comment.
    pub comment: Option<String>,
    /// Who rates.
    pub actor: Actor,
}

/// Rates a concluded case once. `may` says whether the caller is its
/// applicant; otherwise 404. A 差评 opens a follow-up due in
/// `follow_up_days` working days.
pub async fn rate(
    db: &DatabaseConnection,
    calendar: &Calendar,
    new: NewRating,
    may: impl Fn(&rateable::Model) -> bool,
    follow_up_days: i32,
    now: DateTime<Utc>,
) -> Result<rating::Model, Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    yizhan_kit::db::lock_key(&txn, &format!("rating:{}", new.rateable_id)).await?;
    let case = rateable::Entity::find_by_id(new.rateable_id.as_str())
        .one(&txn)
        .await?
        .filter(|c| may(c))
        .ok_or(Error::NotFound(NOT_FOUND))?;
    if case.concluded_at.is_none() {
        return Err(Error::conflict(
            "not_concluded",
            "办件尚未办结，办结后方可评价",
        ));
    }
    let already = rating::Entity::find()
        .filter(rating::Column::RateableId.eq(case.id.as_str()))
        .one(&txn)
        .await?;
    if already.is_some() {
        return Err(Error::conflict(
            "already_rated",
            "该办件已评价，每件只能评价一次",
        ));
    }
    let bad = new.score.is_bad();
    let due = if bad {
        let days = u32::try_from(follow_up_days).unwrap_or(1);
        Some(
            calendar
                .add_working_days(china_local(now).date(), days)
                .map_err(|_| Error::conflict("calendar", "整改期限超出日历范围"))?
                .value,
        )
    } else {
        None
    };
    let row = rating::Model {
        id: uuid::Uuid::now_v7().to_string(),
        rateable_id: case.id.clone(),
        subject: case.subject.clone(),
        case_id: case.case_id.clone(),
        enterprise_uscc: case.enterprise_uscc.clone(),
        department_code: case.department_code.clone(),
        department_name: case.department_name.clone(),
        item_name: case.item_name.clone(),
        channel: case.channel.clone(),
        score: i32::from(new.score.value()),
        comment: new.comment.clone(),
        rated_by: new.actor.sub.clone(),
        rated_at: now,
        follow_up: bad.then(|| follow_up_code(FollowUp::Open).to_owned()),
        follow_up_due: due,
        verification: None,
        rectification: None,
        follow_up_closed_at: None,
        follow_up_on_time: None,
        due_notified_at: None,
    };
    rating::Entity::insert(row.clone().into_active_model())
        .exec_without_returning(&txn)
        .await?;
    yizhan_events::outbox::enqueue(
        &txn,
        SOURCE,
        &RatingRecorded {
            rating: facts(&row),
            actor: new.actor,
            at: now,
        },
    )
    .await?;
    if bad {
        yizhan_events::outbox::enqueue(
            &txn,
            SOURCE,
            &RatingFollowUpOpened(follow_up_step(&row, None, now)),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(row)
}

/// What the department records on a follow-up.
#[derive(Debug, Clone)]
pub enum FollowUpAction {
    /// 核实: whether the complaint holds, and what was found.
    Verify {
        /// The complaint holds.
        substantiated: bool,
        /// What was found.
        note: String,
    },
    /// 整改: what was changed.
    Rectify {
        /// What was changed.
        note: String,
    },
}

/// Records `action` on rating `id`'s follow-up; `may` says whether the
/// caller's department is responsible (otherwise 404).
pub async fn follow_up(
    db: &DatabaseConnection,
    id: &str,
    may: impl Fn(&rating::Model) -> bool,
    action: FollowUpAction,
    now: DateTime<Utc>,
) -> Result<rating::Model, Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    yizhan_kit::db::lock_key(&txn, &format!("rating-follow-up:{id}")).await?;
    let row = rating::Entity::find_by_id(id)
        .one(&txn)
        .await?
        .filter(|r| may(r))
        .ok_or(Error::NotFound("评价"))?;
    let current = row
        .follow_up()
        .ok_or_else(|| Error::conflict("no_follow_up", "该评价不是差评，无需回访整改"))?;
    let mut active = row.clone().into_active_model();
    let (next, note) = match &action {
        FollowUpAction::Verify {
            substantiated,
            note,
        } => {
            active.verification = Set(Some(note.clone()));
            (current.verify(*substantiated), note.clone())
        }
        FollowUpAction::Rectify { note } => {
            active.rectification = Set(Some(note.clone()));
            (current.rectify(), note.clone())
        }
    };
    let next = next.map_err(|m| Error::conflict("illegal_transition", m))?;
    active.follow_up = Set(Some(follow_up_code(next).to_owned()));
    if next.is_closed() {
        let today = china_local(now).date();
        active.follow_up_closed_at = Set(Some(now));
        active.follow_up_on_time = Set(Some(row.follow_up_due.is_none_or(|d| today <= d)));
    }
    let updated = active.update(&txn).await?;
    if next.is_closed() {
        yizhan_events::outbox::enqueue(
            &txn,
            SOURCE,
            &RatingFollowUpConcluded(follow_up_step(&updated, Some(note), now)),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(updated)
}

/// Announces once each open follow-up whose last day has come by `today`.
pub async fn sweep_due(
    db: &DatabaseConnection,
    today: NaiveDate,
    now: DateTime<Utc>,
    batch: u64,
) -> Result<usize, Error> {
    let due = rating::Entity::find()
        .filter(rating::Column::FollowUpDue.lte(today))
        .filter(rating::Column::FollowUpClosedAt.is_null())
        .filter(rating::Column::DueNotifiedAt.is_null())
        .order_by_asc(rating::Column::FollowUpDue)
        .limit(batch)
        .all(db)
        .await?;
    let mut announced = 0;
    for row in due {
        let txn = yizhan_kit::db::begin_write(db).await?;
        yizhan_kit::db::lock_key(&txn, &format!("rating-follow-up:{}", row.id)).await?;
        let Some(current) = rating::Entity::find_by_id(row.id.as_str())
            .one(&txn)
            .await?
        else {
            continue;
        };
        if current.due_notified_at.is_some() || current.follow_up_closed_at.is_some() {
            continue;
        }
        yizhan_events::outbox::enqueue(
            &txn,
            SOURCE,
            &RatingFollowUpDue(follow_up_step(&current, None, now)),
        )
        .await?;
        let mut active = current.into_active_model();
        active.due_notified_at = Set(Some(now));
        active.update(&txn).await?;
        txn.commit().await?;
        announced += 1;
    }
    Ok(announced)
}

/// Who sees which ratings.
#[derive(Debug, Clone)]
pub enum Scope {
    /// Everything (admins).
    All,
    /// These enterprises' (applicants, agents).
    Enterprises(Vec<String>),
    /// One department's.
    Department(String),
}

/// The rating `id` if it is in `scope`.
pub async fn find_in(
    db: &impl ConnectionTrait,
    scope: &Scope,
    id: &str,
) -> Result<Option<rating::Model>, DbErr> {
    let row = rating::Entity::find_by_id(id).one(db).await?;
    Ok(row.filter(|r| match scope {
        Scope::All => true,
        Scope::Enterprises(e) => e.contains(&r.enterprise_uscc),
        Scope::Department(d) => &r.department_code == d,
    }))
}

/// Up to `limit` ratings in `scope` older than the id `before`
/// (exclusive), newest first.
pub async fn list(
    db: &impl ConnectionTrait,
    scope: &Scope,
    before: Option<String>,
    limit: u64,
) -> Result<Vec<rating::Model>, DbErr> {
    let q = rating::Entity::find();
    let q = match scope {
        Scope::All => q,
        Scope::Enterprises(e) => q.filter(rating::Column::EnterpriseUscc.is_in(e.iter().cloned())),
        Scope::Department(d) => q.filter(rating::Column::DepartmentCode.eq(d.as_str())),
    };
    let q = match before {
        Some(id) => q.filter(rating::Column::Id.lt(id)),
        None => q,
    };
    q.order_by_desc(rating::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Rateable cases of these enterprises not rated yet, newest first.
pub async fn unrated(
    db: &impl ConnectionTrait,
    usccs: &[String],
    limit: u64,
) -> Result<Vec<rateable::Model>, DbErr> {
    let rated: Vec<String> = rating::Entity::find()
        .select_only()
        .column(rating::Column::RateableId)
        .filter(rating::Column::EnterpriseUscc.is_in(usccs.iter().cloned()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(rateable::Entity::find()
        .filter(rateable::Column::EnterpriseUscc.is_in(usccs.iter().cloned()))
        .filter(rateable::Column::ConcludedAt.is_not_null())
        .order_by_desc(rateable::Column::ConcludedAt)
        .all(db)
        .await?
        .into_iter()
        .filter(|c| !rated.contains(&c.id))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .collect())
}

/// Figures of one group of ratings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct RatingFigures {
    /// Ratings.
    pub total: u64,
    /// Sum of scores (average = sum / total).
    pub score_sum: u64,
    /// 差评 (1-2).
    pub bad: u64,
    /// Of the 差评, rectified or found unsubstantiated by the due date.
    pub bad_concluded_on_time: u64,
    /// `bad_concluded_on_time / bad` in per-mille; absent without 差评.
    pub rectified_on_time_per_mille: Option<u64>,
}

/// Ratings grouped by department, item and channel.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
#[schema(example = json!({
    "departments": {"approval_bureau": {"total": 4, "score_sum": 14, "bad": 1, "bad_concluded_on_time": 1, "rectified_on_time_per_mille": 1000}},
    "items": {"企业诉求": {"total": 1, "score_sum": 2, "bad": 1, "bad_concluded_on_time": 1, "rectified_on_time_per_mille": 1000}},
    "channels": {"window": {"total": 3, "score_sum": 12, "bad": 0, "bad_concluded_on_time": 0, "rectified_on_time_per_mille": null}}
}))]
pub struct RatingStatistics {
    /// By department code.
    pub departments: BTreeMap<String, RatingFigures>,
    /// By item (name).
    pub items: BTreeMap<String, RatingFigures>,
    /// By channel code.
    pub channels: BTreeMap<String, RatingFigures>,
}

/// Figures of every rating in `scope`.
pub async fn statistics(
    db: &impl ConnectionTrait,
    scope: &Scope,
) -> Result<RatingStatistics, DbErr> {
    let rows = list(db, scope, None, u64::MAX >> 1).await?;
    let mut stats = RatingStatistics::default();
    for r in &rows {
        add(
            stats
                .departments
                .entry(r.department_code.clone())
                .or_default(),
            r,
        );
        add(stats.items.entry(r.item_name.clone()).or_default(), r);
        add(stats.channels.entry(r.channel.clone()).or_default(), r);
    }
    for f in stats
        .departments
        .values_mut()
        .chain(stats.items.values_mut())
        .chain(stats.channels.values_mut())
    {
        f.rectified_on_time_per_mille =
            crate::domain::stats::Figures::per_mille(f.bad_concluded_on_time, f.bad);
    }
    Ok(stats)
}

fn add(f: &mut RatingFigures, r: &rating::Model) {
    f.total += 1;
    f.score_sum += u64::try_from(r.score).unwrap_or(0);
    if r.score <= 2 {
        f.bad += 1;
        f.bad_concluded_on_time += u64::from(r.follow_up_on_time == Some(true));
    }
}
