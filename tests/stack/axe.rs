//! The accessibility scan of the portal's pages: axe-core (npm, installed
//! from `tests/axe`'s lock file), injected through WebDriver into the page
//! the browser shows, run for the WCAG 2.x A and AA rules; what matters is
//! every violation of impact serious or critical. Without node or npm the
//! scan skips visibly (and fails under `CI=true`).

use yizhan_kit::testing::skip;

use crate::browser::Browser;

/// axe-core's source, ready to inject.
pub struct Axe {
    source: String,
}

impl Axe {
    /// Installs axe-core, or `None` after a visible skip when npm cannot.
    pub async fn load() -> Option<Self> {
        let loaded = async {
            let dir = crate::npm::installed("axe", "axe-core/axe.min.js").await?;
            std::fs::read_to_string(dir.join("node_modules/axe-core/axe.min.js"))
                .map_err(|e| format!("axe-core is not readable: {e}"))
        }
        .await;
        match loaded {
            Ok(source) => Some(Self { source }),
            Err(reason) => {
                skip(&format!("the accessibility scan cannot run: {reason}"));
                None
            }
        }
    }

    /// The serious and critical violations on the page the browser shows,
    /// each as `rule (impact): help — the elements`.
    pub async fn violations(&self, browser: &Browser) -> Vec<String> {
        if browser
            .script("return typeof window.axe === 'undefined';")
            .await
            == true
        {
            browser.script(&self.source).await;
        }
        let result = browser
            .script_async(
                "const done = arguments[arguments.length - 1]; \
                 axe.run(document, {runOnly: {type: 'tag', values: \
                   ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}, \
                   resultTypes: ['violations']}) \
                 .then(r => done(r.violations \
                   .filter(v => v.impact === 'serious' || v.impact === 'critical') \
                   .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' — ' \
                     + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')))) \
                 .catch(e => done(['axe failed: ' + e]));",
            )
            .await;
        result
            .as_array()
            .map(|found| {
                found
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_else(|| vec![format!("axe answered {result}")])
    }
}

/// The scan is live: a page with an unlabelled input and an image with no
/// text is reported, a page without them is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scan_finds_serious_violations() {
    let Some(axe) = Axe::load().await else {
        return;
    };
    let browser = Browser::start("axe").await;
    browser
        .goto(
            "data:text/html;charset=utf-8,<!doctype html><html lang=zh-CN><head><title>t</title></head>\
             <body><main><h1>t</h1><img src=x.png><input type=text></main></body></html>",
        )
        .await;
    let bad = axe.violations(&browser).await;
    browser
        .goto(
            "data:text/html;charset=utf-8,<!doctype html><html lang=zh-CN><head><title>t</title></head>\
             <body><main><h1>t</h1><label for=n>名称</label><input id=n type=text></main></body></html>",
        )
        .await;
    let good = axe.violations(&browser).await;
    browser.quit().await;
    assert!(
        bad.iter().any(|v| v.starts_with("image-alt"))
            && bad.iter().any(|v| v.starts_with("label")),
        "{bad:?}"
    );
    assert!(good.is_empty(), "{good:?}");
}
