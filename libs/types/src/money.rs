//! Money as people read it. Amounts are whole 分 (fen) in `i64` everywhere;
//! this is the one place they become 元 text.

/// Formats 分 as 元: `123456` → `1,234.56 元`, thousands grouped.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let fen = fen.unsigned_abs();
    let whole = (fen / 100).to_string();
    let mut grouped = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    format!("{sign}{grouped}.{:02} 元", fen % 100)
}

#[cfg(test)]
mod tests {
    use super::yuan;

    #[test]
    fn fen_become_grouped_yuan() {
        assert_eq!(yuan(123_456), "1,234.56 元");
        assert_eq!(yuan(5), "0.05 元");
        assert_eq!(yuan(-100_000_000), "-1,000,000.00 元");
    }
}
