//! The engine at the store level, on SQLite and PostgreSQL: task creation,
//! decisions with the one clock-stop rule, 补正 and 特别程序 pausing and
//! resuming the clock, the stop rule, the queue and its cursor, the
//! deadline sweep announcing once, and idempotent creation.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use sea_orm::{DatabaseConnection, DatabaseTransaction};
use sea_orm_migration::prelude::*;
use yizhan_approval::{Calendar, ClockPhase, Limits, SlaState, Status, WorkingTime};
use yizhan_events::contracts::{
    DeadlineApproaching, DeadlineLimit, DeadlineNotice, IntakeDeficiency,
};
use yizhan_kit::testing::Backend;
use yizhan_workflow::deadlines::{AlarmKind, Outgoing};
use yizhan_workflow::decide::{self, Closed, Decision, SpecialProcedureKind, Step};
use yizhan_workflow::idempotent::{Idempotent, Recorded};
use yizhan_workflow::task::{Engine, NewTask};
use yizhan_workflow::{Actor, Error, task_row};

struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        let mut all = yizhan_events::migration::backbone_migrations();
        all.push(Box::new(yizhan_workflow::migration::CreateWorkflow));
        all
    }
}

async fn database(backend: &Backend) -> (yizhan_kit::testing::TestDatabase, DatabaseConnection) {
    let t = backend.fresh_database("workflow").await;
    let db = yizhan_kit::db::connect_and_migrate::<Migrator>(&t.url)
        .await
        .unwrap();
    (t, db)
}

fn reviewer() -> Actor {
    Actor {
        sub: "rev-1".into(),
        role: "dept_reviewer".into(),
    }
}

/// Creates one task of case `case` accepted at `accepted` (China local).
async fn task(
    engine: Engine<'_>,
    db: &DatabaseConnection,
    case: &str,
    dept: &str,
    accepted: chrono::NaiveDateTime,
    committed_days: i64,
) -> task_row::Model {
    let txn = yizhan_kit::db::begin_write(db).await.unwrap();
    let t = yizhan_workflow::task::create(
        engine,
        &txn,
        &NewTask {
            subject_id: case,
            case_id: case,
            enterprise_uscc: "91350100M000100Y43",
            item_code: "food_business_permit",
            item_name: "食品经营许可",
            department_code: dept,
            department_name: "市场监督管理局",
            limits: Limits::new(
                WorkingTime::from_days(20),
                WorkingTime::from_half_days(committed_days * 2),
            )
            .unwrap(),
            review_note: None,
        },
        accepted,
        &Actor {
            sub: "clerk-1".into(),
            role: "window_clerk".into(),
        },
        Utc::now(),
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    t
}

async fn with_txn<T>(
    db: &DatabaseConnection,
    f: impl AsyncFnOnce(&DatabaseTransaction) -> Result<T, Error>,
) -> Result<T, Error> {
    let txn = yizhan_kit::db::begin_write(db).await?;
    let out = f(&txn).await?;
    txn.commit().await?;
    Ok(out)
}

fn local(y: i32, m: u32, d: u32, h: u32) -> chrono::NaiveDateTime {
    NaiveDate::from_ymd_opt(y, m, d)
        .unwrap()
        .and_hms_opt(h, 0, 0)
        .unwrap()
}

async fn decisions_stop_the_clock_once_and_are_final(backend: Backend) {
    let (_t, db) = database(&backend).await;
    let calendar = Calendar::builtin();
    let engine = Engine {
        calendar: &calendar,
        service: "test",
    };
    let t = task(engine, &db, "case-1", "scjg", local(2026, 3, 2, 9), 5).await;
    assert_eq!(t.status(), Status::InReview);
    assert!(t.next_alarm_key.is_some(), "a running task has an alarm");
    let timeline = yizhan_workflow::timeline::of_subject(&db, "case-1")
        .await
        .unwrap();
    let trail: Vec<Option<i32>> = timeline.iter().map(|e| e.blzt).collect();
    assert_eq!(trail, vec![Some(3), Some(8)], "已受理 then 部门开始办理");

    let approved = with_txn(&db, async |txn| {
        decide::decide(
            engine,
            txn,
            t.clone(),
            &Decision::Approve {
                permit_number: "JY1".into(),
                with_tolerance: false,
            },
            &reviewer(),
            Utc::now(),
        )
        .await
    })
    .await
    .unwrap();
    assert_eq!(approved.status(), Status::Approved);
    assert_eq!(approved.permit_number.as_deref(), Some("JY1"));
    assert_eq!(approved.next_alarm_key, None, "a decided task has no alarm");
    assert!(approved.used_half_days.is_some());
    let clock = approved.clock().unwrap();
    assert_eq!(clock.phase(), ClockPhase::Stopped);
    // The stop is never before the last event nor before acceptance.
    assert!(clock.events().last().unwrap().at >= approved.accepted_at);

    // Deciding again is the state machine's refusal.
    let again = with_txn(&db, async |txn| {
        decide::decide(
            engine,
            txn,
            approved.clone(),
            &Decision::Reject {
                reasons: "x".into(),
            },
            &reviewer(),
            Utc::now(),
        )
        .await
    })
    .await;
    assert!(matches!(again, Err(Error::Transition(_))), "{again:?}");
}

async fn supplement_and_special_procedure_pause_and_resume(backend: Backend) {
    let (_t, db) = database(&backend).await;
    let calendar = Calendar::builtin();
    let engine = Engine {
        calendar: &calendar,
        service: "test",
    };
    let accepted = yizhan_approval::calendar::china_local(Utc::now() - Duration::days(1));
    let t = task(engine, &db, "case-2", "scjg", accepted, 5).await;
    let items = vec![IntakeDeficiency {
        field: None,
        material: Some("floor_plan".into()),
        reason: "未标注消防通道".into(),
        name: Some("经营场所平面布局图".into()),
    }];
    let paused = with_txn(&db, async |txn| {
        decide::step(
            engine,
            txn,
            t.clone(),
            &Step::RequestSupplement {
                items: items.clone(),
            },
            &reviewer(),
            Utc::now(),
        )
        .await
    })
    .await
    .unwrap();
    assert_eq!(paused.status(), Status::SupplementRequested);
    assert!(matches!(
        paused.clock().unwrap().phase(),
        ClockPhase::Paused(yizhan_approval::PauseReason::Supplement)
    ));
    assert_eq!(paused.next_alarm_key, None, "a paused clock has no alarm");
    assert_eq!(paused.open_supplement(), Some(items.clone()));

    // The answer must cover the list exactly.
    let wrong = with_txn(&db, async |txn| {
        decide::step(
            engine,
            txn,
            paused.clone(),
            &Step::ProvideSupplement {
                fields: vec!["room_count".into()],
                materials: vec![],
            },
            &reviewer(),
            Utc::now(),
        )
        .await
    })
    .await;
    let Err(Error::Invalid(errors)) = wrong else {
        panic!("expected field errors, got {wrong:?}")
    };
    let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(fields, ["materials.floor_plan", "form.room_count"]);

    let resumed = with_txn(&db, async |txn| {
        decide::step(
            engine,
            txn,
            paused.clone(),
            &Step::ProvideSupplement {
                fields: vec![],
                materials: vec!["floor_plan".into()],
            },
            &reviewer(),
            Utc::now(),
        )
        .await
    })
    .await
    .unwrap();
    assert_eq!(
        resumed.status(),
        Status::InReview,
        "补正（结束） then back to 8"
    );
    assert_eq!(resumed.clock().unwrap().phase(), ClockPhase::Running);

    let special = with_txn(&db, async |txn| {
        decide::step(
            engine,
            txn,
            resumed.clone(),
            &Step::StartSpecialProcedure {
                kind: SpecialProcedureKind::ExpertReview,
                reason: "专家论证".into(),
            },
            &reviewer(),
            Utc::now(),
        )
        .await
    })
    .await
    .unwrap();
    assert_eq!(special.status(), Status::SpecialProcedure);
    let ended = with_txn(&db, async |txn| {
        decide::step(
            engine,
            txn,
            special.clone(),
            &Step::EndSpecialProcedure,
            &reviewer(),
            Utc::now(),
        )
        .await
    })
    .await
    .unwrap();
    assert_eq!(
        ended.status(),
        Status::InReview,
        "特别程序（结束） then back to 8"
    );
    let blzt: Vec<Option<i32>> = yizhan_workflow::timeline::of_subject(&db, "case-2")
        .await
        .unwrap()
        .iter()
        .map(|e| e.blzt)
        .collect();
    assert_eq!(
        blzt,
        vec![
            Some(3),
            Some(8),
            Some(6),
            Some(7),
            Some(8),
            Some(9),
            Some(10),
            Some(8)
        ]
    );
    // Back in the department's default queue.
    let queue = yizhan_workflow::queue::department(&db, "scjg", Status::InReview, None, 10)
        .await
        .unwrap();
    assert!(queue.iter().any(|q| q.id == ended.id));
}

async fn a_stopped_case_withdraws_open_tasks_and_revokes_tolerance(backend: Backend) {
    let (_t, db) = database(&backend).await;
    let calendar = Calendar::builtin();
    let engine = Engine {
        calendar: &calendar,
        service: "test",
    };
    let at = local(2026, 3, 2, 9);
    let open = task(engine, &db, "case-3", "a", at, 5).await;
    let tolerant = task(engine, &db, "case-3", "b", at, 5).await;
    let outright = task(engine, &db, "case-3", "c", at, 5).await;
    let approve = |t: task_row::Model, with_tolerance: bool| {
        let db = db.clone();
        async move {
            with_txn(&db, async |txn| {
                decide::decide(
                    engine,
                    txn,
                    t,
                    &Decision::Approve {
                        permit_number: "N".into(),
                        with_tolerance,
                    },
                    &reviewer(),
                    Utc::now(),
                )
                .await
            })
            .await
            .unwrap()
        }
    };
    let tolerant = approve(tolerant, true).await;
    let outright = approve(outright, false).await;
    assert_eq!(tolerant.status(), Status::ApprovedWithTolerance);
    let closed = with_txn(&db, async |txn| {
        yizhan_workflow::tolerance::expire(
            engine,
            txn,
            vec![open.clone(), tolerant.clone(), outright.clone()],
            "容缺材料逾期未补交",
            |_| false,
            Utc::now(),
        )
        .await
    })
    .await
    .unwrap();
    let how: Vec<(String, Closed, Status)> = closed
        .iter()
        .map(|(t, c)| (t.department_code.clone(), *c, t.status()))
        .collect();
    assert_eq!(
        how,
        vec![
            ("a".into(), Closed::Withdrawn, Status::Withdrawn),
            ("b".into(), Closed::Revoked, Status::Revoked),
        ],
        "the outright approval stays on record"
    );
    let withdrawn = &closed[0].0;
    assert_eq!(withdrawn.clock().unwrap().phase(), ClockPhase::Stopped);
    // Nothing more may be decided on a withdrawn task.
    let late = with_txn(&db, async |txn| {
        decide::decide(
            engine,
            txn,
            withdrawn.clone(),
            &Decision::Reject {
                reasons: "x".into(),
            },
            &reviewer(),
            Utc::now(),
        )
        .await
    })
    .await;
    assert!(matches!(late, Err(Error::Transition(_))));
}

async fn the_queue_is_most_urgent_first_and_the_cursor_continues(backend: Backend) {
    let (_t, db) = database(&backend).await;
    let calendar = Calendar::builtin();
    let engine = Engine {
        calendar: &calendar,
        service: "test",
    };
    // Later acceptance, shorter limit, earlier acceptance: three due keys.
    let a = task(engine, &db, "q-1", "d", local(2026, 3, 10, 9), 10).await;
    let b = task(engine, &db, "q-2", "d", local(2026, 3, 10, 9), 1).await;
    let c = task(engine, &db, "q-3", "d", local(2026, 3, 2, 9), 3).await;
    let _other = task(engine, &db, "q-4", "e", local(2026, 3, 2, 9), 1).await;
    let first = yizhan_workflow::queue::department(&db, "d", Status::InReview, None, 2)
        .await
        .unwrap();
    let ids: Vec<&str> = first.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        ids,
        [c.id.as_str(), b.id.as_str(), a.id.as_str()],
        "limit + 1 rows"
    );
    let cursor = (first[1].due_key.clone(), first[1].id.clone());
    let next = yizhan_workflow::queue::department(&db, "d", Status::InReview, Some(cursor), 2)
        .await
        .unwrap();
    assert_eq!(next.len(), 1);
    assert_eq!(next[0].id, a.id);
}

async fn the_sweep_announces_each_alarm_once(backend: Backend) {
    let (_t, db) = database(&backend).await;
    let calendar = Calendar::builtin();
    let engine = Engine {
        calendar: &calendar,
        service: "test",
    };
    // Accepted long ago with one committed day: overdue by now.
    let t = task(engine, &db, "s-1", "d", local(2026, 3, 2, 9), 1).await;
    let now = Utc.with_ymd_and_hms(2026, 3, 20, 2, 0, 0).unwrap();
    let announce = |t: &task_row::Model, alarm: &yizhan_workflow::deadlines::Alarm| {
        assert_eq!(
            alarm.kind,
            AlarmKind::Overdue,
            "news from the past is overdue only"
        );
        Outgoing::new(
            "/test",
            &DeadlineApproaching(DeadlineNotice {
                task_id: t.id.clone(),
                application_id: t.case_id.clone(),
                project_id: None,
                item_code: t.item_code.clone(),
                item_name: t.item_name.clone(),
                department_code: t.department_code.clone(),
                reviewer_sub: None,
                applicant_uscc: t.enterprise_uscc.clone(),
                applicant_sub: None,
                due_date: alarm.due_date,
                limit_kind: DeadlineLimit::Committed,
                working_days_remaining: alarm.working_days_remaining,
            }),
        )
    };
    let first = yizhan_workflow::deadlines::sweep(engine, &db, now, 100, announce)
        .await
        .unwrap();
    assert_eq!((first.approaching, first.overdue), (0, 1));
    let second = yizhan_workflow::deadlines::sweep(engine, &db, now, 100, announce)
        .await
        .unwrap();
    assert_eq!(
        (second.approaching, second.overdue),
        (0, 0),
        "announced once"
    );
    let reread = yizhan_workflow::task::find(&db, &t.id)
        .await
        .unwrap()
        .unwrap();
    assert!(reread.overdue_notified_at.is_some() && reread.warned_at.is_some());
    assert_eq!(reread.next_alarm_key, None);
    let reading = reread
        .clock()
        .unwrap()
        .reading_at(&calendar, yizhan_approval::calendar::china_local(now));
    assert_eq!(reading.committed.state, SlaState::Overdue);
    assert_eq!(
        yizhan_events::outbox::pending_count(&db).await.unwrap(),
        1,
        "one event, committed with the mark"
    );
}

async fn idempotent_creation_replays_and_refuses_reuse(backend: Backend) {
    let (_t, db) = database(&backend).await;
    let key = |fingerprint| Idempotent {
        scope: "alice POST /things",
        key: "k-1",
        fingerprint,
    };
    let create = async |txn: &DatabaseTransaction| -> Result<String, Error> {
        yizhan_workflow::timeline::append(
            txn,
            yizhan_workflow::timeline::Entry {
                subject_id: "idem",
                case_id: None,
                task_id: None,
                action: "created",
                title: "已创建".into(),
                blzt: None,
            },
            &reviewer(),
            Utc::now(),
        )
        .await?;
        Ok("made".to_owned())
    };
    let first = yizhan_workflow::idempotent::create(
        &db,
        Some(key("f1")),
        create,
        |s| serde_json::json!({ "what": s }),
    )
    .await
    .unwrap();
    assert!(matches!(first, Recorded::Created(ref s) if s == "made"));
    let replay = yizhan_workflow::idempotent::create(
        &db,
        Some(key("f1")),
        create,
        |s| serde_json::json!({ "what": s }),
    )
    .await
    .unwrap();
    let Recorded::Replayed(stored) = replay else {
        panic!("expected a replay")
    };
    assert_eq!(stored.status, 201);
    assert_eq!(stored.body["what"], "made");
    let reused = yizhan_workflow::idempotent::create(
        &db,
        Some(key("f2")),
        create,
        |s| serde_json::json!({ "what": s }),
    )
    .await;
    assert!(matches!(reused, Err(Error::KeyReused)));
    assert_eq!(
        yizhan_workflow::timeline::of_subject(&db, "idem")
            .await
            .unwrap()
            .len(),
        1,
        "created once"
    );
}

yizhan_kit::backend_tests!(
    decisions_stop_the_clock_once_and_are_final,
    supplement_and_special_procedure_pause_and_resume,
    a_stopped_case_withdraws_open_tasks_and_revokes_tolerance,
    the_queue_is_most_urgent_first_and_the_cursor_continues,
    the_sweep_announces_each_alarm_once,
    idempotent_creation_replays_and_refuses_reuse,
);
