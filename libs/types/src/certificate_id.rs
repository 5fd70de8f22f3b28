//! 电子证照标识 (e-certificate identifier), GB/T 36904 style.

use serde::{Deserialize, Serialize};

use crate::error::{IdentifierError, IdentifierKind, check_chars, check_length};
use crate::iso7064::mod_37_36_check_char;
use crate::macros::string_identifier;
use crate::uscc::Uscc;

const KIND: IdentifierKind = IdentifierKind::CertificateId;

/// The fixed OID-style prefix every identifier starts with.
pub const PREFIX: &str = "1.2.156.3005.2.";

const SHAPE: &str =
    "1.2.156.3005.2.<证照类型代码>.<发证机构统一社会信用代码>.<流水号>.<三位版本号>.<校验位>";

fn is_upper_alnum(c: char) -> bool {
    c.is_ascii_digit() || c.is_ascii_uppercase()
}

/// 电子证照标识 — e-certificate identifier (GB/T 36904 style).
///
/// `1.2.156.3005.2.<type code>.<issuer USCC>.<serial>.<version>.<check>`:
/// the type code is 1–20 characters of `0-9A-Z` (a local code), or the
/// national format's 21: the USCC of the authority that defined the
/// certificate type and a three-digit number (e.g. `11100000000013338W011`),
/// the issuer a valid [`Uscc`], the serial 1–32 characters of `0-9A-Z`, the version exactly
/// three digits, and the check one character computed by ISO 7064 MOD 37,36
/// (see [`crate::iso7064`]) over type code + issuer + serial + version
/// concatenated without the dots.
///
/// ```
/// use yizhan_types::{CertificateId, Uscc};
///
/// let issuer = Uscc::parse("91350100M000100Y43").unwrap();
/// let id = CertificateId::new("JY", &issuer, "0001", "001").unwrap();
/// assert_eq!(id.as_str(), "1.2.156.3005.2.JY.91350100M000100Y43.0001.001.M");
/// assert_eq!(id.as_str().parse::<CertificateId>().unwrap(), id);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CertificateId {
    text: String,
}

string_identifier!(CertificateId);

/// The validated parts of an identifier, as slices of it.
struct Parts<'a> {
    type_code: &'a str,
    issuer: &'a str,
    serial: &'a str,
    version: &'a str,
    check: &'a str,
}

impl CertificateId {
    /// Builds an identifier from its parts, computing the check character.
    pub fn new(
        type_code: &str,
        issuer: &Uscc,
        serial: &str,
        version: &str,
    ) -> Result<Self, IdentifierError> {
        check_type_code(type_code)?;
        check_serial(serial)?;
        check_version(version)?;
        let check = compute_check(type_code, issuer.as_str(), serial, version);
        let text = format!("{PREFIX}{type_code}.{issuer}.{serial}.{version}.{check}");
        Ok(Self { text })
    }

    /// 证照类型代码.
    pub fn type_code(&self) -> &str {
        self.parts().type_code
    }

    /// 发证机构统一社会信用代码.
    pub fn issuer(&self) -> Uscc {
        Uscc::parse(self.parts().issuer).expect("validated on construction")
    }

    /// 流水号.
    pub fn serial(&self) -> &str {
        self.parts().serial
    }

    /// 版本号: the three digits as written, e.g. `001`.
    pub fn version(&self) -> &str {
        self.parts().version
    }

    /// 校验位.
    pub fn check_char(&self) -> char {
        char::from(self.text.as_bytes()[self.text.len() - 1])
    }

    fn parts(&self) -> Parts<'_> {
        split(&self.text).expect("validated on construction")
    }

    fn from_string(text: String) -> Result<Self, IdentifierError> {
        let parts = split(&text).ok_or(IdentifierError::InvalidFormat {
            kind: KIND,
            expected: SHAPE,
        })?;
        check_type_code(parts.type_code)?;
        let issuer = Uscc::parse_as(IdentifierKind::CertificateIssuer, parts.issuer.to_owned())?;
        check_serial(parts.serial)?;
        check_version(parts.version)?;
        let mut check = parts.check.chars();
        let (Some(found), None) = (check.next(), check.next()) else {
            return Err(IdentifierError::InvalidFormat {
                kind: KIND,
                expected: SHAPE,
            });
        };
        let expected = compute_check(
            parts.type_code,
            issuer.as_str(),
            parts.serial,
            parts.version,
        );
        if found != expected {
            return Err(IdentifierError::InvalidCheckDigit {
                kind: KIND,
                expected,
                found,
            });
        }
        Ok(Self { text })
    }
}

/// Splits after the prefix into exactly five dot-separated parts.
fn split(text: &str) -> Option<Parts<'_>> {
    let rest = text.strip_prefix(PREFIX)?;
    let mut it = rest.split('.');
    let parts = Parts {
        type_code: it.next()?,
        issuer: it.next()?,
        serial: it.next()?,
        version: it.next()?,
        check: it.next()?,
    };
    it.next().is_none().then_some(parts)
}

/// Length of a national-format type code: defining authority's USCC + 3 digits.
const NATIONAL_TYPE_CODE_LEN: usize = Uscc::LEN + 3;

fn check_type_code(s: &str) -> Result<(), IdentifierError> {
    let kind = IdentifierKind::CertificateTypeCode;
    check_length(kind, s, 1, NATIONAL_TYPE_CODE_LEN)?;
    check_chars(kind, s, is_upper_alnum)?;
    if s.len() == NATIONAL_TYPE_CODE_LEN {
        // All ASCII (checked above), so byte offsets are character offsets.
        Uscc::parse_as(kind, s[..Uscc::LEN].to_owned())?;
        if let Some((i, c)) = s[Uscc::LEN..]
            .char_indices()
            .find(|(_, c)| !c.is_ascii_digit())
        {
            return Err(IdentifierError::InvalidCharacter {
                kind,
                position: Uscc::LEN + i + 1,
                found: c,
            });
        }
    }
    Ok(())
}

fn check_serial(s: &str) -> Result<(), IdentifierError> {
    let kind = IdentifierKind::CertificateSerial;
    check_length(kind, s, 1, 32)?;
    check_chars(kind, s, is_upper_alnum)
}

fn check_version(s: &str) -> Result<(), IdentifierError> {
    let kind = IdentifierKind::CertificateVersion;
    check_length(kind, s, 3, 3)?;
    check_chars(kind, s, |c| c.is_ascii_digit())
}

/// The MOD 37,36 check over the already-validated parts.
fn compute_check(type_code: &str, issuer: &str, serial: &str, version: &str) -> char {
    let payload = [type_code, issuer, serial, version].concat();
    mod_37_36_check_char(&payload).expect("parts are validated as 0-9A-Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issuer() -> Uscc {
        Uscc::parse("91350100M000100Y43").unwrap()
    }

    /// Identifiers whose check characters come from python-stdnum 2.2
    /// `stdnum.iso7064.mod_37_36.calc_check_digit` over the dot-less payload
    /// (e.g. `JY91350100M000100Y430001001` -> `M`).
    const VALID: &[&str] = &[
        "1.2.156.3005.2.JY.91350100M000100Y43.0001.001.M",
        "1.2.156.3005.2.L10.91350100M000100Y43.ABC2025001.001.D",
        "1.2.156.3005.2.11100000.91350100M000100Y43.0000123.001.U",
    ];

    /// National-format identifiers as published (a standard's appendix
    /// example, a provincial platform's file names, a city's database
    /// documentation, and the one a partner tried): 21-character type codes.
    const NATIONAL: &[&str] = &[
        "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
        "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S",
        "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
        "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",
    ];

    #[test]
    fn accepts_published_national_identifiers() {
        for s in NATIONAL {
            let id = CertificateId::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(id.as_str(), *s);
            assert_eq!(id.type_code().len(), 21);
        }
        let id = CertificateId::parse(NATIONAL[0]).unwrap();
        assert_eq!(id.type_code(), "11100000000013338W011");
        assert_eq!(id.issuer(), "11430000006122244L");
        assert_eq!(id.serial(), "20230000403");
        assert_eq!(id.check_char(), 'U');
        let issuer = Uscc::parse("11430000006122244L").unwrap();
        assert_eq!(
            CertificateId::new("11100000000013338W011", &issuer, "20230000403", "001").unwrap(),
            NATIONAL[0]
        );
    }

    #[test]
    fn refuses_published_identifiers_that_do_not_check() {
        let code = |s: &str| {
            let e = CertificateId::parse(s).unwrap_err();
            (e.kind(), e.code())
        };
        // Published as examples, but their check characters are wrong
        // (MOD 37,36 gives 2 and D).
        assert_eq!(
            code("1.2.156.3005.2.11100000000013338W050.91610800064834709T.2023000001.001.X"),
            (KIND, "invalid_check_digit")
        );
        assert_eq!(
            code(
                "1.2.156.3005.2.11100000000013661B006.113700000045046442.209FA4E88F9E4C878F3E9BED2CE7EA49.001.M"
            ),
            (KIND, "invalid_check_digit")
        );
        // The issuer is a region code, not a USCC.
        assert_eq!(
            code("1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9"),
            (IdentifierKind::CertificateIssuer, "invalid_length")
        );
        // A 21-character type code must be a USCC and three digits.
        assert_eq!(
            code("1.2.156.3005.2.11100000000013338X011.11430000006122244L.20230000403.001.U"),
            (IdentifierKind::CertificateTypeCode, "invalid_check_digit")
        );
        assert_eq!(
            code("1.2.156.3005.2.11100000000013338W01A.11430000006122244L.20230000403.001.U"),
            (IdentifierKind::CertificateTypeCode, "invalid_character")
        );
        assert_eq!(
            code("1.2.156.3005.2.11100000000013338W0110.11430000006122244L.20230000403.001.U"),
            (IdentifierKind::CertificateTypeCode, "invalid_length")
        );
    }

    #[test]
    fn accepts_reference_identifiers() {
        for s in VALID {
            let id = CertificateId::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"));
            assert_eq!(id.as_str(), *s);
            assert_eq!(id.to_string(), *s);
            assert_eq!(id.issuer(), issuer());
        }
    }

    #[test]
    fn new_computes_reference_check() {
        let id = CertificateId::new("L10", &issuer(), "ABC2025001", "001").unwrap();
        assert_eq!(id, VALID[1]);
        assert_eq!(id.type_code(), "L10");
        assert_eq!(id.serial(), "ABC2025001");
        assert_eq!(id.version(), "001");
        assert_eq!(id.check_char(), 'D');
    }

    #[test]
    fn rejects_wrong_check() {
        let err =
            CertificateId::parse("1.2.156.3005.2.JY.91350100M000100Y43.0001.001.N").unwrap_err();
        assert_eq!(
            err,
            IdentifierError::InvalidCheckDigit {
                kind: KIND,
                expected: 'M',
                found: 'N'
            }
        );
        assert_eq!(err.message(), "电子证照标识校验位错误，应为 M");
    }

    #[test]
    fn detects_single_substitutions_and_adjacent_swaps_in_parts() {
        // Substitutions / swaps that keep every part well-formed (the issuer
        // is left alone: its own check character would usually fire first).
        let good = VALID[1];
        let issuer_start = good.find("91350100").unwrap();
        let issuer_bytes = issuer_start..issuer_start + Uscc::LEN;
        let editable: Vec<usize> = good
            .char_indices()
            .filter(|&(i, c)| c != '.' && i >= PREFIX.len() && !issuer_bytes.contains(&i))
            .map(|(i, _)| i)
            .collect();
        for &i in &editable {
            for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".chars() {
                if good.as_bytes()[i] == c as u8 {
                    continue;
                }
                let mut bad = good.to_owned();
                bad.replace_range(i..=i, c.encode_utf8(&mut [0; 4]));
                if let Err(e) = CertificateId::parse(&bad) {
                    assert!(
                        matches!(e.code(), "invalid_check_digit" | "invalid_character"),
                        "{bad}: {e}"
                    );
                } else {
                    panic!("undetected substitution: {bad}");
                }
            }
        }
        for w in editable.windows(2) {
            let (i, j) = (w[0], w[1]);
            if j != i + 1 || good.as_bytes()[i] == good.as_bytes()[j] {
                continue;
            }
            let mut bad = good.as_bytes().to_vec();
            bad.swap(i, j);
            let bad = String::from_utf8(bad).unwrap();
            assert!(CertificateId::parse(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rejects_bad_prefix_and_shape() {
        for s in [
            "",
            "1.2.156.3005.1.JY.91350100M000100Y43.0001.001.M",
            "JY.91350100M000100Y43.0001.001.M",
            "1.2.156.3005.2.JY.91350100M000100Y43.0001.001",
            "1.2.156.3005.2.JY.91350100M000100Y43.0001.001.M.X",
            "1.2.156.3005.2.JY.91350100M000100Y43.0001.001.MM",
            "1.2.156.3005.2.JY.91350100M000100Y43.0001.001.",
            " 1.2.156.3005.2.JY.91350100M000100Y43.0001.001.M",
            "1.2.156.3005.2.JY.91350100M000100Y43.0001.001.M ",
        ] {
            let err = CertificateId::parse(s).unwrap_err();
            assert_eq!(err.code(), "invalid_format", "{s:?}: {err}");
        }
    }

    #[test]
    fn reports_the_failing_part() {
        let cases = [
            (
                "1.2.156.3005.2..91350100M000100Y43.0001.001.M",
                IdentifierKind::CertificateTypeCode,
                "invalid_length",
            ),
            (
                "1.2.156.3005.2.jy.91350100M000100Y43.0001.001.M",
                IdentifierKind::CertificateTypeCode,
                "invalid_character",
            ),
            (
                "1.2.156.3005.2.ABCDEFGHIJKLMNOPQRSTUV.91350100M000100Y43.0001.001.M",
                IdentifierKind::CertificateTypeCode,
                "invalid_length",
            ),
            (
                "1.2.156.3005.2.JY.91350100M000100Y44.0001.001.M",
                IdentifierKind::CertificateIssuer,
                "invalid_check_digit",
            ),
            (
                "1.2.156.3005.2.JY.91350100M000100O43.0001.001.M",
                IdentifierKind::CertificateIssuer,
                "invalid_character",
            ),
            (
                "1.2.156.3005.2.JY.91350100M000100Y43.00-1.001.M",
                IdentifierKind::CertificateSerial,
                "invalid_character",
            ),
            (
                "1.2.156.3005.2.JY.91350100M000100Y43.000000000000000000000000000000001.001.M",
                IdentifierKind::CertificateSerial,
                "invalid_length",
            ),
            (
                "1.2.156.3005.2.JY.91350100M000100Y43.0001.01.M",
                IdentifierKind::CertificateVersion,
                "invalid_length",
            ),
            (
                "1.2.156.3005.2.JY.91350100M000100Y43.0001.00A.M",
                IdentifierKind::CertificateVersion,
                "invalid_character",
            ),
        ];
        for (s, kind, code) in cases {
            let err = CertificateId::parse(s).unwrap_err();
            assert_eq!((err.kind(), err.code()), (kind, code), "{s}: {err}");
        }
        let err =
            CertificateId::parse("1.2.156.3005.2.JY.91350100M000100Y44.0001.001.M").unwrap_err();
        assert_eq!(
            err.message(),
            "电子证照标识中的发证机构统一社会信用代码校验位错误，应为 3"
        );
    }

    #[test]
    fn new_validates_parts() {
        let issuer = issuer();
        assert_eq!(
            CertificateId::new("", &issuer, "1", "001")
                .unwrap_err()
                .kind(),
            IdentifierKind::CertificateTypeCode
        );
        assert_eq!(
            CertificateId::new("JY", &issuer, "a1", "001")
                .unwrap_err()
                .kind(),
            IdentifierKind::CertificateSerial
        );
        assert_eq!(
            CertificateId::new("JY", &issuer, "1", "1")
                .unwrap_err()
                .kind(),
            IdentifierKind::CertificateVersion
        );
        assert_eq!(
            CertificateId::new("J.Y", &issuer, "1", "001")
                .unwrap_err()
                .code(),
            "invalid_character"
        );
    }

    #[test]
    fn serde_round_trip() {
        let id = CertificateId::parse(VALID[0]).unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{}\"", VALID[0]));
        assert_eq!(serde_json::from_str::<CertificateId>(&json).unwrap(), id);
        assert!(
            serde_json::from_str::<CertificateId>(
                r#""1.2.156.3005.2.JY.91350100M000100Y43.0001.001.N""#
            )
            .is_err()
        );
    }
}
