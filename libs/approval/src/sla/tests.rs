use chrono::{NaiveDate, NaiveDateTime};

use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn t(y: i32, m: u32, day: u32, h: u32, min: u32) -> NaiveDateTime {
    d(y, m, day).and_hms_opt(h, min, 0).unwrap()
}

fn days(n: i32) -> WorkingTime {
    WorkingTime::from_days(n)
}

fn half_days(n: i64) -> WorkingTime {
    WorkingTime::from_half_days(n)
}

fn limits(statutory: i32, committed: WorkingTime) -> Limits {
    Limits::new(days(statutory), committed).unwrap()
}

fn due_day(date: NaiveDate) -> Option<Deadline> {
    Some(Deadline {
        date,
        half: Half::Afternoon,
    })
}

#[test]
fn starts_the_working_day_after_acceptance() {
    let cal = Calendar::builtin();
    // Accepted Fri 2026-02-13 in the afternoon, committed 3, statutory 20.
    let clock = Clock::start(t(2026, 2, 13, 15, 0), limits(20, days(3)));

    let r = clock.reading_on(&cal, d(2026, 2, 13));
    assert_eq!(
        r.used,
        WorkingTime::ZERO,
        "the acceptance day is not counted"
    );
    assert_eq!(r.phase, ClockPhase::Running);
    assert_eq!(r.committed.state, SlaState::OnTime);
    // Same as the calendar: Sat 02-14 (make-up), Tue 02-24, Wed 02-25.
    assert_eq!(r.committed.due, due_day(d(2026, 2, 25)));
    // Statutory 20: 02-14, 02-24..=02-28 (6), 03-02..=03-06 (11),
    // 03-09..=03-13 (16), 03-16..=03-19 (20).
    assert_eq!(r.statutory.due, due_day(d(2026, 3, 19)));
    assert_eq!(r.coverage, Coverage::Published);

    // The make-up Saturday is the first counted day: half of it by 09:00.
    assert_eq!(
        clock.reading_at(&cal, t(2026, 2, 14, 9, 0)).used,
        half_days(1)
    );
    assert_eq!(clock.reading_on(&cal, d(2026, 2, 14)).used, days(1));
    // Nothing moves over the holiday.
    assert_eq!(clock.reading_on(&cal, d(2026, 2, 23)).used, days(1));

    // On the due day the limit is used up but not passed: warning.
    let r = clock.reading_on(&cal, d(2026, 2, 25));
    assert_eq!(r.used, days(3));
    assert_eq!(r.committed.remaining, WorkingTime::ZERO);
    assert_eq!(r.committed.state, SlaState::Warning);
    assert!(!r.committed.is_late());

    // The next morning it is overdue, and the due date stays in the past.
    let r = clock.reading_at(&cal, t(2026, 2, 26, 9, 0));
    assert_eq!(r.used, half_days(7));
    assert_eq!(r.committed.remaining, half_days(-1));
    assert_eq!(r.committed.state, SlaState::Overdue);
    assert_eq!(r.committed.due, due_day(d(2026, 2, 25)));
    assert_eq!(r.statutory.state, SlaState::OnTime);
    assert_eq!(r.statutory.remaining, half_days(33));
}

#[test]
fn due_dates_agree_with_calendar_arithmetic() {
    let cal = Calendar::builtin();
    for accepted in [
        d(2025, 9, 26),
        d(2025, 12, 30),
        d(2026, 2, 13),
        d(2026, 9, 30),
    ] {
        for n in 0..40 {
            let clock = Clock::start(accepted.and_hms_opt(10, 0, 0).unwrap(), limits(40, days(n)));
            let expected = cal
                .add_working_days(accepted, u32::try_from(n).unwrap())
                .unwrap()
                .value;
            let r = clock.reading_on(&cal, accepted);
            assert_eq!(r.committed.due, due_day(expected), "{accepted} + {n}");
            let on_due = clock.reading_on(&cal, expected);
            assert_eq!(on_due.used, days(n), "{accepted} + {n}");
        }
    }
}

#[test]
fn pause_and_resume_across_national_day() {
    let cal = Calendar::builtin();
    // Accepted Mon 2025-09-22; committed 5.
    let mut clock = Clock::start(t(2025, 9, 22, 10, 0), limits(20, days(5)));
    // Tue 09-23 (1), Wed 09-24 (2), Thu 09-25 (3): 补正 requested Thu
    // afternoon, so Thursday is counted in full.
    clock
        .pause(t(2025, 9, 25, 15, 0), PauseReason::Supplement)
        .unwrap();

    let r = clock.reading_on(&cal, d(2025, 9, 30));
    assert_eq!(r.phase, ClockPhase::Paused(PauseReason::Supplement));
    assert_eq!(
        r.used,
        days(3),
        "Fri 09-26, Sun 09-28 (make-up) and so on are not counted"
    );
    assert_eq!(r.committed.state, SlaState::Paused);
    assert_eq!(r.committed.remaining, days(2));
    // Were it resumed at this reading (Tue 09-30), the next working day is
    // Thu 10-09 (4) and Fri 10-10 (5).
    assert_eq!(r.committed.due, due_day(d(2025, 10, 10)));

    // Materials arrive on the make-up Saturday 10-11: like acceptance, that
    // day is not counted; Sun 10-12 is off; Mon 10-13 is the 4th day.
    clock.resume(t(2025, 10, 11, 10, 0)).unwrap();
    let r = clock.reading_on(&cal, d(2025, 10, 11));
    assert_eq!(r.phase, ClockPhase::Running);
    assert_eq!(r.used, days(3));
    assert_eq!(r.committed.state, SlaState::OnTime);
    assert_eq!(r.committed.due, due_day(d(2025, 10, 14)));

    let r = clock.reading_on(&cal, d(2025, 10, 13));
    assert_eq!(r.used, days(4));
    assert_eq!(r.committed.state, SlaState::Warning, "4 of 5 is 80 %");
    assert_eq!(
        clock.reading_on(&cal, d(2025, 10, 14)).committed.state,
        SlaState::Warning
    );
    let r = clock.reading_on(&cal, d(2025, 10, 15));
    assert_eq!(r.used, days(6));
    assert_eq!(r.committed.state, SlaState::Overdue);
    assert_eq!(r.committed.due, due_day(d(2025, 10, 14)));
}

#[test]
fn resume_during_a_holiday_restarts_after_it() {
    let cal = Calendar::builtin();
    let mut clock = Clock::start(t(2025, 9, 22, 10, 0), limits(20, days(5)));
    clock
        .pause(t(2025, 9, 25, 15, 0), PauseReason::SpecialProcedure)
        .unwrap();
    // 特别程序 ends on 10-03, a holiday: counting resumes Thu 10-09.
    clock.resume(t(2025, 10, 3, 9, 0)).unwrap();
    assert_eq!(clock.reading_on(&cal, d(2025, 10, 8)).used, days(3));
    assert_eq!(clock.reading_on(&cal, d(2025, 10, 9)).used, days(4));
    assert_eq!(
        clock.reading_on(&cal, d(2025, 10, 3)).committed.due,
        due_day(d(2025, 10, 10))
    );
}

#[test]
fn a_morning_pause_counts_half_the_day() {
    let cal = Calendar::builtin();
    let mut clock = Clock::start(t(2025, 9, 22, 10, 0), limits(20, days(5)));
    clock
        .pause(t(2025, 9, 25, 9, 30), PauseReason::Supplement)
        .unwrap();
    assert_eq!(clock.reading_on(&cal, d(2025, 9, 26)).used, half_days(5));
    // Resumed the same day: the afternoon is not counted either.
    clock.resume(t(2025, 9, 25, 16, 0)).unwrap();
    let r = clock.reading_on(&cal, d(2025, 9, 26));
    assert_eq!(r.used, half_days(7), "2.5 + Fri 09-26");
    // 2.5 used, 2.5 left: Fri 09-26 (3.5), Sun 09-28 (4.5), noon of
    // Mon 09-29 (5).
    assert_eq!(
        r.committed.due,
        Some(Deadline {
            date: d(2025, 9, 29),
            half: Half::Morning
        })
    );
}

#[test]
fn half_day_committed_limit() {
    let cal = Calendar::builtin();
    // Six hotel permits in 5.5 working days; accepted Mon 2026-03-02.
    // Tue 03-03 (1) .. Fri 03-06 (4), Mon 03-09 (5), noon Tue 03-10 (5.5).
    let limit: WorkingTime = "5.5".parse().unwrap();
    let mut clock = Clock::start(t(2026, 3, 2, 10, 0), limits(20, limit));
    let due = Deadline {
        date: d(2026, 3, 10),
        half: Half::Morning,
    };
    assert_eq!(
        clock.reading_on(&cal, d(2026, 3, 2)).committed.due,
        Some(due)
    );
    assert_eq!(due.to_string(), "2026-03-10 12:00 前");

    let r = clock.reading_at(&cal, t(2026, 3, 10, 11, 0));
    assert_eq!(r.used, limit);
    assert_eq!(r.committed.state, SlaState::Warning);
    let r = clock.reading_at(&cal, t(2026, 3, 10, 13, 0));
    assert_eq!(r.committed.remaining, half_days(-1));
    assert_eq!(r.committed.state, SlaState::Overdue);

    // Decided at 11:30: on time, and it stays so.
    let mut on_time = clock.clone();
    on_time.stop(t(2026, 3, 10, 11, 30)).unwrap();
    let r = on_time.reading_on(&cal, d(2026, 4, 1));
    assert_eq!(r.committed.state, SlaState::Stopped);
    assert!(!r.committed.is_late());
    assert_eq!(r.at, t(2026, 3, 10, 11, 30));
    // Decided at 14:00: half a day late.
    clock.stop(t(2026, 3, 10, 14, 0)).unwrap();
    let r = clock.reading_on(&cal, d(2026, 4, 1));
    assert_eq!(r.committed.state, SlaState::Stopped);
    assert!(r.committed.is_late());
    assert_eq!(r.committed.remaining, half_days(-1));
}

#[test]
fn warning_share_is_configurable() {
    let cal = Calendar::builtin();
    // Accepted Mon 2026-03-02; on Fri 03-06, 4 of 10 days are used.
    let start = t(2026, 3, 2, 10, 0);
    let clock = Clock::start(start, limits(20, days(10)));
    assert_eq!(
        clock.reading_on(&cal, d(2026, 3, 6)).committed.state,
        SlaState::OnTime
    );
    let eager = clock.with_warning_share(WarningShare::new(0.4).unwrap());
    assert_eq!(eager.warning_share().permille(), 400);
    assert_eq!(
        eager.reading_on(&cal, d(2026, 3, 6)).committed.state,
        SlaState::Warning
    );
    assert_eq!(
        eager.reading_on(&cal, d(2026, 3, 5)).committed.state,
        SlaState::OnTime
    );
    assert!(WarningShare::new(0.0).is_none());
    assert!(WarningShare::new(1.5).is_none());
    assert!(WarningShare::new(f64::NAN).is_none());
    assert_eq!(
        WarningShare::default(),
        WarningShare::from_permille(800).unwrap()
    );
}

#[test]
fn stop_freezes_the_reading_even_while_paused() {
    let cal = Calendar::builtin();
    let mut clock = Clock::start(t(2026, 3, 2, 10, 0), limits(20, days(5)));
    clock
        .pause(t(2026, 3, 4, 15, 0), PauseReason::Supplement)
        .unwrap();
    // The applicant withdraws during 补正.
    clock.stop(t(2026, 3, 20, 9, 0)).unwrap();
    assert_eq!(clock.phase(), ClockPhase::Stopped);
    let r = clock.reading_on(&cal, d(2026, 6, 1));
    assert_eq!(r.phase, ClockPhase::Stopped);
    assert_eq!(r.used, days(2));
    assert_eq!(r.statutory.state, SlaState::Stopped);
    assert_eq!(r.committed.state, SlaState::Stopped);
}

#[test]
fn readings_before_acceptance_read_as_at_acceptance() {
    let cal = Calendar::builtin();
    let clock = Clock::start(t(2026, 3, 2, 10, 0), limits(20, days(5)));
    let r = clock.reading_at(&cal, t(2026, 1, 1, 0, 0));
    assert_eq!(r.at, t(2026, 3, 2, 10, 0));
    assert_eq!(r.used, WorkingTime::ZERO);
}

#[test]
fn zero_limit_is_due_on_acceptance_day() {
    let cal = Calendar::builtin();
    let clock = Clock::start(t(2026, 3, 2, 10, 0), limits(0, days(0)));
    let r = clock.reading_on(&cal, d(2026, 3, 2));
    assert_eq!(r.committed.due, due_day(d(2026, 3, 2)));
    assert_eq!(r.committed.state, SlaState::Warning);
    let r = clock.reading_at(&cal, t(2026, 3, 3, 8, 0));
    assert_eq!(r.committed.state, SlaState::Overdue);
}

#[test]
fn deadlines_in_unpublished_years_are_provisional() {
    let cal = Calendar::builtin();
    let clock = Clock::start(t(2026, 12, 28, 10, 0), limits(20, days(10)));
    let r = clock.reading_on(&cal, d(2026, 12, 29));
    assert_eq!(r.used, days(1));
    assert_eq!(
        r.coverage,
        Coverage::Provisional,
        "the due date lies in 2027"
    );
    // Weekends only in 2027: 12-29..=12-31 (3), 2027-01-01 Fri (4),
    // 01-04..=01-08 (9), 01-11 (10).
    assert_eq!(r.committed.due, due_day(d(2027, 1, 11)));

    let within = Clock::start(t(2026, 3, 2, 10, 0), limits(5, days(5)));
    assert_eq!(
        within.reading_on(&cal, d(2026, 3, 3)).coverage,
        Coverage::Published
    );
}

#[test]
fn illegal_sequences_are_typed_errors() {
    let start = t(2026, 3, 2, 10, 0);
    let l = limits(20, days(5));
    let mut clock = Clock::start(start, l);

    let err = clock.resume(t(2026, 3, 3, 9, 0)).unwrap_err();
    assert_eq!(err.code(), "clock_resume_without_pause");
    assert!(err.message().contains("未暂停"));

    let err = clock
        .pause(t(2026, 3, 1, 9, 0), PauseReason::Supplement)
        .unwrap_err();
    assert_eq!(err.code(), "clock_event_before_start");

    clock
        .pause(t(2026, 3, 4, 9, 0), PauseReason::Supplement)
        .unwrap();
    let err = clock
        .pause(t(2026, 3, 5, 9, 0), PauseReason::SpecialProcedure)
        .unwrap_err();
    assert_eq!(err.code(), "clock_already_paused");
    assert!(err.message().contains("补正"), "{}", err.message());

    let err = clock.resume(t(2026, 3, 3, 9, 0)).unwrap_err();
    assert_eq!(err.code(), "clock_event_out_of_order");

    clock.resume(t(2026, 3, 6, 9, 0)).unwrap();
    clock.stop(t(2026, 3, 9, 9, 0)).unwrap();
    for event in [
        ClockEvent::pause(t(2026, 3, 10, 9, 0), PauseReason::Supplement),
        ClockEvent::resume(t(2026, 3, 10, 9, 0)),
        ClockEvent::stop(t(2026, 3, 10, 9, 0)),
    ] {
        assert_eq!(
            clock.record(event).unwrap_err().code(),
            "clock_already_stopped"
        );
    }
    assert_eq!(clock.events().len(), 3, "refused events are not recorded");

    // Rebuilding from storage applies the same checks.
    let rebuilt = Clock::from_events(start, l, clock.events().iter().copied()).unwrap();
    assert_eq!(rebuilt, clock);
    let err = Clock::from_events(start, l, [ClockEvent::resume(t(2026, 3, 3, 9, 0))]).unwrap_err();
    assert_eq!(err.code(), "clock_resume_without_pause");
}

#[test]
fn limits_are_checked() {
    let err = Limits::new(days(5), days(6)).unwrap_err();
    assert_eq!(err.code(), "committed_exceeds_statutory");
    assert_eq!(
        err.message(),
        "承诺时限（6 个工作日）不能长于法定时限（5 个工作日）"
    );
    assert_eq!(
        Limits::new(days(-1), days(-2)).unwrap_err().code(),
        "negative_limit"
    );
    let l = Limits::new(days(120), half_days(11)).unwrap();
    assert_eq!(l.committed().to_string(), "5.5 个工作日");
}

#[test]
fn events_serialize_for_storage() {
    let event = ClockEvent::pause(t(2026, 3, 4, 9, 0), PauseReason::SpecialProcedure);
    let json = serde_json::to_value(event).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"at": "2026-03-04T09:00:00", "kind": "pause", "reason": "special_procedure"})
    );
    assert_eq!(serde_json::from_value::<ClockEvent>(json).unwrap(), event);
}

#[test]
fn alarms_name_the_half_days_readings_turn_warning_and_overdue() {
    let cal = Calendar::builtin();
    // Accepted Mon 2026-03-02, committed 5 days (10 halves from Tue 03-03):
    // warning at 80 % = the 8th half = Fri 03-06 afternoon; overdue from
    // the 11th half = Tue 03-10 morning.
    let clock = Clock::start(t(2026, 3, 2, 10, 0), limits(20, days(5)));
    let alarms = clock
        .alarms(&cal, t(2026, 3, 2, 10, 0), days(5))
        .expect("running");
    let warn = Deadline {
        date: d(2026, 3, 6),
        half: Half::Afternoon,
    };
    let overdue = Deadline {
        date: d(2026, 3, 10),
        half: Half::Morning,
    };
    assert_eq!(alarms.warning_from, Some(warn));
    assert_eq!(alarms.overdue_from, Some(overdue));
    // The readings agree: just before each alarm the state is the earlier one.
    let state = |at| clock.reading_at(&cal, at).committed.state;
    assert_eq!(state(t(2026, 3, 6, 11, 59)), SlaState::OnTime);
    assert_eq!(state(t(2026, 3, 6, 12, 0)), SlaState::Warning);
    assert_eq!(state(t(2026, 3, 9, 23, 0)), SlaState::Warning);
    assert_eq!(state(t(2026, 3, 10, 8, 0)), SlaState::Overdue);
    assert_eq!(Deadline::containing(t(2026, 3, 6, 12, 0)), warn);

    // A pause moves both alarms; while paused there are none.
    let mut paused = clock.clone();
    paused
        .pause(t(2026, 3, 3, 9, 0), PauseReason::Supplement)
        .unwrap();
    assert_eq!(paused.alarms(&cal, t(2026, 3, 4, 9, 0), days(5)), None);
    paused.resume(t(2026, 3, 6, 15, 0)).unwrap();
    // Counted: 03-03 morning (1); resumes Mon 03-09: halves 2..=8 run to
    // Thu 03-12 morning.
    let after = paused.alarms(&cal, t(2026, 3, 6, 15, 0), days(5)).unwrap();
    assert_eq!(
        after.warning_from,
        Some(Deadline {
            date: d(2026, 3, 12),
            half: Half::Morning
        })
    );
    let mut stopped = clock.clone();
    stopped.stop(t(2026, 3, 3, 9, 0)).unwrap();
    assert_eq!(stopped.alarms(&cal, t(2026, 3, 4, 9, 0), days(5)), None);
}

#[test]
fn bundle_pauses_while_any_parallel_task_waits() {
    let a = [
        ClockEvent::pause(t(2026, 3, 3, 9, 0), PauseReason::Supplement),
        ClockEvent::resume(t(2026, 3, 5, 9, 0)),
        ClockEvent::stop(t(2026, 3, 6, 9, 0)),
    ];
    let b = [
        ClockEvent::pause(t(2026, 3, 4, 9, 0), PauseReason::SpecialProcedure),
        ClockEvent::resume(t(2026, 3, 9, 9, 0)),
    ];
    // c pauses when b resumes: no gap; then is withdrawn while paused.
    let c = [
        ClockEvent::pause(t(2026, 3, 9, 9, 0), PauseReason::Supplement),
        ClockEvent::stop(t(2026, 3, 10, 9, 0)),
    ];
    let none: [ClockEvent; 0] = [];
    let merged = parallel_pauses([&a[..], &b[..], &c[..], &none[..]]);
    assert_eq!(
        merged,
        vec![
            ClockEvent::pause(t(2026, 3, 3, 9, 0), PauseReason::Supplement),
            ClockEvent::resume(t(2026, 3, 10, 9, 0)),
        ]
    );
    // The merged events make a valid clock.
    Clock::from_events(t(2026, 3, 2, 10, 0), limits(20, days(5)), merged).unwrap();
    assert!(parallel_pauses([&none[..]]).is_empty());
}
