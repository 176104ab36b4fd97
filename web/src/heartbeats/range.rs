//! The time ranges of the detail page's chart (`?range=1h|6h|1d|7d|30d|90d|365d`), and how each
//! is drawn: the bucket width used when it holds too many pings to draw one by one, and where
//! its axis ticks fall. Only ranges within the plan's history are offered or honoured.

use chrono::Duration;

use crate::error::PageError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    Hour,
    SixHours,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

/// Where a range's axis ticks fall.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TickStep {
    /// Every `every`, counted from the epoch shifted by `offset` (to start weeks on Monday).
    Fixed { every: Duration, offset: Duration },
    /// On the first of each month.
    Months,
}

impl Range {
    pub const ALL: [Range; 7] = [
        Range::Hour,
        Range::SixHours,
        Range::Day,
        Range::Week,
        Range::Month,
        Range::Quarter,
        Range::Year,
    ];

    pub const DEFAULT: Range = Range::Day;

    /// The value of `?range=`.
    pub fn key(self) -> &'static str {
        match self {
            Range::Hour => "1h",
            Range::SixHours => "6h",
            Range::Day => "1d",
            Range::Week => "7d",
            Range::Month => "30d",
            Range::Quarter => "90d",
            Range::Year => "365d",
        }
    }

    /// "the last …".
    pub fn label(self) -> &'static str {
        match self {
            Range::Hour => "1 hour",
            Range::SixHours => "6 hours",
            Range::Day => "24 hours",
            Range::Week => "7 days",
            Range::Month => "30 days",
            Range::Quarter => "90 days",
            Range::Year => "365 days",
        }
    }

    pub fn parse(key: &str) -> Option<Range> {
        Range::ALL.into_iter().find(|r| r.key() == key)
    }

    pub fn duration(self) -> Duration {
        match self {
            Range::Hour => Duration::hours(1),
            Range::SixHours => Duration::hours(6),
            Range::Day => Duration::days(1),
            Range::Week => Duration::days(7),
            Range::Month => Duration::days(30),
            Range::Quarter => Duration::days(90),
            Range::Year => Duration::days(365),
        }
    }

    /// Whether a plan keeping `retention_days` of history has this whole range.
    pub fn fits(self, retention_days: u32) -> bool {
        self.duration() <= Duration::days(i64::from(retention_days))
    }

    /// The ranges a plan keeping `retention_days` offers, shortest first.
    pub fn offered(retention_days: u32) -> Vec<Range> {
        Range::ALL
            .into_iter()
            .filter(|r| r.fits(retention_days))
            .collect()
    }

    /// The bucket width when the range holds too many pings to draw each: about 200–300
    /// buckets per range, on round times.
    pub fn bucket(self) -> Duration {
        match self {
            Range::Hour => Duration::minutes(1),
            Range::SixHours => Duration::minutes(2),
            Range::Day => Duration::minutes(5),
            Range::Week => Duration::hours(1),
            Range::Month => Duration::hours(3),
            Range::Quarter => Duration::hours(8),
            Range::Year => Duration::days(2),
        }
    }

    pub fn ticks(self) -> TickStep {
        let fixed = |every| TickStep::Fixed {
            every,
            offset: Duration::zero(),
        };
        match self {
            Range::Hour => fixed(Duration::minutes(10)),
            Range::SixHours => fixed(Duration::hours(1)),
            Range::Day => fixed(Duration::hours(3)),
            Range::Week => fixed(Duration::days(1)),
            Range::Month => fixed(Duration::days(3)),
            // 1970-01-05 was a Monday: weeks start on Mondays.
            Range::Quarter => TickStep::Fixed {
                every: Duration::days(7),
                offset: Duration::days(4),
            },
            Range::Year => TickStep::Months,
        }
    }
}

/// The range a page shows, and why it differs from the one asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chosen {
    pub range: Range,
    /// Set when the range asked for is longer than the plan keeps.
    pub clamped: Option<String>,
}

/// The range for `?range=`: the default when absent, the longest the plan keeps when it asks for
/// more (with a notice saying so), and an error for an unknown value.
pub fn choose(requested: Option<&str>, retention_days: u32) -> Result<Chosen, PageError> {
    let requested = requested.map(str::trim).filter(|s| !s.is_empty());
    let Some(key) = requested else {
        return Ok(Chosen {
            range: Range::DEFAULT,
            clamped: None,
        });
    };
    let Some(range) = Range::parse(key) else {
        let keys: Vec<&str> = Range::ALL.iter().map(|r| r.key()).collect();
        return Err(PageError::Invalid(format!(
            "unknown range {key:?}: choose one of {}",
            keys.join(", ")
        )));
    };
    if range.fits(retention_days) {
        return Ok(Chosen {
            range,
            clamped: None,
        });
    }
    let longest = Range::offered(retention_days)
        .last()
        .copied()
        .unwrap_or(Range::Hour);
    Ok(Chosen {
        range: longest,
        clamped: Some(format!(
            "Your plan keeps {retention_days} days of ping history, so the chart shows the last {} \
             instead of {}. Upgrade for a longer history.",
            longest.label(),
            range.label()
        )),
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn plans_offer_the_ranges_they_keep() {
        let keys = |days| {
            Range::offered(days)
                .into_iter()
                .map(Range::key)
                .collect::<Vec<_>>()
        };
        assert_eq!(keys(7), ["1h", "6h", "1d", "7d"]);
        assert_eq!(keys(90), ["1h", "6h", "1d", "7d", "30d", "90d"]);
        assert_eq!(keys(365).last(), Some(&"365d"));
    }

    #[test]
    fn a_range_beyond_the_plan_is_clamped_with_a_notice() {
        let chosen = choose(Some("90d"), 7).unwrap();
        assert_eq!(chosen.range, Range::Week);
        assert!(chosen.clamped.unwrap().contains("7 days"));
        assert_eq!(choose(Some("7d"), 7).unwrap().clamped, None);
        assert_eq!(choose(None, 7).unwrap().range, Range::Day);
        assert!(choose(Some("2y"), 365).is_err());
    }

    #[test]
    fn buckets_keep_every_range_light() {
        for r in Range::ALL {
            let n = r.duration().num_seconds() / r.bucket().num_seconds();
            assert!((60..=300).contains(&n), "{}: {n} buckets", r.key());
        }
    }
}
