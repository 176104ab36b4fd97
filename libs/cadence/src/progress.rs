//! When a heartbeat may learn: at least 7 days of history (the product's promise, and one of
//! every weekday) and at least 8 finished runs. Eight is the fewest from which a spread can be
//! told apart from chance at all (the warning past the largest of n gaps is extrapolated, and
//! with fewer than eight there is nothing above the 90th percentile to extrapolate from); a
//! daily job reaches it in 8 days, a weekly one in 8 weeks. Until then the heartbeat runs on
//! its fixed interval + grace and shows this progress.

use chrono::{DateTime, Duration, Utc};

pub const MIN_DAYS: i64 = 7;
pub const MIN_FINISHED: usize = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Days from the first ping kept to now.
    pub days: i64,
    /// Success and failure pings kept.
    pub finished: usize,
}

impl Progress {
    pub fn new(first_ping: Option<DateTime<Utc>>, finished: usize, now: DateTime<Utc>) -> Self {
        let days = first_ping.map_or(0, |f| (now - f).num_days().max(0));
        Progress { days, finished }
    }

    pub fn eligible(&self) -> bool {
        self.days >= MIN_DAYS && self.finished >= MIN_FINISHED
    }

    /// "5 of 7 days, 1,432 pings".
    pub fn describe(&self) -> String {
        format!(
            "{} of {MIN_DAYS} days, {} pings (at least {MIN_FINISHED} needed)",
            self.days.min(MIN_DAYS),
            thousands(self.finished)
        )
    }

    /// The instant at which the history will be long enough, given its first ping.
    pub fn long_enough_at(first_ping: DateTime<Utc>) -> DateTime<Utc> {
        first_ping + Duration::days(MIN_DAYS)
    }
}

/// A count with thousands separators: "1,432".
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn needs_a_week_and_eight_runs() {
        let now = Utc
            .with_ymd_and_hms(2026, 3, 10, 0, 0, 0)
            .single()
            .unwrap_or_else(|| panic!());
        let p = |days: i64, n| Progress::new(Some(now - Duration::days(days)), n, now);
        assert!(!p(6, 5000).eligible());
        assert!(!p(30, 7).eligible());
        assert!(p(7, 8).eligible());
        assert!(!Progress::new(None, 0, now).eligible());
        assert_eq!(
            p(5, 1432).describe(),
            "5 of 7 days, 1,432 pings (at least 8 needed)"
        );
        assert_eq!(
            p(12, 12).describe(),
            "7 of 7 days, 12 pings (at least 8 needed)"
        );
    }
}
