//! The state machine against the national 办理状态 table.

use super::*;

fn run(from: Status, commands: &[Command]) -> Vec<u8> {
    let mut codes = vec![from.code()];
    let mut status = from;
    for &c in commands {
        status = status
            .apply(c)
            .unwrap_or_else(|e| panic!("{}: {}", e.code(), e.message()));
        codes.push(status.code());
    }
    codes
}

#[test]
fn codes_and_names_for_all_fifteen() {
    let expected = [
        (1, "已接件"),
        (2, "已撤件"),
        (3, "已受理"),
        (4, "不受理"),
        (5, "不予受理"),
        (6, "补正（开始）"),
        (7, "补正（结束）"),
        (8, "部门开始办理"),
        (9, "特别程序（开始）"),
        (10, "特别程序（结束）"),
        (11, "办结（通过）"),
        (12, "办结（容缺通过）"),
        (13, "办结（不通过）"),
        (14, "撤回"),
        (15, "撤销"),
    ];
    for (status, (code, name)) in Status::ALL.into_iter().zip(expected) {
        assert_eq!(status.code(), code);
        assert_eq!(status.name(), name);
        assert_eq!(status.to_string(), name);
        assert_eq!(Status::from_code(code), Some(status));
    }
    assert_eq!(Status::from_code(0), None);
    assert_eq!(Status::from_code(16), None);
}

#[test]
fn happy_path() {
    use Command as C;
    assert_eq!(
        run(Status::Received, &[C::Accept, C::StartReview, C::Approve]),
        [1, 3, 8, 11]
    );
}

#[test]
fn supplement_round_trip() {
    use Command as C;
    assert_eq!(
        run(
            Status::InReview,
            &[C::RequestSupplement, C::ReceiveSupplement, C::StartReview]
        ),
        [8, 6, 7, 8]
    );
    // 7 is a review state: a decision may follow at once, or another
    // supplement request.
    assert_eq!(
        Status::SupplementReceived.apply(C::Approve),
        Ok(Status::Approved)
    );
    assert_eq!(
        Status::SupplementReceived.apply(C::RequestSupplement),
        Ok(Status::SupplementRequested)
    );
    // No decision while the applicant owes material.
    assert_eq!(
        Status::SupplementRequested
            .apply(C::Approve)
            .unwrap_err()
            .code(),
        "illegal_transition"
    );
}

#[test]
fn special_procedure() {
    use Command as C;
    assert_eq!(
        run(
            Status::InReview,
            &[
                C::StartSpecialProcedure,
                C::EndSpecialProcedure,
                C::StartReview,
                C::Reject
            ]
        ),
        [8, 9, 10, 8, 13]
    );
    assert_eq!(
        run(
            Status::SpecialProcedureEnded,
            &[
                C::StartSpecialProcedure,
                C::EndSpecialProcedure,
                C::ApproveWithTolerance,
                C::Revoke
            ]
        ),
        [10, 9, 10, 12, 15]
    );
    assert!(Status::SpecialProcedure.apply(C::Approve).is_err());
    assert!(
        Status::SpecialProcedure
            .apply(C::StartSpecialProcedure)
            .is_err()
    );
}

#[test]
fn intake_outcomes() {
    use Command as C;
    assert_eq!(
        run(
            Status::Received,
            &[C::ReturnForCorrection, C::Resubmit, C::Accept]
        ),
        [1, 4, 1, 3]
    );
    assert_eq!(run(Status::Returned, &[C::Recall]), [4, 2]);
    assert_eq!(run(Status::Received, &[C::RefuseIntake]), [1, 5]);
    assert!(Status::Accepted.apply(C::Recall).is_err());
    assert!(Status::Received.apply(C::Withdraw).is_err());
}

#[test]
fn withdrawal_is_possible_until_a_decision() {
    for status in Status::ALL {
        let allowed = matches!(status.code(), 3 | 6..=10);
        assert_eq!(status.apply(Command::Withdraw).is_ok(), allowed, "{status}");
    }
}

#[test]
fn terminal_states_refuse_everything() {
    let terminal: Vec<_> = Status::ALL
        .into_iter()
        .filter(|s| s.is_terminal())
        .collect();
    assert_eq!(
        terminal.iter().map(|s| s.code()).collect::<Vec<_>>(),
        [2, 5, 13, 14, 15]
    );
    for status in terminal {
        for command in Command::ALL {
            let err = status.apply(command).unwrap_err();
            assert_eq!(
                err,
                TransitionError {
                    from: status,
                    command
                }
            );
            assert_eq!(err.code(), "illegal_transition");
        }
    }
    // Approvals only accept revocation.
    for status in [Status::Approved, Status::ApprovedWithTolerance] {
        assert!(status.is_concluded() && !status.is_terminal());
        for command in Command::ALL {
            assert_eq!(
                status.apply(command).is_ok(),
                command == Command::Revoke,
                "{status} {command}"
            );
        }
    }
}

#[test]
fn refusal_message_names_state_and_action() {
    let err = Status::Approved
        .apply(Command::RequestSupplement)
        .unwrap_err();
    assert_eq!(
        err.message(),
        "事项当前状态为「办结（通过）」，不能要求补正"
    );
    assert_eq!(err.to_string(), err.message());
}

#[test]
fn every_status_is_reachable_from_received() {
    let mut seen = vec![Status::Received];
    let mut i = 0;
    while i < seen.len() {
        for command in Command::ALL {
            if let Ok(next) = seen[i].apply(command)
                && !seen.contains(&next)
            {
                seen.push(next);
            }
        }
        i += 1;
    }
    assert_eq!(seen.len(), 15);
}

#[test]
fn clock_effects_follow_the_commands() {
    assert_eq!(Command::Accept.clock_effect(), Some(ClockEffect::Start));
    assert_eq!(
        Command::RequestSupplement.clock_effect(),
        Some(ClockEffect::Pause(PauseReason::Supplement))
    );
    assert_eq!(
        Command::EndSpecialProcedure.clock_effect(),
        Some(ClockEffect::Resume)
    );
    assert_eq!(Command::Withdraw.clock_effect(), Some(ClockEffect::Stop));
    assert_eq!(Command::Revoke.clock_effect(), None);
    assert_eq!(Command::StartReview.clock_effect(), None);
}

#[test]
fn serde_names() {
    assert_eq!(
        serde_json::to_string(&Status::SupplementRequested).unwrap(),
        "\"supplement_requested\""
    );
    assert_eq!(
        serde_json::from_str::<Command>("\"approve_with_tolerance\"").unwrap(),
        Command::ApproveWithTolerance
    );
}
