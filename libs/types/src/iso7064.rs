//! ISO/IEC 7064 hybrid check-character systems (校验码系统), in particular
//! MOD 37,36 used by the 电子证照标识.
//!
//! A hybrid system MOD M+1,M works over values 0..M: start with P = M; for
//! each character value a, S = (P + a) mod M, with 0 replaced by M, and the
//! next P = (2·S) mod (M+1). A string with its check character appended is
//! valid when the last S (before that final doubling) is 1, so the check
//! value for a payload is (M + 1 − P) mod M.
//!
//! Error detection (MOD 37,36): every single-character substitution is
//! caught, and so is every swap of the last payload character with the check
//! character. Adjacent transpositions are caught with one exception per
//! position: for each running state exactly one pair of characters whose
//! values differ by one (e.g. `Y`/`Z` after `K7Q`) swaps undetected — 2 of
//! the 1260 ordered pairs. That is a property of the hybrid system itself,
//! not of this implementation (python-stdnum agrees); the tests pin it down.

/// The MOD 37,36 alphabet: `0-9` have values 0..=9, `A-Z` 10..=35.
const ALPHABET_36: &[u8; 36] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// Runs the hybrid recurrence over `values` and returns the final S (1..=M).
/// For an empty input this is M, which can never be mistaken for a pass.
fn hybrid_final_s(values: impl IntoIterator<Item = u32>, m: u32) -> u32 {
    let mut p = m;
    let mut s = m;
    for a in values {
        s = (p + a) % m;
        if s == 0 {
            s = m;
        }
        p = s * 2 % (m + 1);
    }
    s
}

/// The check value for `values` in the hybrid system MOD M+1,M.
fn hybrid_check_value(values: impl IntoIterator<Item = u32>, m: u32) -> u32 {
    let s = hybrid_final_s(values, m);
    let p = s * 2 % (m + 1);
    (m + 1 - p) % m
}

fn value_36(c: char) -> Option<u32> {
    match c {
        '0'..='9' => Some(c as u32 - '0' as u32),
        'A'..='Z' => Some(c as u32 - 'A' as u32 + 10),
        _ => None,
    }
}

fn values_36(s: &str) -> Option<Vec<u32>> {
    s.chars().map(value_36).collect()
}

/// The ISO 7064 MOD 37,36 check character for `payload`, or `None` if the
/// payload contains a character outside `0-9A-Z` (lower case included).
pub fn mod_37_36_check_char(payload: &str) -> Option<char> {
    let values = values_36(payload)?;
    let v = hybrid_check_value(values, 36);
    Some(char::from(ALPHABET_36[v as usize]))
}

/// Whether `full` (payload followed by its check character) passes ISO 7064
/// MOD 37,36. Empty input and characters outside `0-9A-Z` fail.
pub fn mod_37_36_is_valid(full: &str) -> bool {
    match values_36(full) {
        Some(values) if !values.is_empty() => hybrid_final_s(values, 36) == 1,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference pairs (payload, check character) computed with python-stdnum
    /// 2.2, `stdnum.iso7064.mod_37_36.calc_check_digit`. The first is also
    /// the doctest example in that module.
    const REFERENCE: &[(&str, char)] = &[
        ("A12425GABC1234002", 'M'),
        ("0", '2'),
        ("A", 'H'),
        ("Z", '4'),
        ("12345", 'Y'),
        ("ABCDEFGHIJ", '5'),
        ("L1091350100M000100Y43ABC2025001001", 'D'),
        ("1110000091350100M000100Y430000123001", 'U'),
        ("JY91350100M000100Y430001001", 'M'),
    ];

    #[test]
    fn matches_python_stdnum_reference_values() {
        for &(payload, check) in REFERENCE {
            assert_eq!(mod_37_36_check_char(payload), Some(check), "{payload}");
            let full = format!("{payload}{check}");
            assert!(mod_37_36_is_valid(&full), "{full}");
        }
    }

    #[test]
    fn same_recurrence_gives_mod_11_10() {
        // MOD 11,10 is the same hybrid family with M = 10. Reference from the
        // python-stdnum `stdnum.iso7064.mod_37_36` doctest:
        // calc_check_digit('00200667308', alphabet='0123456789') == '5'.
        let values = "00200667308".bytes().map(|b| u32::from(b - b'0'));
        assert_eq!(hybrid_check_value(values, 10), 5);
        let full = "002006673085".bytes().map(|b| u32::from(b - b'0'));
        assert_eq!(hybrid_final_s(full, 10), 1);
    }

    #[test]
    fn check_char_always_validates() {
        let mut payload = String::new();
        for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ".chars() {
            payload.push(c);
            let check = mod_37_36_check_char(&payload).unwrap();
            assert!(mod_37_36_is_valid(&format!("{payload}{check}")));
        }
    }

    #[test]
    fn detects_every_single_substitution() {
        let (payload, check) = REFERENCE[6];
        let good = format!("{payload}{check}");
        for i in 0..good.len() {
            for &b in ALPHABET_36 {
                if b == good.as_bytes()[i] {
                    continue;
                }
                let mut bad = good.clone().into_bytes();
                bad[i] = b;
                let bad = String::from_utf8(bad).unwrap();
                assert!(!mod_37_36_is_valid(&bad), "{bad}");
            }
        }
    }

    #[test]
    fn detects_every_adjacent_transposition() {
        for &(payload, check) in REFERENCE {
            let good = format!("{payload}{check}");
            let bytes = good.as_bytes();
            for i in 0..bytes.len().saturating_sub(1) {
                if bytes[i] == bytes[i + 1] {
                    continue;
                }
                let bad = swapped(&good, i);
                assert!(!mod_37_36_is_valid(&bad), "{good} -> {bad}");
            }
        }
    }

    /// Swaps the characters at `i` and `i + 1`.
    fn swapped(s: &str, i: usize) -> String {
        let mut b = s.as_bytes().to_vec();
        b.swap(i, i + 1);
        String::from_utf8(b).unwrap()
    }

    #[test]
    fn adjacent_transpositions_exhaustively() {
        // A hybrid system is not a pure one: for each running state exactly
        // one unordered pair of characters (values differing by one) swaps
        // undetected, i.e. 2 of the 1260 ordered pairs. Every other swap is
        // caught. Cross-checked with python-stdnum 2.2: both
        // `K7QYZ4` and `K7QZY4` pass `mod_37_36.is_valid`, as do `IJ0` / `JI0`
        // and `1GH3` / `1HG3`.
        for (prefix, blind_spot) in [("K7Q", ('Y', 'Z')), ("", ('I', 'J')), ("1", ('G', 'H'))] {
            let mut undetected = Vec::new();
            for &a in ALPHABET_36 {
                for &b in ALPHABET_36 {
                    if a == b {
                        continue;
                    }
                    let payload = format!("{prefix}{}{}", char::from(a), char::from(b));
                    let check = mod_37_36_check_char(&payload).unwrap();
                    let full = format!("{payload}{check}");
                    if mod_37_36_is_valid(&swapped(&full, prefix.len())) {
                        undetected.push((char::from(a), char::from(b)));
                    }
                }
            }
            let (x, y) = blind_spot;
            assert_eq!(undetected, vec![(x, y), (y, x)], "prefix {prefix:?}");
        }
    }

    #[test]
    fn swapping_the_check_char_is_detected() {
        for prefix in ["", "1", "K7Q", "JY91350100M000100Y430001"] {
            for &a in ALPHABET_36 {
                let payload = format!("{prefix}{}", char::from(a));
                let check = mod_37_36_check_char(&payload).unwrap();
                if check == char::from(a) {
                    continue;
                }
                let full = format!("{payload}{check}");
                let bad = swapped(&full, payload.len() - 1);
                assert!(!mod_37_36_is_valid(&bad), "{full} -> {bad}");
            }
        }
    }

    #[test]
    fn rejects_foreign_characters() {
        assert_eq!(mod_37_36_check_char("a1"), None);
        assert_eq!(mod_37_36_check_char("A.1"), None);
        assert!(!mod_37_36_is_valid(""));
        assert!(!mod_37_36_is_valid("a12425gabc1234002m"));
    }
}
