//! The one error type every identifier parser in this crate returns.
//!
//! Each variant carries enough to build a field error: a stable machine
//! [`IdentifierError::code`] that clients branch on, and a zh-CN
//! [`IdentifierError::message`] shown to people. `Display` renders the zh-CN
//! message as well, so the text never leaks out in another language.

use std::fmt;

/// Which identifier (or which part of one) an [`IdentifierError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdentifierKind {
    /// 统一社会信用代码.
    Uscc,
    /// 居民身份证号码.
    IdCardNo,
    /// 投资项目代码.
    ProjectCode,
    /// 电子证照标识, as a whole.
    CertificateId,
    /// The type-code part of an 电子证照标识.
    CertificateTypeCode,
    /// The issuer-USCC part of an 电子证照标识.
    CertificateIssuer,
    /// The serial part of an 电子证照标识.
    CertificateSerial,
    /// The version part of an 电子证照标识.
    CertificateVersion,
    /// 部门编码.
    DepartmentCode,
    /// 工作日数.
    WorkingDays,
}

impl IdentifierKind {
    /// Stable machine name, e.g. `uscc`, `certificate_serial`.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Uscc => "uscc",
            Self::IdCardNo => "id_card_no",
            Self::ProjectCode => "project_code",
            Self::CertificateId => "certificate_id",
            Self::CertificateTypeCode => "certificate_type_code",
            Self::CertificateIssuer => "certificate_issuer",
            Self::CertificateSerial => "certificate_serial",
            Self::CertificateVersion => "certificate_version",
            Self::DepartmentCode => "department_code",
            Self::WorkingDays => "working_days",
        }
    }

    /// zh-CN name used at the start of error messages.
    pub const fn label(self) -> &'static str {
        match self {
            Self::Uscc => "统一社会信用代码",
            Self::IdCardNo => "居民身份证号码",
            Self::ProjectCode => "投资项目代码",
            Self::CertificateId => "电子证照标识",
            Self::CertificateTypeCode => "电子证照标识中的证照类型代码",
            Self::CertificateIssuer => "电子证照标识中的发证机构统一社会信用代码",
            Self::CertificateSerial => "电子证照标识中的流水号",
            Self::CertificateVersion => "电子证照标识中的版本号",
            Self::DepartmentCode => "部门编码",
            Self::WorkingDays => "工作日数",
        }
    }
}

impl fmt::Display for IdentifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Why a string was rejected as an identifier.
///
/// Input is never fixed up: lower-case letters, surrounding whitespace and
/// full-width characters are all rejected rather than silently corrected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.message())]
pub enum IdentifierError {
    /// Wrong number of characters (counted as Unicode scalar values).
    InvalidLength {
        /// What was being parsed.
        kind: IdentifierKind,
        /// Fewest characters allowed.
        min: usize,
        /// Most characters allowed.
        max: usize,
        /// Characters actually given.
        actual: usize,
    },
    /// A character outside the allowed alphabet for its position.
    InvalidCharacter {
        /// What was being parsed.
        kind: IdentifierKind,
        /// 1-based character position within the identifier (or part).
        position: usize,
        /// The offending character.
        found: char,
    },
    /// The check character does not match the rest of the identifier.
    InvalidCheckDigit {
        /// What was being parsed.
        kind: IdentifierKind,
        /// The check character the rest of the identifier calls for.
        expected: char,
        /// The check character given.
        found: char,
    },
    /// The overall shape (separators, parts) is wrong.
    InvalidFormat {
        /// What was being parsed.
        kind: IdentifierKind,
        /// zh-CN description of the expected shape.
        expected: &'static str,
    },
    /// The embedded organisation code (GB 11714) of a USCC has a wrong
    /// check character, although the USCC's own check character is right.
    InvalidOrgCodeCheckDigit {
        /// What was being parsed.
        kind: IdentifierKind,
        /// The check character the organisation code calls for.
        expected: char,
        /// The check character given (position 17).
        found: char,
    },
    /// An embedded date that cannot have happened yet (a birth date).
    DateInFuture {
        /// What was being parsed.
        kind: IdentifierKind,
        /// zh-CN name of the date part, e.g. `出生日期`.
        part: &'static str,
        /// The date as written (e.g. `20990101`).
        value: String,
    },
    /// An embedded date is not a real calendar date.
    InvalidDate {
        /// What was being parsed.
        kind: IdentifierKind,
        /// zh-CN name of the date part, e.g. `出生日期`.
        part: &'static str,
        /// The date as written (e.g. `19000229`).
        value: String,
    },
    /// A numeric part is outside its allowed range.
    OutOfRange {
        /// What was being parsed.
        kind: IdentifierKind,
        /// zh-CN name of the part, e.g. `年份`; empty for the whole value.
        part: &'static str,
        /// The value as written.
        value: String,
        /// Smallest allowed value.
        min: u64,
        /// Largest allowed value.
        max: u64,
    },
}

impl IdentifierError {
    /// Stable machine code for a field error: `invalid_length`,
    /// `invalid_character`, `invalid_check_digit`,
    /// `invalid_org_code_check_digit`, `invalid_format`, `invalid_date`,
    /// `date_in_future` or `out_of_range`.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::InvalidLength { .. } => "invalid_length",
            Self::InvalidCharacter { .. } => "invalid_character",
            Self::InvalidCheckDigit { .. } => "invalid_check_digit",
            Self::InvalidOrgCodeCheckDigit { .. } => "invalid_org_code_check_digit",
            Self::DateInFuture { .. } => "date_in_future",
            Self::InvalidFormat { .. } => "invalid_format",
            Self::InvalidDate { .. } => "invalid_date",
            Self::OutOfRange { .. } => "out_of_range",
        }
    }

    /// Which identifier (or part) was rejected.
    pub const fn kind(&self) -> IdentifierKind {
        match self {
            Self::InvalidLength { kind, .. }
            | Self::InvalidCharacter { kind, .. }
            | Self::InvalidCheckDigit { kind, .. }
            | Self::InvalidOrgCodeCheckDigit { kind, .. }
            | Self::DateInFuture { kind, .. }
            | Self::InvalidFormat { kind, .. }
            | Self::InvalidDate { kind, .. }
            | Self::OutOfRange { kind, .. } => *kind,
        }
    }

    /// zh-CN message for people, e.g. `统一社会信用代码校验位错误，应为 3`.
    pub fn message(&self) -> String {
        let label = self.kind().label();
        match self {
            Self::InvalidLength {
                min, max, actual, ..
            } if min == max => format!("{label}长度应为 {min} 位，实际为 {actual} 位"),
            Self::InvalidLength {
                min, max, actual, ..
            } => format!("{label}长度应为 {min}–{max} 位，实际为 {actual} 位"),
            Self::InvalidCharacter {
                position, found, ..
            } => format!("{label}第 {position} 位含非法字符 {found:?}"),
            Self::InvalidCheckDigit { expected, .. } => {
                format!("{label}校验位错误，应为 {expected}")
            }
            Self::InvalidOrgCodeCheckDigit { expected, .. } => {
                format!("{label}中的组织机构代码（第 9–17 位）校验位错误，应为 {expected}")
            }
            Self::DateInFuture { part, value, .. } => {
                format!("{label}中的{part} {value} 晚于今天")
            }
            Self::InvalidFormat { expected, .. } => format!("{label}格式错误，应为 {expected}"),
            Self::InvalidDate { part, value, .. } => {
                format!("{label}中的{part} {value} 不是有效日期")
            }
            Self::OutOfRange {
                part,
                value,
                min,
                max,
                ..
            } => {
                if part.is_empty() {
                    format!("{label} {value} 超出允许范围（{min}–{max}）")
                } else {
                    format!("{label}中的{part} {value} 超出允许范围（{min}–{max}）")
                }
            }
        }
    }
}

/// Checks that `s` has between `min` and `max` characters.
pub(crate) fn check_length(
    kind: IdentifierKind,
    s: &str,
    min: usize,
    max: usize,
) -> Result<(), IdentifierError> {
    let actual = s.chars().count();
    if (min..=max).contains(&actual) {
        Ok(())
    } else {
        Err(IdentifierError::InvalidLength {
            kind,
            min,
            max,
            actual,
        })
    }
}

/// Checks every character of `s` with `allowed`, reporting the first failure.
pub(crate) fn check_chars(
    kind: IdentifierKind,
    s: &str,
    allowed: impl Fn(char) -> bool,
) -> Result<(), IdentifierError> {
    match s.chars().enumerate().find(|&(_, c)| !allowed(c)) {
        Some((i, found)) => Err(IdentifierError::InvalidCharacter {
            kind,
            position: i + 1,
            found,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        let e = IdentifierError::InvalidCheckDigit {
            kind: IdentifierKind::Uscc,
            expected: 'X',
            found: '3',
        };
        assert_eq!(e.code(), "invalid_check_digit");
        assert_eq!(e.kind(), IdentifierKind::Uscc);
        assert_eq!(e.message(), "统一社会信用代码校验位错误，应为 X");
        assert_eq!(e.to_string(), e.message());
    }

    #[test]
    fn length_messages() {
        let exact = IdentifierError::InvalidLength {
            kind: IdentifierKind::IdCardNo,
            min: 18,
            max: 18,
            actual: 17,
        };
        assert_eq!(exact.code(), "invalid_length");
        assert_eq!(
            exact.message(),
            "居民身份证号码长度应为 18 位，实际为 17 位"
        );
        let range = IdentifierError::InvalidLength {
            kind: IdentifierKind::DepartmentCode,
            min: 2,
            max: 32,
            actual: 1,
        };
        assert_eq!(range.message(), "部门编码长度应为 2–32 位，实际为 1 位");
    }

    #[test]
    fn character_message_shows_whitespace() {
        let e = IdentifierError::InvalidCharacter {
            kind: IdentifierKind::Uscc,
            position: 18,
            found: ' ',
        };
        assert_eq!(e.code(), "invalid_character");
        assert_eq!(e.message(), "统一社会信用代码第 18 位含非法字符 ' '");
    }
}
