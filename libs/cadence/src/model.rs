//! A heartbeat's learned model: trained from its features, stored as JSON in `ai_models.params`,
//! and evaluated after every ping into the domain's [`LearnedCadence`] — when the next ping is
//! expected, when to warn, when it is down, when a run is too long, and whether this ping's
//! payload is a surprise. Loading a model never needs the history again.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use lifeline_domain::{
    HeartbeatTiming, LearnedCadence, PayloadSurprise, PingKind, Schedule, StartExpectation,
};
use serde::{Deserialize, Serialize};

use crate::calendar::{Phase, add_secs};
use crate::features::{Features, Gap, HistoryPing, Unusual, extract};
use crate::mixture::{Mixture, circular};
use crate::tail::{FALSE_WARNINGS_PER_WEEK, Tail, median};
use crate::timetable::{Timetable, gap_secs};

/// Bumped when the stored shape or its meaning changes; older models are retrained.
pub const VERSION: i32 = 2;

/// Which predictor decides. `Combined` is the product; `Linfa` (the Gaussian mixture alone) is
/// kept for the evaluation that chose the combination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    Combined,
    Linfa,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub version: i32,
    pub strategy: Strategy,
    pub tz: Tz,
    pub trained_at: DateTime<Utc>,
    /// The pings trained on: first and last instant, and how many.
    pub window_from: DateTime<Utc>,
    pub window_until: DateTime<Utc>,
    pub pings_used: usize,
    pub gaps: GapModel,
    /// When the next run starts after the last one started, for jobs that send start pings
    /// (the combined strategy): the earliest sign that a run is missing.
    #[serde(default)]
    pub starts: Option<GapModel>,
    pub runs: Option<RunModel>,
    pub sizes: Option<SizeModel>,
}

/// When the next success or failure comes after one (or the next start after one).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GapModel {
    timetable: Timetable,
    /// Spread of log gaps around the timetable's usual one.
    tail: Tail,
    /// The spread of breaks, where the job has them: see [`Breaks`].
    #[serde(default)]
    breaks: Option<Breaks>,
    mixture: Option<Mixture>,
    /// Gaps per week in the history: the false-warning budget is per week, not per gap.
    per_week: f64,
    /// The median gap, for what the dashboard shows.
    pub typical_secs: f64,
}

/// A job's breaks — a business day's night, a weekend — are gaps many times its usual one, and
/// they stray by minutes where the usual gaps stray by a share of themselves: the morning's
/// first ping is as punctual as any other. Measured against the break's length, that spread is
/// tiny, so pooling it with the usual gaps' would leave breaks hours of slack. Breaks get their
/// own spread once there are enough of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Breaks {
    /// Gaps whose usual log length is at least this are breaks.
    from_log: f64,
    tail: Tail,
    /// Breaks per week in the history.
    per_week: f64,
}

/// A gap is a break when its usual length is this many times the job's median gap.
const BREAK_FACTOR: f64 = 4.0;
/// Breaks get their own spread from this many on (two weeks of a business day's nights).
const MIN_BREAKS: usize = 8;

/// How long runs (start → success) take.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunModel {
    /// Median log run time: of the latest runs where runs grow with their data, of all
    /// otherwise.
    recent_log: f64,
    /// Spread of each run's log time around that median.
    tail: Tail,
    mixture: Option<Mixture>,
    per_week: f64,
    pub typical_secs: f64,
}

/// How big successful pings' bodies are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SizeModel {
    mixture: Mixture,
    /// Median log size, and how far sizes stray above and below it.
    usual_log: f64,
    above: Tail,
    below: Tail,
    per_week: f64,
    pub typical_bytes: u64,
}

/// Where each expectation stands after one ping, as instants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expectation {
    pub expected_from: DateTime<Utc>,
    pub expected_by: DateTime<Utc>,
    pub warn_at: DateTime<Utc>,
    pub down_at: DateTime<Utc>,
    /// For a job that starts its runs with a start ping: when the next run usually starts,
    /// and when one that has not is warned about.
    pub start: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

/// A gap model's verdict after a ping, as log seconds: the usual window, the warning and the
/// longest gap the history saw.
struct Bounds {
    low: f64,
    high: f64,
    warn: f64,
    seen: f64,
}

/// How many times the false-warning budget run warnings get (see `run_warning_after`).
const RUN_BUDGET: f64 = 3.0;
/// Runs needed before run times are judged.
const MIN_RUNS: usize = 5;
/// Starts are watched only for a job that sends one for this share of its runs or more: the
/// next run of a job that sometimes skips its start ping would be warned about wrongly.
const STARTED_SHARE: f64 = 0.9;
/// Runs that make up "recent" for a job whose runs grow.
const RECENT_RUNS: usize = 5;
/// A payload is a surprise only this many times smaller or larger than the nearest usual size
/// (besides being improbable): small drifts are the job's business, not an alarm.
const PAYLOAD_FACTOR: f64 = 4.0;

impl Model {
    /// Trains on `pings` (time order) as of `now`. `None` when they hold no gap at all; callers
    /// check [`crate::Progress`] for eligibility first.
    pub fn train(
        pings: &[HistoryPing],
        unusual: &Unusual,
        tz: Tz,
        now: DateTime<Utc>,
        strategy: Strategy,
    ) -> Option<Model> {
        let features = extract(pings, tz, unusual);
        let (first, last) = (features.first?, features.last?);
        let weeks = ((last - first).num_seconds() as f64 / (7.0 * 86_400.0)).max(1.0 / 7.0);
        Some(Model {
            version: VERSION,
            strategy,
            tz,
            trained_at: now,
            window_from: first,
            window_until: last,
            pings_used: pings.len(),
            gaps: GapModel::train(&features.gaps, weeks, strategy)?,
            starts: (strategy == Strategy::Combined
                && features.starts.len() >= MIN_RUNS
                && features.starts.len() as f64 >= STARTED_SHARE * features.gaps.len() as f64)
                .then(|| GapModel::train(&features.starts, weeks, Strategy::Combined))
                .flatten(),
            runs: RunModel::train(&features.runs, weeks),
            sizes: SizeModel::train(&features, weeks),
        })
    }

    /// The usual gap's 5–95 % window in seconds, wherever on the clock: what the dashboard
    /// summarises as "usually every …".
    pub fn typical_window_secs(&self) -> (f64, f64) {
        let g = &self.gaps;
        (
            g.typical_secs * g.tail.low.exp(),
            g.typical_secs * g.tail.high.exp(),
        )
    }

    /// One line on what was learned, for logs and the replay's `--verbose`.
    pub fn describe(&self) -> String {
        let g = &self.gaps;
        let runs = self.runs.as_ref().map_or(String::new(), |r| {
            let warn = self.run_warning_after().map_or(0, |d| d.num_seconds());
            format!(
                "; runs typically {:.0} s, warned after {warn} s",
                r.typical_secs
            )
        });
        let sizes = self.sizes.as_ref().map_or(String::new(), |s| {
            format!("; payload typically {} B", s.typical_bytes)
        });
        let starts = self.starts.as_ref().map_or(String::new(), |s| {
            format!(
                "; starts typically {:.0} s apart by {:?}, spread {:.3} .. {:.3}, warning at {:.3}",
                s.typical_secs,
                s.timetable.conditioning,
                s.tail.low,
                s.tail.high,
                s.tail.warning(s.per_week),
            )
        });
        format!(
            "{} pings {} .. {}; gaps typically {:.0} s by {:?}, spread {:.3} .. {:.3}, warning at {:.3}, max {:.3}, {:.0}/week{starts}{runs}{sizes}",
            self.pings_used,
            self.window_from.format("%m-%d %H:%M"),
            self.window_until.format("%m-%d %H:%M"),
            g.typical_secs,
            g.timetable.conditioning,
            g.tail.low,
            g.tail.high,
            g.tail.warning(g.per_week),
            g.tail.max,
            g.per_week,
        )
    }

    /// What the model expects after a ping at `at` and what it thinks of the ping, given the
    /// heartbeat's timing `before` it (the fixed schedule as fallback and cap, and the run in
    /// progress). A start or progress ping changes nothing in the expectations counted from the
    /// last success or failure, except that the run has now started.
    pub fn after_ping(
        &self,
        at: DateTime<Utc>,
        kind: PingKind,
        body_size: u64,
        before: &HeartbeatTiming,
    ) -> Option<LearnedCadence> {
        let fixed = before.cadence.fixed();
        if !kind.ends_run() {
            return self.cadence_after(before.last_ping_at?, fixed, None);
        }
        let surprise = (kind == PingKind::Success)
            .then(|| self.payload_surprise(body_size))
            .flatten();
        let run_start = before.started_at.filter(|s| *s <= at);
        Some(
            self.cadence_after(at, fixed, run_start)?
                .with_payload_surprise(surprise),
        )
    }

    /// What the model expects after a success or failure at `at`, without judging the ping
    /// itself: also for counting the current period's deadlines again after training.
    /// `run_start` is the start of the run that ping ended, when no run has started since: the
    /// next start is then expected from it.
    pub fn cadence_after(
        &self,
        at: DateTime<Utc>,
        fixed: Schedule,
        run_start: Option<DateTime<Utc>>,
    ) -> Option<LearnedCadence> {
        let e = self.expect_after(at, fixed, run_start);
        let offset = |t: DateTime<Utc>| t - at;
        let learned = LearnedCadence::new(
            offset(e.expected_by),
            offset(e.warn_at),
            offset(e.down_at),
            fixed,
        )
        .ok()?;
        let start = e.start.map(|(expected_by, warn_at)| StartExpectation {
            expected_by: offset(expected_by),
            warn_after: offset(warn_at),
        });
        Some(
            learned
                .with_run_warning(self.run_warning_after())
                .with_start(start),
        )
    }

    /// The expected window, warning and down instants after a ping at `at`, and the next
    /// start's when the run it ended started at `run_start`.
    ///
    /// Down comes at the fixed interval + grace the team chose, except where the history shows
    /// gaps beyond it (the fixed deadline lies inside the job's normal variation): then at the
    /// learned bound. The early warning is where AI mode is earlier.
    pub fn expect_after(
        &self,
        at: DateTime<Utc>,
        fixed: Schedule,
        run_start: Option<DateTime<Utc>>,
    ) -> Expectation {
        let b = self.gaps.bounds(Phase::of(at, self.tz), self.strategy);
        let (low, high, seen) = (b.low.exp(), b.high.exp(), b.seen.exp());
        let warn = b.warn.exp() + slack(high);
        // The learned down: as far past the warning as the warning is past the usual window.
        let learned_down = warn + (warn - high).max(slack(high));
        let fixed_secs = (fixed.interval() + fixed.grace()).num_seconds() as f64;
        // Whole seconds: the instants are shown to people and stored as offsets.
        let t = |from: DateTime<Utc>, secs: f64| {
            add_secs(from, secs.round(), self.tz).max(at + Duration::seconds(1))
        };
        // The configured interval + grace on the job's own clock: "1 day + 1 hour" after a
        // 02:00 ping is 03:00 the next day, also across a DST change (fixed mode counts UTC).
        let fixed_down = t(at, fixed_secs);
        let down_at = if seen > fixed_secs {
            t(at, learned_down).max(fixed_down)
        } else {
            fixed_down
        };
        let warn_at = t(at, warn).min(down_at);
        let expected_by = t(at, high).min(warn_at);
        // A next start that should already have come (a run longer than the job's cycle) says
        // nothing: only the success is waited for.
        let start = self
            .starts
            .as_ref()
            .zip(run_start)
            .map(|(starts, began)| {
                let b = starts.bounds(Phase::of(began, self.tz), Strategy::Combined);
                let high = b.high.exp();
                let t = |secs: f64| add_secs(began, secs.round(), self.tz);
                (t(high), t(b.warn.exp() + slack(high)))
            })
            .filter(|(expected_by, _)| *expected_by > at);
        Expectation {
            expected_from: t(at, low).min(expected_by),
            expected_by,
            warn_at,
            down_at,
            start,
        }
    }

    /// After a start, how long until the run is unusually long.
    pub fn run_warning_after(&self) -> Option<Duration> {
        let r = self.runs.as_ref()?;
        let log = match (self.strategy, &r.mixture) {
            (Strategy::Linfa, Some(m)) => m
                .given(&[])
                .upper(FALSE_WARNINGS_PER_WEEK / r.per_week.max(1.0)),
            // Runs get three times the budget: a run warning can only fire while a run is in
            // progress, and a hung run holds up every run after it, so it is worth telling
            // sooner (the evaluation's hung jobs are then warned before fixed mode alerts).
            _ => {
                r.recent_log
                    + r.tail
                        .beyond(RUN_BUDGET * FALSE_WARNINGS_PER_WEEK / r.per_week.max(1.0))
            }
        };
        let secs = log.exp();
        Some(Duration::seconds((secs + slack(secs)).ceil() as i64))
    }

    /// A successful ping's body size far from every usual size.
    pub fn payload_surprise(&self, body_size: u64) -> Option<PayloadSurprise> {
        let s = self.sizes.as_ref()?;
        let y = (body_size as f64 + 1.0).ln();
        let c = s.mixture.given(&[]);
        let p = FALSE_WARNINGS_PER_WEEK / s.per_week.max(1.0);
        let improbable_to_mixture = c.survival(y) < p || c.survival(y) > 1.0 - p;
        let far = c.nearest(y).1 > PAYLOAD_FACTOR.ln();
        // The mixture's Gaussian tails are thin where sizes are skewed; the combination also
        // asks the extrapolated tails, which must agree.
        let r = y - s.usual_log;
        // Sizes get a quarter of the budget: a payload surprise warns on a ping that did
        // arrive, so it must be rarer still than a late one to be worth a page.
        let p_size = FALSE_WARNINGS_PER_WEEK / 4.0 / s.per_week.max(1.0);
        let beyond_tails = r > s.above.beyond(p_size) || -r > s.below.beyond(p_size);
        let improbable = match self.strategy {
            Strategy::Linfa => improbable_to_mixture,
            Strategy::Combined => improbable_to_mixture && beyond_tails,
        };
        (improbable && far).then_some(PayloadSurprise {
            size: body_size,
            usual: s.typical_bytes,
        })
    }
}

/// Room past a learned bound that no history justifies but every clock needs: a minute (half
/// the gap for jobs that ping more often than every two minutes), plus 1% of the gap up to a
/// day's (a daily or weekly job gets a quarter of an hour).
fn slack(secs: f64) -> f64 {
    (0.5 * secs).min(60.0) + 0.01 * secs.min(86_400.0)
}

impl GapModel {
    /// The gaps' mixture is trained only for the `linfa` strategy: the combination decides gaps
    /// with the timetable, and the mixture was a third of its training time.
    fn train(gaps: &[Gap], weeks: f64, strategy: Strategy) -> Option<GapModel> {
        let per_week = gaps.len() as f64 / weeks;
        let fitted = Timetable::fit(gaps, per_week)?;
        let mut secs: Vec<f64> = gaps.iter().map(|g| g.secs).collect();
        let typical_secs = median(&mut secs);
        let from_log = typical_secs.max(1.0).ln() + BREAK_FACTOR.ln();
        let (mut usual, mut long) = (Vec::new(), Vec::new());
        // The residuals are those of the gaps the timetable fitted: the ones longer than zero.
        for (gap, r) in gaps.iter().filter(|g| g.secs > 0.0).zip(&fitted.residuals) {
            if fitted.table.usual_log_gap(gap.from) >= from_log {
                long.push(*r);
            } else {
                usual.push(*r);
            }
        }
        let breaks = (long.len() >= MIN_BREAKS && !usual.is_empty())
            .then(|| Tail::learn(&long))
            .flatten()
            .map(|tail| Breaks {
                from_log,
                tail,
                per_week: long.len() as f64 / weeks,
            });
        let tail = match breaks {
            Some(_) => Tail::learn(&usual)?,
            None => Tail::learn(&fitted.residuals)?,
        };
        Some(GapModel {
            timetable: fitted.table,
            tail,
            breaks,
            mixture: (strategy == Strategy::Linfa)
                .then(|| Mixture::train(&gap_rows(gaps)))
                .flatten(),
            per_week,
            typical_secs,
        })
    }

    /// The usual window, warning and longest gap after a ping at `phase`: from the mixture for
    /// the `linfa` strategy, from the timetable and its tails otherwise.
    fn bounds(&self, phase: Phase, strategy: Strategy) -> Bounds {
        match (strategy, &self.mixture) {
            (Strategy::Linfa, Some(m)) => {
                let c = m.given(&circular(phase.day_secs(), phase.weekday()));
                Bounds {
                    low: c.upper(0.95),
                    high: c.upper(0.05),
                    warn: c.upper(FALSE_WARNINGS_PER_WEEK / self.per_week.max(1.0)),
                    seen: c.upper(1.0 / (self.tail.samples as f64 + 1.0)),
                }
            }
            _ => {
                let usual = self.timetable.usual_log_gap(phase);
                // Breaks and the other gaps get half the false-warning budget each.
                let (t, per_week) = match &self.breaks {
                    Some(b) if usual >= b.from_log => (&b.tail, 2.0 * b.per_week),
                    Some(b) => (&self.tail, 2.0 * (self.per_week - b.per_week)),
                    None => (&self.tail, self.per_week),
                };
                let secs = |deviation| gap_secs(usual, deviation).ln();
                Bounds {
                    low: secs(t.low),
                    high: secs(t.high),
                    warn: secs(t.warning(per_week)),
                    seen: secs(t.max),
                }
            }
        }
    }
}

/// The mixture's rows for gaps: the log gap, then the time of day and weekday it started at.
fn gap_rows(gaps: &[Gap]) -> Vec<Vec<f64>> {
    gaps.iter()
        .filter(|g| g.secs > 0.0)
        .map(|g| {
            let mut row = vec![g.secs.ln()];
            row.extend(circular(g.from.day_secs(), g.from.weekday()));
            row
        })
        .collect()
}

impl RunModel {
    fn train(runs: &[f64], weeks: f64) -> Option<RunModel> {
        let logs: Vec<f64> = runs.iter().map(|r| r.max(1.0).ln()).collect();
        if logs.len() < MIN_RUNS {
            return None;
        }
        // Judged against the runs just before, for runs that grow with their data; against all
        // of them when that predicts as well (a steady job's recent runs are only noise).
        let overall = median(&mut logs.clone());
        let recent: Vec<f64> = (1..logs.len())
            .map(|i| {
                let mut before = logs[i.saturating_sub(RECENT_RUNS)..i].to_vec();
                logs[i] - median(&mut before)
            })
            .collect();
        let steady: Vec<f64> = logs.iter().map(|l| l - overall).collect();
        let error = |r: &[f64]| r.iter().map(|v| v.abs()).sum::<f64>() / r.len() as f64;
        let growing = error(&recent) < 0.9 * error(&steady);
        let residuals = if growing { recent } else { steady };
        let mut latest = logs[logs.len() - RECENT_RUNS..].to_vec();
        let mut all = runs.to_vec();
        Some(RunModel {
            recent_log: if growing {
                median(&mut latest)
            } else {
                overall
            },
            tail: Tail::learn(&residuals)?,
            mixture: Mixture::train(&logs.iter().map(|l| vec![*l]).collect::<Vec<_>>()),
            per_week: runs.len() as f64 / weeks,
            typical_secs: median(&mut all),
        })
    }
}

impl SizeModel {
    /// Only jobs that usually send a body are watched for an empty one.
    fn train(f: &Features, weeks: f64) -> Option<SizeModel> {
        let with_body = f.sizes.iter().filter(|s| **s > 0.0).count();
        if f.sizes.len() < MIN_RUNS || with_body * 2 < f.sizes.len() {
            return None;
        }
        let logs: Vec<f64> = f.sizes.iter().map(|s| (s + 1.0).ln()).collect();
        let usual_log = median(&mut logs.clone());
        let rows: Vec<Vec<f64>> = logs.iter().map(|l| vec![*l]).collect();
        let above: Vec<f64> = logs.iter().map(|l| l - usual_log).collect();
        let below: Vec<f64> = above.iter().map(|r| -r).collect();
        let mut sizes = f.sizes.clone();
        Some(SizeModel {
            mixture: Mixture::train(&rows)?,
            usual_log,
            above: Tail::learn(&above)?,
            below: Tail::learn(&below)?,
            per_week: f.sizes.len() as f64 / weeks,
            typical_bytes: median(&mut sizes).round() as u64,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use chrono_tz::Europe::Berlin;

    fn hourly() -> Schedule {
        Schedule::from_secs(3600, 900).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Hourly at :10 with a little jitter, a start 5 minutes before each success, 2 kB bodies,
    /// for three weeks.
    fn history() -> (Vec<HistoryPing>, DateTime<Utc>) {
        let t0 = Utc
            .with_ymd_and_hms(2026, 3, 2, 0, 10, 0)
            .single()
            .unwrap_or_else(|| panic!("a date"));
        let mut pings = Vec::new();
        for h in 0..21 * 24 {
            let at = t0 + Duration::hours(h) + Duration::seconds((h * 7919) % 50);
            pings.push(HistoryPing {
                at: at - Duration::minutes(5),
                kind: PingKind::Start,
                body_size: 0,
            });
            pings.push(HistoryPing {
                at,
                kind: PingKind::Success,
                body_size: 2000 + (h as u64 * 31) % 200,
            });
        }
        let now = pings[pings.len() - 1].at;
        (pings, now)
    }

    fn trained() -> Model {
        let (pings, now) = history();
        Model::train(&pings, &Unusual::default(), Berlin, now, Strategy::Combined)
            .unwrap_or_else(|| panic!("trained"))
    }

    #[test]
    fn a_regular_job_is_expected_on_time_and_warned_soon_after() {
        let model = trained();
        let at = model.window_until;
        let e = model.expect_after(at, hourly(), None);
        let secs = |t: DateTime<Utc>| (t - at).num_seconds();
        // About an hour; the warning a minute or two past the usual window, well before the
        // fixed interval + grace (75 min), which stays the down deadline.
        assert!((3500..3700).contains(&secs(e.expected_by)), "{e:?}");
        assert!(secs(e.warn_at) < 3600 + 5 * 60, "{e:?}");
        assert_eq!(secs(e.down_at), 3600 + 900);
        // Runs take five minutes: one past a quarter of an hour is far longer than usual.
        let run = model
            .run_warning_after()
            .unwrap_or_else(|| panic!("runs learned"));
        assert!((300..900).contains(&run.num_seconds()), "{run:?}");
        // An empty body is a surprise, a usual one is not.
        assert!(model.payload_surprise(0).is_some());
        assert!(model.payload_surprise(2100).is_none());
    }

    #[test]
    fn a_job_that_sends_starts_is_warned_when_its_next_run_does_not_start() {
        let model = trained();
        let at = model.window_until;
        let began = at - Duration::minutes(5);
        let e = model.expect_after(at, hourly(), Some(began));
        let secs = |t: DateTime<Utc>| (t - at).num_seconds();
        let (start_by, start_warn) = e.start.unwrap_or_else(|| panic!("starts learned: {e:?}"));
        // The next run starts an hour after this one did, 55 minutes from its success, and is
        // missed before the success it would end with.
        assert!((3200..3400).contains(&secs(start_by)), "{e:?}");
        assert!(start_warn > start_by && start_warn < e.warn_at, "{e:?}");
        // Without the run's start there is nothing to count from.
        assert_eq!(model.expect_after(at, hourly(), None).start, None);
        // The cadence carries it, as offsets from the success.
        let learned = model
            .cadence_after(at, hourly(), Some(began))
            .and_then(|l| l.start())
            .unwrap_or_else(|| panic!("a start expectation"));
        assert_eq!(at + learned.warn_after, start_warn);
    }

    #[test]
    fn a_business_days_night_is_as_punctual_as_its_pings() {
        // Every 5–15 minutes from 09:00 to 17:00 Berlin time on weekdays, for three weeks.
        let monday = Berlin
            .with_ymd_and_hms(2026, 3, 2, 9, 0, 0)
            .single()
            .unwrap_or_else(|| panic!("a date"));
        let mut pings = Vec::new();
        for day in (0..28).filter(|d| d % 7 < 5) {
            let mut at = monday + Duration::days(day) + Duration::seconds((day * 37) % 120);
            while at < monday + Duration::days(day) + Duration::hours(8) {
                pings.push(HistoryPing {
                    at: at.with_timezone(&Utc),
                    kind: PingKind::Success,
                    body_size: 0,
                });
                at += Duration::seconds(300 + (at.timestamp() * 7919).rem_euclid(600));
            }
        }
        let now = pings[pings.len() - 1].at;
        let model = Model::train(&pings, &Unusual::default(), Berlin, now, Strategy::Combined)
            .unwrap_or_else(|| panic!("trained"));
        // After Wednesday's last ping, the first one of Thursday morning is missed within the
        // hour, not hours later; in the day, a ping is missed within half an hour.
        let evening = (Berlin.with_ymd_and_hms(2026, 4, 1, 16, 57, 0))
            .single()
            .unwrap_or_else(|| panic!("a date"))
            .with_timezone(&Utc);
        let fixed = Schedule::from_secs(64 * 3600, 3600).unwrap_or_else(|e| panic!("{e}"));
        let e = model.expect_after(evening, fixed, None);
        let morning = evening + Duration::hours(16) + Duration::minutes(3);
        assert!(e.expected_by >= morning, "{e:?}");
        assert!(e.warn_at < morning + Duration::hours(1), "{e:?}");
        let noon = evening - Duration::hours(5);
        let e = model.expect_after(noon, fixed, None);
        assert!(e.warn_at < noon + Duration::minutes(30), "{e:?}");
    }

    #[test]
    fn a_stored_model_loads_to_the_same_expectations() {
        let model = trained();
        let json = serde_json::to_value(&model).unwrap_or_else(|e| panic!("{e}"));
        let loaded: Model = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(loaded, model);
        let at = model.window_until + Duration::minutes(3);
        let mut before = HeartbeatTiming::new(hourly());
        before.apply_ping(PingKind::Start, at - Duration::minutes(5));
        assert_eq!(
            loaded.after_ping(at, PingKind::Success, 2050, &before),
            model.after_ping(at, PingKind::Success, 2050, &before)
        );
    }

    #[test]
    fn too_little_history_trains_nothing() {
        let (pings, now) = history();
        assert!(
            Model::train(
                &pings[..1],
                &Unusual::default(),
                Berlin,
                now,
                Strategy::Combined
            )
            .is_none()
        );
    }
}
