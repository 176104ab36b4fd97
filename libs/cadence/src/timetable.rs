//! The empirical estimate of "time until the next ping" conditioned on when the last one came.
//! For a ping at some local time, every other day (or week) of the history is asked: what gap
//! followed *your* ping nearest to that time? The median answer is the usual gap. This catches
//! calendar schedules that no single interval can express — weekdays only, busy by day and
//! quiet at night, a business day's last ping followed by the night — because each day answers
//! with its own ping at that time: at 16:55 on a Friday it is the last ping of the week.
//!
//! Three conditionings compete, each judged on days (or weeks) it did not learn from: by time
//! of week, by time of day, or none. A finer one is chosen only when it would warn clearly
//! sooner, so a job without a weekly rhythm is not fitted to the three samples each hour of
//! its week has.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::calendar::{DAY_SECS, Phase, WEEK_SECS};
use crate::features::Gap;
use crate::tail::{Tail, median};

/// The table's resolution: the usual gap is kept for every five minutes of the day or week.
const SLOT_SECS: u32 = 300;
/// A day's ping counts as "at that time" within two hours of it.
const BAND_SECS: u32 = 2 * 3600;
/// A finer conditioning must narrow the warning margin by this factor to be chosen.
const BETTER_BY: f64 = 0.9;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Conditioning {
    Week,
    Day,
    None,
    /// By time of day, except where the same weekday in the other weeks agrees on something
    /// else (a Friday evening before the weekend): the day's many samples with the week's
    /// exceptions, and not the week's noise.
    Calendar,
}

impl Conditioning {
    fn cycle_secs(self) -> u32 {
        match self {
            Conditioning::Week | Conditioning::Calendar => WEEK_SECS,
            Conditioning::Day => DAY_SECS,
            Conditioning::None => SLOT_SECS,
        }
    }

    /// Where in its day or week a gap started.
    fn phase(self, phase: Phase) -> u32 {
        match self {
            Conditioning::Week | Conditioning::Calendar => phase.week_secs(),
            Conditioning::Day => phase.day_secs(),
            Conditioning::None => 0,
        }
    }

    /// Which day or week it started in. Day numbers count from a Monday, so weeks do too.
    fn period(self, gap: &Gap) -> i32 {
        match self {
            Conditioning::Week | Conditioning::Calendar => gap.day.div_euclid(7),
            Conditioning::Day => gap.day,
            Conditioning::None => 0,
        }
    }
}

/// Usual log gap per five minutes of the conditioning's cycle (2,016 for a week, 288 for a
/// day, 1 for none).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timetable {
    pub conditioning: Conditioning,
    usual: Vec<f64>,
}

/// The table and each gap's out-of-sample [`deviation`] from the usual gap predicted from the
/// other days or weeks, from which the spread is learned.
pub struct Fitted {
    pub table: Timetable,
    pub residuals: Vec<f64>,
}

/// The gaps of one conditioning, by period, each period's sorted by where they started.
struct Level {
    conditioning: Conditioning,
    periods: Vec<(i32, Vec<(u32, f64)>)>,
    overall: f64,
    /// Pings within this many seconds count as "at that time": twice the usual gap (so a
    /// day's last ping is seen from its second-to-last), at most the band.
    near: u32,
}

impl Level {
    fn new(conditioning: Conditioning, gaps: &[(Gap, f64)], overall: f64) -> Self {
        let mut by_period: BTreeMap<i32, Vec<(u32, f64)>> = BTreeMap::new();
        for (gap, log) in gaps {
            by_period
                .entry(conditioning.period(gap))
                .or_default()
                .push((conditioning.phase(gap.from), *log));
        }
        let periods = by_period
            .into_iter()
            .map(|(p, mut v)| {
                v.sort_by_key(|p| p.0);
                (p, v)
            })
            .collect();
        Level {
            conditioning,
            periods,
            overall,
            near: ((2.0 * overall.exp()) as u32).min(BAND_SECS),
        }
    }

    /// The usual log gap after a ping at `phase`, asking every period but `skip`.
    fn predict(&self, phase: u32, skip: Option<i32>) -> Option<f64> {
        if self.conditioning == Conditioning::None {
            return Some(self.overall);
        }
        let mut answers = self.answers(phase, skip);
        (!answers.is_empty()).then(|| median(&mut answers))
    }

    fn answers(&self, phase: u32, skip: Option<i32>) -> Vec<f64> {
        self.periods
            .iter()
            .filter(|(p, _)| Some(*p) != skip)
            .filter_map(|(_, pings)| answer(pings, phase, self.near))
            .collect()
    }
}

/// Weeks agree when their answers are within this factor of each other; they overrule the day
/// when they differ from it by more.
const AGREE: f64 = 0.405; // ln 1.5

/// The [`Conditioning::Calendar`] prediction after a ping at `phase` on local day `day`,
/// leaving that day and its week out when `leave_out`.
fn calendar(days: &Level, weeks: &Level, phase: Phase, day: i32, leave_out: bool) -> Option<f64> {
    let by_day = days.predict(phase.day_secs(), leave_out.then_some(day));
    let mut by_week = weeks.answers(phase.week_secs(), leave_out.then_some(day.div_euclid(7)));
    if by_week.len() >= 2 {
        let (lo, hi) = by_week
            .iter()
            .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
        let week = median(&mut by_week);
        if hi - lo <= AGREE && by_day.is_none_or(|d| (week - d).abs() > AGREE) {
            return Some(week);
        }
    }
    by_day
}

impl Level {}

/// One period's answer for a ping at `phase`: the longest gap after its pings within `near`
/// of it, else the gap after its ping nearest to it within the band. The longest, because a
/// business day's last ping may come a few minutes earlier or later than usual: at 16:48 the
/// day that ended at 16:52 answers "the night", not the ten minutes after its 16:45 ping.
fn answer(pings: &[(u32, f64)], phase: u32, near: u32) -> Option<f64> {
    let from = pings.partition_point(|(p, _)| *p + near < phase);
    let close = pings[from..]
        .iter()
        .take_while(|(p, _)| *p <= phase + near)
        .map(|(_, log)| *log)
        .fold(None, |max: Option<f64>, log| {
            Some(max.map_or(log, |m| m.max(log)))
        });
    close.or_else(|| {
        let i = pings.partition_point(|(p, _)| *p < phase);
        [i.checked_sub(1), Some(i)]
            .into_iter()
            .flatten()
            .filter_map(|j| pings.get(j))
            .map(|(p, log)| (p.abs_diff(phase), *log))
            .filter(|(d, _)| *d <= BAND_SECS)
            .min_by_key(|(d, _)| *d)
            .map(|(_, log)| log)
    })
}

/// How far a gap strayed from the usual one, as a log ratio on the scale of the usual gap, but
/// never a scale longer than a day: a cron job's lateness is minutes whether its gap is a day
/// or a weekend, while a queue worker's gaps stretch in proportion.
pub fn deviation(log_gap: f64, usual_log: f64) -> f64 {
    let usual = usual_log.exp();
    let scale = usual.min(DAY_SECS as f64);
    (1.0 + (log_gap.exp() - usual) / scale).max(1e-3).ln()
}

/// The gap that strays `deviation` from a usual gap of `exp(usual_log)` seconds: the inverse of
/// [`deviation`].
pub fn gap_secs(usual_log: f64, deviation: f64) -> f64 {
    let usual = usual_log.exp();
    let scale = usual.min(DAY_SECS as f64);
    usual + scale * (deviation.exp() - 1.0)
}

impl Timetable {
    /// `None` without gaps. Gaps of zero length are skipped. `per_week` is how many gaps a
    /// week holds: levels are compared by where they would warn.
    pub fn fit(gaps: &[Gap], per_week: f64) -> Option<Fitted> {
        let logs: Vec<(Gap, f64)> = gaps
            .iter()
            .filter(|g| g.secs > 0.0)
            .map(|g| (*g, g.secs.ln()))
            .collect();
        if logs.is_empty() {
            return None;
        }
        let overall = median(&mut logs.iter().map(|(_, l)| *l).collect::<Vec<_>>());
        // Coarse to fine; a finer level answers with the coarser one where it has no answer.
        let mut best: Option<(f64, Fitted)> = None;
        let mut coarser: Option<(&Level, Vec<f64>)> = None;
        // Each grouping is built once: the calendar conditioning asks the day and week ones.
        let flat = Level::new(Conditioning::None, &logs, overall);
        let days = Level::new(Conditioning::Day, &logs, overall);
        let weeks = Level::new(Conditioning::Week, &logs, overall);
        for (conditioning, level) in [
            (Conditioning::None, &flat),
            (Conditioning::Day, &days),
            (Conditioning::Week, &weeks),
            (Conditioning::Calendar, &weeks),
        ] {
            let predict = |gap: &Gap| match conditioning {
                Conditioning::Calendar => calendar(&days, &weeks, gap.from, gap.day, true),
                _ => level.predict(conditioning.phase(gap.from), Some(conditioning.period(gap))),
            };
            let residuals: Vec<f64> = logs
                .iter()
                .enumerate()
                .map(|(i, (gap, log))| match predict(gap) {
                    Some(usual) => deviation(*log, usual),
                    None => coarser
                        .as_ref()
                        .map_or(deviation(*log, overall), |(_, r)| r[i]),
                })
                .collect();
            // What matters is how soon silence becomes improbable: the level whose warning sits
            // closest to the usual gap wins. (Mean error would let a busy day's many gaps
            // outvote the night's few, and the night is where a flat model cries wolf.)
            let error = Tail::learn(&residuals).map_or(f64::MAX, |t| t.warning(per_week) - t.low);
            if best.as_ref().is_none_or(|(e, _)| error < e * BETTER_BY) {
                let table = match conditioning {
                    Conditioning::Calendar => Timetable::tabulate_calendar(&days, &weeks, overall),
                    _ => Timetable::tabulate(level, coarser.as_ref().map(|(l, _)| *l)),
                };
                best = Some((
                    error,
                    Fitted {
                        table,
                        residuals: residuals.clone(),
                    },
                ));
            }
            coarser = Some((level, residuals));
        }
        best.map(|(_, fitted)| fitted)
    }

    fn tabulate(level: &Level, coarser: Option<&Level>) -> Timetable {
        let c = level.conditioning;
        let slots = c.cycle_secs() / SLOT_SECS;
        let usual = (0..slots)
            .map(|s| {
                let phase = s * SLOT_SECS + SLOT_SECS / 2;
                level
                    .predict(phase, None)
                    .or_else(|| {
                        coarser.and_then(|l| l.predict(phase % l.conditioning.cycle_secs(), None))
                    })
                    .unwrap_or(level.overall)
            })
            .collect();
        Timetable {
            conditioning: c,
            usual,
        }
    }

    fn tabulate_calendar(days: &Level, weeks: &Level, overall: f64) -> Timetable {
        let usual = (0..WEEK_SECS / SLOT_SECS)
            .map(|s| {
                let phase = Phase::from_week_secs(s * SLOT_SECS + SLOT_SECS / 2);
                calendar(days, weeks, phase, 0, false).unwrap_or(overall)
            })
            .collect();
        Timetable {
            conditioning: Conditioning::Calendar,
            usual,
        }
    }

    /// The usual log gap after a ping at `phase`.
    pub fn usual_log_gap(&self, phase: Phase) -> f64 {
        let slot = (self.conditioning.phase(phase) / SLOT_SECS) as usize;
        self.usual[slot.min(self.usual.len() - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A gap starting at `secs` into local day `day` (day 0 is a Monday).
    fn gap(day: i32, secs: u32, len: f64) -> Gap {
        Gap {
            from: Phase::from_week_secs(day.rem_euclid(7) as u32 * DAY_SECS + secs),
            // 1 January 2024 (day 738,886 from the common era's start) was a Monday.
            day: 738_886 + day,
            secs: len,
        }
    }

    #[test]
    fn a_steady_job_needs_no_calendar() {
        let gaps: Vec<Gap> = (0..4000)
            .map(|i: i32| {
                let jitter = (i as u64).wrapping_mul(2_654_435_761) >> 7 & 7;
                gap(i / 288, (i % 288) as u32 * 300, 300.0 + jitter as f64)
            })
            .collect();
        let fitted = Timetable::fit(&gaps, 100.0).unwrap_or_else(|| panic!("gaps"));
        assert_eq!(fitted.table.conditioning, Conditioning::None);
        let usual = fitted.table.usual_log_gap(Phase::from_week_secs(0)).exp();
        assert!((usual - 303.5).abs() < 2.0, "{usual}");
    }

    #[test]
    fn weekdays_only_learns_the_weekend() {
        // Daily at 02:00, Monday to Friday, three weeks: Friday's gap is three days.
        let gaps: Vec<Gap> = (0..21)
            .filter(|d| d % 7 < 5)
            .map(|d| {
                gap(
                    d,
                    7200 + (d as u32 * 7) % 60,
                    if d % 7 == 4 { 3.0 * 86_400.0 } else { 86_400.0 },
                )
            })
            .collect();
        let fitted = Timetable::fit(&gaps, 100.0).unwrap_or_else(|| panic!("gaps"));
        assert_eq!(fitted.table.conditioning, Conditioning::Week);
        let after = |d: i32| {
            fitted
                .table
                .usual_log_gap(gap(d, 7200, 0.0).from)
                .exp()
                .round()
        };
        assert_eq!(after(1), 86_400.0);
        assert_eq!(after(4), 3.0 * 86_400.0);
    }

    #[test]
    fn the_last_ping_of_a_business_day_is_followed_by_the_night() {
        // Every 10 minutes from 09:00 to 16:50 on weekdays; the 16:50 ping is the day's last.
        let mut gaps = Vec::new();
        for d in (0..21).filter(|d| d % 7 < 5) {
            for k in 0..48u32 {
                let at = 9 * 3600 + k * 600;
                let next = if k < 47 {
                    600.0
                } else if d % 7 == 4 {
                    (64 * 3600 + 600) as f64
                } else {
                    (16 * 3600 + 600) as f64
                };
                gaps.push(gap(d, at, next));
            }
        }
        let fitted = Timetable::fit(&gaps, 100.0).unwrap_or_else(|| panic!("gaps"));
        let after = |d: i32, secs: u32| {
            fitted
                .table
                .usual_log_gap(gap(d, secs, 0.0).from)
                .exp()
                .round()
        };
        assert_eq!(after(2, 11 * 3600), 600.0);
        assert_eq!(after(2, 16 * 3600 + 3000), (16 * 3600 + 600) as f64);
        assert_eq!(after(4, 16 * 3600 + 3000), (64 * 3600 + 600) as f64);
    }

    #[test]
    fn busy_days_and_quiet_nights_are_told_apart() {
        // Every 2 minutes from 08:00 to 20:00, every hour at night, every day.
        let mut gaps = Vec::new();
        for day in 0..14 {
            let mut t = 0u32;
            while t < DAY_SECS {
                let hour = t / 3600;
                let len = if (8..20).contains(&hour) { 120 } else { 3600 };
                gaps.push(gap(day, t, len as f64));
                t += len;
            }
        }
        let fitted = Timetable::fit(&gaps, 100.0).unwrap_or_else(|| panic!("gaps"));
        assert_ne!(fitted.table.conditioning, Conditioning::None);
        let after = |h: u32| {
            fitted
                .table
                .usual_log_gap(gap(2, h * 3600, 0.0).from)
                .exp()
                .round()
        };
        assert_eq!(after(12), 120.0);
        assert_eq!(after(3), 3600.0);
    }

    #[test]
    fn deviations_of_long_gaps_are_counted_in_days() {
        let day = (DAY_SECS as f64).ln();
        let weekend = (3.0 * DAY_SECS as f64).ln();
        // Ten minutes late is the same deviation after a day and after a weekend...
        let late = |usual: f64| deviation((usual.exp() + 600.0).ln(), usual);
        assert!((late(day) - late(weekend)).abs() < 1e-12);
        // ...and twice the gap is a doubling for short gaps.
        assert!((deviation(600f64.ln(), 300f64.ln()) - 2f64.ln()).abs() < 1e-12);
        for (usual, d) in [(day, 0.01), (weekend, 0.01), (300f64.ln(), 0.7)] {
            assert!((deviation(gap_secs(usual, d).ln(), usual) - d).abs() < 1e-9);
        }
    }
}
