//! 工作日 (working days) as a count.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{IdentifierError, IdentifierKind};

const KIND: IdentifierKind = IdentifierKind::WorkingDays;

/// 工作日数 — a number of working days (工作日), e.g. a statutory or
/// committed time limit.
///
/// Only a count: which calendar days are working days is decided by the
/// holiday schedule, not here. Serializes as a plain JSON number; `Display`
/// reads `N 个工作日`.
///
/// ```
/// use yizhan_types::WorkingDays;
///
/// let limit = WorkingDays::new(20);
/// assert_eq!(limit.to_string(), "20 个工作日");
/// assert_eq!("20".parse::<WorkingDays>().unwrap(), limit);
/// ```
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct WorkingDays(u32);

impl WorkingDays {
    /// No working days.
    pub const ZERO: Self = Self(0);

    /// A count of `days` working days.
    pub const fn new(days: u32) -> Self {
        Self(days)
    }

    /// The count.
    pub const fn get(self) -> u32 {
        self.0
    }

    /// Parses a plain decimal count (ASCII digits only: no sign, spaces or
    /// unit).
    pub fn parse(s: &str) -> Result<Self, IdentifierError> {
        if s.is_empty() {
            return Err(IdentifierError::InvalidFormat {
                kind: KIND,
                expected: "非负整数",
            });
        }
        if let Some((i, found)) = s.chars().enumerate().find(|(_, c)| !c.is_ascii_digit()) {
            return Err(IdentifierError::InvalidCharacter {
                kind: KIND,
                position: i + 1,
                found,
            });
        }
        s.parse::<u32>()
            .map(Self)
            .map_err(|_| IdentifierError::OutOfRange {
                kind: KIND,
                part: "",
                value: s.to_owned(),
                min: 0,
                max: u32::MAX.into(),
            })
    }

    /// `self + other`, or `None` on overflow.
    pub const fn checked_add(self, other: Self) -> Option<Self> {
        match self.0.checked_add(other.0) {
            Some(n) => Some(Self(n)),
            None => None,
        }
    }

    /// `self - other`, stopping at zero.
    pub const fn saturating_sub(self, other: Self) -> Self {
        Self(self.0.saturating_sub(other.0))
    }
}

impl From<u32> for WorkingDays {
    fn from(days: u32) -> Self {
        Self(days)
    }
}

impl From<WorkingDays> for u32 {
    fn from(days: WorkingDays) -> Self {
        days.0
    }
}

impl FromStr for WorkingDays {
    type Err = IdentifierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for WorkingDays {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} 个工作日", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display() {
        assert_eq!(WorkingDays::new(0).to_string(), "0 个工作日");
        assert_eq!(WorkingDays::new(20).to_string(), "20 个工作日");
    }

    #[test]
    fn parse() {
        assert_eq!(WorkingDays::parse("45").unwrap(), WorkingDays::new(45));
        assert_eq!("0".parse::<WorkingDays>().unwrap(), WorkingDays::ZERO);
        assert_eq!(WorkingDays::parse("").unwrap_err().code(), "invalid_format");
        for s in ["-1", "+1", " 1", "1 ", "5.5", "２０", "20 个工作日"] {
            assert_eq!(
                WorkingDays::parse(s).unwrap_err().code(),
                "invalid_character",
                "{s:?}"
            );
        }
        let err = WorkingDays::parse("4294967296").unwrap_err();
        assert_eq!(err.code(), "out_of_range");
        assert_eq!(
            err.message(),
            "工作日数 4294967296 超出允许范围（0–4294967295）"
        );
    }

    #[test]
    fn arithmetic() {
        let a = WorkingDays::new(20);
        assert_eq!(
            a.checked_add(WorkingDays::new(10)),
            Some(WorkingDays::new(30))
        );
        assert_eq!(
            WorkingDays::new(u32::MAX).checked_add(WorkingDays::new(1)),
            None
        );
        assert_eq!(a.saturating_sub(WorkingDays::new(25)), WorkingDays::ZERO);
        assert_eq!(u32::from(a), 20);
        assert_eq!(WorkingDays::from(7).get(), 7);
    }

    #[test]
    fn serde_as_number() {
        let json = serde_json::to_string(&WorkingDays::new(20)).unwrap();
        assert_eq!(json, "20");
        assert_eq!(
            serde_json::from_str::<WorkingDays>("20").unwrap(),
            WorkingDays::new(20)
        );
        assert!(serde_json::from_str::<WorkingDays>("-1").is_err());
        assert!(serde_json::from_str::<WorkingDays>("\"20\"").is_err());
    }
}
