//! The licence as a PDF file, read back the way its holder's software
//! would: poppler's `pdftotext` must find the holder, every permit's name
//! and number and the identifier in it (so the text is real text in an
//! embedded Chinese font), `pdftoppm`'s rendering must hold a QR code that
//! scans to the public verification URL, and the font must be a subset
//! (a CJK font is tens of megabytes). Downloaded from the document service
//! and through the portal, by whom the certificate's rules allow only.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::producer::{FutureProducer, FutureRecord};
use reqwest::header::{CONTENT_DISPOSITION, CONTENT_TYPE, COOKIE};
use yizhan::Service;
use yizhan_auth::Role;
use yizhan_events::Envelope;
use yizhan_events::contracts::{CertificateIssueRequested, topics};
use yizhan_kit::testing::Backend;

use crate::certificates::hotel_licence;
use crate::common::*;

const PUBLIC_BASE: &str = "https://yizhan.example.gov.cn";

/// Whether poppler's tools are here; if not, the test says why it cannot
/// run (and fails under CI, which installs `poppler-utils`).
fn poppler() -> bool {
    let found = Command::new("pdftotext").arg("-v").output().is_ok()
        && Command::new("pdftoppm").arg("-v").output().is_ok();
    if !found {
        yizhan_kit::testing::skip(
            "pdftotext/pdftoppm not installed (apt-get install poppler-utils)",
        );
    }
    found
}

/// Issues a licence by the request licensing would publish, and waits
/// until its holder can read it.
async fn issue(stack: &TestStack, request: &CertificateIssueRequested) -> serde_json::Value {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &stack.brokers)
        .create()
        .unwrap();
    let envelope = Envelope::new("/yizhan/licensing", request, None);
    let payload = envelope.data.to_string();
    producer
        .send(
            FutureRecord::to(topics::LICENSING)
                .key(&envelope.subject)
                .payload(&payload)
                .headers(envelope.headers()),
            Duration::from_secs(10),
        )
        .await
        .map_err(|(e, _)| e)
        .unwrap();
    let holder = stack.applicant("holder", &request.holder_uscc);
    let archive = format!("/api/v1/enterprises/{}/materials", request.holder_uscc);
    let id = eventually(
        "the licence in the archive",
        Duration::from_secs(60),
        || async {
            let archive = stack
                .get_json(stack.url(Service::Document, &archive), &holder)
                .await;
            archive["certificates"][0]["id"].as_str().map(str::to_owned)
        },
    )
    .await;
    stack
        .get_json(
            stack.url(Service::Document, &format!("/api/v1/certificates/{id}")),
            &holder,
        )
        .await
}

/// Runs a poppler tool on `pdf` and gives back what it wrote to `out`.
fn poppler_run(tool: &str, args: &[&str], pdf: &Path) -> std::process::Output {
    let output = Command::new(tool).args(args).arg(pdf).output().unwrap();
    assert!(
        output.status.success(),
        "{tool}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// The text `pdftotext` reads from the PDF.
fn pdf_text(pdf: &[u8]) -> String {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-layout", "-enc", "UTF-8"])
        .arg(file.path())
        .arg("-")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pdftotext: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The first page rendered by `pdftoppm` (greyscale), and the QR code
/// found on it.
fn pdf_qr(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("licence.pdf");
    std::fs::write(&file, pdf).unwrap();
    let prefix = dir.path().join("page");
    let output = Command::new("pdftoppm")
        .args([
            "-png",
            "-gray",
            "-r",
            "150",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
        ])
        .arg(&file)
        .arg(&prefix)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let img = image::open(dir.path().join("page.png")).unwrap().to_luma8();
    let (w, h) = img.dimensions();
    let mut prepared =
        rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
            img.get_pixel(x as u32, y as u32).0[0]
        });
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the page");
    grids[0].decode().unwrap().1
}

async fn licence_pdf_reads_back_with_every_permit(backend: Backend) {
    if !poppler() {
        return;
    }
    let stack = TestStack::start_tuned(&[Service::Document, Service::Portal], backend, |s| {
        s.common.http.public_base_url = Some(PUBLIC_BASE.into());
    })
    .await;
    let request = hotel_licence(&uuid::Uuid::now_v7().to_string(), ENTERPRISE_A);
    let cert = issue(&stack, &request).await;
    let id = cert["id"].as_str().unwrap();
    let holder = stack.applicant("holder", ENTERPRISE_A);

    let response = stack
        .get(
            stack.url(Service::Document, &format!("/api/v1/certificates/{id}/pdf")),
            &holder,
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()[CONTENT_TYPE], "application/pdf");
    let disposition = response.headers()[CONTENT_DISPOSITION]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(disposition, format!("attachment; filename=\"{id}.pdf\""));
    let pdf = response.bytes().await.unwrap();
    assert!(pdf.starts_with(b"%PDF-"), "not a PDF");

    // The text is there, as text.
    let text = pdf_text(&pdf);
    let verify_url = format!("{PUBLIC_BASE}/verify?id={id}");
    let mut expected = vec![
        request.holder_name.clone(),
        request.holder_uscc.clone(),
        id.to_owned(),
        verify_url.clone(),
        "行业综合许可证".to_owned(),
        "2026年01月01日 至 2099年12月31日".to_owned(),
    ];
    for item in &request.items {
        expected.push(item.item_name.clone());
        expected.push(item.permit_number.clone());
        expected.push(item.department.clone());
    }
    for wanted in &expected {
        assert!(
            text.contains(wanted.as_str()),
            "the PDF's text lacks {wanted}:\n{text}"
        );
    }
    assert_eq!(cert["verify_url"], verify_url.as_str());

    // The QR code on the page scans to the public verification URL.
    assert_eq!(pdf_qr(&pdf), verify_url);

    // The font is embedded, and only the glyphs used: the file is a small
    // fraction of any CJK font, and poppler names it a subset.
    assert!(
        pdf.len() < 1024 * 1024,
        "{} bytes: the whole font?",
        pdf.len()
    );
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &pdf).unwrap();
    let fonts = String::from_utf8(poppler_run("pdffonts", &[], file.path()).stdout).unwrap();
    let font_rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!font_rows.is_empty(), "{fonts}");
    for row in font_rows {
        // name  type  encoding  emb  sub  uni  object ID
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert!(
            cols[0].len() > 7 && cols[0].as_bytes()[6] == b'+',
            "not a subset: {row}"
        );
        let n = cols.len();
        assert_eq!(
            &cols[n - 5..n - 2],
            ["yes", "yes", "yes"],
            "emb sub uni: {row}"
        );
    }

    // Through the portal, with the holder's session: the same file, as a
    // download.
    let portal = stack
        .client
        .get(stack.url(Service::Portal, &format!("/certificates/{id}/licence.pdf")))
        .header(COOKIE, format!("yizhan_session={holder}"))
        .send()
        .await
        .unwrap();
    assert_eq!(portal.status(), 200);
    assert_eq!(portal.headers()[CONTENT_TYPE], "application/pdf");
    assert_eq!(
        portal.headers()[CONTENT_DISPOSITION].to_str().unwrap(),
        disposition
    );
    let via_portal = portal.bytes().await.unwrap();
    assert!(via_portal.starts_with(b"%PDF-"));
    assert!(pdf_text(&via_portal).contains(id));

    // The print page links to it.
    let print = stack
        .client
        .get(stack.url(Service::Portal, &format!("/certificates/{id}/print")))
        .header(COOKIE, format!("yizhan_session={holder}"))
        .send()
        .await
        .unwrap();
    assert_eq!(print.status(), 200);
    let html = print.text().await.unwrap();
    assert!(html.contains(&format!("href=\"/certificates/{id}/licence.pdf\" download")));
    stack.stop().await;
}

/// Who may download it: the certificate's readers (its holder, the
/// holder's agent, staff); another enterprise gets 404 (it does not learn
/// the licence exists), nobody signed in 401 — at the service and through
/// the portal.
async fn licence_pdf_is_for_the_certificates_readers_only(backend: Backend) {
    let stack = TestStack::start(&[Service::Document, Service::Portal], backend).await;
    let cert = issue(
        &stack,
        &hotel_licence(&uuid::Uuid::now_v7().to_string(), ENTERPRISE_A),
    )
    .await;
    let id = cert["id"].as_str().unwrap();
    let path = format!("/api/v1/certificates/{id}/pdf");
    let url = stack.url(Service::Document, &path);
    let readers = [
        stack.applicant("holder", ENTERPRISE_A),
        agent(&stack, "agent", &[ENTERPRISE_A]),
        stack.staff("clerk", Role::WindowClerk),
        stack.staff("admin", Role::Admin),
    ];
    for token in &readers {
        let r = stack.get(&url, token).await;
        assert_eq!(r.status(), 200);
        assert!(r.bytes().await.unwrap().starts_with(b"%PDF-"));
    }
    let other = stack.applicant("other", ENTERPRISE_B);
    expect_problem(stack.get(&url, &other).await, 404, "not_found").await;
    let anonymous = stack.client.get(&url).send().await.unwrap();
    expect_problem(anonymous, 401, "unauthorized").await;
    let bad = stack
        .get(
            stack.url(
                Service::Document,
                "/api/v1/certificates/not-an-identifier/pdf",
            ),
            &readers[0],
        )
        .await;
    let problem = expect_problem(bad, 422, "validation_failed").await;
    assert_eq!(problem["errors"][0]["field"], "id");

    let portal = stack.url(Service::Portal, &format!("/certificates/{id}/licence.pdf"));
    let r = stack
        .client
        .get(&portal)
        .header(COOKIE, format!("yizhan_session={other}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(
        r.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let r = crate::portal_pages::client()
        .get(&portal)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "nobody signed in is sent to sign in");
    assert!(
        r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
    stack.stop().await;
}

/// Without a Chinese font the service still runs; the PDF alone answers
/// 503, saying which setting names the font and how to install one.
async fn licence_pdf_without_a_font_says_how_to_get_one(backend: Backend) {
    let stack = TestStack::start_tuned(&[Service::Document, Service::Portal], backend, |s| {
        s.services.document.certificates.pdf_font = Some("/nonexistent/NotoSerifCJK.ttc".into());
    })
    .await;
    let cert = issue(
        &stack,
        &hotel_licence(&uuid::Uuid::now_v7().to_string(), ENTERPRISE_A),
    )
    .await;
    let id = cert["id"].as_str().unwrap();
    let holder = stack.applicant("holder", ENTERPRISE_A);
    let r = stack
        .get(
            stack.url(Service::Document, &format!("/api/v1/certificates/{id}/pdf")),
            &holder,
        )
        .await;
    assert!(r.headers().contains_key("retry-after"));
    let problem = expect_problem(r, 503, "pdf_font_unavailable").await;
    let detail = problem["detail"].as_str().unwrap();
    for wanted in [
        "document.certificates.pdf_font",
        "fonts-noto-cjk",
        "/nonexistent/NotoSerifCJK.ttc",
    ] {
        assert!(detail.contains(wanted), "{detail}");
    }
    // The rest of the certificate still answers.
    let r = stack
        .get(
            stack.url(
                Service::Document,
                &format!("/api/v1/certificates/{id}/print"),
            ),
            &holder,
        )
        .await;
    assert_eq!(r.status(), 200);
    // The portal passes the reason on to the person.
    let page = stack
        .client
        .get(stack.url(Service::Portal, &format!("/certificates/{id}/licence.pdf")))
        .header(COOKIE, format!("yizhan_session={holder}"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 503);
    let html = page.text().await.unwrap();
    assert!(html.contains("fonts-noto-cjk"), "{html}");
    stack.stop().await;
}

yizhan_kit::backend_tests!(
    licence_pdf_reads_back_with_every_permit,
    licence_pdf_is_for_the_certificates_readers_only,
    licence_pdf_without_a_font_says_how_to_get_one,
);
