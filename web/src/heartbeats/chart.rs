//! The ping timeline as server-rendered SVG: one lane per kind of ping (success, start,
//! progress, fail), each with its own shape and colour; shaded bands for gaps (no ping for longer
//! than interval + grace), incidents and Lifeline's own outages; for an AI heartbeat with a model,
//! the window in which it expected each next ping; time ticks along the bottom.
//! Everything is computed here in view-box units, so the template only writes it out and the
//! page needs no JavaScript to show it.

use chrono::{DateTime, Datelike, Duration, TimeZone, Timelike, Utc};
use lifeline_domain::PingKind;
use lifeline_domain::duration::{human, human_rounded};
use lifeline_store::coverage::Outage;
use lifeline_store::history::{Mark, Timeline};
use lifeline_store::incidents::Incident;

use super::range::{Range, TickStep};

/// The view box: the SVG scales to the page's width.
pub const WIDTH: f64 = 900.0;
pub const HEIGHT: f64 = 164.0;
const LEFT: f64 = 74.0;
const RIGHT: f64 = 890.0;
const TOP: f64 = 8.0;
const BOTTOM: f64 = 136.0;
const LANE_GAP: f64 = 32.0;
/// Narrower bands would vanish: a one-minute outage on a year still shows.
const MIN_BAND: f64 = 2.0;

/// Lanes top to bottom.
const LANES: [PingKind; 4] = [
    PingKind::Success,
    PingKind::Start,
    PingKind::Progress,
    PingKind::Fail,
];

#[derive(Clone, Debug)]
pub struct Chart {
    pub width: f64,
    pub height: f64,
    pub left: String,
    pub right: String,
    pub top: String,
    pub bottom: String,
    pub label: String,
    pub range: &'static str,
    pub lanes: Vec<Lane>,
    pub bands: Vec<Band>,
    /// An AI heartbeat's expected windows (`expected_bands`); empty otherwise.
    pub expected: Vec<Band>,
    pub marks: Vec<MarkView>,
    pub ticks: Vec<Tick>,
    /// How many pings the range holds.
    pub pings: i64,
    /// "Counted per 5 min": set when the marks are buckets.
    pub bucketed: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Lane {
    pub label: &'static str,
    pub y: String,
    pub text_y: String,
}

#[derive(Clone, Debug)]
pub struct Band {
    /// `gap`, `incident` or `outage`: the `data-band` attribute and the CSS class.
    pub kind: &'static str,
    pub x: String,
    pub width: String,
    pub title: String,
}

#[derive(Clone, Debug)]
pub struct MarkView {
    /// The `data-kind` attribute.
    pub kind: &'static str,
    pub d: String,
    pub count: i64,
    pub title: String,
}

#[derive(Clone, Debug)]
pub struct Tick {
    pub x: String,
    pub label: String,
}

/// A view-box coordinate with one decimal, formatted through integers: float formatting with a
/// precision is slow enough to show on a chart of hundreds of marks.
#[derive(Clone, Copy)]
struct D1(f64);

impl std::fmt::Display for D1 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let tenths = (self.0 * 10.0).round() as i64;
        let sign = if tenths < 0 { "-" } else { "" };
        write!(f, "{sign}{}.{}", tenths.abs() / 10, tenths.abs() % 10)
    }
}

fn n(v: f64) -> String {
    D1(v).to_string()
}

fn lane_y(kind: PingKind) -> f64 {
    let i = LANES.iter().position(|k| *k == kind).unwrap_or(0) as f64;
    TOP + 20.0 + i * LANE_GAP
}

pub fn kind_label(kind: PingKind) -> &'static str {
    match kind {
        PingKind::Success => "Success",
        PingKind::Start => "Start",
        PingKind::Fail => "Fail",
        PingKind::Progress => "Progress",
    }
}

/// `2026-11-26 07:05:00 UTC`. Written by hand: chrono's `format` parses its pattern on every
/// call, which for the hundreds of marks of a chart was most of the page's rendering time.
pub fn utc(at: DateTime<Utc>) -> String {
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
        at.year(),
        at.month(),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

/// Maps times of `[from, to]` onto the plot's x axis.
struct Scale {
    from: DateTime<Utc>,
    span_ms: f64,
}

impl Scale {
    fn x(&self, at: DateTime<Utc>) -> f64 {
        let t = (at - self.from).num_milliseconds() as f64 / self.span_ms;
        LEFT + t.clamp(0.0, 1.0) * (RIGHT - LEFT)
    }

    /// A band from `a` to `b`, clipped to the plot, at least `MIN_BAND` wide.
    fn band(&self, kind: &'static str, a: DateTime<Utc>, b: DateTime<Utc>, title: String) -> Band {
        let (x0, x1) = (self.x(a), self.x(b));
        let width = (x1 - x0).max(MIN_BAND);
        let x = x0.min(RIGHT - width);
        Band {
            kind,
            x: n(x),
            width: n(width),
            title,
        }
    }
}

/// The SVG path of a mark: a circle for success, a right-pointing triangle for start, a diamond
/// for progress and a square for failure, so kinds differ without colour too.
fn shape(kind: PingKind, x: f64, y: f64, r: f64) -> String {
    let (xl, xr, yt, yb) = (D1(x - r), D1(x + r), D1(y - r), D1(y + r));
    let (x, y, r2) = (D1(x), D1(y), D1(2.0 * r));
    match kind {
        PingKind::Success => {
            let r = D1(r);
            format!("M{xl} {y}a{r} {r} 0 1 0 {r2} 0a{r} {r} 0 1 0 -{r2} 0Z")
        }
        PingKind::Start => format!("M{xl} {yt}L{xr} {y}L{xl} {yb}Z"),
        PingKind::Progress => format!("M{x} {yt}L{xr} {y}L{x} {yb}L{xl} {y}Z"),
        PingKind::Fail => {
            // A square a little smaller than the circle, so both look the same size.
            let s = r * 0.85;
            let (x0, y0, side) = (D1(x.0 - s), D1(y.0 - s), D1(2.0 * s));
            format!("M{x0} {y0}h{side}v{side}h-{side}Z")
        }
    }
}

fn mark_view(scale: &Scale, m: &Mark, bucket: Option<Duration>) -> MarkView {
    let y = lane_y(m.kind);
    let (x, r, title) = match bucket {
        // A bucket is drawn at its middle, bigger as it holds more pings; a bucket of one ping
        // is drawn as that ping.
        Some(width) if m.count > 1 => {
            let r = (4.0 + (m.count as f64).log2() * 0.6).min(8.0);
            let title = format!(
                "{} × {} between {} and {}",
                m.count,
                m.kind.as_str(),
                utc(m.first_at),
                utc(m.last_at)
            );
            (scale.x(m.at + width / 2), r, title)
        }
        _ => {
            let mut title = format!("{} at {}", kind_label(m.kind), utc(m.first_at));
            if let Some(code) = m.exit_code {
                title.push_str(&format!(" (exit code {code})"));
            }
            (scale.x(m.first_at), 4.0, title)
        }
    };
    MarkView {
        kind: m.kind.as_str(),
        d: shape(m.kind, x, y, r),
        count: m.count,
        title,
    }
}

/// The chart of one range.
pub fn build(
    range: Range,
    timeline: &Timeline,
    incidents: &[Incident],
    outages: &[Outage],
    gap_after: Duration,
) -> Chart {
    let (from, to) = (timeline.from, timeline.to);
    let scale = Scale {
        from,
        span_ms: ((to - from).num_milliseconds() as f64).max(1.0),
    };
    let mut bands = Vec::new();
    for g in &timeline.gaps {
        bands.push(scale.band(
            "gap",
            g.from.max(from),
            g.to.min(to),
            format!(
                "No ping for {} (from {} to {}); expected every {}",
                human_rounded(g.to - g.from),
                utc(g.from),
                utc(g.to),
                human(gap_after)
            ),
        ));
    }
    for o in outages {
        bands.push(scale.band(
            "outage",
            o.started_at.max(from),
            o.ended_at.min(to),
            format!(
                "Lifeline could not receive pings for {} (from {} to {}); deadlines were moved by that long",
                human_rounded(o.ended_at - o.started_at),
                utc(o.started_at),
                utc(o.ended_at)
            ),
        ));
    }
    for i in incidents {
        let end = i.resolved_at.unwrap_or(to).min(to);
        let what = i.kind.title();
        let until = match i.resolved_at {
            Some(at) => format!("resolved {}", utc(at)),
            None => "still open".to_owned(),
        };
        bands.push(scale.band(
            "incident",
            i.opened_at.max(from),
            end,
            format!(
                "{what}: {} (opened {}, {until})",
                i.reason,
                utc(i.opened_at)
            ),
        ));
    }
    let marks = timeline
        .marks
        .iter()
        .map(|m| mark_view(&scale, m, timeline.bucket))
        .collect();
    let lanes = LANES
        .iter()
        .map(|&k| Lane {
            label: k.as_str(),
            y: n(lane_y(k)),
            text_y: n(lane_y(k) + 4.0),
        })
        .collect();
    Chart {
        width: WIDTH,
        height: HEIGHT,
        left: n(LEFT),
        right: n(RIGHT),
        top: n(TOP),
        bottom: n(BOTTOM),
        label: format!(
            "{} pings over the last {}, with gaps, incidents and outages shaded",
            timeline.pings,
            range.label()
        ),
        range: range.key(),
        lanes,
        bands,
        expected: Vec::new(),
        marks,
        ticks: ticks(range, from, to, &scale),
        pings: timeline.pings,
        bucketed: timeline
            .bucket
            .map(|w| format!("Pings are counted per {}", human(w))),
    }
}

/// When a model expected the next ping after one: from `from` to `by`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExpectedWindow {
    pub after: DateTime<Utc>,
    pub from: DateTime<Utc>,
    pub by: DateTime<Utc>,
}

/// The bands of the windows that overlap the timeline's range (a window still ahead of it, such
/// as the one after the newest ping, is for the panel's text, not the chart), clipped to it.
pub fn expected_bands(timeline: &Timeline, windows: &[ExpectedWindow]) -> Vec<Band> {
    let (from, to) = (timeline.from, timeline.to);
    let scale = Scale {
        from,
        span_ms: ((to - from).num_milliseconds() as f64).max(1.0),
    };
    windows
        .iter()
        .filter(|w| w.from < to && w.by > from)
        .map(|w| {
            scale.band(
                "expected",
                w.from.max(from),
                w.by.min(to),
                format!(
                    "Expected the next ping between {} and {} (after the success at {})",
                    utc(w.from),
                    utc(w.by),
                    utc(w.after)
                ),
            )
        })
        .collect()
}

fn ticks(range: Range, from: DateTime<Utc>, to: DateTime<Utc>, scale: &Scale) -> Vec<Tick> {
    let times: Vec<DateTime<Utc>> = match range.ticks() {
        TickStep::Fixed { every, offset } => {
            let step = every.num_seconds().max(1);
            let shift = offset.num_seconds();
            let start = (from.timestamp() - shift).div_euclid(step) * step + shift;
            (1..)
                .map(|i| start + i * step)
                .take_while(|&t| t < to.timestamp())
                .filter_map(|t| DateTime::from_timestamp(t, 0))
                .collect()
        }
        TickStep::Months => {
            let mut out = Vec::new();
            let (mut y, mut m) = (from.year(), from.month());
            loop {
                (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
                match Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0).single() {
                    Some(t) if t < to => out.push(t),
                    _ => break,
                }
            }
            out
        }
    };
    times
        .into_iter()
        .map(|t| Tick {
            x: n(scale.x(t)),
            label: if t.hour() == 0 && t.minute() == 0 {
                t.format("%b %-d").to_string()
            } else {
                t.format("%H:%M").to_string()
            },
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use lifeline_store::history::Gap;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn timeline(marks: Vec<Mark>) -> Timeline {
        Timeline {
            from: at("2026-11-25T12:00:00Z"),
            to: at("2026-11-26T12:00:00Z"),
            bucket: None,
            pings: marks.len() as i64,
            marks,
            gaps: vec![Gap {
                from: at("2026-11-25T10:00:00Z"),
                to: at("2026-11-25T18:00:00Z"),
            }],
        }
    }

    fn mark(kind: PingKind, when: &str) -> Mark {
        Mark {
            kind,
            at: at(when),
            first_at: at(when),
            last_at: at(when),
            count: 1,
            exit_code: None,
        }
    }

    #[test]
    fn each_kind_has_its_lane_and_shape() {
        let t = timeline(vec![
            mark(PingKind::Start, "2026-11-26T00:00:00Z"),
            mark(PingKind::Fail, "2026-11-26T00:00:00Z"),
        ]);
        let chart = build(Range::Day, &t, &[], &[], Duration::minutes(10));
        assert_eq!(chart.marks[0].kind, "start");
        assert_eq!(chart.marks[1].kind, "fail");
        assert_ne!(chart.marks[0].d, chart.marks[1].d);
        // Midnight sits in the middle of the day's plot.
        assert!(
            chart.marks[0].d.starts_with("M478.0 "),
            "{}",
            chart.marks[0].d
        );
    }

    #[test]
    fn gaps_are_clipped_to_the_range_and_ticks_name_midnight_by_its_date() {
        let chart = build(Range::Day, &timeline(vec![]), &[], &[], Duration::hours(1));
        assert_eq!(chart.bands.len(), 1);
        assert_eq!(chart.bands[0].x, n(LEFT));
        assert!(
            chart.bands[0].title.contains("8 h"),
            "{}",
            chart.bands[0].title
        );
        let labels: Vec<&str> = chart.ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "15:00", "18:00", "21:00", "Nov 26", "03:00", "06:00", "09:00"
            ]
        );
    }

    #[test]
    fn expected_windows_are_drawn_only_where_they_overlap_the_range() {
        let t = timeline(vec![]);
        let window = |after: &str, from: &str, by: &str| ExpectedWindow {
            after: at(after),
            from: at(from),
            by: at(by),
        };
        let bands = expected_bands(
            &t,
            &[
                window(
                    "2026-11-26T00:00:00Z",
                    "2026-11-26T00:55:00Z",
                    "2026-11-26T01:05:00Z",
                ),
                // Still ahead of the range: the panel says it, the chart cannot.
                window(
                    "2026-11-26T11:50:00Z",
                    "2026-11-26T12:45:00Z",
                    "2026-11-26T12:55:00Z",
                ),
            ],
        );
        assert_eq!(bands.len(), 1);
        assert_eq!(bands[0].kind, "expected");
        assert!(
            bands[0].title.contains("between 2026-11-26 00:55:00 UTC"),
            "{}",
            bands[0].title
        );
    }

    #[test]
    fn a_year_is_marked_by_months() {
        let from = at("2025-11-26T12:00:00Z");
        let mut t = timeline(vec![]);
        t.from = from;
        let chart = build(Range::Year, &t, &[], &[], Duration::hours(1));
        assert_eq!(chart.ticks.len(), 12);
        assert_eq!(chart.ticks[0].label, "Dec 1");
    }
}
