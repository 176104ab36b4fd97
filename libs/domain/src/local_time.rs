//! Instants as the team reads them, in the heartbeat's time zone: `02:40 CET`, with the date only
//! when it is not the day the sentence speaks of, and the zone named once. A warning about the
//! nightly backup says "usually pings by 02:40", the time the team scheduled it at, so nobody has
//! to convert from UTC at three in the morning.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::{OffsetName, Tz};

/// Writes the instants of one sentence, in order.
pub(crate) struct LocalClock {
    tz: Tz,
    /// The local day the sentence speaks of ("it is 02:55"): times on it carry no date.
    today: NaiveDate,
    /// The zone label last written. Later times repeat a label only when theirs differs, which
    /// happens when a daylight-saving change falls between them.
    named: Option<String>,
}

impl LocalClock {
    /// A clock for a sentence about `now`, in `tz`.
    pub(crate) fn new(tz: Tz, now: DateTime<Utc>) -> Self {
        Self {
            tz,
            today: now.with_timezone(&tz).date_naive(),
            named: None,
        }
    }

    /// `02:40 CET` for the first time written, `02:55` for the next ones, `2026-11-24 23:50`
    /// for one on another day.
    pub(crate) fn time(&mut self, t: DateTime<Utc>) -> String {
        let local = t.with_timezone(&self.tz);
        let mut text = if local.date_naive() == self.today {
            local.format("%H:%M").to_string()
        } else {
            local.format("%Y-%m-%d %H:%M").to_string()
        };
        let label = zone_label(&local);
        if self.named.as_deref() != Some(label.as_str()) {
            text.push(' ');
            text.push_str(&label);
            self.named = Some(label);
        }
        text
    }
}

/// The zone's abbreviation (`CET`, `EDT`, `UTC`), or its IANA name where the tz database has no
/// letters for it and would write a bare offset (`+04` says less than `Asia/Dubai`).
fn zone_label(local: &DateTime<Tz>) -> String {
    match local.offset().abbreviation() {
        Some(abbreviation) if !abbreviation.starts_with(['+', '-']) => abbreviation.to_owned(),
        _ => local.timezone().name().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn the_zone_is_named_once_and_the_date_only_for_another_day() {
        let paris = chrono_tz::Europe::Paris;
        let mut clock = LocalClock::new(paris, utc(2026, 11, 25, 1, 55));
        assert_eq!(clock.time(utc(2026, 11, 25, 1, 40)), "02:40 CET");
        assert_eq!(clock.time(utc(2026, 11, 25, 1, 55)), "02:55");
        assert_eq!(clock.time(utc(2026, 11, 24, 22, 50)), "2026-11-24 23:50");
    }

    #[test]
    fn a_daylight_saving_change_between_two_times_names_the_zone_again() {
        // Paris leaves summer time at 03:00 CEST (01:00 UTC) on 2026-10-25.
        let paris = chrono_tz::Europe::Paris;
        let mut clock = LocalClock::new(paris, utc(2026, 10, 25, 2, 0));
        assert_eq!(clock.time(utc(2026, 10, 25, 0, 30)), "02:30 CEST");
        assert_eq!(clock.time(utc(2026, 10, 25, 2, 0)), "03:00 CET");
        assert_eq!(clock.time(utc(2026, 10, 25, 2, 30)), "03:30");
    }

    #[test]
    fn a_zone_without_letters_is_named_by_its_iana_name() {
        let dubai = chrono_tz::Asia::Dubai;
        let mut clock = LocalClock::new(dubai, utc(2026, 11, 25, 8, 0));
        assert_eq!(clock.time(utc(2026, 11, 25, 8, 0)), "12:00 Asia/Dubai");
        let mut clock = LocalClock::new(Tz::UTC, utc(2026, 11, 25, 8, 0));
        assert_eq!(clock.time(utc(2026, 11, 25, 8, 0)), "08:00 UTC");
    }
}
