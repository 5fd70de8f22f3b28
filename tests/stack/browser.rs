//! A real headless browser for the portal's end-to-end tests: Debian's
//! chromium driven by chromedriver over the W3C WebDriver protocol.
//!
//! The protocol is a handful of JSON calls, so the client is written here
//! on reqwest instead of pulling a WebDriver crate with a TLS stack of its
//! own. Screenshots go to `target/e2e-screenshots/` of the workspace (CI
//! keeps them as artifacts).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use serde_json::{Value, json};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Scrolls the clicked element into view and answers whether clicking it
/// loads a new page (a link to another page, or a form's submit button);
/// when it does, marks the current document so the wait can tell the old
/// page from the new one.
const NAVIGATES: &str = "
const e = arguments[0];
e.scrollIntoView({block: 'center'});
let loads = false;
const a = e.closest('a[href]');
if (a) {
  const href = a.getAttribute('href');
  loads = !href.startsWith('#') && !a.hasAttribute('download') && a.target !== '_blank';
} else {
  const b = e.closest('button, input[type=submit], input[type=image]');
  loads = !!b && !!b.form && (b.tagName !== 'BUTTON' || b.type === 'submit');
}
if (loads) { document.__yizhanClicked = true; }
return loads;
";

/// One browser session and the chromedriver behind it.
pub struct Browser {
    http: reqwest::Client,
    session: String,
    driver: Child,
    shots: PathBuf,
    shot_no: std::sync::atomic::AtomicUsize,
    /// Prefix of screenshot names (one per test).
    pub prefix: String,
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

impl Browser {
    /// Starts chromedriver and a headless chromium session. Panics with
    /// what to install when they are missing (`.ci/run` installs them).
    pub async fn start(prefix: &str) -> Self {
        let driver_bin = which("chromedriver").expect(
            "chromedriver not found: apt-get install chromium chromium-driver (.ci/run does)",
        );
        let chromium = ["chromium", "chromium-browser", "google-chrome"]
            .iter()
            .find_map(|n| which(n))
            .expect("chromium not found: apt-get install chromium chromium-driver");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(driver_bin)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .pool_idle_timeout(yizhan_kit::http::PEER_POOL_IDLE)
            .build()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) = http.get(format!("{base}/status")).send().await
                && r.status().is_success()
            {
                break;
            }
            assert!(Instant::now() < deadline, "chromedriver did not come up");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap().keep();
        let created: Value = http
            .post(format!("{base}/session"))
            .json(&json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": chromium,
                    "args": [
                        "--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                        "--disable-gpu", "--window-size=1280,1000", "--lang=zh-CN",
                        format!("--user-data-dir={}", profile.display()),
                    ],
                },
            }}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {created}"))
            .to_owned();
        let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/e2e-screenshots");
        std::fs::create_dir_all(&shots).unwrap();
        Self {
            http,
            session: format!("{base}/session/{session}"),
            driver,
            shots,
            shot_no: Default::default(),
            prefix: prefix.to_owned(),
        }
    }

    /// One WebDriver command; `Err((error, message))` when the driver
    /// answers with an error.
    async fn try_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, (String, String)> {
        let mut request = self
            .http
            .request(method.clone(), format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        } else if method == reqwest::Method::POST {
            request = request.json(&json!({}));
        }
        let answer: Value = request.send().await.unwrap().json().await.unwrap();
        match answer["value"]["error"].as_str() {
            Some(error) => Err((error.to_owned(), answer["value"]["message"].to_string())),
            None => Ok(answer["value"].clone()),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.try_call(method.clone(), path, body)
            .await
            .unwrap_or_else(|(error, message)| {
                panic!("WebDriver {method} {path}: {error}: {message}")
            })
    }

    /// Opens `url`.
    pub async fn goto(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    /// The current URL.
    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    async fn try_find(&self, css: &str) -> Option<String> {
        let answer: Value = self
            .http
            .post(format!("{}/element", self.session))
            .json(&json!({"using": "css selector", "value": css}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        answer["value"][ELEMENT].as_str().map(str::to_owned)
    }

    /// The element matching `css`, waiting up to 10 s for it to appear.
    pub async fn find(&self, css: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(id) = self.try_find(css).await {
                return id;
            }
            if Instant::now() > deadline {
                let source = self.source().await;
                panic!(
                    "no element {css} on {}:\n{}",
                    self.url().await,
                    &source[..source.len().min(4000)]
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Whether an element matches `css` now.
    pub async fn has(&self, css: &str) -> bool {
        self.try_find(css).await.is_some()
    }

    /// The form controls a person can reach that have no label (by
    /// `<label for>`, a wrapping `<label>`, or `aria-label`): their ids or
    /// names. Empty on an accessible page.
    pub async fn unlabelled_controls(&self) -> Vec<String> {
        let found = self
            .script(
                "return Array.from(document.querySelectorAll('input, select, textarea'))\
                 .filter(e => e.type !== 'hidden')\
                 .filter(e => e.labels.length === 0 && !e.getAttribute('aria-label'))\
                 .map(e => e.id || e.name);",
            )
            .await;
        serde_json::from_value(found).unwrap_or_default()
    }

    /// Resizes the window to a phone (390×844), answers whether the page
    /// still fits its width (no sideways scrolling), and saves a
    /// screenshot; the window goes back to desktop size after.
    pub async fn fits_a_phone(&self, name: &str) -> bool {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": 390, "height": 844})),
        )
        .await;
        let fits = self
            .script(
                "return document.documentElement.scrollWidth <= document.documentElement.clientWidth;",
            )
            .await
            == true;
        let png = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .unwrap();
        let n = self
            .shot_no
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        std::fs::write(
            self.shots
                .join(format!("{}-{n:02}-{name}-phone.png", self.prefix)),
            bytes,
        )
        .unwrap();
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": 1280, "height": 1000})),
        )
        .await;
        fits
    }

    /// Resizes the window to `width`×900 and answers whether the page fits
    /// that width (no sideways scrolling); the window stays at that size.
    pub async fn fits_width(&self, width: u32) -> bool {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": 900})),
        )
        .await;
        self.script("return document.scrollingElement.scrollWidth <= window.innerWidth;")
            .await
            == true
    }

    /// Waits up to 10 s until nothing matches `css`.
    pub async fn wait_gone(&self, css: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.has(css).await {
            assert!(Instant::now() < deadline, "{css} is still there");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the element matching `css` (scrolled into view first).
    ///
    /// When the element is a link or a form's submit button, the click
    /// loads a new page: this waits until that page has replaced the one
    /// clicked on (a marker set on the old document is gone and the new one
    /// has loaded), so what the test reads next comes from the new page and
    /// never from the old one that happens to hold the same element. The
    /// portal's pages work without JavaScript, so such clicks always load a
    /// page; one that does not is a failure, not something to wait out.
    pub async fn click(&self, css: &str) {
        let id = self.find(css).await;
        let navigates = self
            .call(
                reqwest::Method::POST,
                "/execute/sync",
                Some(json!({"script": NAVIGATES, "args": [{ELEMENT: &id}]})),
            )
            .await
            == true;
        self.call(reqwest::Method::POST, &format!("/element/{id}/click"), None)
            .await;
        if !navigates {
            return;
        }
        // During the navigation chromedriver may answer with an error (the
        // old context is gone): that is the page changing; ask again.
        crate::common::eventually(
            &format!("clicking {css} to load a new page"),
            Duration::from_secs(30),
            || async {
                let state = self
                    .try_call(
                        reqwest::Method::POST,
                        "/execute/sync",
                        Some(json!({"script": "return document.__yizhanClicked ? 'old' : document.readyState;", "args": []})),
                    )
                    .await;
                matches!(state, Ok(ref v) if v == "complete").then_some(())
            },
        )
        .await;
    }

    /// Replaces the value of the input matching `css` with `text`.
    pub async fn fill(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call(reqwest::Method::POST, &format!("/element/{id}/clear"), None)
            .await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    /// Attaches the file at `path` to the file input matching `css`.
    pub async fn attach(&self, css: &str, path: &std::path::Path) {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({"text": path.display().to_string()})),
        )
        .await;
    }

    /// The visible text of the element matching `css`.
    pub async fn text(&self, css: &str) -> String {
        // A page still loading after a click can replace the element
        // between finding it and reading it ("stale element reference"):
        // then it is found again on the page that arrived, within 10 s.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let id = self.find(css).await;
            let path = format!("/element/{id}/text");
            match self.try_call(reqwest::Method::GET, &path, None).await {
                Ok(text) => return text.as_str().unwrap_or_default().to_owned(),
                Err((error, _))
                    if error == "stale element reference" && Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err((error, message)) => panic!("WebDriver GET {path}: {error}: {message}"),
            }
        }
    }

    /// The page's HTML.
    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Runs `script` in the page and answers its return value.
    pub async fn script(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Runs `script` as an asynchronous script: it ends by calling its
    /// last argument (`arguments[arguments.length - 1]`) with the answer.
    pub async fn script_async(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/async",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    /// Saves a full-page screenshot as `<prefix>-<n>-<name>.png`.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        // Grow the window to the page so the screenshot shows all of it.
        let height = self
            .script("return Math.min(document.documentElement.scrollHeight, 6000);")
            .await
            .as_u64()
            .unwrap_or(1000)
            .max(600);
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": 1280, "height": height + 120})),
        )
        .await;
        let png = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().unwrap_or_default())
            .unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "a PNG screenshot");
        let n = self
            .shot_no
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = self
            .shots
            .join(format!("{}-{n:02}-{name}.png", self.prefix));
        std::fs::write(&path, bytes).unwrap();
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": 1280, "height": 1000})),
        )
        .await;
        path
    }

    /// Waits until the page's text contains `needle`, reloading every
    /// half second (for state that changes behind the page, like a
    /// licence issued from an event). Panics after `timeout`.
    pub async fn wait_for_text(&self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            if self.source().await.contains(needle) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{needle} never appeared on {}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
            self.call(reqwest::Method::POST, "/refresh", None).await;
        }
    }

    /// Ends the session and stops chromedriver.
    pub async fn quit(mut self) {
        let _ = self.http.delete(&self.session).send().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
