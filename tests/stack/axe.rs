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
