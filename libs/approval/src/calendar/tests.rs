use std::fs;

use chrono::{Datelike, NaiveDate, TimeZone, Utc};

use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn working(cal: &Calendar, date: NaiveDate) -> bool {
    cal.is_working_day(date).value
}

fn add(cal: &Calendar, date: NaiveDate, n: u32) -> NaiveDate {
    cal.add_working_days(date, n).unwrap().value
}

/// Day-by-day reference the year-skipping arithmetic is checked against.
fn naive_add(cal: &Calendar, mut date: NaiveDate, n: u32) -> NaiveDate {
    for _ in 0..n {
        date = date.succ_opt().unwrap();
        while !working(cal, date) {
            date = date.succ_opt().unwrap();
        }
    }
    date
}

#[test]
fn builtin_schedules_are_the_two_verified_notices() {
    let cal = Calendar::builtin();
    let years: Vec<i32> = cal.schedules().map(YearSchedule::year).collect();
    assert_eq!(years, [2025, 2026]);

    let s2025 = cal.schedule(2025).unwrap();
    assert_eq!(
        s2025.notice().title,
        "国务院办公厅关于2025年部分节假日安排的通知"
    );
    assert_eq!(
        s2025.notice().number.as_deref(),
        Some("国办发明电〔2024〕12号")
    );
    assert_eq!(s2025.notice().date, d(2024, 11, 12));
    assert_eq!(s2025.holidays().len(), 6);
    assert_eq!(s2025.source(), "builtin:cn-2025.toml");

    let s2026 = cal.schedule(2026).unwrap();
    assert_eq!(s2026.notice().date, d(2025, 11, 4));
    assert_eq!(s2026.notice().number, None);
    assert_eq!(s2026.holidays().len(), 7);
    let spring = &s2026.holidays()[1];
    assert_eq!(spring.name, "春节");
    assert_eq!((spring.start, spring.end), (d(2026, 2, 15), d(2026, 2, 23)));
    assert_eq!(spring.workdays, [d(2026, 2, 14), d(2026, 2, 28)]);
}

#[test]
fn working_days_per_year_match_the_notices() {
    // 2025: 261 weekdays, minus holiday weekdays (元旦 1, 春节 6, 清明 1,
    // 劳动节 3, 端午 1, 国庆 6 = 18), plus 5 make-up days = 248.
    // 2026: 261 weekdays, minus holiday weekdays (元旦 2, 春节 6, 清明 1,
    // 劳动节 3, 端午 1, 中秋 1, 国庆 5 = 19), plus 6 make-up days = 248.
    let cal = Calendar::builtin();
    let y2025 = cal.working_days_between(d(2024, 12, 31), d(2025, 12, 31));
    assert_eq!(y2025.value, 248);
    assert!(!y2025.is_provisional());
    let y2026 = cal.working_days_between(d(2025, 12, 31), d(2026, 12, 31));
    assert_eq!(y2026.value, 248);
    assert!(!y2026.is_provisional());
}

#[test]
fn spring_festival_2026() {
    let cal = Calendar::builtin();
    let accepted = d(2026, 2, 13); // Friday
    assert_eq!(accepted.weekday(), Weekday::Fri);

    // Sat 02-14 is a make-up workday, so it is the next working day.
    let next = cal.next_working_day(accepted).unwrap();
    assert_eq!(next.value, d(2026, 2, 14));
    assert!(!next.is_provisional());

    // 3 working days from Fri 02-13: Sat 02-14 (make-up) is the 1st;
    // 02-15 (Sun) to 02-23 (Mon) are the nine days off; Tue 02-24 is the
    // 2nd; Wed 02-25 the 3rd.
    assert_eq!(add(&cal, accepted, 3), d(2026, 2, 25));
    assert_eq!(cal.working_days_between(accepted, d(2026, 2, 25)).value, 3);
    assert_eq!(
        cal.subtract_working_days(d(2026, 2, 25), 3).unwrap().value,
        accepted
    );

    for day in d(2026, 2, 15).iter_days().take(9) {
        assert!(!working(&cal, day), "{day} is 春节");
    }
    // Mon 02-23 is a weekday inside the holiday; Sat 02-28 is worked, Sun
    // 03-01 is not.
    assert!(!working(&cal, d(2026, 2, 23)));
    assert!(working(&cal, d(2026, 2, 28)));
    assert!(!working(&cal, d(2026, 3, 1)));
    // 02-24..=02-28 are five working days (Tue-Fri and the make-up Sat).
    assert_eq!(
        cal.working_days_between(d(2026, 2, 23), d(2026, 3, 1))
            .value,
        5
    );
}

#[test]
fn national_day_2025_with_both_make_up_days() {
    let cal = Calendar::builtin();
    assert!(working(&cal, d(2025, 9, 28)), "Sun 09-28 is worked");
    assert!(working(&cal, d(2025, 10, 11)), "Sat 10-11 is worked");
    assert!(!working(&cal, d(2025, 10, 8)), "Wed 10-08 is off");
    assert!(!working(&cal, d(2025, 10, 1)));
    assert!(working(&cal, d(2025, 10, 9)));
    assert!(
        !working(&cal, d(2025, 10, 12)),
        "Sun 10-12 is an ordinary Sunday"
    );

    // Accepted Tue 09-30: 10-01..=10-08 are off, so Thu 10-09 is the next.
    assert_eq!(add(&cal, d(2025, 9, 30), 1), d(2025, 10, 9));
    // (Fri 09-26, Sun 10-12]: Sun 09-28, Mon 09-29, Tue 09-30, Thu 10-09,
    // Fri 10-10, Sat 10-11 = 6.
    assert_eq!(
        cal.working_days_between(d(2025, 9, 26), d(2025, 10, 12))
            .value,
        6
    );
    // Accepted Fri 09-26: Sun 09-28 is the 1st working day after it.
    assert_eq!(add(&cal, d(2025, 9, 26), 1), d(2025, 9, 28));
}

#[test]
fn new_year_2025_is_a_single_day() {
    let cal = Calendar::builtin();
    assert!(!working(&cal, d(2025, 1, 1)));
    assert!(working(&cal, d(2025, 1, 2)));
    // Sun 01-26 is the first make-up day of 春节, not of 元旦.
    assert_eq!(
        cal.day(d(2025, 1, 26)).kind,
        DayKind::MakeUpWorkday { holiday: "春节" }
    );

    // From 12-31-2024 only 2025 days are consulted: published.
    let next = cal.next_working_day(d(2024, 12, 31)).unwrap();
    assert_eq!(next.value, d(2025, 1, 2));
    assert_eq!(next.coverage, Coverage::Published);
    // From 12-30-2024 the answer is 12-31-2024, a year with no schedule.
    let next = cal.next_working_day(d(2024, 12, 30)).unwrap();
    assert_eq!(next.value, d(2024, 12, 31));
    assert!(next.is_provisional());
}

#[test]
fn day_kinds() {
    let cal = Calendar::builtin();
    let day = cal.day(d(2026, 2, 16));
    assert_eq!(day.kind, DayKind::Holiday { name: "春节" });
    assert!(!day.kind.is_working());
    assert_eq!(day.coverage, Coverage::Published);
    let day = cal.day(d(2026, 2, 14));
    assert_eq!(day.kind, DayKind::MakeUpWorkday { holiday: "春节" });
    assert!(day.kind.is_working());
    assert_eq!(cal.day(d(2026, 3, 7)).kind, DayKind::Weekend);
    assert_eq!(cal.day(d(2026, 3, 9)).kind, DayKind::Workday);
    // 2025-10-06 is 中秋 inside the combined holiday.
    assert_eq!(
        cal.day(d(2025, 10, 6)).kind,
        DayKind::Holiday {
            name: "国庆节、中秋节"
        }
    );
    let json = serde_json::to_value(cal.day(d(2026, 2, 14))).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"date": "2026-02-14", "kind": "make_up_workday", "holiday": "春节", "coverage": "published"})
    );
}

#[test]
fn years_without_a_schedule_are_provisional_never_silent() {
    let cal = Calendar::builtin();
    // 2027-01-01 is a Friday; with no 2027 notice loaded it counts as a
    // working day — and the answer says it is a guess.
    let r = cal.is_working_day(d(2027, 1, 1));
    assert!(r.value);
    assert!(r.is_provisional());
    assert_eq!(cal.coverage_of(2027), Coverage::Provisional);
    assert_eq!(cal.day(d(2027, 1, 2)).kind, DayKind::Weekend);

    // Wed 2026-12-30 + 3: Thu 12-31 (1), Fri 2027-01-01 (2, provisional),
    // Mon 2027-01-04 (3).
    let r = cal.add_working_days(d(2026, 12, 30), 3).unwrap();
    assert_eq!(r.value, d(2027, 1, 4));
    assert!(r.is_provisional());
    assert!(!Coverage::Provisional.note().is_empty());

    // Staying inside 2026 is published.
    let r = cal.add_working_days(d(2026, 12, 28), 3).unwrap();
    assert_eq!(r.value, d(2026, 12, 31));
    assert!(!r.is_provisional());

    let between = cal.working_days_between(d(2026, 12, 31), d(2027, 1, 8));
    assert_eq!(between.value, 6);
    assert!(between.is_provisional());

    let bare = Calendar::weekends_only();
    let r = bare.add_working_days(d(2026, 2, 13), 3).unwrap();
    assert_eq!(r.value, d(2026, 2, 18), "weekends only: Mon, Tue, Wed");
    assert!(r.is_provisional());
}

#[test]
fn arithmetic_agrees_with_day_by_day_reference() {
    let cal = Calendar::builtin();
    for start in [
        d(2024, 12, 20),
        d(2025, 1, 25),
        d(2025, 9, 27),
        d(2026, 2, 13),
        d(2026, 12, 25),
    ] {
        for n in 0..600 {
            let fast = add(&cal, start, n);
            assert_eq!(fast, naive_add(&cal, start, n), "{start} + {n}");
            if n > 0 {
                assert!(working(&cal, fast));
            }
            assert_eq!(
                cal.working_days_between(start, fast).value,
                i64::from(n),
                "({start}, {fast}]"
            );
            if working(&cal, start) {
                assert_eq!(
                    cal.subtract_working_days(fast, n).unwrap().value,
                    start,
                    "{fast} - {n}"
                );
            }
        }
    }
}

#[test]
fn between_is_half_open_and_antisymmetric() {
    let cal = Calendar::builtin();
    let (a, b) = (d(2026, 2, 13), d(2026, 2, 25));
    assert_eq!(cal.working_days_between(a, a).value, 0);
    // (Thu 02-12, Fri 02-13] counts Friday; (Fri, Sat 02-14] counts the
    // make-up Saturday.
    assert_eq!(cal.working_days_between(d(2026, 2, 12), a).value, 1);
    assert_eq!(cal.working_days_between(a, d(2026, 2, 14)).value, 1);
    assert_eq!(cal.working_days_between(b, a).value, -3);
}

#[test]
fn absurd_spans_are_errors_not_panics() {
    let cal = Calendar::builtin();
    let err = cal.add_working_days(NaiveDate::MAX, 1).unwrap_err();
    assert_eq!(err.code(), "date_out_of_range");
    assert!(cal.subtract_working_days(NaiveDate::MIN, 1).is_err());
    assert!(cal.add_working_days(d(2026, 1, 1), u32::MAX).is_err());
}

#[test]
fn china_local_shifts_to_utc_plus_8() {
    let instant = Utc.with_ymd_and_hms(2026, 2, 13, 16, 30, 0).unwrap();
    let local = china_local(instant);
    assert_eq!(local.date(), d(2026, 2, 14));
    assert_eq!(local.format("%H:%M").to_string(), "00:30");
}

const OVERRIDE_2026: &str = r#"
year = 2026

[notice]
title = "测试用 2026 年安排"
date = 2025-11-04

[[holidays]]
name = "测试假"
start = 2026-03-02
end = 2026-03-03
workdays = [2026-03-07]
"#;

const NEW_2027: &str = r#"
year = 2027

[notice]
title = "测试用 2027 年安排"
date = 2026-11-01

[[holidays]]
name = "元旦"
start = 2027-01-01
"#;

#[test]
fn load_dir_replaces_and_adds_years() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("cn-2026.toml"), OVERRIDE_2026).unwrap();
    fs::write(dir.path().join("cn-2027.toml"), NEW_2027).unwrap();
    fs::write(dir.path().join("README.md"), "not a schedule").unwrap();

    let mut cal = Calendar::builtin();
    assert!(!working(&cal, d(2026, 2, 16)));
    let years = cal.load_dir(dir.path()).unwrap();
    assert_eq!(years, [2026, 2027]);

    // 2026 is now the override: 春节 is gone, 测试假 is in.
    let s = cal.schedule(2026).unwrap();
    assert_eq!(s.notice().title, "测试用 2026 年安排");
    assert!(s.source().ends_with("cn-2026.toml"));
    assert!(working(&cal, d(2026, 2, 16)));
    assert!(!working(&cal, d(2026, 3, 2)));
    assert!(working(&cal, d(2026, 3, 7)));
    // 2025 is untouched.
    assert!(!working(&cal, d(2025, 10, 8)));
    // 2027 is published now.
    let r = cal.is_working_day(d(2027, 1, 1));
    assert!(!r.value);
    assert!(!r.is_provisional());
}

fn load_one(text: &str) -> CalendarError {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("cn-2026.toml"), text).unwrap();
    let mut cal = Calendar::builtin();
    let before = cal.clone();
    let err = cal.load_dir(dir.path()).unwrap_err();
    assert_eq!(cal, before, "a failed load changes nothing");
    let message = err.message();
    assert!(
        message.contains("cn-2026.toml"),
        "names the file: {message}"
    );
    err
}

fn with_holiday(holiday: &str) -> String {
    format!("year = 2026\n[notice]\ntitle = \"t\"\ndate = 2025-11-04\n{holiday}")
}

fn invalid(err: CalendarError) -> (String, ScheduleProblem) {
    match err {
        CalendarError::Invalid { entry, problem, .. } => (entry, problem),
        other => panic!("expected an invalid entry, got {other:?}"),
    }
}

#[test]
fn date_outside_the_year_is_refused() {
    let err = load_one(&with_holiday(
        "[[holidays]]\nname = \"元旦\"\nstart = 2026-01-01\nworkdays = [2027-01-02]\n",
    ));
    assert_eq!(err.code(), "calendar_invalid");
    assert!(err.message().contains("「元旦」"), "{}", err.message());
    let (entry, problem) = invalid(err);
    assert_eq!(entry, "holidays[0]「元旦」.workdays[2027-01-02]");
    assert_eq!(
        problem,
        ScheduleProblem::OutsideYear {
            date: d(2027, 1, 2),
            year: 2026
        }
    );

    let (entry, _) = invalid(load_one(&with_holiday(
        "[[holidays]]\nname = \"跨年\"\nstart = 2025-12-31\nend = 2026-01-01\n",
    )));
    assert_eq!(entry, "holidays[0]「跨年」.start");
}

#[test]
fn make_up_day_inside_a_holiday_is_refused() {
    let (entry, problem) = invalid(load_one(&with_holiday(
        "[[holidays]]\nname = \"春节\"\nstart = 2026-02-15\nend = 2026-02-23\nworkdays = [2026-02-21]\n",
    )));
    assert_eq!(entry, "holidays[0]「春节」.workdays[2026-02-21]");
    assert_eq!(
        problem,
        ScheduleProblem::WorkdayOnHoliday {
            date: d(2026, 2, 21),
            holiday: "春节".into()
        }
    );
}

#[test]
fn malformed_dates_are_refused() {
    // Not a real date: the TOML reader refuses it, with line and column.
    let err = load_one(&with_holiday(
        "[[holidays]]\nname = \"春节\"\nstart = 2026-02-30\n",
    ));
    assert_eq!(err.code(), "calendar_syntax");
    assert!(err.message().contains("line 7"), "{}", err.message());

    // A quoted string is not a TOML date.
    let err = load_one(&with_holiday(
        "[[holidays]]\nname = \"春节\"\nstart = \"2026-02-15\"\n",
    ));
    assert_eq!(err.code(), "calendar_syntax");

    // A date-time is not a day.
    let (entry, problem) = invalid(load_one(&with_holiday(
        "[[holidays]]\nname = \"春节\"\nstart = 2026-02-15T08:00:00\n",
    )));
    assert_eq!(entry, "holidays[0]「春节」.start");
    assert!(matches!(problem, ScheduleProblem::NotADate { .. }));
}

/// A holiday entry and a check on the problem it must produce.
type Case = (&'static str, fn(&ScheduleProblem) -> bool);

#[test]
fn other_schedule_mistakes_are_refused() {
    let cases: &[Case] = &[
        (
            "[[holidays]]\nname = \"a\"\nstart = 2026-02-15\nend = 2026-02-10\n",
            |p| matches!(p, ScheduleProblem::EndBeforeStart { .. }),
        ),
        (
            "[[holidays]]\nname = \"a\"\nstart = 2026-02-15\nend = 2026-02-23\ndays = 8\n",
            |p| {
                *p == ScheduleProblem::DayCountMismatch {
                    stated: 8,
                    actual: 9,
                }
            },
        ),
        (
            "[[holidays]]\nname = \"a\"\nstart = 2026-02-15\nend = 2026-02-18\n\
             [[holidays]]\nname = \"b\"\nstart = 2026-02-18\n",
            |p| matches!(p, ScheduleProblem::HolidaysOverlap { other, .. } if other == "a"),
        ),
        (
            "[[holidays]]\nname = \"a\"\nstart = 2026-02-15\nworkdays = [2026-02-16]\n",
            |p| matches!(p, ScheduleProblem::WorkdayNotWeekend { .. }),
        ),
        (
            "[[holidays]]\nname = \"a\"\nstart = 2026-02-15\nworkdays = [2026-02-14, 2026-02-14]\n",
            |p| matches!(p, ScheduleProblem::DuplicateWorkday { .. }),
        ),
        ("[[holidays]]\nname = \"\"\nstart = 2026-02-15\n", |p| {
            *p == ScheduleProblem::Empty
        }),
    ];
    for (holiday, expected) in cases {
        let (entry, problem) = invalid(load_one(&with_holiday(holiday)));
        assert!(expected(&problem), "{holiday}: got {entry} {problem:?}");
        assert!(!problem.to_string().is_empty());
    }

    let err = load_one(&with_holiday(
        "[[holidays]]\nname = \"a\"\nstart = 2026-02-15\nextra = 1\n",
    ));
    assert_eq!(err.code(), "calendar_syntax", "unknown fields are refused");
}

#[test]
fn directory_errors() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("a.toml"), OVERRIDE_2026).unwrap();
    fs::write(dir.path().join("b.toml"), OVERRIDE_2026).unwrap();
    let mut cal = Calendar::builtin();
    let err = cal.load_dir(dir.path()).unwrap_err();
    assert_eq!(err.code(), "calendar_duplicate_year");
    assert!(err.message().contains("a.toml") && err.message().contains("b.toml"));
    assert!(
        !working(&cal, d(2026, 2, 16)),
        "unchanged after a failed load"
    );

    let err = cal.load_dir(dir.path().join("missing")).unwrap_err();
    assert_eq!(err.code(), "calendar_unreadable");
    assert!(err.message().contains("missing"));
}
