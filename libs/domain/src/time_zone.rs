//! Time zones by their IANA names. AI heartbeats learn a job's local time of day and weekday, so
//! each heartbeat has a zone: its own, or its team's.

use std::fmt;
use std::str::FromStr;

use chrono_tz::{TZ_VARIANTS, Tz};

/// An IANA time zone that Lifeline knows (the tz database compiled into `chrono-tz`), e.g.
/// `Europe/Paris`. Shown and stored by its canonical spelling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TimeZoneName(Tz);

/// A name that is not in the tz database; the message is meant for the person who typed it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone {0:?}: use an IANA name such as Europe/Paris")]
pub struct UnknownTimeZone(pub String);

/// The regions whose `Region/City` zones are offered as suggestions. The tz database also has
/// links kept for compatibility (`US/Eastern`, `Japan`, `EST5EDT`, `Etc/GMT+5`); they are
/// accepted when typed, but not suggested, so the list stays one entry per place.
const SUGGESTED_REGIONS: &[&str] = &[
    "Africa/",
    "America/",
    "Antarctica/",
    "Asia/",
    "Atlantic/",
    "Australia/",
    "Europe/",
    "Indian/",
    "Pacific/",
];

impl TimeZoneName {
    /// Every team's zone until someone chooses another.
    pub const UTC: TimeZoneName = TimeZoneName(Tz::UTC);

    /// Accepts an IANA name, trimmed; letter case is forgiven (`europe/paris` is
    /// `Europe/Paris`), since nobody means a different zone by it.
    pub fn parse(raw: &str) -> Result<Self, UnknownTimeZone> {
        let name = raw.trim();
        if let Ok(tz) = Tz::from_str(name) {
            return Ok(Self(tz));
        }
        TZ_VARIANTS
            .iter()
            .find(|tz| tz.name().eq_ignore_ascii_case(name))
            .map(|tz| Self(*tz))
            .ok_or_else(|| UnknownTimeZone(name.to_owned()))
    }

    /// The IANA name, as stored and shown.
    pub fn as_str(&self) -> &'static str {
        self.0.name()
    }

    /// The zone itself, to turn instants into local times.
    pub fn tz(&self) -> Tz {
        self.0
    }

    /// The names to suggest in a picker, sorted: `UTC` and every `Region/City` zone.
    pub fn suggestions() -> impl Iterator<Item = &'static str> {
        let mut names: Vec<&'static str> = TZ_VARIANTS
            .iter()
            .map(|tz| tz.name())
            .filter(|name| SUGGESTED_REGIONS.iter().any(|r| name.starts_with(r)))
            .collect();
        names.sort_unstable();
        std::iter::once(Tz::UTC.name()).chain(names)
    }
}

impl fmt::Display for TimeZoneName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TimeZoneName {
    type Err = UnknownTimeZone;
    fn from_str(s: &str) -> Result<Self, UnknownTimeZone> {
        Self::parse(s)
    }
}

impl serde::Serialize for TimeZoneName {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Timelike, Utc};

    use super::*;

    #[test]
    fn iana_names_are_accepted_and_shown_as_written_in_the_database() {
        for name in [
            "Europe/Paris",
            "America/Argentina/Buenos_Aires",
            "UTC",
            "Asia/Kolkata",
        ] {
            let zone = TimeZoneName::parse(name).unwrap();
            assert_eq!(zone.to_string(), name);
            assert_eq!(zone.as_str(), name);
        }
        // Compatibility links are real IANA names too.
        assert_eq!(
            TimeZoneName::parse("US/Eastern").unwrap().as_str(),
            "US/Eastern"
        );
    }

    #[test]
    fn spaces_and_letter_case_are_forgiven() {
        assert_eq!(
            TimeZoneName::parse("  europe/PARIS ").unwrap().as_str(),
            "Europe/Paris"
        );
        assert_eq!(TimeZoneName::parse("utc").unwrap(), TimeZoneName::UTC);
    }

    #[test]
    fn an_unknown_name_is_refused_with_an_example() {
        let err = TimeZoneName::parse("Europe/Pariss").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"unknown time zone "Europe/Pariss": use an IANA name such as Europe/Paris"#
        );
        for bad in ["", "   ", "Paris", "+02:00", "Europe/", "Mars/Olympus_Mons"] {
            assert!(TimeZoneName::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!("CET".parse::<TimeZoneName>().map(|z| z.as_str()), Ok("CET"));
    }

    #[test]
    fn the_zone_gives_local_times() {
        let paris = TimeZoneName::parse("Europe/Paris").unwrap().tz();
        // 12:00 UTC is 13:00 in Paris in winter and 14:00 in summer.
        let winter = Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap();
        let summer = Utc.with_ymd_and_hms(2026, 7, 15, 12, 0, 0).unwrap();
        assert_eq!(winter.with_timezone(&paris).hour(), 13);
        assert_eq!(summer.with_timezone(&paris).hour(), 14);
    }

    #[test]
    fn suggestions_are_places_each_of_which_parses() {
        let names: Vec<&str> = TimeZoneName::suggestions().collect();
        assert_eq!(names[0], "UTC");
        assert!(names.contains(&"Europe/Paris"));
        assert!(names.contains(&"America/New_York"));
        assert!(!names.contains(&"US/Eastern"), "links are not suggested");
        assert!(!names.iter().any(|n| n.starts_with("Etc/")));
        assert!(names.len() > 300, "{}", names.len());
        assert!(names[1..].windows(2).all(|w| w[0] < w[1]), "sorted");
        for name in names {
            assert_eq!(TimeZoneName::parse(name).unwrap().as_str(), name);
        }
    }

    #[test]
    fn it_serializes_as_its_name() {
        let zone = TimeZoneName::parse("Asia/Tokyo").unwrap();
        assert_eq!(serde_json::to_string(&zone).unwrap(), r#""Asia/Tokyo""#);
    }
}
