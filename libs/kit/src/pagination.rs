//! Cursor pagination for every list endpoint: an opaque `cursor` naming the
//! last row seen, and a `limit` between 1 and 100 (default 20). Offsets are
//! never used: they skip or repeat rows when the list changes between pages.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use crate::problem::Problem;

/// Largest page.
pub const MAX_LIMIT: u64 = 100;
/// Page size when none is asked for.
pub const DEFAULT_LIMIT: u64 = 20;

/// `?cursor=&limit=` query parameters.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Opaque cursor from the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// Page size, 1-100 (default 20).
    #[param(minimum = 1, maximum = 100, default = 20)]
    pub limit: Option<u64>,
}

impl PageQuery {
    /// The validated page size.
    pub fn limit(&self) -> Result<u64, Problem> {
        match self.limit {
            None => Ok(DEFAULT_LIMIT),
            Some(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            Some(_) => Err(Problem::field(
                "limit",
                "out_of_range",
                "limit 须在 1 到 100 之间",
            )),
        }
    }

    /// Decodes the cursor into the position type `P` the list uses.
    pub fn position<P: DeserializeOwned>(&self) -> Result<Option<P>, Problem> {
        let Some(cursor) = &self.cursor else {
            return Ok(None);
        };
        let bad = || {
            Problem::field(
                "cursor",
                "invalid_cursor",
                "cursor 无效，请使用上一页返回的 next_cursor",
            )
        };
        let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
        serde_json::from_slice(&bytes).map(Some).map_err(|_| bad())
    }
}

/// Encodes a position as an opaque cursor.
pub fn encode_cursor<P: Serialize>(position: &P) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(position).unwrap_or_default())
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    /// The rows.
    pub items: Vec<T>,
    /// Cursor of the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> Page<T> {
    /// Builds a page from up to `limit + 1` fetched rows: the extra row only
    /// tells that another page exists.
    pub fn from_rows<R, P: Serialize>(
        rows: Vec<R>,
        limit: u64,
        position: impl Fn(&R) -> P,
        map: impl Fn(R) -> T,
    ) -> Self {
        Self::from_rows_with_cursors(rows, limit, position, |row, _| map(row))
    }

    /// Like [`Page::from_rows`], and `map` also gets each row's own cursor:
    /// the position right after it, exactly the `next_cursor` a page ending
    /// at that row would have. Items carry it so that a caller merging
    /// several lists (the portal's merged queues) can continue each list
    /// from the last item it actually used, not from the end of the page.
    pub fn from_rows_with_cursors<R, P: Serialize>(
        mut rows: Vec<R>,
        limit: u64,
        position: impl Fn(&R) -> P,
        map: impl Fn(R, String) -> T,
    ) -> Self {
        let more = rows.len() as u64 > limit;
        rows.truncate(limit as usize);
        let mut last = None;
        let items = rows
            .into_iter()
            .map(|row| {
                let cursor = encode_cursor(&position(&row));
                last = Some(cursor.clone());
                map(row, cursor)
            })
            .collect();
        Self {
            items,
            next_cursor: if more { last } else { None },
        }
    }
}

/// The keyset condition "after the cursor" for a list ordered by two
/// columns: `(first, second) > (a, b)` as one row comparison. PostgreSQL
/// turns a row comparison into an index range; the equivalent
/// `first > a OR (first = a AND second > b)` it only filters, so a page
/// deep in a long list would cost as much as reading everything before it.
/// SQLite (3.15+) understands row values too.
pub fn after_pair<C: sea_orm::ColumnTrait>(
    first: C,
    second: C,
    a: impl Into<sea_orm::Value>,
    b: impl Into<sea_orm::Value>,
) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, ExprTrait};
    Expr::tuple([
        Expr::col(first.as_column_ref()),
        Expr::col(second.as_column_ref()),
    ])
    .gt(Expr::tuple([Expr::val(a), Expr::val(b)]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let q = PageQuery {
            cursor: Some(encode_cursor(&(1, 42i64))),
            limit: None,
        };
        assert_eq!(q.position::<(i32, i64)>().unwrap(), Some((1, 42)));
        let bad = PageQuery {
            cursor: Some("!!".into()),
            limit: None,
        };
        assert_eq!(
            bad.position::<(i32, i64)>().unwrap_err().errors[0].field,
            "cursor"
        );
    }

    #[test]
    fn limit_bounds() {
        assert_eq!(PageQuery::default().limit().unwrap(), 20);
        assert!(
            PageQuery {
                cursor: None,
                limit: Some(0)
            }
            .limit()
            .is_err()
        );
        assert!(
            PageQuery {
                cursor: None,
                limit: Some(101)
            }
            .limit()
            .is_err()
        );
    }

    #[test]
    fn page_has_next_cursor_only_when_more_rows_exist() {
        let p: Page<i64> = Page::from_rows(vec![1i64, 2, 3], 2, |r| *r, |r| r);
        assert_eq!(p.items, vec![1, 2]);
        assert_eq!(p.next_cursor, Some(encode_cursor(&2)));
        let last: Page<i64> = Page::from_rows(vec![1i64, 2], 2, |r| *r, |r| r);
        assert!(last.next_cursor.is_none());
    }

    #[test]
    fn each_item_cursor_is_the_next_cursor_of_a_page_ending_there() {
        let p: Page<String> =
            Page::from_rows_with_cursors(vec![1i64, 2, 3, 4], 3, |r| (*r, "k"), |_, c| c);
        assert_eq!(
            p.items,
            vec![
                encode_cursor(&(1, "k")),
                encode_cursor(&(2, "k")),
                encode_cursor(&(3, "k")),
            ]
        );
        assert_eq!(p.next_cursor.as_deref(), Some(p.items[2].as_str()));
        for k in 1..=3u64 {
            let shorter: Page<String> =
                Page::from_rows_with_cursors(vec![1i64, 2, 3, 4], k, |r| (*r, "k"), |_, c| c);
            assert_eq!(shorter.next_cursor.as_ref(), Some(&p.items[k as usize - 1]));
        }
        let last: Page<String> = Page::from_rows_with_cursors(vec![1i64], 3, |r| *r, |_, c| c);
        assert_eq!(last.items, vec![encode_cursor(&1)]);
        assert!(last.next_cursor.is_none());
    }
}
