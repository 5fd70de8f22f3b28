//! The portal under hostile requests: multipart bodies that cost more than
//! a form can need, redirects off-site, forged logins, slow bodies.

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

yizhan_kit::backend_tests!(
    multipart_without_a_token_is_refused_before_its_body,
    multipart_part_count_and_total_are_capped,
);
