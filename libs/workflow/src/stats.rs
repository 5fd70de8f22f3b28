//! 营商云眼 — timeliness of decided tasks, the same in every service:
//! per item and per department, how many were decided, how long they took
//! in working days (average and 90th percentile), how many kept the
//! committed limit, and the time saved against the statutory limits.
//!
//! Durations are the clocks' own readings, frozen at the decision
//! (`used_half_days`), so 补正 and 特别程序 time is excluded exactly as the
//! deadlines exclude it.

use chrono::NaiveDate;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use yizhan_approval::Status;
use yizhan_kit::FieldError;

use crate::task_row as task;

/// The longest period one request may cover, in days.
pub const MAX_PERIOD_DAYS: i64 = 366;

/// Period of decision, China local dates, both inclusive.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Period {
    /// First day; default 29 days before `to`.
    pub from: Option<NaiveDate>,
    /// Last day; default today. The period is at most 366 days and
    /// `from` is not after `to`.
    pub to: Option<NaiveDate>,
}

impl Period {
    /// The first and last day, given today's China-local date; refused
    /// (naming the field) when `from` is after `to` or the period is
    /// longer than [`MAX_PERIOD_DAYS`].
    pub fn days(&self, today: NaiveDate) -> Result<(NaiveDate, NaiveDate), FieldError> {
        let to = self.to.unwrap_or(today);
        let from = self.from.unwrap_or(to - chrono::Duration::days(29));
        if from > to {
            return Err(FieldError::new(
                "from",
                "out_of_range",
                "起始日期不得晚于结束日期",
            ));
        }
        if (to - from).num_days() >= MAX_PERIOD_DAYS {
            return Err(FieldError::new(
                "to",
                "out_of_range",
                format!("统计区间不得超过 {MAX_PERIOD_DAYS} 天"),
            ));
        }
        Ok((from, to))
    }
}

/// Figures of one group of decided tasks or bundles.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Figures {
    /// How many were decided.
    pub decided: u64,
    /// Of them, approved (容缺通过 included).
    pub approved: u64,
    /// Average working days used.
    pub avg_working_days: f64,
    /// 90th percentile of working days used (nearest rank).
    pub p90_working_days: f64,
    /// Share decided within the committed limit, 0–1.
    pub on_time_rate: f64,
    /// Average working days saved against the statutory limit.
    pub avg_days_saved: f64,
}

/// One item's figures.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ItemStats {
    /// 事项编码.
    pub item_code: String,
    /// 事项名称.
    pub item_name: String,
    /// Department code.
    pub department_code: String,
    /// Department name.
    pub department_name: String,
    /// The figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// One department's figures over all its items.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DepartmentStats {
    /// Department code.
    pub department_code: String,
    /// Department name.
    pub department_name: String,
    /// The figures.
    #[serde(flatten)]
    pub figures: Figures,
}

/// One decided duration: used, committed and statutory, in half days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Approved (rather than refused).
    pub approved: bool,
    /// Used.
    pub used: i64,
    /// 承诺时限.
    pub committed: i64,
    /// 法定时限 (for a bundle: the items' statutory limits added up, the
    /// time one-after-another applications could take).
    pub statutory: i64,
}

/// The figures of a group of samples.
pub fn figures(samples: &[Sample]) -> Figures {
    let n = samples.len();
    if n == 0 {
        return Figures {
            decided: 0,
            approved: 0,
            avg_working_days: 0.0,
            p90_working_days: 0.0,
            on_time_rate: 0.0,
            avg_days_saved: 0.0,
        };
    }
    let days = |half: i64| half as f64 / 2.0;
    let mut used: Vec<i64> = samples.iter().map(|s| s.used).collect();
    used.sort_unstable();
    // Nearest rank: the smallest value with at least 90 % at or below it.
    let rank = (n * 9).div_ceil(10).max(1);
    let count = n as f64;
    Figures {
        decided: n as u64,
        approved: samples.iter().filter(|s| s.approved).count() as u64,
        avg_working_days: round2(days(used.iter().sum()) / count),
        p90_working_days: days(used[rank - 1]),
        on_time_rate: round2(
            samples.iter().filter(|s| s.used <= s.committed).count() as f64 / count,
        ),
        avg_days_saved: round2(days(samples.iter().map(|s| s.statutory - s.used).sum()) / count),
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Task statistics between two China-local dates (inclusive) of decision,
/// limited to one department when `dept` is given.
pub async fn tasks(
    db: &impl ConnectionTrait,
    from: NaiveDate,
    to: NaiveDate,
    dept: Option<&str>,
) -> Result<(Vec<ItemStats>, Vec<DepartmentStats>), DbErr> {
    type Row = (String, String, String, String, i32, Option<i64>, i64, i64);
    let start = yizhan_approval::calendar::utc_of_china_local(
        from.and_hms_opt(0, 0, 0).unwrap_or_default(),
    );
    let end = yizhan_approval::calendar::utc_of_china_local(
        to.succ_opt()
            .unwrap_or(to)
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default(),
    );
    let mut q = task::Entity::find()
        .select_only()
        .columns([
            task::Column::ItemCode,
            task::Column::ItemName,
            task::Column::DepartmentCode,
            task::Column::DepartmentName,
            task::Column::Blzt,
            task::Column::UsedHalfDays,
            task::Column::CommittedHalfDays,
            task::Column::StatutoryHalfDays,
        ])
        .filter(task::Column::DecidedAt.gte(start))
        .filter(task::Column::DecidedAt.lt(end))
        .filter(task::Column::UsedHalfDays.is_not_null());
    if let Some(d) = dept {
        q = q.filter(task::Column::DepartmentCode.eq(d));
    }
    let rows: Vec<Row> = q.into_tuple().all(db).await?;
    let mut items: Vec<(ItemStats, Vec<Sample>)> = Vec::new();
    let mut depts: Vec<(DepartmentStats, Vec<Sample>)> = Vec::new();
    for (code, name, dept_code, dept_name, blzt, used, committed, statutory) in rows {
        let sample = Sample {
            // A later revocation (BLZT 15) was an approval when decided.
            approved: blzt != i32::from(Status::Rejected.code()),
            used: used.unwrap_or_default(),
            committed,
            statutory,
        };
        match items.iter_mut().find(|(i, _)| i.item_code == code) {
            Some((_, s)) => s.push(sample),
            None => items.push((
                ItemStats {
                    item_code: code,
                    item_name: name,
                    department_code: dept_code.clone(),
                    department_name: dept_name.clone(),
                    figures: figures(&[]),
                },
                vec![sample],
            )),
        }
        match depts
            .iter_mut()
            .find(|(d, _)| d.department_code == dept_code)
        {
            Some((_, s)) => s.push(sample),
            None => depts.push((
                DepartmentStats {
                    department_code: dept_code,
                    department_name: dept_name,
                    figures: figures(&[]),
                },
                vec![sample],
            )),
        }
    }
    let mut items: Vec<ItemStats> = items
        .into_iter()
        .map(|(mut i, s)| {
            i.figures = figures(&s);
            i
        })
        .collect();
    items.sort_by(|a, b| a.item_code.cmp(&b.item_code));
    let mut depts: Vec<DepartmentStats> = depts
        .into_iter()
        .map(|(mut d, s)| {
            d.figures = figures(&s);
            d
        })
        .collect();
    depts.sort_by(|a, b| a.department_code.cmp(&b.department_code));
    Ok((items, depts))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(used: i64) -> Sample {
        Sample {
            approved: true,
            used,
            committed: 10,
            statutory: 40,
        }
    }

    #[test]
    fn figures_of_ten_samples() {
        // 1..=10 days (2..=20 half days).
        let samples: Vec<Sample> = (1..=10).map(|d| s(2 * d)).collect();
        let f = figures(&samples);
        assert_eq!(f.decided, 10);
        assert_eq!(f.avg_working_days, 5.5);
        assert_eq!(f.p90_working_days, 9.0, "9 of 10 at or below 9 days");
        assert_eq!(f.on_time_rate, 0.5, "5 of 10 within 5 days");
        assert_eq!(f.avg_days_saved, 20.0 - 5.5);
    }

    #[test]
    fn p90_of_one_and_none() {
        assert_eq!(figures(&[s(3)]).p90_working_days, 1.5);
        assert_eq!(figures(&[]).decided, 0);
        let mut rejected = s(4);
        rejected.approved = false;
        assert_eq!(figures(&[s(2), rejected]).approved, 1);
    }
}
