//! 投资项目代码 (investment project code).

use serde::{Deserialize, Serialize};

use crate::error::{IdentifierError, IdentifierKind, check_length};
use crate::macros::string_identifier;

const KIND: IdentifierKind = IdentifierKind::ProjectCode;

const SHAPE: &str = "YYYY-AAAAAA-II-TT-NNNNNN";

/// 投资项目代码 — investment project code, `YYYY-AAAAAA-II-TT-NNNNNN`.
///
/// A 4-digit year (1990..=2100), a 6-digit region code, a 2-digit industry
/// code, a 2-digit project-type code and a 6-digit serial, joined by `-`.
///
/// ```
/// use yizhan_types::ProjectCode;
///
/// let code: ProjectCode = "2025-350102-47-01-000123".parse().unwrap();
/// assert_eq!(code.year(), 2025);
/// assert_eq!(code.region(), "350102");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProjectCode {
    text: String,
}

string_identifier!(ProjectCode);

impl ProjectCode {
    /// Number of characters, separators included.
    pub const LEN: usize = SHAPE.len();

    /// Smallest year accepted.
    pub const MIN_YEAR: u16 = 1990;

    /// Largest year accepted.
    pub const MAX_YEAR: u16 = 2100;

    /// 赋码年份: the year part.
    pub fn year(&self) -> u16 {
        self.text[..4]
            .bytes()
            .fold(0, |n, b| n * 10 + u16::from(b - b'0'))
    }

    /// 行政区划代码: the 6-digit region part.
    pub fn region(&self) -> &str {
        &self.text[5..11]
    }

    /// 国民经济行业代码: the 2-digit industry part.
    pub fn industry(&self) -> &str {
        &self.text[12..14]
    }

    /// 项目类型代码: the 2-digit project-type part.
    pub fn kind(&self) -> &str {
        &self.text[15..17]
    }

    /// 流水号: the 6-digit serial part.
    pub fn serial(&self) -> &str {
        &self.text[18..]
    }

    fn from_string(text: String) -> Result<Self, IdentifierError> {
        check_length(KIND, &text, Self::LEN, Self::LEN)?;
        for (i, (c, shape)) in text.chars().zip(SHAPE.chars()).enumerate() {
            if shape == '-' {
                if c != '-' {
                    return Err(IdentifierError::InvalidFormat {
                        kind: KIND,
                        expected: SHAPE,
                    });
                }
            } else if !c.is_ascii_digit() {
                return Err(IdentifierError::InvalidCharacter {
                    kind: KIND,
                    position: i + 1,
                    found: c,
                });
            }
        }
        let code = Self { text };
        let year = code.year();
        if !(Self::MIN_YEAR..=Self::MAX_YEAR).contains(&year) {
            return Err(IdentifierError::OutOfRange {
                kind: KIND,
                part: "年份",
                value: code.text[..4].to_owned(),
                min: Self::MIN_YEAR.into(),
                max: Self::MAX_YEAR.into(),
            });
        }
        Ok(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_splits() {
        let code = ProjectCode::parse("2025-350102-47-01-000123").unwrap();
        assert_eq!(code.as_str(), "2025-350102-47-01-000123");
        assert_eq!(code.to_string(), "2025-350102-47-01-000123");
        assert_eq!(code.year(), 2025);
        assert_eq!(code.region(), "350102");
        assert_eq!(code.industry(), "47");
        assert_eq!(code.kind(), "01");
        assert_eq!(code.serial(), "000123");
    }

    #[test]
    fn year_bounds_are_inclusive() {
        assert_eq!(
            ProjectCode::parse("1990-110000-01-01-000001")
                .unwrap()
                .year(),
            1990
        );
        assert_eq!(
            ProjectCode::parse("2100-110000-01-01-000001")
                .unwrap()
                .year(),
            2100
        );
        for s in ["1989-110000-01-01-000001", "2101-110000-01-01-000001"] {
            let err = ProjectCode::parse(s).unwrap_err();
            assert_eq!(err.code(), "out_of_range", "{s}");
        }
        assert_eq!(
            ProjectCode::parse("0000-110000-01-01-000001")
                .unwrap_err()
                .message(),
            "投资项目代码中的年份 0000 超出允许范围（1990–2100）"
        );
    }

    #[test]
    fn rejects_wrong_length() {
        for s in [
            "",
            "2025-350102-47-01-00012",
            "2025-350102-47-01-0001234",
            "2025350102470100012300",
            " 2025-350102-47-01-000123",
        ] {
            assert_eq!(
                ProjectCode::parse(s).unwrap_err().code(),
                "invalid_length",
                "{s:?}"
            );
        }
    }

    #[test]
    fn rejects_wrong_separators() {
        for s in [
            "2025_350102-47-01-000123",
            "2025-350102-47-01 000123",
            "20253-50102-47-01-000123",
            "2025-350102-470-1-000123",
        ] {
            let err = ProjectCode::parse(s).unwrap_err();
            assert_eq!(err.code(), "invalid_format", "{s}");
        }
        assert_eq!(
            ProjectCode::parse("2025/350102-47-01-000123")
                .unwrap_err()
                .message(),
            "投资项目代码格式错误，应为 YYYY-AAAAAA-II-TT-NNNNNN"
        );
    }

    #[test]
    fn rejects_non_digits() {
        let err = ProjectCode::parse("2025-35010A-47-01-000123").unwrap_err();
        assert_eq!(
            err,
            IdentifierError::InvalidCharacter {
                kind: KIND,
                position: 11,
                found: 'A'
            }
        );
        // Full-width digits are not fixed up, and do not break byte slicing.
        let err = ProjectCode::parse("2025-350102-47-01-00012３").unwrap_err();
        assert_eq!(err.code(), "invalid_character");
    }

    #[test]
    fn serde_round_trip() {
        let code = ProjectCode::parse("2025-350102-47-01-000123").unwrap();
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(json, r#""2025-350102-47-01-000123""#);
        assert_eq!(serde_json::from_str::<ProjectCode>(&json).unwrap(), code);
        assert!(serde_json::from_str::<ProjectCode>(r#""1989-350102-47-01-000123""#).is_err());
    }
}
