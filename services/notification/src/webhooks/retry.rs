//! When a failed delivery is tried again: exponential backoff with jitter,
//! or what the receiver asked for in `Retry-After`.

use std::time::{Duration, SystemTime};

use rand::Rng;

/// The retry schedule of one deployment.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in one cycle before the delivery is dead-lettered.
    pub max_attempts: u32,
    /// Delay after the first failure; doubles each time.
    pub first_delay: Duration,
    /// Longest backoff delay.
    pub max_delay: Duration,
    /// Longest wait a receiver's `Retry-After` may ask for.
    pub retry_after_cap: Duration,
}

impl RetryPolicy {
    /// Delay after `attempts` failed attempts (1-based), without jitter.
    pub fn backoff(&self, attempts: u32) -> Duration {
        let doublings = attempts.saturating_sub(1).min(30);
        self.first_delay
            .saturating_mul(1u32 << doublings)
            .min(self.max_delay)
    }

    /// Delay before the next attempt: `Retry-After` when the receiver sent
    /// one (capped), otherwise the backoff with "equal jitter" (half fixed,
    /// half random), so receivers that failed together are not all retried
    /// in the same instant.
    pub fn next_delay(&self, attempts: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(asked) = retry_after {
            return asked.min(self.retry_after_cap);
        }
        let full = self.backoff(attempts);
        let half = full / 2;
        let jitter_ms = half.as_millis() as u64;
        let jitter = if jitter_ms == 0 {
            0
        } else {
            rand::rng().random_range(0..=jitter_ms)
        };
        half + Duration::from_millis(jitter)
    }
}

/// Parses `Retry-After`: delta seconds or an HTTP date (RFC 9110 §10.2.3).
/// A date in the past means "now".
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn production() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 15,
            first_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(3600),
            retry_after_cap: Duration::from_secs(3600),
        }
    }

    #[test]
    fn backoff_doubles_then_caps_and_spans_hours() {
        let p = production();
        assert_eq!(p.backoff(1), Duration::from_secs(5));
        assert_eq!(p.backoff(2), Duration::from_secs(10));
        assert_eq!(p.backoff(10), Duration::from_secs(2560));
        assert_eq!(p.backoff(11), Duration::from_secs(3600));
        assert_eq!(p.backoff(99), Duration::from_secs(3600));
        let total: Duration = (1..p.max_attempts).map(|n| p.backoff(n)).sum();
        assert!(total > Duration::from_secs(4 * 3600), "{total:?}");
    }

    #[test]
    fn jitter_stays_within_half_to_full_backoff() {
        let p = production();
        for n in 1..15 {
            let d = p.next_delay(n, None);
            assert!(d >= p.backoff(n) / 2 && d <= p.backoff(n), "{n}: {d:?}");
        }
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        let p = production();
        assert_eq!(
            p.next_delay(1, Some(Duration::from_secs(120))),
            Duration::from_secs(120)
        );
        assert_eq!(
            p.next_delay(1, Some(Duration::from_secs(86_400))),
            Duration::from_secs(3600)
        );
    }

    #[test]
    fn parses_seconds_and_http_dates() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }
}
