//! Checks on text and ids every service applies to what clients send.

/// Whether `s` holds control characters other than line breaks and tabs:
/// they never belong in text we keep, and PostgreSQL refuses NUL outright.
pub fn has_control_chars(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// Whether `c` changes how text around it is shown without being shown
/// itself: bidi embeddings, overrides and isolates (U+202A-U+202E,
/// U+2066-U+2069, U+061C), zero-width and direction marks
/// (U+200B-U+200F), invisible operators and the word joiner
/// (U+2060-U+2064), the Mongolian vowel separator (U+180E) and the byte
/// order mark (U+FEFF). In a name shown to staff they only serve to
/// disguise it: `\u{202E}fdp.exe` reads as "exe.pdf".
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// Whether `s` can be one of our ids (UUIDs, at most 64 of `[0-9A-Za-z-]`):
/// anything else is answered 404 (or a field error) without a query.
pub fn is_plausible_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_and_ids() {
        assert!(has_control_chars("a\u{0}b"));
        assert!(has_control_chars("a\u{1b}b"));
        assert!(!has_control_chars("第一行\n第二行\t"));
        assert!(is_plausible_id("0193aa00-0000-7000-8000-000000000001"));
        assert!(!is_plausible_id("a\u{0}"));
        assert!(!is_plausible_id(""));
        assert!(!is_plausible_id(&"a".repeat(65)));
    }

    #[test]
    fn invisible_format_characters() {
        for c in [
            '\u{202E}', '\u{202A}', '\u{2066}', '\u{2069}', '\u{200B}', '\u{200F}', '\u{FEFF}',
        ] {
            assert!(is_invisible_format(c), "{:04X}", c as u32);
        }
        for c in ['a', '营', ' ', '.', '\u{2070}', '\u{2029}'] {
            assert!(!is_invisible_format(c), "{:04X}", c as u32);
        }
    }
}
