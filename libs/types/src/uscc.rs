//! 统一社会信用代码 (unified social credit code), GB 32100-2015.

use serde::{Deserialize, Serialize};

use crate::error::{IdentifierError, IdentifierKind, check_chars, check_length};
use crate::macros::string_identifier;

/// The 31 characters a USCC may use, in value order (no I, O, S, V, Z).
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Weights for positions 1..=17: 3^(i-1) mod 31.
const WEIGHTS: [u32; 17] = weights();

const fn weights() -> [u32; 17] {
    let mut w = [0u32; 17];
    let mut i = 0;
    let mut p = 1u32;
    while i < 17 {
        w[i] = p;
        p = p * 3 % 31;
        i += 1;
    }
    w
}

/// Value (index in [`ALPHABET`]) of a USCC character, if it is one.
fn value(c: char) -> Option<u32> {
    ALPHABET
        .iter()
        .position(|&a| char::from(a) == c)
        .map(|i| i as u32)
}

/// 统一社会信用代码 — unified social credit code (GB 32100-2015).
///
/// 18 characters from `0-9 A-H J-N P Q R T U W X Y`. Each character's value
/// is its index in that alphabet; positions 1..=17 are weighted 3^(i-1)
/// mod 31 and the 18th character is the one whose value is
/// (31 − sum mod 31) mod 31.
///
/// Positions 9..=17 are the 主体标识码, the organisation code of GB 11714
/// with its own check character (see [`org_code_check_char`]). It is
/// verified where the registration authority assigns it from the
/// organisation-code system: 机构编制 (`1`), 民政 (`5`) and 市场监管/工商
/// (`9`), except 个体工商户 (`92`). For the other authorities and for
/// 个体工商户 we have no published codes to confirm the rule holds, and
/// refusing a real registrant costs more than missing a typo that the
/// USCC's own check character already catches.
///
/// ```
/// use yizhan_types::Uscc;
///
/// let code: Uscc = "91350100M000100Y43".parse().unwrap();
/// assert_eq!(code.as_str(), "91350100M000100Y43");
/// assert_eq!(Uscc::check_char("91350100M000100Y4").unwrap(), '3');
/// assert!("91350100m000100y43".parse::<Uscc>().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uscc {
    text: String,
}

string_identifier!(Uscc);

impl Uscc {
    /// Number of characters in a USCC.
    pub const LEN: usize = 18;

    /// The check character (18th) for the first 17 characters.
    ///
    /// Fails if `first17` is not exactly 17 characters from the USCC alphabet.
    pub fn check_char(first17: &str) -> Result<char, IdentifierError> {
        Self::check_char_as(IdentifierKind::Uscc, first17)
    }

    /// Builds a valid code from its first 17 characters by appending the
    /// computed check character (for seed data and tests).
    pub fn with_check_char(first17: &str) -> Result<Self, IdentifierError> {
        let check = Self::check_char(first17)?;
        let mut text = String::with_capacity(Self::LEN);
        text.push_str(first17);
        text.push(check);
        Self::from_string(text)
    }

    /// 登记管理部门代码: the registration-authority character (position 1).
    pub fn registration_authority(&self) -> char {
        char::from(self.text.as_bytes()[0])
    }

    /// 机构类别代码: the entity-type character (position 2).
    pub fn entity_type(&self) -> char {
        char::from(self.text.as_bytes()[1])
    }

    /// 登记管理机关行政区划码: positions 3..=8.
    pub fn region_code(&self) -> &str {
        &self.text[2..8]
    }

    /// 主体标识码（组织机构代码）: positions 9..=17.
    pub fn organization_code(&self) -> &str {
        &self.text[8..17]
    }

    fn check_char_as(kind: IdentifierKind, first17: &str) -> Result<char, IdentifierError> {
        check_length(kind, first17, Self::LEN - 1, Self::LEN - 1)?;
        check_chars(kind, first17, |c| value(c).is_some())?;
        let sum: u32 = first17
            .chars()
            .zip(WEIGHTS)
            .map(|(c, w)| value(c).unwrap_or(0) * w)
            .sum();
        Ok(char::from(ALPHABET[((31 - sum % 31) % 31) as usize]))
    }

    /// Parses `text` as a USCC, attributing errors to `kind` (so a USCC
    /// embedded in another identifier reports as that part).
    pub(crate) fn parse_as(kind: IdentifierKind, text: String) -> Result<Self, IdentifierError> {
        check_length(kind, &text, Self::LEN, Self::LEN)?;
        check_chars(kind, &text, |c| value(c).is_some())?;
        // All 18 characters are ASCII now, so byte slicing is safe.
        let expected = Self::check_char_as(kind, &text[..Self::LEN - 1])?;
        let found = char::from(text.as_bytes()[Self::LEN - 1]);
        if expected != found {
            return Err(IdentifierError::InvalidCheckDigit {
                kind,
                expected,
                found,
            });
        }
        if Self::has_gb11714_org_code(&text) {
            let org = &text[8..17];
            let found = char::from(org.as_bytes()[8]);
            // The USCC alphabet is a subset of 0-9A-Z, so a check exists.
            if let Some(expected) = org_code_check_char(&org[..8])
                && expected != found
            {
                return Err(IdentifierError::InvalidOrgCodeCheckDigit {
                    kind,
                    expected,
                    found,
                });
            }
        }
        Ok(Self { text })
    }

    fn from_string(text: String) -> Result<Self, IdentifierError> {
        Self::parse_as(IdentifierKind::Uscc, text)
    }

    /// Whether this code's registration authority and entity type call for
    /// a GB 11714 organisation code (see the type's documentation).
    fn has_gb11714_org_code(text: &str) -> bool {
        matches!(text.as_bytes()[0], b'1' | b'5' | b'9') && !text.starts_with("92")
    }
}

/// The GB 11714 check character of an organisation code's first eight
/// characters (`0-9A-Z`, letters valued 10..=35): weights 3 7 9 10 5 8 4 2,
/// check value 11 − sum mod 11, written `X` for 10 and `0` for 11. `None`
/// when a character is outside `0-9A-Z`.
pub fn org_code_check_char(body: &str) -> Option<char> {
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    if body.len() != WEIGHTS.len() {
        return None;
    }
    let mut sum = 0;
    for (c, w) in body.chars().zip(WEIGHTS) {
        let v = match c {
            '0'..='9' => u32::from(c) - u32::from('0'),
            'A'..='Z' => u32::from(c) - u32::from('A') + 10,
            _ => return None,
        };
        sum += v * w;
    }
    Some(match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        v => char::from(b'0' + v as u8),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Valid codes, each cross-checked with python-stdnum 2.2
    /// (`stdnum.cn.uscc.is_valid(...) == True`), and with a GB 11714
    /// organisation code.
    const VALID: &[&str] = &[
        "91350100M000100Y43",
        "91110000600037341L", // also the stdnum.cn.uscc doctest example
        "91440300708461136T",
        "51110000500000621J",
    ];

    /// Published codes: issuing authorities named in national e-certificate
    /// identifiers (the type code's authority and the issuer).
    const PUBLISHED: &[&str] = &[
        "11100000000013338W",
        "11100000000013661B",
        "11430000006122244L",
        "11330105002500287C",
        "11220000013544541J",
        "113700000045046442",
        "91610800064834709T",
    ];

    #[test]
    fn accepts_published_codes() {
        for s in PUBLISHED {
            Uscc::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        }
    }

    #[test]
    fn org_code_check_matches_gb_11714() {
        // 00001333-8 (公安部 in 11100000000013338W); 60003734-1; the
        // letter cases: 10 -> X, 11 -> 0.
        assert_eq!(org_code_check_char("00001333"), Some('8'));
        assert_eq!(org_code_check_char("60003734"), Some('1'));
        assert_eq!(org_code_check_char("M000100Y"), Some('4'));
        assert_eq!(org_code_check_char("00000004"), Some('3'));
        assert_eq!(org_code_check_char("m000100Y"), None);
        assert_eq!(org_code_check_char("0000"), None);
        assert_eq!(
            org_code_check_char("00000006"),
            Some('X'),
            "11 - 12 % 11 = 10"
        );
        assert_eq!(org_code_check_char("00000000"), Some('0'), "11 - 0 = 11");
    }

    #[test]
    fn refuses_a_bad_embedded_org_code_where_the_type_requires_one() {
        // Both pass the USCC check character; their organisation codes
        // (MB017293-0, 40000091-7) do not pass GB 11714.
        for s in ["11350100MB0172930C", "12100000400000917N"] {
            let err = Uscc::parse(s).unwrap_err();
            assert_eq!(err.code(), "invalid_org_code_check_digit", "{s}");
        }
        let err = Uscc::parse("11350100MB0172930C").unwrap_err();
        assert_eq!(
            err.message(),
            "统一社会信用代码中的组织机构代码（第 9–17 位）校验位错误，应为 7"
        );
        // 个体工商户 (92) and other authorities are not held to it.
        for first17 in ["92350100MB0172930", "Y1350100MB0172930"] {
            let code = Uscc::with_check_char(first17).unwrap();
            assert!(Uscc::parse(code.as_str()).is_ok(), "{code}");
        }
    }

    #[test]
    fn weights_match_gb_32100() {
        assert_eq!(
            WEIGHTS,
            [
                1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28
            ]
        );
    }

    #[test]
    fn accepts_known_valid_codes() {
        for s in VALID {
            let code = Uscc::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(code.as_str(), *s);
            assert_eq!(code.to_string(), *s);
            assert_eq!(code, *s);
        }
    }

    #[test]
    fn check_char_matches_reference() {
        // Reference check characters from python-stdnum 2.2
        // `stdnum.cn.uscc.calc_check_digit`.
        assert_eq!(Uscc::check_char("91350100M000100Y4").unwrap(), '3');
        assert_eq!(Uscc::check_char("91110000600037341").unwrap(), 'L');
        assert_eq!(Uscc::check_char("91440300708461136").unwrap(), 'T');
        assert_eq!(Uscc::check_char("12100000400000917").unwrap(), 'N');
        assert_eq!(
            Uscc::with_check_char("12100000400000915").unwrap(),
            "12100000400000915G"
        );
    }

    #[test]
    fn parts() {
        let code = Uscc::parse("91350100M000100Y43").unwrap();
        assert_eq!(code.registration_authority(), '9');
        assert_eq!(code.entity_type(), '1');
        assert_eq!(code.region_code(), "350100");
        assert_eq!(code.organization_code(), "M000100Y4");
    }

    #[test]
    fn rejects_wrong_check_char() {
        let err = Uscc::parse("91350100M000100Y44").unwrap_err();
        assert_eq!(err.code(), "invalid_check_digit");
        assert_eq!(
            err,
            IdentifierError::InvalidCheckDigit {
                kind: IdentifierKind::Uscc,
                expected: '3',
                found: '4'
            }
        );
        assert_eq!(err.message(), "统一社会信用代码校验位错误，应为 3");
    }

    #[test]
    fn every_single_substitution_is_detected() {
        let good = "91350100M000100Y43";
        for (i, orig) in good.char_indices() {
            for &a in ALPHABET {
                let c = char::from(a);
                if c == orig {
                    continue;
                }
                let mut bad = good.to_owned();
                bad.replace_range(i..=i, c.encode_utf8(&mut [0; 4]));
                assert_eq!(
                    Uscc::parse(&bad).unwrap_err().code(),
                    "invalid_check_digit",
                    "{bad}"
                );
            }
        }
    }

    #[test]
    fn rejects_wrong_length() {
        for s in ["", "91350100M000100Y4", "91350100M000100Y433"] {
            let err = Uscc::parse(s).unwrap_err();
            assert_eq!(err.code(), "invalid_length", "{s:?}");
        }
        let err = Uscc::parse("9135").unwrap_err();
        assert_eq!(err.message(), "统一社会信用代码长度应为 18 位，实际为 4 位");
    }

    #[test]
    fn length_counts_characters_not_bytes() {
        // 18 characters, one of them full-width: a character error, not a
        // length error and no panic on a char boundary.
        let err = Uscc::parse("91350100M000100Y4３").unwrap_err();
        assert_eq!(
            err,
            IdentifierError::InvalidCharacter {
                kind: IdentifierKind::Uscc,
                position: 18,
                found: '３'
            }
        );
    }

    #[test]
    fn rejects_forbidden_letters() {
        for forbidden in ['I', 'O', 'S', 'V', 'Z'] {
            let s = format!("91350100M000100{forbidden}43");
            let err = Uscc::parse(&s).unwrap_err();
            assert_eq!(
                err,
                IdentifierError::InvalidCharacter {
                    kind: IdentifierKind::Uscc,
                    position: 16,
                    found: forbidden
                }
            );
            assert!(Uscc::check_char(&s[..17]).is_err());
        }
    }

    #[test]
    fn rejects_lower_case_instead_of_fixing_it() {
        let err = Uscc::parse("91350100m000100y43").unwrap_err();
        assert_eq!(err.code(), "invalid_character");
        assert_eq!(err.message(), "统一社会信用代码第 9 位含非法字符 'm'");
    }

    #[test]
    fn rejects_surrounding_whitespace_instead_of_trimming() {
        assert_eq!(
            Uscc::parse(" 91350100M000100Y43").unwrap_err().code(),
            "invalid_length"
        );
        assert_eq!(
            Uscc::parse("91350100M000100Y43\n").unwrap_err().code(),
            "invalid_length"
        );
        assert_eq!(
            Uscc::parse("91350100M000100Y4 ").unwrap_err().code(),
            "invalid_character"
        );
    }

    #[test]
    fn serde_round_trip() {
        let code = Uscc::parse("91350100M000100Y43").unwrap();
        let json = serde_json::to_string(&code).unwrap();
        assert_eq!(json, r#""91350100M000100Y43""#);
        let back: Uscc = serde_json::from_str(&json).unwrap();
        assert_eq!(back, code);
    }

    #[test]
    fn serde_rejects_invalid() {
        let err = serde_json::from_str::<Uscc>(r#""91350100M000100Y44""#).unwrap_err();
        assert!(err.to_string().contains("校验位错误"), "{err}");
        assert!(serde_json::from_str::<Uscc>("42").is_err());
    }
}
