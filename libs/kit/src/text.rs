//! Checks on text and ids every service applies to what clients send.

/// Whether `s` holds control characters other than line breaks and tabs:
/// they never belong in text we keep, and PostgreSQL refuses NUL outright.
pub fn has_control_chars(s: &str) -> bool {
    s.chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
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
}
