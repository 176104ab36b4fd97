//! What the model learns from: a heartbeat's pings turned into the gaps between finished runs
//! (with the local time each gap started at), run times (`start` → success) and body sizes.

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;
use lifeline_domain::PingKind;

use crate::calendar::{Phase, gap_secs};

/// One ping of the history, as stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistoryPing {
    pub at: DateTime<Utc>,
    pub kind: PingKind,
    pub body_size: u64,
}

/// The time between two finished runs, and where on the job's local week it started.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Gap {
    pub from: Phase,
    /// The local calendar day the gap started on (days since 1 January of year 1), which
    /// tells one day's or week's pings from another's.
    pub day: i32,
    pub secs: f64,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Features {
    /// Between consecutive success or failure signals, in order.
    pub gaps: Vec<Gap>,
    /// Between the starts of consecutive runs that both sent one, in order.
    pub starts: Vec<Gap>,
    /// Seconds from a start to the success that ended it, in order.
    pub runs: Vec<f64>,
    /// Body sizes of successful pings, in order.
    pub sizes: Vec<f64>,
    /// Success and failure signals seen.
    pub finished: usize,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
}

/// Stretches of history that are not the job's normal behaviour: while a `down` incident or an
/// early warning was open (an outage is not a long gap to get used to) — `down` — and while an
/// early warning was open (an empty payload is not a size to get used to) — `payload`. Warnings
/// the team marked "expected" are not listed: they are normal, and the model learns them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Unusual {
    pub down: Vec<Period>,
    pub payload: Vec<Period>,
}

/// From the instant an incident opened to the instant it was resolved (or now).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

/// Whether a stretch shares more than an end point with a period: the ping that resolved an
/// incident ends the odd gap and starts a normal one.
fn overlaps(periods: &[Period], from: DateTime<Utc>, until: DateTime<Utc>) -> bool {
    periods.iter().any(|p| p.from < until && from < p.until)
}

fn within(periods: &[Period], at: DateTime<Utc>) -> bool {
    periods.iter().any(|p| p.from <= at && at <= p.until)
}

/// Extracts the features of `pings` (in time order) on the clock of `tz`. Progress pings say
/// nothing about the cadence; a failure ends a run but its duration and body are not a normal
/// run's. Gaps and runs that overlap an outage, and sizes sent during a payload warning, are
/// left out.
pub fn extract(pings: &[HistoryPing], tz: Tz, unusual: &Unusual) -> Features {
    let mut f = Features::default();
    let mut previous: Option<DateTime<Utc>> = None;
    let mut started: Option<DateTime<Utc>> = None;
    // The start of the run before, while the runs since all sent one.
    let mut previous_start: Option<DateTime<Utc>> = None;
    for p in pings {
        f.first = f.first.or(Some(p.at));
        f.last = Some(p.at);
        match p.kind {
            PingKind::Start => started = Some(p.at),
            PingKind::Progress => {}
            PingKind::Success | PingKind::Fail => {
                if let Some(prev) = previous.filter(|prev| !overlaps(&unusual.down, *prev, p.at)) {
                    f.gaps.push(gap(prev, p.at, tz));
                }
                let run_start = started.filter(|s| *s <= p.at);
                if let (Some(prev), Some(s)) = (previous_start, run_start)
                    && !overlaps(&unusual.down, prev, s)
                {
                    f.starts.push(gap(prev, s, tz));
                }
                previous_start = run_start;
                if p.kind == PingKind::Success {
                    if let Some(s) = run_start.filter(|s| !overlaps(&unusual.down, *s, p.at)) {
                        f.runs.push((p.at - s).num_milliseconds() as f64 / 1000.0);
                    }
                    if !within(&unusual.payload, p.at) {
                        f.sizes.push(p.body_size as f64);
                    }
                }
                started = None;
                previous = Some(p.at);
                f.finished += 1;
            }
        }
    }
    f
}

fn gap(from: DateTime<Utc>, until: DateTime<Utc>, tz: Tz) -> Gap {
    Gap {
        from: Phase::of(from, tz),
        day: from.with_timezone(&tz).date_naive().num_days_from_ce(),
        secs: gap_secs(from, until, tz),
    }
}

/// The start of the run that a success or failure at `ended` finished: the latest start after
/// the finished ping before it, as the ping path pairs them.
pub fn run_start(pings: &[HistoryPing], ended: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let before = &pings[..pings.partition_point(|p| p.at < ended)];
    before
        .iter()
        .rev()
        .take_while(|p| !p.kind.ends_run())
        .find(|p| p.kind == PingKind::Start)
        .map(|p| p.at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America::New_York;

    fn ping(at: &str, kind: PingKind, body_size: u64) -> HistoryPing {
        HistoryPing {
            at: DateTime::parse_from_rfc3339(at)
                .unwrap_or_else(|e| panic!("{at}: {e}"))
                .with_timezone(&Utc),
            kind,
            body_size,
        }
    }

    #[test]
    fn starts_pair_with_the_success_that_ends_them() {
        use PingKind::*;
        let f = extract(
            &[
                ping("2026-03-02T07:00:00Z", Start, 0),
                ping("2026-03-02T07:00:30Z", Progress, 9),
                ping("2026-03-02T07:10:00Z", Success, 100),
                // A start that failed: no run time, no size, but a gap.
                ping("2026-03-03T07:00:00Z", Start, 0),
                ping("2026-03-03T07:05:00Z", Fail, 5),
                // A restarted run counts from its latest start.
                ping("2026-03-04T07:00:00Z", Start, 0),
                ping("2026-03-04T07:02:00Z", Start, 0),
                ping("2026-03-04T07:12:00Z", Success, 300),
                // A success without a start: a gap and a size, no run.
                ping("2026-03-05T07:00:00Z", Success, 200),
            ],
            New_York,
            &Unusual::default(),
        );
        assert_eq!(f.runs, vec![600.0, 600.0]);
        // From the first run's start to the failed one's, and on to the restarted one's latest.
        let starts: Vec<f64> = f.starts.iter().map(|g| g.secs).collect();
        assert_eq!(starts, vec![86_400.0, 86_520.0]);
        assert_eq!(f.sizes, vec![100.0, 300.0, 200.0]);
        assert_eq!(f.finished, 4);
        let gaps: Vec<f64> = f.gaps.iter().map(|g| g.secs).collect();
        assert_eq!(gaps, vec![86_100.0, 86_820.0, 85_680.0]);
        // 07:10 UTC on Monday 2 March is 02:10 in New York (EST).
        assert_eq!(f.gaps[0].from.weekday(), 0);
        assert_eq!(f.gaps[0].from.day_secs(), 2 * 3600 + 600);
    }

    #[test]
    fn a_finished_run_knows_its_start() {
        use PingKind::*;
        let pings = [
            ping("2026-03-02T07:00:00Z", Start, 0),
            ping("2026-03-02T07:10:00Z", Success, 100),
            ping("2026-03-03T07:00:00Z", Success, 100),
        ];
        assert_eq!(run_start(&pings, pings[1].at), Some(pings[0].at));
        assert_eq!(
            run_start(&pings, pings[2].at),
            None,
            "no start since the last run"
        );
    }

    #[test]
    fn weekday_edges_follow_local_midnight() {
        use PingKind::Success;
        // Saturday 23:59 local (04:59 UTC Sunday) → Monday 00:01 local.
        let f = extract(
            &[
                ping("2026-03-08T04:59:00Z", Success, 0),
                ping("2026-03-09T04:01:00Z", Success, 0),
            ],
            New_York,
            &Unusual::default(),
        );
        // 8 March 2026 is also the US spring change: the wall clock gains an hour, but the gap
        // is over 12 h so it is measured on it.
        assert_eq!(f.gaps[0].from.weekday(), 5);
        assert_eq!(f.gaps[0].secs, 24.0 * 3600.0 + 120.0);
    }

    #[test]
    fn outages_and_odd_payloads_are_not_learned() {
        use PingKind::*;
        let at = |s: &str| ping(s, Success, 0).at;
        let pings = [
            ping("2026-03-02T07:00:00Z", Success, 100),
            ping("2026-03-03T07:00:00Z", Success, 100),
            // Down from 4 March 08:00 to this ping: the 3-day gap is an outage.
            ping("2026-03-06T07:00:00Z", Success, 0),
            ping("2026-03-07T07:00:00Z", Start, 0),
            ping("2026-03-07T07:10:00Z", Success, 100),
        ];
        let unusual = Unusual {
            down: vec![Period {
                from: at("2026-03-04T08:00:00Z"),
                until: at("2026-03-06T07:00:00Z"),
            }],
            payload: vec![Period {
                from: at("2026-03-06T07:00:00Z"),
                until: at("2026-03-07T07:10:00Z") - chrono::Duration::seconds(1),
            }],
        };
        let f = extract(&pings, New_York, &unusual);
        let gaps: Vec<f64> = f.gaps.iter().map(|g| g.secs).collect();
        assert_eq!(gaps, vec![86_400.0, 87_000.0]);
        assert_eq!(f.sizes, vec![100.0, 100.0, 100.0]);
        assert_eq!(f.runs, vec![600.0]);
    }
}
