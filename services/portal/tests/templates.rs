//! The pages' Content-Security-Policy (`script-src 'self'`) refuses inline
//! script: no template may rely on one, or its feature silently stops
//! working in the browser.

use std::path::Path;

/// An ` on…=` event-handler attribute (`onclick=`, `onload=`), if any.
fn inline_handler(text: &str) -> Option<String> {
    text.match_indices(" on").find_map(|(i, _)| {
        let rest = &text[i + 3..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_lowercase())
            .collect();
        (!name.is_empty() && rest[name.len()..].trim_start().starts_with('='))
            .then(|| format!("on{name}"))
    })
}

#[test]
fn templates_hold_no_inline_script() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap().to_lowercase();
        let name = path.display();
        assert!(!text.contains("javascript:"), "{name}: javascript: URL");
        for (i, _) in text.match_indices("<script") {
            let open = &text[i..i + text[i..].find('>').unwrap()];
            assert!(open.contains(" src="), "{name}: inline <script>");
        }
        let handler = inline_handler(&text);
        assert!(handler.is_none(), "{name}: inline handler {handler:?}");
        checked += 1;
    }
    assert!(checked > 10, "templates found under {}", dir.display());
}
