//! Rules for notification preferences: address formats and categories.

use yizhan_kit::problem::FieldError;

/// Message categories a person may route to a channel.
pub const CATEGORIES: [&str; 6] = [
    "material",
    "application",
    "deadline",
    "certificate",
    "inspection",
    "benefit",
];

/// Checks an email address (a pragmatic check: one `@`, a dotted domain,
/// no spaces, at most 254 characters; the mail server has the last word).
pub fn check_email(value: &str) -> Result<(), FieldError> {
    let bad = || FieldError::new("email", "invalid_email", "邮箱地址格式不正确");
    if value.len() > 254 || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = value.split_once('@').ok_or_else(bad)?;
    let labels_ok = domain
        .split('.')
        .all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
    if local.is_empty() || domain.contains('@') || !domain.contains('.') || !labels_ok {
        return Err(bad());
    }
    Ok(())
}

/// Checks a mainland mobile number (11 digits starting with 1, second digit
/// 3-9), optionally written with `+86`. Returns the 11-digit form.
pub fn check_phone(value: &str) -> Result<String, FieldError> {
    let digits = value.strip_prefix("+86").unwrap_or(value);
    let ok = digits.len() == 11
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.starts_with('1')
        && matches!(digits.as_bytes()[1], b'3'..=b'9');
    if ok {
        Ok(digits.to_owned())
    } else {
        Err(FieldError::new(
            "phone",
            "invalid_phone",
            "手机号码应为 11 位数字（可带 +86 前缀）",
        ))
    }
}

/// Checks a category list; errors name `<field>.<index>`.
pub fn check_categories(field: &str, values: &[String]) -> Vec<FieldError> {
    values
        .iter()
        .enumerate()
        .filter(|(_, v)| !CATEGORIES.contains(&v.as_str()))
        .map(|(i, _)| {
            FieldError::new(
                format!("{field}.{i}"),
                "unknown_category",
                format!("消息类别只能是 {}", CATEGORIES.join("、")),
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(check_email("zhang.san@example.com.cn").is_ok());
        for bad in [
            "", "a", "a@b", "@b.cn", "a b@c.cn", "a@@b.cn", "a@-b.cn", "a@b..cn",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones() {
        assert_eq!(check_phone("13800138000").unwrap(), "13800138000");
        assert_eq!(check_phone("+8613800138000").unwrap(), "13800138000");
        for bad in ["1380013800", "12800138000", "23800138000", "1380013800a"] {
            assert!(check_phone(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn categories() {
        assert!(check_categories("x", &["deadline".into()]).is_empty());
        let errors = check_categories("sms_categories", &["deadline".into(), "spam".into()]);
        assert_eq!(errors[0].field, "sms_categories.1");
    }
}
