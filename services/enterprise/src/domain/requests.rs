//! 诉求 — an enterprise's request or complaint, from filing to the rating
//! that closes the loop.
//!
//! ```text
//!  file ─▶ 已派单 ──accept──▶ 办理中 ──answer──▶ 已答复 ──rate 满意/基本满意──▶ 已办结
//!          │  ▲                 │  ▲                  │
//!          │  └──transfer───────┘  │                  └─rate 不满意 (first time)─▶ 办理中 (second round)
//!          │  (while 已派单)     ask│ │reply             rate 不满意 (second time) ─▶ 已办结
//!          │                      ▼ │
//!          │                   待企业补充 (clock paused)
//!  withdraw from any open state ─▶ 已撤回
//! ```
//!
//! Two time limits, both in working days on the shared calendar and both
//! read with the shared SLA clock (`yizhan_approval::Clock`):
//! - **签收**: the department dispatched to accepts or transfers within
//!   [`ACCEPT_LIMIT_DAYS`] working day, counted from that dispatch;
//! - **答复**: it answers within its category's limit, counted from its
//!   acceptance; the clock pauses while the request waits on the
//!   enterprise. A second round (after 不满意) starts a fresh answer clock.
//!
//! The pause is recorded as the clock's `Supplement` reason: for the clock
//! it is the same thing (the applicant owes something), and people are shown
//! [`Status::AwaitingEnterprise`]'s own name, never "补正".

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use yizhan_approval::{Clock, ClockError, Limits, WorkingTime};

/// Working days a department has to accept or transfer a dispatched request.
pub const ACCEPT_LIMIT_DAYS: i32 = 1;
/// Rounds of handling: the first, and one more after a 不满意 rating.
pub const MAX_ROUNDS: u8 = 2;

macro_rules! named_codes {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal, $zh:literal;)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every value, in display order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The code used in the API and in events.
            pub const fn code(self) -> &'static str {
                match self { $(Self::$variant => $code,)+ }
            }

            /// The Chinese name shown to people.
            pub const fn name(self) -> &'static str {
                match self { $(Self::$variant => $zh,)+ }
            }

            /// Reads a code.
            pub fn from_code(code: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.code() == code)
            }
        }
    };
}

named_codes! {
    /// 诉求类别: decides the responsible department (a dispatch rule) and
    /// the answer limit.
    Category {
        /// 政策咨询与兑现.
        Policy = "policy", "政策咨询";
        /// 融资.
        Finance = "finance", "融资服务";
        /// 人才.
        Talent = "talent", "人才服务";
        /// 用地与规划.
        LandPlanning = "land_planning", "用地规划";
        /// 审批.
        Approvals = "approvals", "行政审批";
        /// 水电气.
        Utilities = "utilities", "水电气报装";
        /// 法律.
        Legal = "legal", "法律服务";
        /// 其他.
        Other = "other", "其他";
    }
}

named_codes! {
    /// 来源渠道.
    Channel {
        /// 12345 热线.
        Hotline12345 = "hotline_12345", "12345热线";
        /// 高新通 亲清在线.
        Gaoxintong = "gaoxintong", "高新通亲清在线";
        /// 政企沙龙.
        Salon = "salon", "政企沙龙";
        /// 营商专员走访.
        SpecialistVisit = "specialist_visit", "营商专员走访";
    }
}

named_codes! {
    /// 诉求状态.
    Status {
        /// Dispatched to a department, not yet accepted.
        Dispatched = "dispatched", "已派单";
        /// Accepted; the department is working on it.
        InHandling = "in_handling", "办理中";
        /// The department asked the enterprise something; clock paused.
        AwaitingEnterprise = "awaiting_enterprise", "待企业补充";
        /// Answered; waiting for the enterprise's rating.
        Answered = "answered", "已答复";
        /// Rated; the loop is closed.
        Closed = "closed", "已办结";
        /// Withdrawn by the enterprise.
        Withdrawn = "withdrawn", "已撤回";
    }
}

named_codes! {
    /// 满意度.
    Satisfaction {
        /// 满意.
        Satisfied = "satisfied", "满意";
        /// 基本满意.
        Acceptable = "acceptable", "基本满意";
        /// 不满意: reopens the request once.
        Dissatisfied = "dissatisfied", "不满意";
    }
}

impl Status {
    /// Whether the request still needs someone to act.
    pub const fn is_open(self) -> bool {
        !matches!(self, Status::Closed | Status::Withdrawn)
    }
}

/// What someone does to a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// The department dispatched to takes it.
    Accept,
    /// The department dispatched to passes it on (with a reason, kept by
    /// the caller).
    Transfer,
    /// The department asks the enterprise something.
    AskEnterprise,
    /// The enterprise replies.
    Reply,
    /// The department answers.
    Answer,
    /// The enterprise rates the answer.
    Rate(Satisfaction),
    /// The enterprise withdraws the request.
    Withdraw,
}

impl Command {
    /// zh-CN name, for timelines and refusals.
    pub const fn name(self) -> &'static str {
        match self {
            Command::Accept => "签收",
            Command::Transfer => "转办",
            Command::AskEnterprise => "请企业补充",
            Command::Reply => "企业补充",
            Command::Answer => "答复",
            Command::Rate(_) => "评价",
            Command::Withdraw => "撤回",
        }
    }
}

/// What a transition does to the two clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockChange {
    /// Nothing.
    None,
    /// Stop the 签收 clock and start the 答复 clock.
    Accepted,
    /// Stop the 签收 clock and start a new one for the next department.
    Redispatched,
    /// Pause the 答复 clock.
    Pause,
    /// Resume the 答复 clock.
    Resume,
    /// Stop the 答复 clock.
    StopAnswer,
    /// Start a fresh 答复 clock for the second round.
    SecondRound,
    /// Stop whichever clock runs.
    StopAll,
}

/// The result of a command that is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// The status after it.
    pub to: Status,
    /// The round after it (1 or 2).
    pub round: u8,
    /// What happens to the clocks.
    pub clock: ClockChange,
}

/// A command that is not allowed in the request's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransitionError {
    /// The status the request is in.
    pub status: Status,
    /// What was tried.
    pub command: Command,
}

impl std::fmt::Display for TransitionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "诉求当前为“{}”，不能{}",
            self.status.name(),
            self.command.name()
        )
    }
}

impl std::error::Error for TransitionError {}

/// The 签收 clock of a dispatch at `at` (China local time).
pub fn accept_clock(at: NaiveDateTime) -> Clock {
    let limit = WorkingTime::from_days(ACCEPT_LIMIT_DAYS);
    Clock::start(
        at,
        Limits::new(limit, limit).expect("equal, non-negative limits"),
    )
}

/// The 答复 clock of an acceptance (or a second round) at `at`, with the
/// category's limit in working days; refused for a negative limit.
pub fn answer_clock(at: NaiveDateTime, limit_days: i32) -> Result<Clock, ClockError> {
    let limit = WorkingTime::from_days(limit_days);
    Ok(Clock::start(at, Limits::new(limit, limit)?))
}

/// Applies `command` to a request in `status` during handling `round`.
pub fn apply(status: Status, round: u8, command: Command) -> Result<Transition, TransitionError> {
    use Command as C;
    use Status as S;
    let go = |to, round, clock| Ok(Transition { to, round, clock });
    match (status, command) {
        (S::Dispatched, C::Accept) => go(S::InHandling, round, ClockChange::Accepted),
        (S::Dispatched, C::Transfer) => go(S::Dispatched, round, ClockChange::Redispatched),
        (S::InHandling, C::AskEnterprise) => go(S::AwaitingEnterprise, round, ClockChange::Pause),
        (S::AwaitingEnterprise, C::Reply) => go(S::InHandling, round, ClockChange::Resume),
        (S::InHandling, C::Answer) => go(S::Answered, round, ClockChange::StopAnswer),
        (S::Answered, C::Rate(Satisfaction::Dissatisfied)) if round < MAX_ROUNDS => {
            go(S::InHandling, round + 1, ClockChange::SecondRound)
        }
        (S::Answered, C::Rate(_)) => go(S::Closed, round, ClockChange::None),
        (open, C::Withdraw) if open.is_open() && open != S::Answered => {
            go(S::Withdrawn, round, ClockChange::StopAll)
        }
        (status, command) => Err(TransitionError { status, command }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(commands: &[Command]) -> Result<(Status, u8, Vec<ClockChange>), TransitionError> {
        let (mut status, mut round, mut clocks) = (Status::Dispatched, 1, Vec::new());
        for &command in commands {
            let t = apply(status, round, command)?;
            (status, round) = (t.to, t.round);
            clocks.push(t.clock);
        }
        Ok((status, round, clocks))
    }

    #[test]
    fn the_issue_flow_transfer_reopen_and_close() {
        use Command::*;
        let (status, round, clocks) = run(&[
            Transfer,
            Accept,
            AskEnterprise,
            Reply,
            Answer,
            Rate(Satisfaction::Dissatisfied),
            Answer,
            Rate(Satisfaction::Satisfied),
        ])
        .unwrap();
        assert_eq!((status, round), (Status::Closed, 2));
        assert_eq!(
            clocks,
            [
                ClockChange::Redispatched,
                ClockChange::Accepted,
                ClockChange::Pause,
                ClockChange::Resume,
                ClockChange::StopAnswer,
                ClockChange::SecondRound,
                ClockChange::StopAnswer,
                ClockChange::None,
            ]
        );
    }

    #[test]
    fn dissatisfied_reopens_only_once() {
        use Command::*;
        let bad = Rate(Satisfaction::Dissatisfied);
        let (status, round, _) = run(&[Accept, Answer, bad, Answer, bad]).unwrap();
        assert_eq!((status, round), (Status::Closed, 2));
    }

    #[test]
    fn refusals_say_status_and_action_in_chinese() {
        use Command::*;
        let err = run(&[Accept, Transfer]).unwrap_err();
        assert_eq!(err.to_string(), "诉求当前为“办理中”，不能转办");
        assert!(run(&[Answer]).is_err(), "answer before accepting");
        assert!(run(&[Accept, Rate(Satisfaction::Satisfied)]).is_err());
        assert!(
            run(&[Accept, Answer, Withdraw]).is_err(),
            "answered: rate, not withdraw"
        );
        assert!(run(&[Withdraw, Accept]).is_err());
        let (status, _, clocks) = run(&[Accept, AskEnterprise, Withdraw]).unwrap();
        assert_eq!(status, Status::Withdrawn);
        assert_eq!(clocks.last(), Some(&ClockChange::StopAll));
    }

    #[test]
    fn waiting_on_the_enterprise_does_not_count() {
        use yizhan_approval::{Calendar, PauseReason};
        let at = |s: &str| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        let calendar = Calendar::weekends_only();
        // Accepted Thursday 10:00 with 3 working days: Fri, Mon, Tue.
        let mut clock = answer_clock(at("2026-12-03 10:00"), 3).unwrap();
        let wednesday = at("2026-12-09 09:00");
        assert!(clock.reading_at(&calendar, wednesday).committed.is_late());
        // Asked the enterprise on Friday morning, reply on Monday 10:00:
        // Friday morning counts, the rest of Monday does not.
        clock
            .pause(at("2026-12-04 09:00"), PauseReason::Supplement)
            .unwrap();
        clock.resume(at("2026-12-07 10:00")).unwrap();
        let reading = clock.reading_at(&calendar, wednesday);
        assert!(!reading.committed.is_late());
        assert_eq!(reading.used, WorkingTime::from_half_days(4));
        // 签收 within one working day of dispatch.
        let accept = accept_clock(at("2026-12-04 16:00"));
        assert!(
            !accept
                .reading_at(&calendar, at("2026-12-07 17:00"))
                .committed
                .is_late()
        );
        assert!(
            accept
                .reading_at(&calendar, at("2026-12-08 09:00"))
                .committed
                .is_late()
        );
        assert!(answer_clock(at("2026-12-03 10:00"), -1).is_err());
    }

    #[test]
    fn every_code_reads_back_and_has_a_chinese_name() {
        for c in Category::ALL {
            assert_eq!(Category::from_code(c.code()), Some(*c));
            assert!(!c.name().is_ascii());
        }
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), Some(*s));
            assert!(!s.name().is_ascii());
        }
        for c in Channel::ALL {
            assert_eq!(Channel::from_code(c.code()), Some(*c));
        }
        assert_eq!(
            Satisfaction::from_code("dissatisfied"),
            Some(Satisfaction::Dissatisfied)
        );
        assert_eq!(Category::from_code("Policy"), None);
    }
}
