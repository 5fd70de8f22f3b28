//! Supervision statistics of 诉求 per department, category and channel:
//! resolution rate, on-time rate, satisfaction and p90 handling time.
//!
//! Counts stay integers and handling time stays in half working days, so
//! the figures are exact and a test can state them; rates are computed only
//! for display, in per-mille.

use std::collections::BTreeMap;

use super::requests::{Category, Channel, Satisfaction};

/// One request as the statistics see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    /// Department that handled it last.
    pub department: String,
    /// Its category.
    pub category: Category,
    /// Where it came from.
    pub channel: Channel,
    /// Answered (whatever the rating); open and withdrawn requests count
    /// as unresolved.
    pub resolved: bool,
    /// Answered within its limit, every round.
    pub on_time: bool,
    /// The last rating, if rated.
    pub satisfaction: Option<Satisfaction>,
    /// Working time used until the answer, in half working days (pauses
    /// excluded); `None` while unanswered.
    pub handling_half_days: Option<i64>,
}

/// Figures of one group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Figures {
    /// Requests in the group.
    pub total: u64,
    /// Of them answered.
    pub resolved: u64,
    /// Of them answered in time.
    pub on_time: u64,
    /// Of them rated.
    pub rated: u64,
    /// Of the rated, 满意 or 基本满意.
    pub satisfied: u64,
    /// 90th percentile (nearest rank) of handling time of the answered, in
    /// half working days.
    pub p90_half_days: Option<i64>,
}

impl Figures {
    /// `part / whole` in per-mille, rounded half up; `None` for an empty
    /// whole (no rate is better than a made-up 0 or 100 %).
    pub fn per_mille(part: u64, whole: u64) -> Option<u64> {
        (whole > 0).then(|| (part * 1000 + whole / 2) / whole)
    }
}

/// Groups and computes figures by a key of each request.
pub fn figures_by<K: Ord>(
    requests: &[Handled],
    key: impl Fn(&Handled) -> K,
) -> BTreeMap<K, Figures> {
    let mut groups: BTreeMap<K, (Figures, Vec<i64>)> = BTreeMap::new();
    for r in requests {
        let (f, times) = groups.entry(key(r)).or_default();
        f.total += 1;
        f.resolved += u64::from(r.resolved);
        f.on_time += u64::from(r.resolved && r.on_time);
        if let Some(s) = r.satisfaction {
            f.rated += 1;
            f.satisfied += u64::from(s != Satisfaction::Dissatisfied);
        }
        if let (true, Some(t)) = (r.resolved, r.handling_half_days) {
            times.push(t);
        }
    }
    groups
        .into_iter()
        .map(|(k, (mut f, mut times))| {
            times.sort_unstable();
            // Nearest rank: the ceil(0.9 n)-th smallest.
            f.p90_half_days =
                (!times.is_empty()).then(|| times[(times.len() * 9).div_ceil(10) - 1]);
            (k, f)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handled(
        dept: &str,
        resolved: bool,
        on_time: bool,
        s: Option<Satisfaction>,
        t: Option<i64>,
    ) -> Handled {
        Handled {
            department: dept.to_owned(),
            category: Category::Policy,
            channel: Channel::Hotline12345,
            resolved,
            on_time,
            satisfaction: s,
            handling_half_days: t,
        }
    }

    #[test]
    fn figures_are_exact_per_department() {
        use Satisfaction::*;
        let mut all = vec![
            handled("finance", true, true, Some(Satisfied), Some(2)),
            handled("finance", true, false, Some(Dissatisfied), Some(9)),
            handled("finance", false, false, None, None),
            handled("talent", true, true, Some(Acceptable), Some(4)),
        ];
        // Ten more answered in talent, 1..=10 half-days: p90 of 11 values.
        all.extend((1..=10).map(|t| handled("talent", true, true, None, Some(t))));
        let by_department = figures_by(&all, |r| r.department.clone());
        let finance = &by_department["finance"];
        assert_eq!(
            finance,
            &Figures {
                total: 3,
                resolved: 2,
                on_time: 1,
                rated: 2,
                satisfied: 1,
                p90_half_days: Some(9),
            }
        );
        assert_eq!(
            Figures::per_mille(finance.resolved, finance.total),
            Some(667)
        );
        let talent = &by_department["talent"];
        assert_eq!(
            (talent.total, talent.resolved, talent.satisfied),
            (11, 11, 1)
        );
        // Sorted: 1,2,3,4,4,5,...,10; ceil(0.9 * 11) = 10th smallest = 9.
        assert_eq!(talent.p90_half_days, Some(9));
        assert_eq!(Figures::per_mille(0, 0), None);
        let by_channel = figures_by(&all, |r| r.channel);
        assert_eq!(by_channel[&Channel::Hotline12345].total, 14);
    }
}
