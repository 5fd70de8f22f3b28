//! 工作日历 — which days are working days, and arithmetic over them.
//!
//! Mondays to Fridays are working days and weekends are not, except where a
//! year's published schedule says otherwise: a holiday makes its days off
//! even on weekdays, a make-up workday (调休上班日) makes a Saturday or Sunday
//! a working day. Schedules are data, one TOML file per year (shape and rules
//! in `libs/approval/calendars/README.md`); the verified files in that
//! directory are compiled in as defaults and [`Calendar::load_dir`] adds or
//! replaces years at run time.
//!
//! A year with no schedule is reckoned with weekends only, and every answer
//! that touched such a year comes back [`Coverage::Provisional`] — a deadline
//! in a year whose notice is not out yet is a guess, and callers must be able
//! to say so.
//!
//! All dates are China local dates ([`china_local`] converts an instant).

mod schedule;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use chrono::{DateTime, Datelike, Days, FixedOffset, NaiveDate, NaiveDateTime, Utc, Weekday};
use serde::Serialize;

pub use schedule::{CalendarError, Holiday, Notice, ScheduleProblem, YearSchedule};

/// The verified schedules compiled in: (file name, contents).
const BUILTIN: &[(&str, &str)] = &[
    ("cn-2025.toml", include_str!("../../calendars/cn-2025.toml")),
    ("cn-2026.toml", include_str!("../../calendars/cn-2026.toml")),
];

/// The local date-time in China (UTC+8, no daylight saving since 1991) of an
/// instant: the time every date rule here is stated in.
pub fn china_local(instant: DateTime<Utc>) -> NaiveDateTime {
    let beijing = FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    instant.with_timezone(&beijing).naive_local()
}

/// The instant of a China local time (UTC+8, no daylight saving): the
/// inverse of [`china_local`].
pub fn utc_of_china_local(local: NaiveDateTime) -> DateTime<Utc> {
    (local - chrono::Duration::hours(8)).and_utc()
}

/// 数据依据 — whether an answer rests on published schedules only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Coverage {
    /// Every day consulted lies in a year whose schedule is loaded.
    Published,
    /// At least one day consulted lies in a year with no loaded schedule and
    /// was reckoned with weekends only; the answer may change once that
    /// year's notice is loaded.
    Provisional,
}

impl Coverage {
    /// The coverage of an answer built from two others: provisional if
    /// either is.
    #[must_use]
    pub fn combine(self, other: Self) -> Self {
        self.max(other)
    }

    /// zh-CN note to show beside a provisional result; empty when published.
    pub const fn note(self) -> &'static str {
        match self {
            Self::Published => "",
            Self::Provisional => "涉及尚未发布节假日安排的年份，暂按周末计算，仅供参考",
        }
    }
}

/// 计算结果 — a calendar answer together with its [`Coverage`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Reckoned<T> {
    /// The answer.
    pub value: T,
    /// Whether it rests on published schedules only.
    pub coverage: Coverage,
}

impl<T> Reckoned<T> {
    /// Whether a year without a schedule was involved.
    pub fn is_provisional(&self) -> bool {
        self.coverage == Coverage::Provisional
    }
}

/// 日期超出范围 — the answer would lie beyond the dates chrono can
/// represent (around the year 262,000). Only absurd inputs get here; callers
/// exposing the arithmetic publicly should cap the day counts they accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub struct DateOutOfRange;

impl DateOutOfRange {
    /// Stable machine code: `date_out_of_range`.
    pub const fn code(&self) -> &'static str {
        "date_out_of_range"
    }

    /// zh-CN message.
    pub const fn message(&self) -> &'static str {
        "日期超出可计算范围"
    }
}

/// 日期类型 — what kind of day a date is, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DayKind<'a> {
    /// Monday to Friday, no holiday.
    Workday,
    /// Saturday or Sunday, not a make-up workday.
    Weekend,
    /// A day off of a published holiday.
    Holiday {
        /// The holiday, e.g. `春节`.
        name: &'a str,
    },
    /// A Saturday or Sunday worked in exchange for a holiday (调休上班日).
    MakeUpWorkday {
        /// The holiday it makes up for.
        holiday: &'a str,
    },
}

impl DayKind<'_> {
    /// Whether the day counts as a working day.
    pub const fn is_working(&self) -> bool {
        matches!(self, Self::Workday | Self::MakeUpWorkday { .. })
    }
}

/// 日历日 — one date as the calendar sees it (the read-only REST view).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Day<'a> {
    /// The date.
    pub date: NaiveDate,
    /// What kind of day it is.
    #[serde(flatten)]
    pub kind: DayKind<'a>,
    /// Whether the date's year has a loaded schedule.
    pub coverage: Coverage,
}

/// 工作日历 — the working-day calendar: published schedules by year, plus
/// the weekend rule for every other year.
#[derive(Debug, Clone, PartialEq)]
pub struct Calendar {
    years: BTreeMap<i32, YearSchedule>,
}

impl Calendar {
    /// A calendar with no schedules: every year provisional, weekends only.
    pub fn weekends_only() -> Self {
        Self {
            years: BTreeMap::new(),
        }
    }

    /// The verified schedules shipped with this crate (2025 and 2026).
    pub fn builtin() -> Self {
        let mut calendar = Self::weekends_only();
        for (name, text) in BUILTIN {
            // The embedded files are fixed at compile time and a unit test
            // parses every one, so failing here is a build defect, not input.
            let schedule = YearSchedule::parse(&format!("builtin:{name}"), text)
                .unwrap_or_else(|e| panic!("built-in calendar {name} is invalid: {e}"));
            calendar.insert(schedule);
        }
        calendar
    }

    /// Loads every `*.toml` file in `dir`, adding their years or replacing
    /// years already present (built-in ones included). Returns the years
    /// loaded, ascending.
    ///
    /// All or nothing: if any file is unreadable or invalid, or two files
    /// give the same year, the calendar is left unchanged.
    pub fn load_dir(&mut self, dir: impl AsRef<Path>) -> Result<Vec<i32>, CalendarError> {
        let dir = dir.as_ref();
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CalendarError::Io { path, source }
        };
        let mut paths = Vec::new();
        for entry in fs::read_dir(dir).map_err(io(dir))? {
            let path = entry.map_err(io(dir))?.path();
            if path.extension().is_some_and(|ext| ext == "toml") && path.is_file() {
                paths.push(path);
            }
        }
        // Sorted so that a duplicate-year error names the files in a stable
        // order.
        paths.sort();

        let mut loaded: BTreeMap<i32, YearSchedule> = BTreeMap::new();
        for path in paths {
            let text = fs::read_to_string(&path).map_err(io(&path))?;
            let schedule = YearSchedule::parse(&path.display().to_string(), &text)?;
            if let Some(first) = loaded.get(&schedule.year()) {
                return Err(CalendarError::DuplicateYear {
                    year: schedule.year(),
                    first: first.source().to_owned(),
                    second: schedule.source().to_owned(),
                });
            }
            loaded.insert(schedule.year(), schedule);
        }
        let years = loaded.keys().copied().collect();
        self.years.extend(loaded);
        Ok(years)
    }

    /// Adds a schedule, returning the one it replaces for that year.
    pub fn insert(&mut self, schedule: YearSchedule) -> Option<YearSchedule> {
        self.years.insert(schedule.year(), schedule)
    }

    /// The loaded schedule for `year`.
    pub fn schedule(&self, year: i32) -> Option<&YearSchedule> {
        self.years.get(&year)
    }

    /// Loaded schedules, by year ascending.
    pub fn schedules(&self) -> impl Iterator<Item = &YearSchedule> {
        self.years.values()
    }

    /// Whether `year` has a loaded schedule.
    pub fn coverage_of(&self, year: i32) -> Coverage {
        self.view(year).coverage()
    }

    /// What kind of day `date` is.
    pub fn day(&self, date: NaiveDate) -> Day<'_> {
        let view = self.view(date.year());
        let kind = match view {
            YearView::Published(s) => {
                if let Some(h) = s.holiday_on(date) {
                    DayKind::Holiday { name: &h.name }
                } else if let Some(h) = s.make_up_for(date) {
                    DayKind::MakeUpWorkday { holiday: &h.name }
                } else if is_weekend(date) {
                    DayKind::Weekend
                } else {
                    DayKind::Workday
                }
            }
            YearView::Provisional if is_weekend(date) => DayKind::Weekend,
            YearView::Provisional => DayKind::Workday,
        };
        Day {
            date,
            kind,
            coverage: view.coverage(),
        }
    }

    /// Whether `date` is a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> Reckoned<bool> {
        let view = self.view(date.year());
        Reckoned {
            value: view.is_working(date),
            coverage: view.coverage(),
        }
    }

    /// The first working day after `date` (`date` itself never counts).
    pub fn next_working_day(&self, date: NaiveDate) -> Result<Reckoned<NaiveDate>, DateOutOfRange> {
        self.add_working_days(date, 1)
    }

    /// The `n`-th working day after `date`, not counting `date` itself — the
    /// day a limit of `n` working days runs out when `date` is the day of
    /// acceptance. `n = 0` gives `date` back unchanged, working day or not.
    pub fn add_working_days(
        &self,
        date: NaiveDate,
        n: u32,
    ) -> Result<Reckoned<NaiveDate>, DateOutOfRange> {
        let mut coverage = Coverage::Published;
        if n == 0 {
            return Ok(Reckoned {
                value: date,
                coverage,
            });
        }
        let mut left = n;
        let mut first = date.succ_opt().ok_or(DateOutOfRange)?;
        // Whole years at a time: a count per year is O(1) for published
        // years and O(1) for weekend-only ones, so even large n stay cheap.
        loop {
            let year = first.year();
            let view = self.view(year);
            coverage = coverage.combine(view.coverage());
            let last = year_end(year)?;
            let available = view.count(first, last);
            if available >= left {
                let value = first
                    .iter_days()
                    .take_while(|d| *d <= last)
                    .filter(|d| view.is_working(*d))
                    .nth(left as usize - 1)
                    .ok_or(DateOutOfRange)?;
                return Ok(Reckoned { value, coverage });
            }
            left -= available;
            first = year_start(year + 1)?;
        }
    }

    /// The `n`-th working day before `date`, not counting `date` itself.
    /// For a working day `d`, `subtract_working_days(add_working_days(d, n), n)`
    /// is `d` again. `n = 0` gives `date` back unchanged.
    pub fn subtract_working_days(
        &self,
        date: NaiveDate,
        n: u32,
    ) -> Result<Reckoned<NaiveDate>, DateOutOfRange> {
        let mut coverage = Coverage::Published;
        if n == 0 {
            return Ok(Reckoned {
                value: date,
                coverage,
            });
        }
        let mut left = n;
        let mut last = date.pred_opt().ok_or(DateOutOfRange)?;
        loop {
            let year = last.year();
            let view = self.view(year);
            coverage = coverage.combine(view.coverage());
            let first = year_start(year)?;
            let available = view.count(first, last);
            if available >= left {
                let value = last
                    .iter_days()
                    .rev()
                    .take_while(|d| *d >= first)
                    .filter(|d| view.is_working(*d))
                    .nth(left as usize - 1)
                    .ok_or(DateOutOfRange)?;
                return Ok(Reckoned { value, coverage });
            }
            left -= available;
            last = year_end(year - 1)?;
        }
    }

    /// Working days in `(a, b]`: after `a`, up to and including `b` — the
    /// working days a limit has used on day `b` when `a` was the day of
    /// acceptance. Negative (the count of `(b, a]`) when `b` is before `a`.
    pub fn working_days_between(&self, a: NaiveDate, b: NaiveDate) -> Reckoned<i64> {
        if b < a {
            let r = self.working_days_between(b, a);
            return Reckoned {
                value: -r.value,
                coverage: r.coverage,
            };
        }
        let mut coverage = Coverage::Published;
        let mut total = 0i64;
        // `b > a` here, so `a` has a successor.
        let mut first = match a.succ_opt() {
            Some(d) if d <= b => d,
            _ => return Reckoned { value: 0, coverage },
        };
        loop {
            let year = first.year();
            let view = self.view(year);
            coverage = coverage.combine(view.coverage());
            let year_last = NaiveDate::from_ymd_opt(year, 12, 31).unwrap_or(b);
            let last = year_last.min(b);
            total += i64::from(view.count(first, last));
            if last == b {
                return Reckoned {
                    value: total,
                    coverage,
                };
            }
            match last.succ_opt() {
                Some(next) => first = next,
                None => {
                    return Reckoned {
                        value: total,
                        coverage,
                    };
                }
            }
        }
    }

    fn view(&self, year: i32) -> YearView<'_> {
        match self.years.get(&year) {
            Some(s) => YearView::Published(s),
            None => YearView::Provisional,
        }
    }
}

/// One year as the arithmetic sees it.
#[derive(Clone, Copy)]
enum YearView<'a> {
    Published(&'a YearSchedule),
    /// No schedule: weekends only.
    Provisional,
}

impl YearView<'_> {
    fn coverage(self) -> Coverage {
        match self {
            Self::Published(_) => Coverage::Published,
            Self::Provisional => Coverage::Provisional,
        }
    }

    fn is_working(self, date: NaiveDate) -> bool {
        match self {
            Self::Published(s) => s.is_working(date),
            Self::Provisional => !is_weekend(date),
        }
    }

    /// Working days in `first..=last`, both in the viewed year.
    fn count(self, first: NaiveDate, last: NaiveDate) -> u32 {
        match self {
            Self::Published(s) => s.count(first, last),
            Self::Provisional => weekdays(first, last),
        }
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// Mondays to Fridays in `first..=last` (same year, so at most 366 days).
fn weekdays(first: NaiveDate, last: NaiveDate) -> u32 {
    let days = u32::try_from((last - first).num_days() + 1).unwrap_or(0);
    let full_weeks = days / 7;
    // Jump over the full weeks instead of walking them: counts over long
    // provisional spans would otherwise cost a day-step per day.
    let rest_start = first
        .checked_add_days(Days::new(u64::from(full_weeks) * 7))
        .unwrap_or(last);
    let rest = rest_start
        .iter_days()
        .take((days % 7) as usize)
        .filter(|d| !is_weekend(*d))
        .count();
    full_weeks * 5 + rest as u32
}

fn year_start(year: i32) -> Result<NaiveDate, DateOutOfRange> {
    NaiveDate::from_ymd_opt(year, 1, 1).ok_or(DateOutOfRange)
}

fn year_end(year: i32) -> Result<NaiveDate, DateOutOfRange> {
    NaiveDate::from_ymd_opt(year, 12, 31).ok_or(DateOutOfRange)
}

#[cfg(test)]
mod tests;
