//! People read names, never codes: after a hotel licence run (one returned
//! with a one-time list, one accepted with 容缺 and a 补正 open, one
//! approved and its licence issued) and a construction run (one stage
//! concluded, one accepted with 容缺, one project at 竣工验收 with a 征求意见
//! waiting and a joint inspection under way), a browser signs in as every role,
//! visits every page it can reach by following the portal's own links,
//! and fails on any snake_case code in the visible text (or any page
//! that is an error) and on any serious or critical accessibility
//! violation axe-core finds there.

use std::collections::{BTreeSet, VecDeque};

use yizhan::Service;
use yizhan_kit::testing::Backend;

use crate::axe::Axe;
use crate::browser::Browser;
use crate::common::*;
use crate::construction::con;
use crate::crawl_runs::{construction_run, enterprise_run, licensing_run};
use crate::licensing::lic;
use crate::portal_e2e::sign_in;

/// Words that look like codes but are not (each with why it may show).
const NOT_CODES: &[&str] = &[];

/// Most pages one role may visit; a crawl that grows past it is a loop.
const MAX_PAGES: usize = 150;

/// Whether the crawl should follow `url` (the portal's own GET pages; not
/// images, downloads or signing out).
fn follow(url: &str, origin: &str) -> Option<String> {
    let rest = url.strip_prefix(origin)?;
    let path = rest.split('#').next().unwrap_or_default();
    let skip = [
        "/logout", "/login", "/static/", "/metrics", "/openapi", "/health",
    ];
    if skip.iter().any(|s| path.starts_with(s)) || path.ends_with(".png") || path.ends_with(".svg")
    {
        return None;
    }
    // A flash message is one of the portal's own sentences; the page is
    // the same without it.
    let (page, query) = path.split_once('?').unwrap_or((path, ""));
    let kept: Vec<&str> = query
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("msg="))
        .collect();
    Some(if kept.is_empty() {
        page.to_owned()
    } else {
        format!("{page}?{}", kept.join("&"))
    })
}

/// Visits every page `user` can reach from the home page; answers the
/// codes found, as `path: code`, and the accessibility violations, and
/// how many pages were seen.
async fn crawl(
    browser: &Browser,
    stack: &TestStack,
    user: &str,
    axe: Option<&Axe>,
) -> (Vec<String>, Vec<String>, usize) {
    sign_in(browser, stack, user).await;
    let origin = stack.url(Service::Portal, "");
    let origin = origin.trim_end_matches('/');
    let mut queue = VecDeque::from(["/".to_owned()]);
    let mut seen = BTreeSet::from(["/".to_owned()]);
    let mut found = Vec::new();
    let mut inaccessible = Vec::new();
    while let Some(path) = queue.pop_front() {
        assert!(
            seen.len() <= MAX_PAGES,
            "{user}: more than {MAX_PAGES} pages"
        );
        browser.goto(&format!("{origin}{path}")).await;
        let page = browser
            .script(
                "return {text: document.body ? document.body.innerText : '', \
                 failed: document.querySelector('p.alert[data-status]') !== null, \
                 links: Array.from(document.querySelectorAll('a[href]')) \
                   .filter(a => !a.hasAttribute('download')).map(a => a.href), \
                 codes: Array.from((document.body ? document.body.innerText : '') \
                   .matchAll(/\\b[a-z]+(_[a-z0-9]+)+\\b/g)).map(m => [m[0], \
                   m.input.slice(Math.max(0, m.index - 20), m.index + m[0].length + 20)])};",
            )
            .await;
        if page["failed"] == true {
            found.push(format!("{user} {path}: an error page"));
        }
        for hit in page["codes"].as_array().unwrap() {
            let code = hit[0].as_str().unwrap();
            if !NOT_CODES.contains(&code) {
                found.push(format!(
                    "{user} {path}: {code} in «{}»",
                    hit[1].as_str().unwrap()
                ));
            }
        }
        if let Some(axe) = axe {
            for violation in axe.violations(browser).await {
                inaccessible.push(format!("{user} {path}: {violation}"));
            }
        }
        for link in page["links"].as_array().unwrap() {
            if let Some(next) = follow(link.as_str().unwrap(), origin)
                && seen.insert(next.clone())
            {
                queue.push_back(next);
            }
        }
    }
    (found, inaccessible, seen.len())
}

async fn no_page_shows_a_code(backend: Backend) {
    let stack = TestStack::start(&Service::ALL, backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let mut departments = licensing_run(&stack, &alice).await;
    departments.extend(construction_run(&stack, &alice).await);
    departments.insert(enterprise_run(&stack, &alice).await);

    let axe = Axe::load().await;
    let browser = Browser::start("crawl").await;
    let mut users: Vec<String> = [
        "applicant",
        "agent",
        "clerk",
        "admin",
        "specialist",
        "hotline",
    ]
    .iter()
    .map(|u| (*u).to_owned())
    .collect();
    users.extend(departments.iter().map(|d| format!("reviewer:{d}")));
    let mut found = Vec::new();
    let mut inaccessible = Vec::new();
    for user in &users {
        let (codes, violations, pages) = crawl(&browser, &stack, user, axe.as_ref()).await;
        // Each role reaches more than its home page.
        assert!(pages > 3, "{user} reached only {pages} pages");
        found.extend(codes);
        inaccessible.extend(violations);
    }
    browser.quit().await;
    stack.stop().await;
    assert!(
        found.is_empty(),
        "codes shown to people:\n{}",
        found.join("\n")
    );
    assert!(
        inaccessible.is_empty(),
        "serious or critical accessibility violations:\n{}",
        inaccessible.join("\n")
    );
}

/// The pages people complained of fit a desktop (1280 px) and a phone
/// (390 px) without sideways scrolling: the licence print page, the
/// application with its licence card, and a project with its task table
/// (whose cells keep at least a word per line).
async fn pages_fit_desktop_and_phone(backend: Backend) {
    let stack = TestStack::start(&Service::ALL, backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    licensing_run(&stack, &alice).await;
    construction_run(&stack, &alice).await;
    let apps = stack
        .get_json(lic(&stack, "/api/v1/applications?limit=50"), &alice)
        .await;
    let mut licensed = None;
    for a in apps["items"].as_array().unwrap() {
        let url = lic(
            &stack,
            &format!("/api/v1/applications/{}", a["id"].as_str().unwrap()),
        );
        let app = stack.get_json(&url, &alice).await;
        if let Some(cert) = app["certificate_id"].as_str() {
            licensed = Some((app["id"].as_str().unwrap().to_owned(), cert.to_owned()));
        }
    }
    let (app_id, cert) = licensed.expect("a licensed application");
    let projects = stack
        .get_json(con(&stack, "/api/v1/projects?limit=50"), &alice)
        .await;
    let browser = Browser::start("layout").await;
    sign_in(&browser, &stack, "applicant").await;
    let mut pages = vec![
        format!("/certificates/{cert}/print"),
        format!("/licensing/applications/{app_id}"),
    ];
    pages.extend(
        projects["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| format!("/construction/projects/{}", p["id"].as_str().unwrap())),
    );
    let mut wide = Vec::new();
    for path in &pages {
        browser.goto(&stack.url(Service::Portal, path)).await;
        for width in [1280, 390] {
            if !browser.fits_width(width).await {
                // What sticks out, to say where to look.
                let culprits = browser
                    .script(
                        "return Array.from(document.querySelectorAll('body *')) \
                         .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1) \
                         .slice(-5).map(e => e.tagName + '.' + e.className + ' ' \
                           + Math.round(e.getBoundingClientRect().right));",
                    )
                    .await;
                wide.push(format!("{path} at {width} px: {culprits}"));
            }
            // No task cell is squeezed to one character per line.
            let squeezed = browser
                .script(
                    "return Array.from(document.querySelectorAll('table.tasks td')) \
                     .filter(td => td.offsetParent !== null && td.innerText.trim().length > 2 \
                       && td.getBoundingClientRect().width < 40).length;",
                )
                .await;
            assert_eq!(squeezed, 0, "{path} at {width} px squeezes task cells");
        }
        browser
            .screenshot(path.split('/').nth(1).unwrap_or("page"))
            .await;
    }
    // The print page prints, and its verify link is not a service's port.
    browser
        .goto(&stack.url(Service::Portal, &format!("/certificates/{cert}/print")))
        .await;
    browser.find("button[data-print]").await;
    let verify = browser.text("[data-testid=verify-url]").await;
    assert!(
        verify.starts_with(&stack.url(Service::Portal, "/verify?id=")),
        "{verify}"
    );
    browser.quit().await;
    stack.stop().await;
    assert!(
        wide.is_empty(),
        "pages wider than the window:\n{}",
        wide.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn licence_and_task_pages_fit_desktop_and_phone() {
    pages_fit_desktop_and_phone(Backend::Sqlite).await;
}

/// One run: which backend holds the data does not change what is shown.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_page_shows_a_code_to_any_role() {
    no_page_shows_a_code(Backend::Sqlite).await;
}
