//! The templates' filters: working days, form values, SLA states, roles
//! and instants as people read them.

use yizhan_auth::Role;

/// Working days for people: `5`, `2.5`, `-1` (two decimals at most).
pub(super) fn days(v: Option<f64>) -> String {
    match v {
        Some(d) if d.fract() == 0.0 => format!("{d:.0}"),
        Some(d) => format!("{d:.1}"),
        None => "—".into(),
    }
}

/// A form value as people write it: `500` not `500.0`, 是/否 for a yes/no
/// answer, nothing for a missing one.
pub(super) fn plain(v: &minijinja::Value) -> String {
    use minijinja::value::ValueKind;
    match v.kind() {
        ValueKind::Undefined | ValueKind::None => String::new(),
        ValueKind::Bool => if v.is_true() { "是" } else { "否" }.to_owned(),
        ValueKind::Number => match f64::try_from(v.clone()) {
            Ok(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{n:.0}"),
            _ => v.to_string(),
        },
        _ => v.to_string(),
    }
}

/// CSS class of an SLA state (colour plus a word, never colour alone).
pub(super) fn sla_class(state: Option<&str>) -> &'static str {
    match state {
        Some("on_time") => "sla-ok",
        Some("warning") => "sla-warn",
        Some("overdue") => "sla-over",
        Some("paused") | Some("stopped") => "sla-paused",
        _ => "sla-none",
    }
}

pub(crate) fn sla_name(state: Option<&str>) -> &'static str {
    match state {
        Some("on_time") => "正常",
        Some("warning") => "临期预警",
        Some("overdue") => "已超期",
        Some("paused") => "暂停计时",
        Some("stopped") => "已停止计时",
        _ => "未计时",
    }
}

/// Who took a step, by the Chinese name of their role (a timeline's
/// `actor.role`); `system` is the centre's own jobs.
pub(super) fn role_name(role: &str) -> &'static str {
    match role {
        "system" => "系统",
        other => Role::from_wire(other).map_or("工作人员", Role::zh_name),
    }
}

/// An RFC 3339 instant as China local time, `2026-11-23 10:15`.
pub(super) fn local_time(v: &str) -> String {
    chrono::DateTime::parse_from_rfc3339(v)
        .map(|t| {
            t.with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
                .format("%Y-%m-%d %H:%M")
                .to_string()
        })
        .unwrap_or_else(|_| v.to_owned())
}
