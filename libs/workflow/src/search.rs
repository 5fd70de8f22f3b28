//! Staff search (`q`) over applications and tasks: one text that matches
//! an application's number (exact), its enterprise's 统一社会信用代码
//! (exact) or a name — enterprise or project — (substring). Every list
//! that takes `q` checks it here and builds its condition here, so the
//! two services match the same way.

use sea_orm::sea_query::{Expr, Func, LikeExpr, SelectStatement};
use sea_orm::{ColumnTrait, Condition, ExprTrait};
use yizhan_kit::Problem;
use yizhan_kit::text::has_control_chars;

use crate::task_row as task;

/// Longest `q`, in characters.
pub const MAX_QUERY: usize = 100;

/// A checked search text: trimmed, not empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search(String);

impl Search {
    /// The `q` parameter: absent or blank is no search; too long or with
    /// control characters is a 422 naming `q`.
    pub fn parse(raw: Option<&str>) -> Result<Option<Self>, Problem> {
        let Some(q) = raw.map(str::trim).filter(|q| !q.is_empty()) else {
            return Ok(None);
        };
        if q.chars().count() > MAX_QUERY {
            return Err(Problem::field(
                "q",
                "too_long",
                format!("搜索内容最多 {MAX_QUERY} 个字符"),
            ));
        }
        if has_control_chars(q) {
            return Err(Problem::field(
                "q",
                "invalid_character",
                "搜索内容含有不可见的控制字符",
            ));
        }
        Ok(Some(Self(q.to_owned())))
    }

    /// The text searched for.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `column` contains the text, ignoring ASCII case (the same on both
    /// backends: PostgreSQL's LIKE is case-sensitive, SQLite's is not).
    pub fn contained_in(&self, column: impl ColumnTrait) -> Condition {
        let mut pattern = String::from("%");
        for c in self.0.to_lowercase().chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        Condition::all().add(
            Expr::expr(Func::lower(Expr::col(column.as_column_ref())))
                .like(LikeExpr::new(pattern).escape('\\')),
        )
    }

    /// The number is exactly the text (numbers are kept upper case, so a
    /// lower-case entry still finds it), or the USCC is, or `names` match.
    pub fn matches(
        &self,
        number: impl ColumnTrait,
        uscc: impl ColumnTrait,
        names: Condition,
    ) -> Condition {
        let upper = self.0.to_uppercase();
        Condition::any()
            .add(number.eq(upper.clone()))
            .add(uscc.eq(upper))
            .add(names)
    }
}

/// Tasks whose case is one of `cases` (a query selecting case ids): how a
/// department queue is searched through the service's own table.
pub fn tasks_of_cases(cases: SelectStatement) -> Condition {
    Condition::all().add(task::Column::CaseId.in_subquery(cases))
}
