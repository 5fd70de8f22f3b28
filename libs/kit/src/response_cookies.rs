//! Cookies decided before the handler runs, set on whatever it answers.
//!
//! An extractor may learn that the response must change a cookie (the
//! portal's session extractor refreshes an expired access token, or ends a
//! session whose refresh was refused) although the handler, not the
//! extractor, builds the response. It queues the cookie with [`queue`];
//! the [`apply`] middleware adds it to the response, error pages and
//! redirects included. A cookie the handler sets itself wins: queued ones
//! of the same name are dropped (a logout's removal must not be undone by
//! the refresh the same request triggered).

use actix_web::HttpMessage;
use actix_web::HttpRequest;
use actix_web::body::MessageBody;
use actix_web::cookie::Cookie;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

/// The cookies queued for this request's response.
#[derive(Default)]
struct Queued(Vec<Cookie<'static>>);

/// Queues `cookie` for the response to `req` (a later one of the same name
/// replaces an earlier one).
pub fn queue(req: &HttpRequest, cookie: Cookie<'static>) {
    let mut extensions = req.extensions_mut();
    let queued = extensions.get_mut::<Queued>();
    match queued {
        Some(queued) => {
            queued.0.retain(|c| c.name() != cookie.name());
            queued.0.push(cookie);
        }
        None => {
            extensions.insert(Queued(vec![cookie]));
        }
    }
}

/// Middleware: adds the queued cookies to the response.
pub async fn apply(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let queued = res.request().extensions_mut().remove::<Queued>();
    if let Some(Queued(cookies)) = queued {
        let own: Vec<String> = res
            .response()
            .cookies()
            .map(|c| c.name().to_owned())
            .collect();
        for cookie in cookies
            .iter()
            .filter(|c| !own.iter().any(|n| n == c.name()))
        {
            if let Err(e) = res.response_mut().add_cookie(cookie) {
                tracing::warn!(error = %e, cookie = cookie.name(), "queued cookie not set");
            }
        }
    }
    Ok(res)
}
