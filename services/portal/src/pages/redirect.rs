//! Where a page may send the browser after a form or a sign-in: only back
//! to this site (no open redirect).

/// `next` when it is a path on this site; `/` otherwise (no open redirect).
///
/// Browsers drop tabs and newlines from URLs and read `\\` as `/`, so
/// `/\t/evil.example` would become `//evil.example`: any control or
/// whitespace character, or a backslash, refuses the path outright. What
/// remains must resolve, against this site, to this site.
pub fn local_path(next: Option<&str>) -> String {
    const HERE: &str = "http://portal.invalid/";
    let Some(path) = next else {
        return "/".into();
    };
    let plain = path
        .chars()
        .all(|c| !c.is_control() && !c.is_whitespace() && c != '\\');
    if !plain || !path.starts_with('/') || path.starts_with("//") {
        return "/".into();
    }
    let Ok(base) = reqwest::Url::parse(HERE) else {
        return "/".into();
    };
    match base.join(path) {
        Ok(url) if url.origin() == base.origin() => url.as_str()[HERE.len() - 1..].to_owned(),
        _ => "/".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(
            local_path(Some("/review?type=licensing")),
            "/review?type=licensing"
        );
        assert_eq!(local_path(Some("//evil.example/")), "/");
        assert_eq!(local_path(Some("https://evil.example/")), "/");
        assert_eq!(local_path(Some("/\\evil.example")), "/");
        assert_eq!(local_path(None), "/");
        // Browsers strip tabs and newlines: these would become `//evil…`.
        for tricky in [
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r/evil.example",
            "/ /evil.example",
            "/\u{0}/evil.example",
            "\t//evil.example",
            "/\\/evil.example",
        ] {
            assert_eq!(local_path(Some(tricky)), "/", "{tricky:?}");
        }
        assert_eq!(local_path(Some("/a/../b?x=1#f")), "/b?x=1#f");
    }
}
