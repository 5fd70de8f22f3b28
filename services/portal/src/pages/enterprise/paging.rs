//! Paging the enterprise service's lists: they answer a page at a time
//! (`items`, `next_cursor`); a page passes `?cursor=` on to the service
//! and links "下一页" to itself with the next cursor.

use serde::Deserialize;
use serde_json::Value;

use crate::queues::urlencode;

/// Rows on one page of a list.
pub const PAGE_SIZE: u32 = 50;

/// `?cursor=`: where the page starts (the previous page's `next_cursor`).
#[derive(Debug, Default, Deserialize)]
pub struct Cursor {
    /// Opaque; the service checks it (a bad one is its 422, shown as a page).
    pub cursor: Option<String>,
}

/// `api` (which may already carry a query) asking for one page of
/// [`PAGE_SIZE`] rows starting at `cursor`.
pub fn api_page(api: &str, cursor: &Cursor) -> String {
    let sep = if api.contains('?') { '&' } else { '?' };
    let mut path = format!("{api}{sep}limit={PAGE_SIZE}");
    if let Some(c) = &cursor.cursor {
        path.push_str("&cursor=");
        path.push_str(&urlencode(c));
    }
    path
}

/// The "下一页" link of `page` (a page path that may already carry a
/// query) when the service's answer `list` has more, else `None`.
pub fn next_link(page: &str, list: &Value) -> Option<String> {
    let next = list["next_cursor"].as_str()?;
    let sep = if page.contains('?') { '&' } else { '?' };
    Some(format!("{page}{sep}cursor={}", urlencode(next)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pages_carry_the_cursor_encoded_and_keep_the_query() {
        let at = Cursor {
            cursor: Some("a+b/=".into()),
        };
        assert_eq!(
            api_page("/api/v1/requests?uscc=X", &at),
            "/api/v1/requests?uscc=X&limit=50&cursor=a%2Bb%2F%3D"
        );
        assert_eq!(
            api_page("/api/v1/request-queue", &Cursor::default()),
            "/api/v1/request-queue?limit=50"
        );
        let list = json!({"items": [], "next_cursor": "c1"});
        assert_eq!(
            next_link("/enterprise/requests?uscc=X", &list).as_deref(),
            Some("/enterprise/requests?uscc=X&cursor=c1")
        );
        assert_eq!(
            next_link("/enterprise/staff/requests", &list).as_deref(),
            Some("/enterprise/staff/requests?cursor=c1")
        );
        assert!(next_link("/x", &json!({"items": [], "next_cursor": null})).is_none());
    }
}
