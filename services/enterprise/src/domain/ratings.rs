//! 好差评 — the national 政务服务"好差评" rating of a concluded service, and
//! the follow-up a bad rating opens in the responsible department.
//!
//! - Every concluded licensing application, construction stage and 诉求
//!   can be rated 1-5 by its applicant, once ([`Score`]).
//! - A score of 1 or 2 (差评) opens a follow-up ([`FollowUp`]) with a
//!   deadline in working days (configurable, default
//!   [`DEFAULT_FOLLOW_UP_DAYS`]). The department first verifies the
//!   complaint (核实), then records its rectification (整改) or that the
//!   complaint was not substantiated (不属实); the applicant sees the result.

use serde::{Deserialize, Serialize};

/// Working days a department has to finish a bad rating's follow-up,
/// unless configured otherwise.
pub const DEFAULT_FOLLOW_UP_DAYS: i32 = 5;

/// A score from 1 (非常不满意) to 5 (非常满意).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Score(u8);

impl Score {
    /// The national wording of each score, 1 to 5.
    const NAMES: [&'static str; 5] = ["非常不满意", "不满意", "基本满意", "满意", "非常满意"];

    /// Reads a score; anything but 1-5 is refused with the reason.
    pub fn new(value: i64) -> Result<Self, String> {
        u8::try_from(value)
            .ok()
            .filter(|v| (1..=5).contains(v))
            .map(Score)
            .ok_or_else(|| format!("评分应为 1 至 5 的整数，收到 {value}"))
    }

    /// The score as a number.
    pub const fn value(self) -> u8 {
        self.0
    }

    /// The Chinese wording shown with the score.
    pub const fn name(self) -> &'static str {
        Self::NAMES[self.0 as usize - 1]
    }

    /// 差评: opens a follow-up in the responsible department.
    pub const fn is_bad(self) -> bool {
        self.0 <= 2
    }
}

impl TryFrom<i64> for Score {
    type Error = String;
    fn try_from(value: i64) -> Result<Self, String> {
        Score::new(value)
    }
}

impl From<Score> for i64 {
    fn from(score: Score) -> i64 {
        i64::from(score.0)
    }
}

/// What was rated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// A concluded 一业一证 application.
    LicensingApplication,
    /// A concluded construction-project stage.
    ConstructionStage,
    /// A closed 诉求.
    Request,
}

impl Subject {
    /// The Chinese name shown to people.
    pub const fn name(self) -> &'static str {
        match self {
            Subject::LicensingApplication => "一业一证申请",
            Subject::ConstructionStage => "工程建设项目审批阶段",
            Subject::Request => "企业诉求",
        }
    }
}

/// Where a bad rating's follow-up stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FollowUp {
    /// Opened by the bad rating; the department has not verified it yet.
    Open,
    /// Verified (核实): the complaint holds; rectification is under way.
    Verified,
    /// Rectified (整改完成): closed with what was changed.
    Rectified,
    /// Verified as not substantiated (经核实不属实): closed with the reason.
    NotSubstantiated,
}

impl FollowUp {
    /// The Chinese name shown to people.
    pub const fn name(self) -> &'static str {
        match self {
            FollowUp::Open => "待核实",
            FollowUp::Verified => "整改中",
            FollowUp::Rectified => "已整改",
            FollowUp::NotSubstantiated => "经核实不属实",
        }
    }

    /// Whether the follow-up is finished (its clock stops).
    pub const fn is_closed(self) -> bool {
        matches!(self, FollowUp::Rectified | FollowUp::NotSubstantiated)
    }

    /// The department's verification: the complaint holds or it does not.
    pub fn verify(self, substantiated: bool) -> Result<Self, String> {
        match (self, substantiated) {
            (FollowUp::Open, true) => Ok(FollowUp::Verified),
            (FollowUp::Open, false) => Ok(FollowUp::NotSubstantiated),
            (other, _) => Err(format!("差评回访当前为“{}”，不能再核实", other.name())),
        }
    }

    /// The department's rectification, after verification.
    pub fn rectify(self) -> Result<Self, String> {
        match self {
            FollowUp::Verified => Ok(FollowUp::Rectified),
            other => Err(format!("差评回访当前为“{}”，不能登记整改", other.name())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_one_to_five_and_one_or_two_is_bad() {
        assert!(Score::new(0).is_err());
        assert_eq!(Score::new(6).unwrap_err(), "评分应为 1 至 5 的整数，收到 6");
        assert!(Score::new(-1).is_err());
        assert!(Score::new(1).unwrap().is_bad());
        assert!(Score::new(2).unwrap().is_bad());
        assert!(!Score::new(3).unwrap().is_bad());
        assert_eq!(Score::new(5).unwrap().name(), "非常满意");
        let parsed: Result<Score, _> = serde_json::from_str("7");
        assert!(parsed.is_err());
        assert_eq!(serde_json::to_string(&Score::new(4).unwrap()).unwrap(), "4");
    }

    #[test]
    fn a_follow_up_is_verified_then_rectified_or_closed_as_unfounded() {
        let verified = FollowUp::Open.verify(true).unwrap();
        assert!(!verified.is_closed());
        assert_eq!(verified.rectify().unwrap(), FollowUp::Rectified);
        assert!(FollowUp::Rectified.is_closed());
        assert_eq!(
            FollowUp::Open.verify(false).unwrap(),
            FollowUp::NotSubstantiated
        );
        assert_eq!(
            FollowUp::Open.rectify().unwrap_err(),
            "差评回访当前为“待核实”，不能登记整改"
        );
        assert!(FollowUp::Rectified.verify(true).is_err());
    }
}
