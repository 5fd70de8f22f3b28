//! Two guards every service's HTTP server carries (see
//! [`http_server`](crate::runtime::http_server)):
//!
//! - a deadline on receiving a request body: a client that trickles its
//!   body (one byte a second) would otherwise hold a connection and a
//!   handler as long as it likes, and a few hundred of them hold the
//!   service. actix-web bounds the wait for the request head
//!   (`client_request_timeout`), not for the body;
//! - security headers: `X-Content-Type-Options: nosniff` on every answer
//!   (a document download is never sniffed into HTML), and on a service
//!   that serves pages to browsers ([`PageHeaders`] in its app data, the
//!   portal) a Content-Security-Policy without inline script, no framing
//!   and a referrer policy.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use actix_web::{HttpMessage, ResponseError, web};
use futures_util::Stream;
use yizhan_kit::Problem;

/// How long a request body may take to arrive, from the end of its head.
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline(pub Duration);

/// A request body that fails with a timeout once its deadline passes,
/// whether it stalled or is still trickling in.
struct Deadlined {
    inner: Payload,
    deadline: Pin<Box<tokio::time::Sleep>>,
    expired: Rc<Cell<bool>>,
}

fn timed_out() -> PayloadError {
    PayloadError::Io(std::io::Error::new(
        std::io::ErrorKind::TimedOut,
        "request body not received in time",
    ))
}

impl Stream for Deadlined {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.expired.get() || tokio::time::Instant::now() >= this.deadline.deadline() {
            this.expired.set(true);
            return Poll::Ready(Some(Err(timed_out())));
        }
        match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Pending => {}
            ready => return ready,
        }
        // Nothing to read yet: wake when the deadline passes.
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.expired.set(true);
            return Poll::Ready(Some(Err(timed_out())));
        }
        Poll::Pending
    }
}

/// Middleware: the request body must arrive within [`BodyDeadline`] (app
/// data; without it nothing is bounded). A body that does not gets 408
/// problem+json, whatever the handler made of the failed read, and the
/// connection is closed (the rest of the body is never read).
pub async fn body_deadline(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let Some(limit) = req.app_data::<web::Data<BodyDeadline>>().map(|d| d.0) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let expired = Rc::new(Cell::new(false));
    let inner = req.take_payload();
    req.set_payload(Payload::Stream {
        payload: Box::pin(Deadlined {
            inner,
            deadline: Box::pin(tokio::time::sleep(limit)),
            expired: expired.clone(),
        }),
    });
    let response = next.call(req).await?;
    if !expired.get() {
        return Ok(response.map_into_left_body());
    }
    tracing::info!(
        limit_secs = limit.as_secs_f64(),
        "request body not received in time"
    );
    let problem = Problem::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        "请求体接收超时",
    )
    .with_detail(format!(
        "请求体须在 {} 秒内发送完毕，请检查网络后重试",
        limit.as_secs()
    ));
    let mut answer = problem.error_response();
    answer
        .head_mut()
        .set_connection_type(actix_web::http::ConnectionType::Close);
    let (req, _) = response.into_parts();
    Ok(ServiceResponse::new(req, answer).map_into_right_body())
}

/// The headers of a service whose answers are pages for browsers (app
/// data; the portal). Every page script is a file of our own, so the
/// policy allows no inline script and no `javascript:` URL. Styles may be
/// inline: the certificate print page the portal passes through carries
/// its own, and an injected style cannot run code.
#[derive(Debug, Clone, Copy, Default)]
pub struct PageHeaders;

/// Content-Security-Policy of [`PageHeaders`] services.
pub const PAGE_CSP: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data:; object-src 'none'; \
    base-uri 'none'; frame-ancestors 'none'";

/// Middleware: `nosniff` everywhere; the [`PageHeaders`] set where the
/// service asks for it. A header a handler set itself is kept.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let pages = req.app_data::<web::Data<PageHeaders>>().is_some();
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    let mut set = |name: HeaderName, value: &'static str| {
        if !headers.contains_key(&name) {
            headers.insert(name, HeaderValue::from_static(value));
        }
    };
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if pages {
        set(header::CONTENT_SECURITY_POLICY, PAGE_CSP);
        set(header::X_FRAME_OPTIONS, "DENY");
        set(header::REFERRER_POLICY, "same-origin");
    }
    Ok(response)
}
