//! 部门编码 (department code).

use serde::{Deserialize, Serialize};

use crate::error::{IdentifierError, IdentifierKind, check_chars, check_length};
use crate::macros::string_identifier;

const KIND: IdentifierKind = IdentifierKind::DepartmentCode;

/// 部门编码 — department code, e.g. `market_supervision`, `fire-safety`.
///
/// 2..=32 characters, each an ASCII lower-case letter, digit, `_` or `-`.
///
/// ```
/// use yizhan_types::DepartmentCode;
///
/// let code: DepartmentCode = "market_supervision".parse().unwrap();
/// assert_eq!(code.as_str(), "market_supervision");
/// assert!("Market".parse::<DepartmentCode>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DepartmentCode {
    text: String,
}

string_identifier!(DepartmentCode);

impl DepartmentCode {
    /// Fewest characters allowed.
    pub const MIN_LEN: usize = 2;

    /// Most characters allowed.
    pub const MAX_LEN: usize = 32;

    fn from_string(text: String) -> Result<Self, IdentifierError> {
        check_length(KIND, &text, Self::MIN_LEN, Self::MAX_LEN)?;
        check_chars(KIND, &text, |c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-'
        })?;
        Ok(Self { text })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_codes() {
        for s in [
            "ab",
            "fire-safety",
            "market_supervision",
            "dept01",
            &"a".repeat(32),
        ] {
            let code = DepartmentCode::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(code.as_str(), s);
            assert_eq!(code.to_string(), s);
        }
    }

    #[test]
    fn rejects_wrong_length() {
        for s in ["", "a", &"a".repeat(33)] {
            assert_eq!(
                DepartmentCode::parse(s).unwrap_err().code(),
                "invalid_length"
            );
        }
        assert_eq!(
            DepartmentCode::parse("").unwrap_err().message(),
            "部门编码长度应为 2–32 位，实际为 0 位"
        );
    }

    #[test]
    fn rejects_other_characters() {
        for (s, position, found) in [
            ("Market", 1, 'M'),
            ("fire safety", 5, ' '),
            (" fire", 1, ' '),
            ("fire.safety", 5, '.'),
            ("消防", 1, '消'),
        ] {
            assert_eq!(
                DepartmentCode::parse(s).unwrap_err(),
                IdentifierError::InvalidCharacter {
                    kind: KIND,
                    position,
                    found
                },
                "{s}"
            );
        }
    }

    #[test]
    fn serde_round_trip() {
        let code = DepartmentCode::parse("fire-safety").unwrap();
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(json, r#""fire-safety""#);
        assert_eq!(serde_json::from_str::<DepartmentCode>(&json).unwrap(), code);
        assert!(serde_json::from_str::<DepartmentCode>(r#""Fire""#).is_err());
    }
}
