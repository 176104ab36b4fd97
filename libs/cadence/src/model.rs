//! A heartbeat's learned model: trained from its features, stored as JSON in `ai_models.params`,
//! and evaluated after every ping into the domain's [`LearnedCadence`] — when the next ping is
//! expected, when to warn, when it is down, when a run is too long, and whether this ping's
//! payload is a surprise. Loading a model never needs the history again.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use lifeline_domain::{LearnedCadence, PayloadSurprise, PingKind, Schedule};
use serde::{Deserialize, Serialize};

use crate::calendar::{Phase, add_secs};
use crate::features::{Features, HistoryPing, Unusual, extract};
use crate::mixture::{Mixture, circular};
use crate::tail::{FALSE_WARNINGS_PER_WEEK, Tail, median};
use crate::timetable::{Timetable, gap_secs};

/// Bumped when the stored shape or its meaning changes; older models are retrained.
pub const VERSION: i32 = 1;

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
    pub runs: Option<RunModel>,
    pub sizes: Option<SizeModel>,
}

/// When the next success or failure comes after one.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GapModel {
    timetable: Timetable,
    /// Spread of log gaps around the timetable's usual one.
    tail: Tail,
    mixture: Option<Mixture>,
    /// Gaps per week in the history: the false-warning budget is per week, not per gap.
    per_week: f64,
    /// The median gap, for what the dashboard shows.
    pub typical_secs: f64,
}

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
}

/// How many times the false-warning budget run warnings get (see `run_warning_after`).
const RUN_BUDGET: f64 = 3.0;
/// Runs needed before run times are judged.
const MIN_RUNS: usize = 5;
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
            gaps: GapModel::train(&features, weeks, strategy)?,
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
        format!(
            "{} pings {} .. {}; gaps typically {:.0} s by {:?}, spread {:.3} .. {:.3}, warning at {:.3}, max {:.3}, {:.0}/week{runs}{sizes}",
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

    /// What the model expects after a ping at `at` and what it thinks of the ping, with the
    /// heartbeat's configured schedule as fallback and cap.
    pub fn after_ping(
        &self,
        at: DateTime<Utc>,
        kind: PingKind,
        body_size: u64,
        fixed: Schedule,
    ) -> Option<LearnedCadence> {
        let surprise = (kind == PingKind::Success)
            .then(|| self.payload_surprise(body_size))
            .flatten();
        Some(
            self.cadence_after(at, fixed)?
                .with_payload_surprise(surprise),
        )
    }

    /// What the model expects after a ping at `at`, without judging the ping itself: for
    /// counting the current period's deadlines again after training.
    pub fn cadence_after(&self, at: DateTime<Utc>, fixed: Schedule) -> Option<LearnedCadence> {
        let e = self.expect_after(at, fixed);
        let offset = |t: DateTime<Utc>| t - at;
        let learned = LearnedCadence::new(
            offset(e.expected_by),
            offset(e.warn_at),
            offset(e.down_at),
            fixed,
        )
        .ok()?;
        Some(learned.with_run_warning(self.run_warning_after()))
    }

    /// The expected window, warning and down instants after a ping at `at`.
    ///
    /// Down comes at the fixed interval + grace the team chose, except where the history shows
    /// gaps beyond it (the fixed deadline lies inside the job's normal variation): then at the
    /// learned bound. The early warning is where AI mode is earlier.
    pub fn expect_after(&self, at: DateTime<Utc>, fixed: Schedule) -> Expectation {
        let g = &self.gaps;
        let phase = Phase::of(at, self.tz);
        let (low, high, warn, seen) = match (self.strategy, &g.mixture) {
            (Strategy::Linfa, Some(m)) => {
                let c = m.given(&circular(phase.day_secs(), phase.weekday()));
                let p = FALSE_WARNINGS_PER_WEEK / g.per_week.max(1.0);
                (
                    c.upper(0.95),
                    c.upper(0.05),
                    c.upper(p),
                    c.upper(1.0 / (g.tail.samples as f64 + 1.0)),
                )
            }
            _ => {
                let usual = g.timetable.usual_log_gap(phase);
                let t = &g.tail;
                let secs = |deviation| gap_secs(usual, deviation).ln();
                (
                    secs(t.low),
                    secs(t.high),
                    secs(t.warning(g.per_week)),
                    secs(t.max),
                )
            }
        };
        let (low, high, seen) = (low.exp(), high.exp(), seen.exp());
        let warn = warn.exp() + slack(high);
        // The learned down: as far past the warning as the warning is past the usual window.
        let learned_down = warn + (warn - high).max(slack(high));
        let fixed_secs = (fixed.interval() + fixed.grace()).num_seconds() as f64;
        // Whole seconds: the instants are shown to people and stored as offsets.
        let t = |secs: f64| add_secs(at, secs.round(), self.tz).max(at + Duration::seconds(1));
        // The configured interval + grace on the job's own clock: "1 day + 1 hour" after a
        // 02:00 ping is 03:00 the next day, also across a DST change (fixed mode counts UTC).
        let fixed_down = t(fixed_secs);
        let down_at = if seen > fixed_secs {
            t(learned_down).max(fixed_down)
        } else {
            fixed_down
        };
        let warn_at = t(warn).min(down_at);
        let expected_by = t(high).min(warn_at);
        Expectation {
            expected_from: t(low).min(expected_by),
            expected_by,
            warn_at,
            down_at,
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
    fn train(f: &Features, weeks: f64, strategy: Strategy) -> Option<GapModel> {
        let per_week = f.gaps.len() as f64 / weeks;
        let fitted = Timetable::fit(&f.gaps, per_week)?;
        let tail = Tail::learn(&fitted.residuals)?;
        let mut secs: Vec<f64> = f.gaps.iter().map(|g| g.secs).collect();
        Some(GapModel {
            timetable: fitted.table,
            tail,
            mixture: (strategy == Strategy::Linfa)
                .then(|| Mixture::train(&gap_rows(f)))
                .flatten(),
            per_week,
            typical_secs: median(&mut secs),
        })
    }
}

/// The mixture's rows for gaps: the log gap, then the time of day and weekday it started at.
fn gap_rows(f: &Features) -> Vec<Vec<f64>> {
    f.gaps
        .iter()
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
        let e = model.expect_after(at, hourly());
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
    fn a_stored_model_loads_to_the_same_expectations() {
        let model = trained();
        let json = serde_json::to_value(&model).unwrap_or_else(|e| panic!("{e}"));
        let loaded: Model = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(loaded, model);
        let at = model.window_until + Duration::minutes(3);
        assert_eq!(
            loaded.after_ping(at, PingKind::Success, 2050, hourly()),
            model.after_ping(at, PingKind::Success, 2050, hourly())
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
