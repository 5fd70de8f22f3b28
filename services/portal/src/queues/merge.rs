//! Building a merged page: authorising the caller for each source, asking
//! every source at once for the page after its own position, and merging
//! the answers by urgency.

use super::*;

/// Every source's position: the cursor after the last item taken from it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub(super) struct Positions {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) licensing: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) construction: Option<String>,
}

impl Positions {
    fn get(&self, source: Source) -> Option<&String> {
        match source {
            Source::Licensing => self.licensing.as_ref(),
            Source::Construction => self.construction.as_ref(),
        }
    }

    fn set(&mut self, source: Source, cursor: Option<String>) {
        match source {
            Source::Licensing => self.licensing = cursor,
            Source::Construction => self.construction = cursor,
        }
    }
}

/// What one source gave for one merged page.
pub(super) struct Scan {
    pub(super) source: Source,
    /// Items passing every filter, in the source's order, with their cursors.
    pub(super) items: Vec<(QueueEntry, String)>,
    /// Cursor of the last item looked at (filtered out or not).
    pub(super) scanned_to: Option<String>,
    /// Whether the source has items after `scanned_to`.
    pub(super) more: bool,
}

/// The merge order: the queue's urgency key, then the source (licensing
/// first), and within a source the source's own order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Urgency {
    /// Earlier deadline first; no deadline last.
    Due(bool, Option<Deadline>),
    /// Older first.
    Waiting(Option<DateTime<Utc>>),
}

fn urgency(queue: Queue, entry: &QueueEntry) -> Urgency {
    match queue {
        Queue::Tasks => Urgency::Due(entry.due.is_none(), entry.due),
        Queue::Intake | Queue::HandOut => Urgency::Waiting(entry.created_at),
    }
}

/// Who may read `queue`, and the department a partner's task queue is for
/// (a reviewer's comes from their token).
pub(super) fn authorise(
    queue: Queue,
    principal: &Principal,
    query: &Filters,
) -> Result<Option<String>, Problem> {
    let partner = principal.has_role(Role::Partner) && principal.has_scope(QUEUES_READ);
    match queue {
        Queue::Intake | Queue::HandOut => {
            if !partner {
                principal.require_any(&[Role::WindowClerk, Role::Admin])?;
            }
            Ok(None)
        }
        Queue::Tasks => {
            if principal.has_role(Role::DeptReviewer) {
                let own = principal.dept.clone().ok_or_else(|| {
                    Problem::forbidden("令牌未载明所属部门（dept），无法确定审批队列")
                })?;
                if query.dept.as_deref().is_some_and(|d| d != own) {
                    return Err(Problem::forbidden("部门审批人员只能查看本部门的队列"));
                }
                // The sources read the reviewer's department from the token.
                return Ok(None);
            }
            if partner {
                let dept = query
                    .dept
                    .clone()
                    .filter(|d| !d.trim().is_empty())
                    .ok_or_else(|| {
                        Problem::field("dept", "required", "合作系统读取审批队列须指明部门（dept）")
                    })?;
                if !crate::pages::is_code(&dept) {
                    return Err(Problem::field("dept", "invalid", "部门编码格式不正确"));
                }
                return Ok(Some(dept));
            }
            Err(Problem::forbidden(
                "此操作仅限部门审批人员或持有 queues:read 权限的合作系统执行",
            ))
        }
    }
}

/// The source list endpoint for `queue`, after `position`.
fn source_path(
    queue: Queue,
    source: Source,
    query: &Filters,
    dept: Option<&str>,
    position: Option<&str>,
    limit: u64,
) -> String {
    let mut params: Vec<(&str, String)> = vec![("limit", limit.to_string())];
    let path = match (queue, source) {
        (Queue::Intake, Source::Licensing) => {
            params.push(("status", "submitted".into()));
            params.push(("order", "oldest_first".into()));
            "/api/v1/applications"
        }
        (Queue::HandOut, Source::Licensing) => {
            params.push(("status", "licence_issued".into()));
            params.push(("order", "oldest_first".into()));
            "/api/v1/applications"
        }
        (Queue::Intake, Source::Construction) => {
            params.push(("status", "submitted".into()));
            "/api/v1/stages"
        }
        (Queue::HandOut, Source::Construction) => {
            params.push(("awaiting", "hand_out".into()));
            "/api/v1/stages"
        }
        (Queue::Tasks, _) => {
            if let Some(status) = query.status {
                params.push(("status", wire(&status)));
            }
            if let Some(dept) = dept {
                params.push(("dept", dept.to_owned()));
            }
            "/api/v1/tasks"
        }
    };
    if let Some(q) = &query.search {
        params.push(("q", q.clone()));
    }
    if let Some(position) = position {
        params.push(("cursor", position.to_owned()));
    }
    let query: Vec<String> = params
        .iter()
        .map(|(k, v)| format!("{k}={}", urlencode(v)))
        .collect();
    format!("{path}?{}", query.join("&"))
}

/// What a merged page asks every source for.
struct Ask<'a> {
    queue: Queue,
    filters: &'a Filters,
    /// A partner's department (reviewers' come from their token).
    dept: Option<&'a str>,
    limit: u64,
}

/// Reads one source for one merged page: up to `limit` items passing the
/// filters, paging the source at most `MAX_SCAN_ROUNDS` times.
async fn scan(
    upstreams: &Upstreams,
    token: &str,
    ask: &Ask<'_>,
    source: Source,
    from: Option<String>,
) -> Result<Scan, UpstreamError> {
    let Ask {
        queue,
        filters: query,
        dept,
        limit,
    } = *ask;
    let mut out = Scan {
        source,
        items: Vec::new(),
        scanned_to: from,
        more: true,
    };
    for _ in 0..MAX_SCAN_ROUNDS {
        let path = source_path(queue, source, query, dept, out.scanned_to.as_deref(), limit);
        let page = upstreams.get(source.upstream(), &path, Some(token)).await?;
        let items = page["items"].as_array().cloned().unwrap_or_default();
        for item in &items {
            let Some(cursor) = text(item, "cursor") else {
                continue;
            };
            out.scanned_to = Some(cursor.clone());
            let Some(entry) = entry(queue, source, item) else {
                continue;
            };
            let wanted = query
                .sla
                .is_none_or(|sla| entry.sla_state.as_deref() == Some(wire(&sla).as_str()));
            if wanted {
                out.items.push((entry, cursor));
            }
        }
        out.more = page["next_cursor"].is_string();
        if !out.more || out.items.len() as u64 >= limit {
            break;
        }
    }
    Ok(out)
}

/// Merges the scans: the `limit` most urgent entries and every source's
/// new position. Pure, so the paging rules are tested without servers.
pub(super) fn merge(
    queue: Queue,
    scans: Vec<Scan>,
    mut positions: Positions,
    limit: usize,
) -> (Vec<QueueEntry>, Positions, bool) {
    let mut heads: Vec<(Source, std::collections::VecDeque<(QueueEntry, String)>)> = scans
        .iter()
        .map(|s| (s.source, s.items.iter().cloned().collect()))
        .collect();
    let mut taken: Vec<QueueEntry> = Vec::new();
    let mut last: Vec<(Source, String)> = Vec::new();
    while taken.len() < limit {
        let next = heads
            .iter()
            .enumerate()
            .filter_map(|(i, (_, q))| q.front().map(|(e, _)| (i, urgency(queue, e))))
            .min_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
        let Some((i, _)) = next else { break };
        let source = heads[i].0;
        if let Some((entry, cursor)) = heads[i].1.pop_front() {
            last.retain(|(s, _)| *s != source);
            last.push((source, cursor));
            taken.push(entry);
        }
    }
    let mut more = false;
    for scan in &scans {
        let left = heads
            .iter()
            .find(|(s, _)| *s == scan.source)
            .is_some_and(|(_, q)| !q.is_empty());
        match last.iter().find(|(s, _)| *s == scan.source) {
            Some((_, cursor)) => positions.set(scan.source, Some(cursor.clone())),
            // Nothing of this source passed the filters: skip what was
            // looked at, or the next page would look at it again.
            None if scan.items.is_empty() && scan.scanned_to.is_some() => {
                positions.set(scan.source, scan.scanned_to.clone())
            }
            None => {}
        }
        more |= left || scan.more;
    }
    (taken, positions, more)
}

/// Builds one merged page for `principal` (whose token is `token`).
pub async fn merged_page(
    state: &AppState,
    principal: &Principal,
    token: &str,
    queue: Queue,
    query: &QueueQuery,
    page: &PageQuery,
) -> Result<MergedPage, Problem> {
    let query = &query.filters(queue)?;
    let dept = authorise(queue, principal, query)?;
    let limit = page.limit()?;
    let positions = page.position::<Positions>()?.unwrap_or_default();
    let sources: Vec<Source> = Source::ALL
        .into_iter()
        .filter(|s| query.source.is_none_or(|only| only == *s))
        .collect();
    let ask = Ask {
        queue,
        filters: query,
        dept: dept.as_deref(),
        limit,
    };
    let scans = futures_util::future::join_all(sources.iter().map(|source| {
        scan(
            &state.upstream,
            token,
            &ask,
            *source,
            positions.get(*source).cloned(),
        )
    }))
    .await;
    let mut answered = Vec::new();
    let mut unavailable = Vec::new();
    for (source, result) in sources.iter().zip(scans) {
        match result {
            Ok(scan) => answered.push(scan),
            Err(UpstreamError::Unavailable { detail, .. }) => unavailable.push(Unavailable {
                source: source.upstream(),
                detail,
            }),
            // A refusal is the caller's answer, not an outage: pass it on.
            Err(refused @ UpstreamError::Refused { .. }) => {
                return Err(refusal_problem(&refused));
            }
        }
    }
    if answered.is_empty() {
        let detail = unavailable
            .iter()
            .map(|u| u.detail.as_str())
            .collect::<Vec<_>>()
            .join("；");
        return Err(Problem::unavailable(format!("队列来源均不可用：{detail}")));
    }
    let (items, positions, more) = merge(queue, answered, positions, limit as usize);
    Ok(MergedPage {
        items,
        next_cursor: more.then(|| encode_cursor(&positions)),
        partial: !unavailable.is_empty(),
        unavailable,
    })
}
