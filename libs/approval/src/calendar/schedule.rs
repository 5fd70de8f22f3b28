//! One year's published holiday schedule and how it is read from a file.
//!
//! The file shape is documented in `libs/approval/calendars/README.md`. The
//! TOML is read into private `Raw*` structs first and then checked entry by
//! entry, so every rejection names the file and the entry that caused it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::path::PathBuf;

use chrono::{Datelike, NaiveDate, Weekday};
use serde::{Deserialize, Serialize};
use toml::value::Datetime;

/// 节假日安排通知 — the State Council general office notice a schedule
/// transcribes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notice {
    /// Full title, e.g. `国务院办公厅关于2025年部分节假日安排的通知`.
    pub title: String,
    /// Document number (文号), e.g. `国办发明电〔2024〕12号`, when the
    /// published text carries one.
    pub number: Option<String>,
    /// Date the notice was issued.
    pub date: NaiveDate,
}

/// 节日放假安排 — one holiday of a schedule: a run of days off and the
/// make-up workdays (调休上班日) the notice lists with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Holiday {
    /// Name as the notice gives it, e.g. `春节`, `国庆节、中秋节`.
    pub name: String,
    /// First day off.
    pub start: NaiveDate,
    /// Last day off (inclusive).
    pub end: NaiveDate,
    /// Saturdays or Sundays worked in exchange, in date order.
    pub workdays: Vec<NaiveDate>,
}

impl Holiday {
    /// Whether `date` is one of this holiday's days off.
    pub fn contains(&self, date: NaiveDate) -> bool {
        (self.start..=self.end).contains(&date)
    }
}

/// 年度节假日安排 — one year's working-day schedule, checked and indexed.
///
/// Only obtainable through [`YearSchedule::parse`] (or the calendar's
/// built-in files), so a value in hand has passed every check in the README.
#[derive(Debug, Clone, Serialize)]
pub struct YearSchedule {
    year: i32,
    notice: Notice,
    holidays: Vec<Holiday>,
    source: String,
    /// Working-day flag per day of the year (index = ordinal0).
    #[serde(skip)]
    working: Vec<bool>,
    /// `prefix[i]` = working days among the first `i` days of the year, so a
    /// count over any range of the year is one subtraction.
    #[serde(skip)]
    prefix: Vec<u16>,
}

impl PartialEq for YearSchedule {
    fn eq(&self, other: &Self) -> bool {
        // The tables are derived from the rest; `source` is provenance only.
        self.year == other.year && self.notice == other.notice && self.holidays == other.holidays
    }
}

impl YearSchedule {
    /// Reads and checks one schedule file. `source` names the file in errors
    /// (a path, or `builtin:cn-2025.toml` for the embedded defaults).
    pub fn parse(source: &str, text: &str) -> Result<Self, CalendarError> {
        let raw: RawSchedule = toml::from_str(text).map_err(|e| CalendarError::Syntax {
            file: source.to_owned(),
            detail: e.to_string().trim_end().to_owned(),
        })?;
        Checker {
            file: source,
            year: raw.year,
        }
        .check(raw)
    }

    /// The calendar year this schedule covers.
    pub fn year(&self) -> i32 {
        self.year
    }

    /// The notice the schedule transcribes.
    pub fn notice(&self) -> &Notice {
        &self.notice
    }

    /// Holidays in date order.
    pub fn holidays(&self) -> &[Holiday] {
        &self.holidays
    }

    /// Where the schedule was loaded from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Whether `date` (which must be in this year) is a working day.
    pub(crate) fn is_working(&self, date: NaiveDate) -> bool {
        debug_assert_eq!(date.year(), self.year);
        self.working[date.ordinal0() as usize]
    }

    /// Working days in `first..=last`, both in this year.
    pub(crate) fn count(&self, first: NaiveDate, last: NaiveDate) -> u32 {
        debug_assert!(first <= last && first.year() == self.year && last.year() == self.year);
        u32::from(
            self.prefix[last.ordinal0() as usize + 1] - self.prefix[first.ordinal0() as usize],
        )
    }

    /// The holiday `date` falls in, if any.
    pub(crate) fn holiday_on(&self, date: NaiveDate) -> Option<&Holiday> {
        self.holidays.iter().find(|h| h.contains(date))
    }

    /// The holiday whose make-up workday `date` is, if any.
    pub(crate) fn make_up_for(&self, date: NaiveDate) -> Option<&Holiday> {
        self.holidays.iter().find(|h| h.workdays.contains(&date))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSchedule {
    year: i32,
    notice: RawNotice,
    #[serde(default)]
    holidays: Vec<RawHoliday>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotice {
    title: String,
    number: Option<String>,
    date: Datetime,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    name: String,
    start: Datetime,
    end: Option<Datetime>,
    days: Option<u32>,
    #[serde(default)]
    workdays: Vec<Datetime>,
}

/// Validation state for one file: what to name in errors.
struct Checker<'a> {
    file: &'a str,
    year: i32,
}

impl Checker<'_> {
    fn fail(&self, entry: String, problem: ScheduleProblem) -> CalendarError {
        CalendarError::Invalid {
            file: self.file.to_owned(),
            entry,
            problem,
        }
    }

    /// A TOML local date as a `NaiveDate`; a date-time or a bare time is not
    /// a day and is refused rather than truncated.
    fn date(
        &self,
        entry: &dyn Fn() -> String,
        value: &Datetime,
    ) -> Result<NaiveDate, CalendarError> {
        let not_a_date = || {
            self.fail(
                entry(),
                ScheduleProblem::NotADate {
                    value: value.to_string(),
                },
            )
        };
        match (value.date, value.time, value.offset) {
            (Some(d), None, None) => {
                NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
                    .ok_or_else(not_a_date)
            }
            _ => Err(not_a_date()),
        }
    }

    fn in_year(
        &self,
        entry: &dyn Fn() -> String,
        value: &Datetime,
    ) -> Result<NaiveDate, CalendarError> {
        let date = self.date(entry, value)?;
        if date.year() == self.year {
            Ok(date)
        } else {
            Err(self.fail(
                entry(),
                ScheduleProblem::OutsideYear {
                    date,
                    year: self.year,
                },
            ))
        }
    }

    fn check(&self, raw: RawSchedule) -> Result<YearSchedule, CalendarError> {
        let first = NaiveDate::from_ymd_opt(self.year, 1, 1).ok_or_else(|| {
            self.fail(
                "year".into(),
                ScheduleProblem::YearOutOfRange { year: self.year },
            )
        })?;
        if raw.notice.title.trim().is_empty() {
            return Err(self.fail("notice.title".into(), ScheduleProblem::Empty));
        }
        let notice = Notice {
            title: raw.notice.title,
            number: raw.notice.number,
            date: self.date(&|| "notice.date".into(), &raw.notice.date)?,
        };

        let mut holidays = Vec::with_capacity(raw.holidays.len());
        // Which holiday claimed each day, to report overlaps by name.
        let mut off: BTreeMap<NaiveDate, String> = BTreeMap::new();
        for (i, h) in raw.holidays.iter().enumerate() {
            let label = holiday_label(i, &h.name);
            if h.name.trim().is_empty() {
                return Err(self.fail(label, ScheduleProblem::Empty));
            }
            let start = self.in_year(&|| format!("{label}.start"), &h.start)?;
            let end = match &h.end {
                Some(end) => self.in_year(&|| format!("{label}.end"), end)?,
                None => start,
            };
            if end < start {
                return Err(self.fail(label, ScheduleProblem::EndBeforeStart { start, end }));
            }
            let actual = u32::try_from((end - start).num_days() + 1).unwrap_or(u32::MAX);
            if let Some(stated) = h.days
                && stated != actual
            {
                return Err(self.fail(label, ScheduleProblem::DayCountMismatch { stated, actual }));
            }
            for day in start.iter_days().take_while(|d| *d <= end) {
                if let Some(other) = off.insert(day, h.name.clone()) {
                    return Err(
                        self.fail(label, ScheduleProblem::HolidaysOverlap { other, date: day })
                    );
                }
            }
            holidays.push(Holiday {
                name: h.name.clone(),
                start,
                end,
                workdays: Vec::new(),
            });
        }

        // Make-up days are checked after every holiday is known, so a make-up
        // day listed with one holiday but inside another is still caught.
        let mut seen = BTreeSet::new();
        for (i, h) in raw.holidays.iter().enumerate() {
            for value in &h.workdays {
                let entry = || format!("{}.workdays[{value}]", holiday_label(i, &h.name));
                let date = self.in_year(&entry, value)?;
                if let Some(holiday) = off.get(&date) {
                    return Err(self.fail(
                        entry(),
                        ScheduleProblem::WorkdayOnHoliday {
                            date,
                            holiday: holiday.clone(),
                        },
                    ));
                }
                if !matches!(date.weekday(), Weekday::Sat | Weekday::Sun) {
                    return Err(self.fail(entry(), ScheduleProblem::WorkdayNotWeekend { date }));
                }
                if !seen.insert(date) {
                    return Err(self.fail(entry(), ScheduleProblem::DuplicateWorkday { date }));
                }
                holidays[i].workdays.push(date);
            }
            holidays[i].workdays.sort();
        }
        holidays.sort_by_key(|h| h.start);

        let mut working = Vec::with_capacity(366);
        let mut prefix = Vec::with_capacity(367);
        prefix.push(0u16);
        for day in first.iter_days().take_while(|d| d.year() == self.year) {
            let is_working = if off.contains_key(&day) {
                false
            } else if seen.contains(&day) {
                true
            } else {
                !matches!(day.weekday(), Weekday::Sat | Weekday::Sun)
            };
            working.push(is_working);
            prefix.push(prefix[prefix.len() - 1] + u16::from(is_working));
        }

        Ok(YearSchedule {
            year: self.year,
            notice,
            holidays,
            source: self.file.to_owned(),
            working,
            prefix,
        })
    }
}

fn holiday_label(index: usize, name: &str) -> String {
    format!("holidays[{index}]「{name}」")
}

/// What is wrong with one entry of a schedule file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleProblem {
    /// A required text field is blank.
    Empty,
    /// `year` is outside the range dates can represent.
    YearOutOfRange {
        /// The year as written.
        year: i32,
    },
    /// The value is a date-time or time, not a plain local date.
    NotADate {
        /// The value as written.
        value: String,
    },
    /// A holiday or make-up date outside the file's year.
    OutsideYear {
        /// The offending date.
        date: NaiveDate,
        /// The file's year.
        year: i32,
    },
    /// A holiday ends before it starts.
    EndBeforeStart {
        /// First day.
        start: NaiveDate,
        /// Last day.
        end: NaiveDate,
    },
    /// `days` disagrees with `start..=end`.
    DayCountMismatch {
        /// The `days` written.
        stated: u32,
        /// Days in the range.
        actual: u32,
    },
    /// Two holidays claim the same day.
    HolidaysOverlap {
        /// The holiday that already had the day.
        other: String,
        /// The first shared day.
        date: NaiveDate,
    },
    /// A make-up workday falls inside a holiday.
    WorkdayOnHoliday {
        /// The make-up day.
        date: NaiveDate,
        /// The holiday it falls in.
        holiday: String,
    },
    /// A make-up workday on a weekday, which is a working day anyway.
    WorkdayNotWeekend {
        /// The make-up day.
        date: NaiveDate,
    },
    /// The same make-up workday listed twice.
    DuplicateWorkday {
        /// The repeated day.
        date: NaiveDate,
    },
}

impl fmt::Display for ScheduleProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("不能为空"),
            Self::YearOutOfRange { year } => write!(f, "年份 {year} 超出可表示范围"),
            Self::NotADate { value } => {
                write!(f, "{value} 不是日期（应写作 YYYY-MM-DD，不带时间）")
            }
            Self::OutsideYear { date, year } => write!(f, "日期 {date} 不在 {year} 年内"),
            Self::EndBeforeStart { start, end } => {
                write!(f, "结束日期 {end} 早于开始日期 {start}")
            }
            Self::DayCountMismatch { stated, actual } => {
                write!(f, "写明共 {stated} 天，但起止日期共 {actual} 天")
            }
            Self::HolidaysOverlap { other, date } => {
                write!(f, "与「{other}」重叠（{date}）")
            }
            Self::WorkdayOnHoliday { date, holiday } => {
                write!(f, "调休上班日 {date} 落在「{holiday}」放假期间")
            }
            Self::WorkdayNotWeekend { date } => {
                write!(f, "调休上班日 {date} 不是周六或周日")
            }
            Self::DuplicateWorkday { date } => write!(f, "调休上班日 {date} 重复"),
        }
    }
}

/// Why a schedule file or directory could not be loaded.
///
/// Raised at start-up, when the services load their calendar directory; the
/// message names the file and entry so the operator can fix the data.
#[derive(Debug, thiserror::Error)]
pub enum CalendarError {
    /// A file or directory could not be read.
    #[error("无法读取节假日安排 {}：{source}", path.display())]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not TOML of the expected shape (including impossible
    /// dates such as `2026-02-30`, which the TOML reader refuses itself).
    #[error("节假日安排文件 {file} 格式错误：{detail}")]
    Syntax {
        /// The file.
        file: String,
        /// The reader's description, with line and column.
        detail: String,
    },
    /// An entry breaks one of the schedule rules.
    #[error("节假日安排文件 {file} 中 {entry}：{problem}")]
    Invalid {
        /// The file.
        file: String,
        /// The entry, e.g. `holidays[1]「春节」.workdays[2026-02-14]`.
        entry: String,
        /// What is wrong with it.
        problem: ScheduleProblem,
    },
    /// Two files in one directory give the same year.
    #[error("节假日安排文件 {first} 与 {second} 都是 {year} 年的安排")]
    DuplicateYear {
        /// The year.
        year: i32,
        /// The first file giving it.
        first: String,
        /// The second file giving it.
        second: String,
    },
}

impl CalendarError {
    /// Stable machine code: `calendar_unreadable`, `calendar_syntax`,
    /// `calendar_invalid` or `calendar_duplicate_year`.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Io { .. } => "calendar_unreadable",
            Self::Syntax { .. } => "calendar_syntax",
            Self::Invalid { .. } => "calendar_invalid",
            Self::DuplicateYear { .. } => "calendar_duplicate_year",
        }
    }

    /// zh-CN message naming the file and entry.
    pub fn message(&self) -> String {
        self.to_string()
    }
}
