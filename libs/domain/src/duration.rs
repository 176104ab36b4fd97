//! Durations as people write them: "1 h 10 min", "45 s", "2 d 3 h", "300 ms". The one formatter
//! for reasons, alerts and error messages, so every text Lifeline writes counts time the same way,
//! and the one parser for what people type ("5m", "1h 30m", "2d"), so the dashboard and the CLI
//! accept the same words. What [`human`] writes, [`parse`] reads back.

use chrono::Duration;

const UNITS: [(i64, &str); 5] = [
    (86_400_000, "d"),
    (3_600_000, "h"),
    (60_000, "min"),
    (1_000, "s"),
    (1, "ms"),
];

/// Every non-zero unit, largest first: exact, for durations people configured ("every 1 h +
/// 10 min grace", "timed out after 1 s 500 ms"). Negative durations count as zero.
pub fn human(d: Duration) -> String {
    join(parts(d))
}

/// The two largest non-zero units, for "… ago": `1 h 22 min`, `2 d 3 h`, `59 s`. Below a second
/// it says milliseconds; from a second on it leaves them out.
pub fn human_rounded(d: Duration) -> String {
    let coarse = if d >= Duration::seconds(1) {
        Duration::seconds(d.num_seconds())
    } else {
        d
    };
    join(parts(coarse).take(2))
}

fn parts(d: Duration) -> impl Iterator<Item = String> {
    let mut rest = d.num_milliseconds().max(0);
    UNITS.into_iter().filter_map(move |(size, unit)| {
        let n = rest / size;
        rest %= size;
        (n > 0).then(|| format!("{n} {unit}"))
    })
}

fn join(parts: impl Iterator<Item = String>) -> String {
    let text = parts.collect::<Vec<_>>().join(" ");
    if text.is_empty() {
        "0 s".to_owned()
    } else {
        text
    }
}

/// Seconds in each unit a person may type, with every spelling accepted (compared lower-cased).
const SPELLINGS: [(i64, &[&str]); 5] = [
    (1, &["s", "sec", "secs", "second", "seconds"]),
    (60, &["m", "min", "mins", "minute", "minutes"]),
    (3_600, &["h", "hr", "hrs", "hour", "hours"]),
    (86_400, &["d", "day", "days"]),
    (604_800, &["w", "week", "weeks"]),
];

/// How much of a refused text an error message repeats.
const QUOTED_CHARS: usize = 40;

/// Why a text is not a duration; each message tells the user what to type instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("enter a duration, like 90s, 5m, 1h 30m or 2d")]
    Empty,
    #[error("\"{0}\" is not a duration: use units like 90s, 5m, 1h 30m, 2d")]
    Invalid(String),
    #[error("\"{0}\" is negative: a duration counts forward, like 5m or 1h")]
    Negative(String),
    #[error("\"{0}\" is far too long a duration")]
    TooLong(String),
}

/// Reads a duration as a person types it: numbers each followed by a unit (`90s`, `5m`,
/// `1h 30m`, `1h30m`, `1 h 10 min`, `2d`, `1w`), or a plain number of seconds (`300`). Units are
/// s/sec/second(s), m/min/minute(s), h/hr/hour(s), d/day(s) and w/week(s), in any case. Whole
/// numbers only; zero is a duration (`0s`), checking whether it is a sensible one is the
/// caller's business (a schedule has its own bounds).
pub fn parse(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    let quoted = || text.chars().take(QUOTED_CHARS).collect::<String>();
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    if text.starts_with('-') {
        return Err(DurationError::Negative(quoted()));
    }
    let invalid = || DurationError::Invalid(quoted());
    let too_long = || DurationError::TooLong(quoted());
    if text.chars().all(|c| c.is_ascii_digit()) {
        let secs: i64 = text.parse().map_err(|_| too_long())?;
        return Duration::try_seconds(secs).ok_or_else(too_long);
    }
    let mut rest = text;
    let mut total: i64 = 0;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return Err(invalid());
        }
        let number: i64 = rest[..digits].parse().map_err(|_| too_long())?;
        rest = rest[digits..].trim_start();
        let letters = rest.len() - rest.trim_start_matches(char::is_alphabetic).len();
        let unit = unit_secs(&rest[..letters]).ok_or_else(invalid)?;
        rest = rest[letters..].trim_start();
        total = number
            .checked_mul(unit)
            .and_then(|secs| total.checked_add(secs))
            .ok_or_else(too_long)?;
    }
    Duration::try_seconds(total).ok_or_else(too_long)
}

fn unit_secs(unit: &str) -> Option<i64> {
    let unit = unit.to_lowercase();
    SPELLINGS
        .iter()
        .find(|(_, names)| names.contains(&unit.as_str()))
        .map(|(secs, _)| *secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn secs(text: &str) -> Result<i64, DurationError> {
        parse(text).map(|d| d.num_seconds())
    }

    #[test]
    fn people_type_units_in_many_ways() {
        assert_eq!(secs("5m"), Ok(300));
        assert_eq!(secs("90s"), Ok(90));
        assert_eq!(secs("1h 30m"), Ok(5_400));
        assert_eq!(secs("1h30m"), Ok(5_400));
        assert_eq!(secs("2d"), Ok(172_800));
        assert_eq!(secs("1 h 10 min"), Ok(4_200));
        assert_eq!(secs("45 s"), Ok(45));
        assert_eq!(secs("1w"), Ok(604_800));
        assert_eq!(secs("300"), Ok(300));
        assert_eq!(secs("  2 Hours 5 MINUTES "), Ok(7_500));
        assert_eq!(secs("1 day 1 hr 1 sec"), Ok(90_001));
        assert_eq!(secs("3 weeks"), Ok(3 * 604_800));
        assert_eq!(secs("0s"), Ok(0));
        assert_eq!(secs("0"), Ok(0));
    }

    #[test]
    fn what_is_not_a_duration_is_refused_with_what_to_type() {
        assert_eq!(secs(""), Err(DurationError::Empty));
        assert_eq!(secs("   "), Err(DurationError::Empty));
        assert_eq!(secs("5x"), Err(DurationError::Invalid("5x".into())));
        assert_eq!(
            parse("5x").unwrap_err().to_string(),
            "\"5x\" is not a duration: use units like 90s, 5m, 1h 30m, 2d"
        );
        for bad in [
            "m",
            "h5",
            "1.5h",
            "1h 30",
            "5 m x",
            "1h-30m",
            "five minutes",
            "10ms",
        ] {
            assert_eq!(
                secs(bad),
                Err(DurationError::Invalid(bad.into())),
                "{bad:?} is refused"
            );
        }
        assert_eq!(secs("-5m"), Err(DurationError::Negative("-5m".into())));
        assert_eq!(secs("-300"), Err(DurationError::Negative("-300".into())));
        assert!(parse("-5m").unwrap_err().to_string().contains("negative"));
    }

    #[test]
    fn overflow_is_refused_not_wrapped() {
        for huge in [
            "99999999999999999999",
            "99999999999999999999s",
            "9223372036854775807w",
            "9223372036854775807",
            "9223372036854775807s 1s",
        ] {
            assert!(
                matches!(parse(huge), Err(DurationError::TooLong(_))),
                "{huge}: {:?}",
                parse(huge)
            );
        }
    }

    #[test]
    fn long_refused_texts_are_quoted_briefly() {
        let long = "x".repeat(1_000);
        let message = parse(&long).unwrap_err().to_string();
        assert!(message.len() < 120, "{message}");
    }

    proptest! {
        #[test]
        fn what_human_writes_parse_reads_back(secs in 0i64..=400 * 86_400 * 10) {
            let d = Duration::seconds(secs);
            prop_assert_eq!(parse(&human(d)), Ok(d));
        }

        #[test]
        fn compact_units_add_up(d in 0i64..400, h in 0i64..24, m in 0i64..60, s in 0i64..60) {
            let text = format!("{d}d{h}H {m}min{s}S");
            prop_assert_eq!(secs(&text), Ok(((d * 24 + h) * 60 + m) * 60 + s));
        }
    }

    #[test]
    fn exact_durations_name_every_unit() {
        assert_eq!(human(Duration::seconds(90_061)), "1 d 1 h 1 min 1 s");
        assert_eq!(human(Duration::seconds(4_200)), "1 h 10 min");
        assert_eq!(human(Duration::milliseconds(1_500)), "1 s 500 ms");
        assert_eq!(human(Duration::milliseconds(300)), "300 ms");
        assert_eq!(human(Duration::zero()), "0 s");
        assert_eq!(human(Duration::seconds(-5)), "0 s");
    }

    #[test]
    fn rounded_durations_keep_the_two_largest_units() {
        assert_eq!(human_rounded(Duration::seconds(59)), "59 s");
        assert_eq!(human_rounded(Duration::seconds(60)), "1 min");
        assert_eq!(human_rounded(Duration::seconds(4_920)), "1 h 22 min");
        assert_eq!(
            human_rounded(Duration::seconds(2 * 86_400 + 3 * 3_600 + 59)),
            "2 d 3 h"
        );
        assert_eq!(human_rounded(Duration::milliseconds(61_500)), "1 min 1 s");
        assert_eq!(human_rounded(Duration::milliseconds(250)), "250 ms");
    }
}
