//! The portal under hostile requests: multipart bodies that cost more than
//! a form can need, redirects off-site, forged logins, slow bodies; the
//! headers and cookies a browser is given; how long idle connections live.

use std::time::Duration;

use reqwest::header::COOKIE;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use yizhan::Service;
use yizhan_kit::testing::Backend;

use crate::common::*;
use crate::portal_pages::{client, csrf, session};

/// Host and port of a stack service, for raw TCP.
fn socket_of(stack: &TestStack, service: Service) -> (String, u16) {
    let url = reqwest::Url::parse(&stack.url(service, "/")).unwrap();
    (url.host_str().unwrap().to_owned(), url.port().unwrap())
}

/// Reads from `tcp` until a full status line arrives; its status code.
async fn status_line(tcp: &mut tokio::net::TcpStream) -> u16 {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !seen.windows(2).any(|w| w == b"\r\n") {
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(n > 0, "connection closed without an answer");
        seen.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&seen).into_owned();
    line.split(' ').nth(1).unwrap().parse().unwrap()
}

async fn multipart_without_a_token_is_refused_before_its_body(backend: Backend) {
    let stack = TestStack::start(&[Service::Portal], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    // A form announcing 25 files of 19 MB, its first part a file and no
    // token. The client sends 1 MB and then waits: a portal that read the
    // parts before checking the token would wait for the rest, forever.
    let announced: u64 = 25 * 19 * 1024 * 1024;
    for (path, form) in [
        ("/licensing/apply", "apply"),
        (
            "/construction/projects/01a20000-0000-7000-8000-000000000001/stages/land_use",
            "stage",
        ),
        (
            "/licensing/tasks/01a20000-0000-7000-8000-000000000001/supplements",
            "supplement",
        ),
    ] {
        let (host, port) = socket_of(&stack, Service::Portal);
        let mut tcp = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .unwrap();
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: {host}\r\nCookie: {}\r\n\
             Content-Type: multipart/form-data; boundary=XYZ\r\nContent-Length: {announced}\r\n\r\n\
             --XYZ\r\nContent-Disposition: form-data; name=\"file.floor_plan\"; filename=\"a.pdf\"\r\n\
             Content-Type: application/pdf\r\n\r\n",
            session(&alice)
        );
        tcp.write_all(head.as_bytes()).await.unwrap();
        tcp.write_all(&vec![b'%'; 1024 * 1024]).await.unwrap();
        let status = tokio::time::timeout(Duration::from_secs(30), status_line(&mut tcp))
            .await
            .unwrap_or_else(|_| panic!("{form}: no answer before the body was read"));
        assert_eq!(status, 403, "{form}");
    }
    // A token after a file is as good as none: the token comes first.
    let token = csrf(&stack, &alice).await;
    let late = reqwest::multipart::Form::new()
        .part(
            "file.floor_plan",
            reqwest::multipart::Part::bytes(b"%PDF-1.4".to_vec()).file_name("a.pdf"),
        )
        .text("_csrf", token);
    let refused = client()
        .post(stack.url(Service::Portal, "/licensing/apply"))
        .header(COOKIE, session(&alice))
        .multipart(late)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    stack.stop().await;
}

async fn multipart_part_count_and_total_are_capped(backend: Backend) {
    let stack = TestStack::start(&[Service::Portal], backend).await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let token = csrf(&stack, &alice).await;
    let post = |form: reqwest::multipart::Form| {
        client()
            .post(stack.url(Service::Portal, "/licensing/apply"))
            .header(COOKIE, session(&alice))
            .multipart(form)
            .send()
    };

    let mut many = reqwest::multipart::Form::new().text("_csrf", token.clone());
    for i in 0..250 {
        many = many.text(format!("form.f{i}"), "1");
    }
    let refused = post(many).await.unwrap();
    assert_eq!(refused.status(), 413);
    assert!(refused.text().await.unwrap().contains("表单项超过 200 个"));

    // Four files under the 20 MB per-file cap, 68 MB together.
    let mut heavy = reqwest::multipart::Form::new().text("_csrf", token);
    for i in 0..4 {
        heavy = heavy.part(
            format!("file.m{i}"),
            reqwest::multipart::Part::bytes(vec![b'%'; 17 * 1024 * 1024]).file_name("a.pdf"),
        );
    }
    let refused = post(heavy).await.unwrap();
    assert_eq!(refused.status(), 413);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("表单总大小超过 64 MB")
    );
    stack.stop().await;
}

/// Sends `head` (which announces far more body than it holds) and then,
/// with `drip`, one more byte every 200 ms, never finishing. The server
/// must end the connection within 30 s (the test's body deadline is 2 s);
/// answers the status it sent, unless the answer was lost to the reset a
/// server closing on unread bytes sends (only possible with `drip`).
async fn trickle(stack: &TestStack, service: Service, head: String, drip: bool) -> Option<u16> {
    let (host, port) = socket_of(stack, service);
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .unwrap();
    let (mut read, mut write) = tcp.into_split();
    write.write_all(head.as_bytes()).await.unwrap();
    let writer = tokio::spawn(async move {
        while drip && write.write_all(b"x").await.is_ok() {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        // Stalled: keep the connection open, sending nothing more.
        std::future::pending::<()>().await;
        drop(write);
    });
    let answer = tokio::time::timeout(Duration::from_secs(30), async {
        let mut seen = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            match read.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
        seen
    })
    .await
    .unwrap_or_else(|_| panic!("{service:?}: a trickled body held the connection for 30 s"));
    writer.abort();
    let text = String::from_utf8_lossy(&answer).into_owned();
    if text.is_empty() {
        return None;
    }
    assert!(text.contains("request_timeout"), "{text}");
    text.split(' ').nth(1).unwrap().parse().ok()
}

/// A body sent one byte a second used to hold its connection (and its
/// handler) for as long as the client liked. Bodies must arrive within
/// `http.body_timeout_secs`: past it the answer is 408 problem+json and
/// the connection is closed, for a streamed upload and a form alike.
async fn a_trickled_body_is_cut_off(backend: Backend) {
    let stack = TestStack::start_tuned(&[Service::Document, Service::Portal], backend, |s| {
        s.common.http.body_timeout_secs = 2;
    })
    .await;
    let alice = stack.applicant("alice", ENTERPRISE_A);
    let head = format!(
        "POST /api/v1/materials HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {alice}\r\n\
         Content-Type: multipart/form-data; boundary=XYZ\r\nContent-Length: 100000\r\n\r\n\
         --XYZ\r\nContent-Disposition: form-data; name=\"material_type\"\r\n\r\nfloor_plan\r\n\
         --XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\
         Content-Type: application/pdf\r\n\r\n%PDF-1.7\n"
    );
    assert_eq!(
        trickle(&stack, Service::Document, head.clone(), false).await,
        Some(408)
    );
    assert!(matches!(
        trickle(&stack, Service::Document, head, true).await,
        Some(408) | None
    ));
    let head = "POST /login/dev HTTP/1.1\r\nHost: x\r\n\
                Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000\r\n\r\nuser="
        .to_owned();
    assert_eq!(
        trickle(&stack, Service::Portal, head.clone(), false).await,
        Some(408)
    );
    assert!(matches!(
        trickle(&stack, Service::Portal, head, true).await,
        Some(408) | None
    ));
    // A body that arrives in time is untouched.
    upload_one(&stack, &alice).await;
    stack.stop().await;
}

/// Every portal answer carries a Content-Security-Policy without inline
/// script, no framing (CSP and X-Frame-Options), nosniff and a referrer
/// policy; the services' JSON answers carry nosniff.
async fn pages_carry_security_headers(backend: Backend) {
    let stack = TestStack::start(&[Service::Portal, Service::Document], backend).await;
    for path in [
        "/",
        "/login",
        "/licensing",
        "/static/portal.css",
        "/no-such-page",
    ] {
        let r = client()
            .get(stack.url(Service::Portal, path))
            .send()
            .await
            .unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        let script = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"))
            .unwrap_or_else(|| panic!("{path}: no script-src in {csp}"));
        assert_eq!(script, "script-src 'self'", "{path}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("object-src 'none'"), "{path}: {csp}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "same-origin", "{path}");
    }
    let r = stack
        .get(
            stack.url(Service::Document, "/api/v1/materials"),
            &stack.applicant("alice", ENTERPRISE_A),
        )
        .await;
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    stack.stop().await;
}

/// The portal's cookies are `Secure` whenever its public address is https,
/// even with `portal.secure_cookies` left off; over plain http (local
/// development) they are not, or the browser would drop them.
async fn cookies_are_secure_behind_https(backend: Backend) {
    let login_cookie = |stack: &TestStack| {
        let url = stack.url(Service::Portal, "/login");
        async move {
            let r = client().get(url).send().await.unwrap();
            assert_eq!(r.status(), 200);
            r.headers()
                .get_all("set-cookie")
                .iter()
                .map(|v| v.to_str().unwrap().to_owned())
                .find(|c| c.starts_with("yizhan_login="))
                .expect("the login page sets its nonce cookie")
        }
    };
    let plain = TestStack::start(&[Service::Portal], backend.clone()).await;
    let cookie = login_cookie(&plain).await;
    assert!(!cookie.contains("Secure"), "{cookie}");
    plain.stop().await;
    let https = TestStack::start_tuned(&[Service::Portal], backend, |s| {
        s.common.http.public_base_url = Some("https://yizhan.example.gov.cn".into());
    })
    .await;
    let cookie = login_cookie(&https).await;
    assert!(cookie.contains("Secure"), "{cookie}");
    https.stop().await;
}

/// Sends a GET of `/healthz` on `tcp` and reads its whole answer (head and
/// `Content-Length` body); its status code.
async fn health_on(tcp: &mut tokio::net::TcpStream) -> u16 {
    tcp.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if seen.len() >= end + 4 + length {
                return head.split(' ').nth(1).unwrap().parse().unwrap();
            }
        }
        let n = tcp.read(&mut buf).await.unwrap();
        assert!(n > 0, "connection closed without a whole answer");
        seen.extend_from_slice(&buf[..n]);
    }
}

/// An idle keep-alive connection stays open longer than client pools keep
/// theirs (`http.keep_alive_secs`, 75 s): when the server closed first
/// (actix's default is 5 s), a request sent at that moment got no answer
/// at all. With the setting short, the server does close an idle one.
async fn idle_connections_outlast_client_pools(backend: Backend) {
    let stack = TestStack::start(&[Service::Document], backend.clone()).await;
    let (host, port) = socket_of(&stack, Service::Document);
    let mut tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .unwrap();
    assert_eq!(health_on(&mut tcp).await, 200);
    // The idle time is what is under test, not a wait for something.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(health_on(&mut tcp).await, 200);
    stack.stop().await;

    let short = TestStack::start_tuned(&[Service::Document], backend, |s| {
        s.common.http.keep_alive_secs = 1;
    })
    .await;
    let (host, port) = socket_of(&short, Service::Document);
    let mut tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .unwrap();
    assert_eq!(health_on(&mut tcp).await, 200);
    let mut buf = [0u8; 64];
    let closed = tokio::time::timeout(Duration::from_secs(20), tcp.read(&mut buf))
        .await
        .expect("an idle connection outlived a 1 s keep-alive by 20 s");
    assert!(matches!(closed, Ok(0) | Err(_)), "{closed:?}");
    short.stop().await;
}

yizhan_kit::backend_tests!(
    multipart_without_a_token_is_refused_before_its_body,
    multipart_part_count_and_total_are_capped,
    a_trickled_body_is_cut_off,
    pages_carry_security_headers,
    cookies_are_secure_behind_https,
    idle_connections_outlast_client_pools,
);
