//! Conditional and waiting reads: `ETag` / `If-None-Match` (RFC 9110) and
//! `Prefer: wait` (RFC 7240).
//!
//! A client tracking a resource sends back the `ETag` it holds and asks the
//! server to wait: the answer comes when the resource differs from that
//! version, or as `304 Not Modified` when the wait is over. A poller then
//! costs one request per change (or per wait) instead of one per tick.
//! Hand-written because the rules are few and tied to our problem answers:
//! actix-web parses `If-None-Match` but not `Prefer`, and its typed header
//! cannot say which header a bad value was in.

use std::time::Duration;

use actix_web::HttpRequest;
use actix_web::http::header;
use sha2::{Digest, Sha256};

use crate::problem::Problem;

/// The longest wait a client may ask for; a longer one is shortened to it
/// and the answer's `Preference-Applied` says so.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// A strong entity tag of a representation: a digest of its bytes, so it
/// changes exactly when the answer would, whatever in it changed (the
/// clock readings included), and is the same on every replica.
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", hex::encode(&digest[..16]))
}

/// The entity tags of `If-None-Match`: `None` when absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IfNoneMatch {
    /// `*`: any current representation matches.
    Any,
    /// The listed tags, without their weakness marker (the header is
    /// compared weakly).
    Tags(Vec<String>),
}

impl IfNoneMatch {
    /// The request's header; a 400 naming `If-None-Match` when it is not a
    /// list of quoted entity tags.
    pub fn of(request: &HttpRequest) -> Result<Option<Self>, Problem> {
        let mut tags = Vec::new();
        let mut any = false;
        for value in request.headers().get_all(header::IF_NONE_MATCH) {
            let text = value.to_str().map_err(|_| bad_tag())?;
            for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                if part == "*" {
                    any = true;
                    continue;
                }
                let tag = part.strip_prefix("W/").unwrap_or(part);
                let quoted = tag.len() >= 2 && tag.starts_with('"') && tag.ends_with('"');
                if !quoted || tag[1..tag.len() - 1].contains('"') {
                    return Err(bad_tag());
                }
                tags.push(tag.to_owned());
            }
        }
        Ok(match (any, tags.is_empty()) {
            (true, _) => Some(Self::Any),
            (false, true) => None,
            (false, false) => Some(Self::Tags(tags)),
        })
    }

    /// Whether the representation tagged `etag` is one the client has.
    pub fn matches(&self, etag: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Tags(tags) => tags.iter().any(|t| t == etag),
        }
    }
}

fn bad_tag() -> Problem {
    Problem::bad_request(
        "If-None-Match",
        "invalid_header",
        "If-None-Match 应为带引号的实体标签（ETag）列表，或 *",
    )
}

/// The wait asked for by `Prefer: wait=<seconds>`, at most [`MAX_WAIT`];
/// `None` without one. Other preferences are not ours and are ignored,
/// as RFC 7240 asks; a `wait` that is not a whole number of seconds is a
/// 400 naming `Prefer`.
pub fn prefer_wait(request: &HttpRequest) -> Result<Option<Duration>, Problem> {
    let bad = || {
        Problem::bad_request(
            "Prefer",
            "invalid_header",
            "Prefer 中的 wait 应为等待秒数（非负整数），例如 Prefer: wait=10",
        )
    };
    for value in request.headers().get_all("prefer") {
        let text = value.to_str().map_err(|_| bad())?;
        for preference in text.split(',') {
            // `token [= value] *( ";" parameter )`: the parameters say
            // nothing about `wait`.
            let head = preference.split(';').next().unwrap_or_default();
            let (name, value) = match head.split_once('=') {
                Some((n, v)) => (n.trim(), Some(v.trim().trim_matches('"'))),
                None => (head.trim(), None),
            };
            if !name.eq_ignore_ascii_case("wait") {
                continue;
            }
            let secs: u64 = value
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse().ok())
                .ok_or_else(bad)?;
            return Ok(Some(Duration::from_secs(secs).min(MAX_WAIT)));
        }
    }
    Ok(None)
}

/// `Preference-Applied` for a wait that was honoured.
pub fn wait_applied(wait: Duration) -> (&'static str, String) {
    ("preference-applied", format!("wait={}", wait.as_secs()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn request(headers: &[(&str, &str)]) -> HttpRequest {
        headers
            .iter()
            .fold(TestRequest::default(), |r, h| r.insert_header(*h))
            .to_http_request()
    }

    #[test]
    fn wait_is_read_among_other_preferences_and_capped() {
        let r = request(&[("Prefer", "respond-async, wait=10")]);
        assert_eq!(prefer_wait(&r).unwrap(), Some(Duration::from_secs(10)));
        let r = request(&[("Prefer", "return=minimal; foo=\"bar\", WAIT=\"3\"")]);
        assert_eq!(prefer_wait(&r).unwrap(), Some(Duration::from_secs(3)));
        let r = request(&[("Prefer", "wait=3600")]);
        assert_eq!(prefer_wait(&r).unwrap(), Some(MAX_WAIT));
        let r = request(&[("Prefer", "return=representation")]);
        assert_eq!(prefer_wait(&r).unwrap(), None);
        assert_eq!(prefer_wait(&request(&[])).unwrap(), None);
        for bad in ["wait", "wait=", "wait=-1", "wait=1.5", "wait=soon"] {
            let problem = prefer_wait(&request(&[("Prefer", bad)])).unwrap_err();
            assert_eq!(problem.status, 400, "{bad}");
            assert_eq!(problem.errors[0].field, "Prefer", "{bad}");
        }
    }

    #[test]
    fn if_none_match_lists_tags_compares_weakly_and_refuses_garbage() {
        let etag = etag_of(b"{}");
        assert_eq!(etag, etag_of(b"{}"));
        assert_ne!(etag, etag_of(b"{ }"));
        let r = request(&[("If-None-Match", &format!("\"x\", W/{etag}"))]);
        let header = IfNoneMatch::of(&r).unwrap().unwrap();
        assert!(header.matches(&etag));
        assert!(!header.matches(&etag_of(b"[]")));
        let any = IfNoneMatch::of(&request(&[("If-None-Match", "*")])).unwrap();
        assert_eq!(any, Some(IfNoneMatch::Any));
        assert_eq!(IfNoneMatch::of(&request(&[])).unwrap(), None);
        for bad in ["abc", "\"a", "\"a\"b\""] {
            let problem = IfNoneMatch::of(&request(&[("If-None-Match", bad)])).unwrap_err();
            assert_eq!(problem.errors[0].field, "If-None-Match", "{bad}");
        }
    }
}
