//! Durations as people write them: "1 h 10 min", "45 s", "2 d 3 h", "300 ms". The one formatter
//! for reasons, alerts and error messages, so every text Lifeline writes counts time the same way.

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

#[cfg(test)]
mod tests {
    use super::*;

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
