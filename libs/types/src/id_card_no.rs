//! 居民身份证号码 (resident identity card number), GB 11643-1999.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{IdentifierError, IdentifierKind, check_chars, check_length};
use crate::macros::string_identifier;

const KIND: IdentifierKind = IdentifierKind::IdCardNo;

/// Weights for positions 1..=17: 2^(18-i) mod 11.
const WEIGHTS: [u32; 17] = weights();

const fn weights() -> [u32; 17] {
    let mut w = [0u32; 17];
    let mut i = 17;
    let mut p = 2u32; // 2^1, the weight of position 17
    while i > 0 {
        i -= 1;
        w[i] = p;
        p = p * 2 % 11;
    }
    w
}

/// Whether `year` is a Gregorian leap year.
const fn is_leap_year(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// Number of days in `month` (1..=12) of `year`.
const fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap_year(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Parses an all-ASCII-digit string as a number (the caller checked digits).
fn digits(s: &str) -> u32 {
    s.bytes().fold(0, |n, b| n * 10 + u32::from(b - b'0'))
}

/// 居民身份证号码 — resident identity card number (GB 11643-1999).
///
/// 18 characters: a 6-digit region code, the birth date as `YYYYMMDD`, a
/// 3-digit sequence number and a check character. Position i (1..=17) is
/// weighted 2^(18−i) mod 11; the check value is (12 − sum mod 11) mod 11,
/// with 10 written as an upper-case `X`. The birth date must be a real
/// calendar date (year 0001 or later), and not after today in China
/// (UTC+8).
///
/// This is personal data: `Debug` prints it masked (see [`IdCardNo::masked`]);
/// `Display`, [`IdCardNo::as_str`] and serde give the full number.
///
/// ```
/// use yizhan_types::IdCardNo;
///
/// let id: IdCardNo = "11010519491231002X".parse().unwrap();
/// assert_eq!(id.birth_date(), (1949, 12, 31));
/// assert!("11010519491231002x".parse::<IdCardNo>().is_err());
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdCardNo {
    text: String,
}

string_identifier!(IdCardNo);

impl IdCardNo {
    /// Number of characters in an ID number.
    pub const LEN: usize = 18;

    /// The check character (`0`-`9` or `X`) for the first 17 digits.
    pub fn check_char(first17: &str) -> Result<char, IdentifierError> {
        check_length(KIND, first17, Self::LEN - 1, Self::LEN - 1)?;
        check_chars(KIND, first17, |c| c.is_ascii_digit())?;
        let sum: u32 = first17
            .bytes()
            .zip(WEIGHTS)
            .map(|(b, w)| u32::from(b - b'0') * w)
            .sum();
        Ok(match (12 - sum % 11) % 11 {
            10 => 'X',
            v => char::from(b'0' + v as u8),
        })
    }

    /// Builds a valid number from its first 17 digits by appending the
    /// computed check character (for seed data and tests). The birth date
    /// is validated as well.
    pub fn with_check_char(first17: &str) -> Result<Self, IdentifierError> {
        let check = Self::check_char(first17)?;
        let mut text = String::with_capacity(Self::LEN);
        text.push_str(first17);
        text.push(check);
        Self::from_string(text)
    }

    /// 行政区划代码: the 6-digit region code (positions 1..=6).
    pub fn region_code(&self) -> &str {
        &self.text[..6]
    }

    /// The birth date as (year, month, day).
    pub fn birth_date(&self) -> (u16, u8, u8) {
        (
            digits(&self.text[6..10]) as u16,
            digits(&self.text[10..12]) as u8,
            digits(&self.text[12..14]) as u8,
        )
    }

    /// The number with the birth date and sequence masked, e.g.
    /// `110105********002X` — safe for logs and screens.
    pub fn masked(&self) -> String {
        format!("{}********{}", &self.text[..6], &self.text[14..])
    }

    fn from_string(text: String) -> Result<Self, IdentifierError> {
        Self::parse_on(text, china_today())
    }

    /// Parses as of `today` (year, month, day).
    fn parse_on(text: String, today: (u32, u32, u32)) -> Result<Self, IdentifierError> {
        check_length(KIND, &text, Self::LEN, Self::LEN)?;
        check_chars(KIND, &text, |c| c.is_ascii_digit() || c == 'X')?;
        if let Some(i) = text[..Self::LEN - 1].find('X') {
            return Err(IdentifierError::InvalidCharacter {
                kind: KIND,
                position: i + 1,
                found: 'X',
            });
        }
        // All ASCII from here on.
        let date = &text[6..14];
        let (year, month, day) = (digits(&date[..4]), digits(&date[4..6]), digits(&date[6..]));
        if year == 0 || day == 0 || day > days_in_month(year, month) {
            return Err(IdentifierError::InvalidDate {
                kind: KIND,
                part: "出生日期",
                value: date.to_owned(),
            });
        }
        if (year, month, day) > today {
            return Err(IdentifierError::DateInFuture {
                kind: KIND,
                part: "出生日期",
                value: date.to_owned(),
            });
        }
        let expected = Self::check_char(&text[..Self::LEN - 1])?;
        let found = char::from(text.as_bytes()[Self::LEN - 1]);
        if expected != found {
            return Err(IdentifierError::InvalidCheckDigit {
                kind: KIND,
                expected,
                found,
            });
        }
        Ok(Self { text })
    }
}

/// Today's date in China (UTC+8), where the numbers are issued.
fn china_today() -> (u32, u32, u32) {
    use chrono::Datelike;
    let china = chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8 is a valid offset");
    let today = chrono::Utc::now().with_timezone(&china).date_naive();
    (today.year().max(0) as u32, today.month(), today.day())
}

impl fmt::Debug for IdCardNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IdCardNo").field(&self.masked()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Valid numbers, each cross-checked with python-stdnum 2.2
    /// (`stdnum.cn.ric.is_valid(...) == True`, which also checks the birth
    /// date and the region code against its table).
    const VALID: &[&str] = &[
        "11010519491231002X", // the GB 11643 sample number
        "360426199101010071", // the stdnum.cn.ric doctest example
        "44030419900307123X",
        "110101200002290018", // 29 Feb in a leap year (2000)
        "440304199003070018",
    ];

    #[test]
    fn weights_match_gb_11643() {
        assert_eq!(
            WEIGHTS,
            [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        );
    }

    #[test]
    fn leap_years() {
        assert!(is_leap_year(2000));
        assert!(is_leap_year(2024));
        assert!(!is_leap_year(1900));
        assert!(!is_leap_year(2023));
    }

    #[test]
    fn accepts_known_valid_numbers() {
        for s in VALID {
            let id = IdCardNo::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(id.as_str(), *s);
            assert_eq!(id.to_string(), *s);
        }
    }

    #[test]
    fn check_char_matches_reference() {
        // Reference values from python-stdnum 2.2 `stdnum.cn.ric.calc_check_digit`.
        for (first17, check) in [
            ("11010519491231002", 'X'),
            ("36042619910101007", '1'),
            ("44030419900307001", '8'),
            ("44030419900307123", 'X'),
            ("44030419900307456", '1'),
            ("44052419800101021", '6'),
            ("11010120000229001", '8'),
        ] {
            assert_eq!(IdCardNo::check_char(first17).unwrap(), check, "{first17}");
        }
    }

    #[test]
    fn parts_and_masking() {
        let id = IdCardNo::parse("11010519491231002X").unwrap();
        assert_eq!(id.region_code(), "110105");
        assert_eq!(id.birth_date(), (1949, 12, 31));
        assert_eq!(id.masked(), "110105********002X");
        assert_eq!(format!("{id:?}"), r#"IdCardNo("110105********002X")"#);
    }

    #[test]
    fn rejects_wrong_check_char() {
        let err = IdCardNo::parse("110105194912310021").unwrap_err();
        assert_eq!(
            err,
            IdentifierError::InvalidCheckDigit {
                kind: KIND,
                expected: 'X',
                found: '1'
            }
        );
        assert_eq!(err.message(), "居民身份证号码校验位错误，应为 X");
    }

    #[test]
    fn every_single_digit_substitution_is_detected() {
        let good = "360426199101010071";
        for i in 0..good.len() {
            for c in "0123456789X".chars() {
                let orig = good.as_bytes()[i] as char;
                if c == orig {
                    continue;
                }
                let mut bad = good.to_owned();
                bad.replace_range(i..=i, c.encode_utf8(&mut [0; 4]));
                assert!(IdCardNo::parse(&bad).is_err(), "{bad}");
            }
        }
    }

    #[test]
    fn rejects_invalid_birth_dates() {
        // Check characters are correct (python-stdnum), only the dates are bad.
        for (s, date) in [
            ("11010119000229002X", "19000229"), // 1900 is not a leap year
            (&*IdCardNo::test_with_check("11010120230229001"), "20230229"),
            (&*IdCardNo::test_with_check("11010120231301001"), "20231301"),
            (&*IdCardNo::test_with_check("11010120230431001"), "20230431"),
            (&*IdCardNo::test_with_check("11010120230100001"), "20230100"),
            (&*IdCardNo::test_with_check("11010100000101001"), "00000101"),
        ] {
            let err = IdCardNo::parse(s).unwrap_err();
            assert_eq!(err.code(), "invalid_date", "{s}");
            assert_eq!(
                err.message(),
                format!("居民身份证号码中的出生日期 {date} 不是有效日期")
            );
        }
    }

    #[test]
    fn refuses_birth_dates_after_today() {
        let (y, m, d) = china_today();
        let day = |y: u32, m: u32, d: u32| format!("110105{y:04}{m:02}{d:02}002");
        let today = IdCardNo::test_with_check(&day(y, m, d));
        assert!(IdCardNo::parse(&today).is_ok(), "born today: {today}");
        // Tomorrow, as of a fixed "today" so month and year ends are covered.
        for (today, tomorrow) in [
            ((2026, 3, 14), day(2026, 3, 15)),
            ((2026, 1, 31), day(2026, 2, 1)),
            ((2025, 12, 31), day(2026, 1, 1)),
        ] {
            let err = IdCardNo::parse_on(IdCardNo::test_with_check(&tomorrow), today).unwrap_err();
            assert_eq!(err.code(), "date_in_future", "{tomorrow}");
        }
        let far = IdCardNo::test_with_check("11010520990101002");
        let err = IdCardNo::parse(&far).unwrap_err();
        assert_eq!(
            err,
            IdentifierError::DateInFuture {
                kind: KIND,
                part: "出生日期",
                value: "20990101".into()
            }
        );
        assert_eq!(
            err.message(),
            "居民身份证号码中的出生日期 20990101 晚于今天"
        );
    }

    #[test]
    fn rejects_wrong_length() {
        for s in [
            "",
            "11010519491231002",
            "11010519491231002X0",
            "110105491231002",
        ] {
            assert_eq!(
                IdCardNo::parse(s).unwrap_err().code(),
                "invalid_length",
                "{s}"
            );
        }
    }

    #[test]
    fn rejects_lower_case_x_and_stray_characters() {
        assert_eq!(
            IdCardNo::parse("11010519491231002x").unwrap_err(),
            IdentifierError::InvalidCharacter {
                kind: KIND,
                position: 18,
                found: 'x'
            }
        );
        assert_eq!(
            IdCardNo::parse("1101051949123100X2").unwrap_err(),
            IdentifierError::InvalidCharacter {
                kind: KIND,
                position: 17,
                found: 'X'
            }
        );
        assert_eq!(
            IdCardNo::parse(" 1101051949123100X").unwrap_err().code(),
            "invalid_character"
        );
        assert_eq!(
            IdCardNo::parse("11010519491231002X ").unwrap_err().code(),
            "invalid_length"
        );
    }

    #[test]
    fn with_check_char_builds_valid_numbers() {
        let id = IdCardNo::with_check_char("44030419900307001").unwrap();
        assert_eq!(id, "440304199003070018");
        assert_eq!(
            IdCardNo::with_check_char("44030419900230001")
                .unwrap_err()
                .code(),
            "invalid_date"
        );
    }

    #[test]
    fn serde_round_trip() {
        let id = IdCardNo::parse("11010519491231002X").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, r#""11010519491231002X""#);
        assert_eq!(serde_json::from_str::<IdCardNo>(&json).unwrap(), id);
        assert!(serde_json::from_str::<IdCardNo>(r#""11010519491231002x""#).is_err());
    }

    impl IdCardNo {
        /// First 17 characters + check char, without validating the date.
        fn test_with_check(first17: &str) -> String {
            format!("{first17}{}", Self::check_char(first17).unwrap())
        }
    }
}
