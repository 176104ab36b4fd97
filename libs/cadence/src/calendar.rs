//! Where an instant falls on the job's own clock. Calendar schedules ("daily at 02:00", "weekdays
//! only") live in local time, so gaps of half a day or more are measured on the local wall clock:
//! a daily job keeps its 24 h across a DST change although its UTC gap is 23 or 25 h. Shorter
//! gaps stay in UTC, where a five-minute job keeps its five minutes through the changed hour.

use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDateTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

pub const DAY_SECS: u32 = 86_400;
pub const WEEK_SECS: u32 = 7 * DAY_SECS;

/// Gaps at least this long are measured on the local wall clock.
const CALENDAR_GAP_SECS: f64 = 12.0 * 3600.0;

/// Local seconds since Monday 00:00 in the heartbeat's time zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Phase(u32);

impl Phase {
    pub fn of(at: DateTime<Utc>, tz: Tz) -> Self {
        let local = at.with_timezone(&tz);
        Phase(local.weekday().num_days_from_monday() * DAY_SECS + local.num_seconds_from_midnight())
    }

    /// From local seconds since Monday 00:00 (taken modulo a week).
    pub fn from_week_secs(secs: u32) -> Self {
        Phase(secs % WEEK_SECS)
    }

    pub fn week_secs(self) -> u32 {
        self.0
    }

    pub fn day_secs(self) -> u32 {
        self.0 % DAY_SECS
    }

    /// 0 = Monday.
    pub fn weekday(self) -> u32 {
        self.0 / DAY_SECS
    }
}

fn wall_clock(at: DateTime<Utc>, tz: Tz) -> NaiveDateTime {
    at.with_timezone(&tz).naive_local()
}

/// The gap between two pings in seconds, as the job's schedule sees it.
pub fn gap_secs(from: DateTime<Utc>, to: DateTime<Utc>, tz: Tz) -> f64 {
    let utc = (to - from).num_milliseconds() as f64 / 1000.0;
    let local = (wall_clock(to, tz) - wall_clock(from, tz)).num_milliseconds() as f64 / 1000.0;
    if utc >= CALENDAR_GAP_SECS && local >= CALENDAR_GAP_SECS {
        local
    } else {
        utc
    }
}

/// The instant `secs` after `from`, the inverse of [`gap_secs`]: long gaps are added on the local
/// wall clock. A wall-clock time skipped by a DST change is taken an hour later; one that occurs
/// twice, at its first occurrence.
pub fn add_secs(from: DateTime<Utc>, secs: f64, tz: Tz) -> DateTime<Utc> {
    let offset = Duration::milliseconds((secs * 1000.0).round() as i64);
    if secs < CALENDAR_GAP_SECS {
        return from + offset;
    }
    let local = wall_clock(from, tz) + offset;
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
        LocalResult::None => match tz.from_local_datetime(&(local + Duration::hours(1))) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => t.with_timezone(&Utc),
            LocalResult::None => from + offset,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::Berlin;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .unwrap_or_else(|e| panic!("{s}: {e}"))
            .with_timezone(&Utc)
    }

    #[test]
    fn phase_is_local_time_of_week() {
        // 2026-03-02 is a Monday; 01:30 UTC is 02:30 in Berlin (CET).
        let p = Phase::of(utc("2026-03-02T01:30:00Z"), Berlin);
        assert_eq!((p.weekday(), p.day_secs()), (0, 9000));
        // Sunday 23:30 in Berlin is still Sunday locally although Monday in UTC+0 is close.
        let p = Phase::of(utc("2026-03-01T22:30:00Z"), Berlin);
        assert_eq!((p.weekday(), p.day_secs()), (6, 84_600));
        // After the spring change Berlin is UTC+2.
        let p = Phase::of(utc("2026-03-30T00:30:00Z"), Berlin);
        assert_eq!((p.weekday(), p.day_secs()), (0, 9000));
    }

    #[test]
    fn a_daily_local_job_keeps_24_hours_across_dst() {
        // 02:30 Berlin on Saturday 28 March (CET) and Sunday 29 March... 02:30 is skipped on the
        // 29th, so use 03:30: 02:30 UTC then 01:30 UTC.
        let gap = gap_secs(
            utc("2026-03-28T02:30:00Z"),
            utc("2026-03-29T01:30:00Z"),
            Berlin,
        );
        assert_eq!(gap, 86_400.0);
        let next = add_secs(utc("2026-03-28T02:30:00Z"), 86_400.0, Berlin);
        assert_eq!(next, utc("2026-03-29T01:30:00Z"));
        // Autumn: 25 UTC hours between two 03:00 local pings.
        let gap = gap_secs(
            utc("2026-10-24T01:00:00Z"),
            utc("2026-10-25T02:00:00Z"),
            Berlin,
        );
        assert_eq!(gap, 86_400.0);
    }

    #[test]
    fn short_gaps_stay_in_utc_through_the_changed_hour() {
        // 01:58 → 03:03 local on 29 March is five UTC minutes.
        let gap = gap_secs(
            utc("2026-03-29T00:58:00Z"),
            utc("2026-03-29T01:03:00Z"),
            Berlin,
        );
        assert_eq!(gap, 300.0);
        let next = add_secs(utc("2026-03-29T00:58:00Z"), 300.0, Berlin);
        assert_eq!(next, utc("2026-03-29T01:03:00Z"));
    }

    #[test]
    fn a_skipped_wall_clock_time_is_taken_an_hour_later() {
        // 02:30 local on 29 March does not exist in Berlin: 03:30 CEST = 01:30 UTC.
        let next = add_secs(utc("2026-03-28T01:30:00Z"), 86_400.0, Berlin);
        assert_eq!(next, utc("2026-03-29T01:30:00Z"));
    }
}
