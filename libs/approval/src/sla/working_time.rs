//! 工作时长 in half-day units.

use std::fmt;
use std::ops::{Add, AddAssign, Neg, Sub};
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use yizhan_types::{IdentifierError, IdentifierKind, WorkingDays};

const KIND: IdentifierKind = IdentifierKind::WorkingDays;

/// 工作时长 — an amount of working time, counted in half working days.
///
/// Committed limits are published in half days ("六证联办 5.5 个工作日"), so
/// half a day is the unit: `5.5` is held exactly as 11 half-days, never as a
/// float. Whole-day values convert losslessly from [`WorkingDays`]. The value
/// is signed because *remaining* time goes negative once a limit is passed;
/// limits themselves are checked non-negative by [`super::Limits::new`].
///
/// Serializes as a JSON number of days (`5`, `5.5`, `-0.5`); `Display` reads
/// `5.5 个工作日`.
///
/// ```
/// use yizhan_approval::WorkingTime;
///
/// let limit: WorkingTime = "5.5".parse().unwrap();
/// assert_eq!(limit.half_days(), 11);
/// assert_eq!(limit.to_string(), "5.5 个工作日");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WorkingTime(i64);

impl WorkingTime {
    /// No time.
    pub const ZERO: Self = Self(0);

    /// `days` whole working days.
    pub const fn from_days(days: i32) -> Self {
        Self(days as i64 * 2)
    }

    /// `half_days` half working days.
    pub const fn from_half_days(half_days: i64) -> Self {
        Self(half_days)
    }

    /// The amount in half days.
    pub const fn half_days(self) -> i64 {
        self.0
    }

    /// The amount in days, when it is a whole number of them.
    pub const fn whole_days(self) -> Option<i64> {
        if self.0 % 2 == 0 {
            Some(self.0 / 2)
        } else {
            None
        }
    }

    /// The amount in days as a float, for display and ratios only.
    pub fn as_days_f64(self) -> f64 {
        self.0 as f64 / 2.0
    }

    /// Whether the amount is below zero (a passed limit).
    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// Parses a non-negative number of days: digits, optionally followed by
    /// `.5` or `.0` (`20`, `5.5`). No sign, spaces, unit or other fractions —
    /// anything finer than half a day is not a limit anyone publishes.
    pub fn parse(s: &str) -> Result<Self, IdentifierError> {
        const EXPECTED: &str = "非负整数或带 .5 的半天数，如 20 或 5.5";
        if let Some((i, found)) = s
            .chars()
            .enumerate()
            .find(|(_, c)| !c.is_ascii_digit() && *c != '.')
        {
            return Err(IdentifierError::InvalidCharacter {
                kind: KIND,
                position: i + 1,
                found,
            });
        }
        let (whole, half) = match s.split_once('.') {
            None => (s, 0),
            Some((whole, "5")) => (whole, 1),
            Some((whole, "0")) => (whole, 0),
            Some(_) => {
                return Err(IdentifierError::InvalidFormat {
                    kind: KIND,
                    expected: EXPECTED,
                });
            }
        };
        if whole.is_empty() {
            return Err(IdentifierError::InvalidFormat {
                kind: KIND,
                expected: EXPECTED,
            });
        }
        let days = whole
            .parse::<u32>()
            .map_err(|_| IdentifierError::OutOfRange {
                kind: KIND,
                part: "",
                value: s.to_owned(),
                min: 0,
                max: u32::MAX.into(),
            })?;
        Ok(Self(i64::from(days) * 2 + half))
    }
}

impl From<WorkingDays> for WorkingTime {
    fn from(days: WorkingDays) -> Self {
        Self(i64::from(days.get()) * 2)
    }
}

impl FromStr for WorkingTime {
    type Err = IdentifierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Add for WorkingTime {
    type Output = Self;

    fn add(self, rhs: Self) -> Self {
        Self(self.0 + rhs.0)
    }
}

impl AddAssign for WorkingTime {
    fn add_assign(&mut self, rhs: Self) {
        self.0 += rhs.0;
    }
}

impl Sub for WorkingTime {
    type Output = Self;

    fn sub(self, rhs: Self) -> Self {
        Self(self.0 - rhs.0)
    }
}

impl Neg for WorkingTime {
    type Output = Self;

    fn neg(self) -> Self {
        Self(-self.0)
    }
}

impl fmt::Display for WorkingTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        if abs.is_multiple_of(2) {
            write!(f, "{sign}{} 个工作日", abs / 2)
        } else {
            write!(f, "{sign}{}.5 个工作日", abs / 2)
        }
    }
}

impl Serialize for WorkingTime {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.whole_days() {
            Some(days) => serializer.serialize_i64(days),
            None => serializer.serialize_f64(self.as_days_f64()),
        }
    }
}

impl<'de> Deserialize<'de> for WorkingTime {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DaysVisitor;

        impl Visitor<'_> for DaysVisitor {
            type Value = WorkingTime;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of working days in steps of 0.5")
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                v.checked_mul(2)
                    .map(WorkingTime)
                    .ok_or_else(|| E::custom("working days out of range"))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                i64::try_from(v)
                    .map_err(|_| E::custom("working days out of range"))
                    .and_then(|v| self.visit_i64(v))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                let halves = v * 2.0;
                // 2^52 half-days is far past any date; the bound keeps the
                // cast exact.
                if halves.fract() == 0.0 && halves.abs() < 4_503_599_627_370_496.0 {
                    Ok(WorkingTime(halves as i64))
                } else {
                    Err(E::custom("working days must be a multiple of 0.5"))
                }
            }
        }

        deserializer.deserialize_any(DaysVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_whole_and_half_days() {
        assert_eq!(
            WorkingTime::parse("20").unwrap(),
            WorkingTime::from_days(20)
        );
        assert_eq!(WorkingTime::parse("5.5").unwrap().half_days(), 11);
        assert_eq!(WorkingTime::parse("0.5").unwrap().half_days(), 1);
        assert_eq!(
            WorkingTime::parse("5.0").unwrap(),
            WorkingTime::from_days(5)
        );
        for s in ["", ".5", "5.", "5.25", "5.50", "1.2.5"] {
            assert_eq!(
                WorkingTime::parse(s).unwrap_err().code(),
                "invalid_format",
                "{s:?}"
            );
        }
        for s in ["-1", "+1", " 5", "5,5", "５"] {
            assert_eq!(
                WorkingTime::parse(s).unwrap_err().code(),
                "invalid_character",
                "{s:?}"
            );
        }
        assert_eq!(
            WorkingTime::parse("4294967296").unwrap_err().code(),
            "out_of_range"
        );
    }

    #[test]
    fn display_and_arithmetic() {
        let limit = WorkingTime::from_half_days(11);
        assert_eq!(limit.to_string(), "5.5 个工作日");
        assert_eq!(WorkingTime::from_days(20).to_string(), "20 个工作日");
        let over = limit - WorkingTime::from_days(6);
        assert_eq!(over.half_days(), -1);
        assert!(over.is_negative());
        assert_eq!(over.to_string(), "-0.5 个工作日");
        assert_eq!((-over).whole_days(), None);
        assert_eq!(
            WorkingTime::from(WorkingDays::new(45)),
            WorkingTime::from_days(45)
        );
    }

    #[test]
    fn serde_as_days() {
        let json = serde_json::to_string(&WorkingTime::from_half_days(11)).unwrap();
        assert_eq!(json, "5.5");
        assert_eq!(
            serde_json::to_string(&WorkingTime::from_days(20)).unwrap(),
            "20"
        );
        assert_eq!(
            serde_json::from_str::<WorkingTime>("5.5").unwrap(),
            WorkingTime::from_half_days(11)
        );
        assert_eq!(
            serde_json::from_str::<WorkingTime>("-2").unwrap(),
            WorkingTime::from_days(-2)
        );
        assert!(serde_json::from_str::<WorkingTime>("5.25").is_err());
        assert!(serde_json::from_str::<WorkingTime>("\"5\"").is_err());
    }
}
