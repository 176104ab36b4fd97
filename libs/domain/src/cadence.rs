//! Where a heartbeat's deadlines come from after a ping: its fixed interval + grace, or a cadence
//! learned from its history (AI mode). The timing rules take either, so the scheduler and the
//! ping path decide the same way whichever one a heartbeat runs on.

use chrono::{DateTime, Duration, Utc};

use crate::duration::human;
use crate::timing::{MAX_SECS, Schedule, ScheduleError};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cadence {
    /// Late after the interval, down after interval + grace.
    Fixed(Schedule),
    /// Late and down where the job's own history puts them.
    Learned(LearnedCadence),
}

/// What a model expects after one ping, as offsets from it: most next pings come by
/// `expected_by`, the next ping becomes improbable after `warn_after` (the early warning) and
/// counts as missing after `down_after`; a run started now is unusually long after
/// `run_warning_after`. For a job that sends a start ping before each run, the next run's start
/// is the earliest sign of a missing run: `start` says when it usually starts, counted from the
/// last success as well. It also carries the model's verdict on the ping itself (its payload).
/// The heartbeat's fixed schedule is kept beside it: it is what the team configured, and what
/// the heartbeat falls back to when the model goes away.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LearnedCadence {
    expected_by: Duration,
    warn_after: Duration,
    down_after: Duration,
    run_warning_after: Option<Duration>,
    start: Option<StartExpectation>,
    payload: Option<PayloadSurprise>,
    fixed: Schedule,
}

/// When the next run usually starts (`expected_by`) and when a run that has not started is
/// warned about (`warn_after`), as offsets from the last success or failure. It holds only until
/// the next start ping: then the run is under way and the usual deadlines apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StartExpectation {
    pub expected_by: Duration,
    pub warn_after: Duration,
}

/// A successful ping whose body is far from the sizes the job usually sends: a job that
/// "succeeds" while doing nothing, or suddenly does far more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PayloadSurprise {
    pub size: u64,
    /// The typical size the model learned.
    pub usual: u64,
}

impl LearnedCadence {
    /// Offsets must be positive, at most 400 days (never open-ended), and in order:
    /// `expected_by <= warn_after <= down_after`.
    pub fn new(
        expected_by: Duration,
        warn_after: Duration,
        down_after: Duration,
        fixed: Schedule,
    ) -> Result<Self, ScheduleError> {
        let (expected, warn, down) = (
            expected_by.num_seconds(),
            warn_after.num_seconds(),
            down_after.num_seconds(),
        );
        if !(1..=warn).contains(&expected)
            || !(1..=MAX_SECS).contains(&warn)
            || !(warn..=MAX_SECS).contains(&down)
        {
            return Err(ScheduleError::Learned { late: warn, down });
        }
        Ok(Self {
            expected_by,
            warn_after,
            down_after,
            run_warning_after: None,
            start: None,
            payload: None,
            fixed,
        })
    }

    /// A run started now is far longer than usual after `after` (at most 400 days).
    pub fn with_run_warning(mut self, after: Option<Duration>) -> Self {
        self.run_warning_after =
            after.map(|a| a.clamp(Duration::seconds(1), Duration::seconds(MAX_SECS)));
        self
    }

    /// The next run usually starts by `expected_by` and is warned about if it has not started
    /// by `warn_after`. Ignored unless `1 s <= expected_by <= warn_after` and the warning comes
    /// before the cadence's own: a later one would never fire.
    pub fn with_start(mut self, start: Option<StartExpectation>) -> Self {
        self.start = start.filter(|s| {
            Duration::seconds(1) <= s.expected_by
                && s.expected_by <= s.warn_after
                && s.warn_after < self.warn_after
        });
        self
    }

    pub fn with_payload_surprise(mut self, surprise: Option<PayloadSurprise>) -> Self {
        self.payload = surprise;
        self
    }

    pub fn expected_by(&self) -> Duration {
        self.expected_by
    }

    pub fn warn_after(&self) -> Duration {
        self.warn_after
    }

    pub fn down_after(&self) -> Duration {
        self.down_after
    }

    pub fn run_warning_after(&self) -> Option<Duration> {
        self.run_warning_after
    }

    pub fn payload_surprise(&self) -> Option<PayloadSurprise> {
        self.payload
    }

    pub fn start(&self) -> Option<StartExpectation> {
        self.start
    }

    /// The same expectations `gap` later, counted from the same last ping: Lifeline could not
    /// receive pings for that long, and the job gets the time back (`HeartbeatTiming::shift`).
    pub fn later_by(self, gap: Duration) -> Self {
        Self {
            expected_by: self.expected_by + gap,
            warn_after: self.warn_after + gap,
            down_after: self.down_after + gap,
            start: self.start.map(|s| StartExpectation {
                expected_by: s.expected_by + gap,
                warn_after: s.warn_after + gap,
            }),
            ..self
        }
    }

    /// The warning offset while the next run has not started: the start's, when it comes first.
    fn first_warning(&self) -> Duration {
        self.start.map_or(self.warn_after, |s| s.warn_after)
    }
}

impl From<Schedule> for Cadence {
    fn from(schedule: Schedule) -> Self {
        Cadence::Fixed(schedule)
    }
}

impl Cadence {
    /// After a ping at `at`, the heartbeat is late from this instant.
    pub fn due_at(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Cadence::Fixed(s) => s.due_at(at),
            Cadence::Learned(l) => at + l.first_warning(),
        }
    }

    /// After a ping at `at`, silence until this instant makes the heartbeat down.
    pub fn alert_at(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Cadence::Fixed(s) => s.alert_at(at),
            Cadence::Learned(l) => at + l.down_after,
        }
    }

    /// The interval + grace the team configured.
    pub fn fixed(&self) -> Schedule {
        match self {
            Cadence::Fixed(s) => *s,
            Cadence::Learned(l) => l.fixed,
        }
    }

    /// The same cadence with another configured schedule: a fixed cadence becomes the new
    /// schedule, a learned one keeps its learned offsets and changes only its fallback.
    pub fn with_fixed(self, schedule: Schedule) -> Cadence {
        match self {
            Cadence::Fixed(_) => Cadence::Fixed(schedule),
            Cadence::Learned(l) => Cadence::Learned(LearnedCadence {
                fixed: schedule,
                ..l
            }),
        }
    }

    /// The same cadence with its learned expectations `gap` later (a fixed schedule is counted
    /// from the ping and needs nothing).
    pub fn later_by(self, gap: Duration) -> Cadence {
        match self {
            Cadence::Learned(l) => Cadence::Learned(l.later_by(gap)),
            fixed => fixed,
        }
    }

    /// The same cadence once the next run has started: a missing start is no longer a sign.
    pub fn started(self) -> Cadence {
        match self {
            Cadence::Learned(l) => Cadence::Learned(l.with_start(None)),
            fixed => fixed,
        }
    }

    pub fn learned(&self) -> Option<&LearnedCadence> {
        match self {
            Cadence::Fixed(_) => None,
            Cadence::Learned(l) => Some(l),
        }
    }

    /// What the heartbeat expects, for reasons and alerts.
    pub fn describe(&self) -> String {
        match self {
            Cadence::Fixed(s) => {
                format!("every {} + {} grace", human(s.interval()), human(s.grace()))
            }
            Cadence::Learned(l) => format!(
                "usually within {} as learned from its history, down after {}",
                human(l.expected_by),
                human(l.down_after)
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::t;

    fn hourly() -> Schedule {
        Schedule::from_secs(3600, 600).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_fixed_cadence_is_its_schedule() {
        let cadence = Cadence::from(hourly());
        assert_eq!(cadence.due_at(t(0)), t(3600));
        assert_eq!(cadence.alert_at(t(0)), t(4200));
        assert_eq!(cadence.describe(), "every 1 h + 10 min grace");
    }

    #[test]
    fn a_learned_cadence_sets_its_own_deadlines_and_keeps_the_fixed_one() {
        let s = Duration::seconds;
        let learned = LearnedCadence::new(s(2900), s(3000), s(5000), hourly())
            .unwrap_or_else(|e| panic!("{e}"));
        let cadence = Cadence::Learned(learned);
        assert_eq!(cadence.due_at(t(0)), t(3000));
        assert_eq!(cadence.alert_at(t(0)), t(5000));
        assert_eq!(cadence.fixed(), hourly());
    }

    #[test]
    fn a_run_that_has_not_started_is_warned_about_first() {
        let s = Duration::seconds;
        let start = StartExpectation {
            expected_by: s(600),
            warn_after: s(900),
        };
        let learned = LearnedCadence::new(s(2900), s(3000), s(5000), hourly())
            .unwrap_or_else(|e| panic!("{e}"))
            .with_start(Some(start));
        assert_eq!(learned.start(), Some(start));
        let cadence = Cadence::Learned(learned);
        assert_eq!(cadence.due_at(t(0)), t(900));
        assert_eq!(cadence.alert_at(t(0)), t(5000));
        // Once the run started, its success is what is waited for.
        assert_eq!(cadence.started().due_at(t(0)), t(3000));
        // A start warned after the cadence's own warning says nothing more.
        let late = StartExpectation {
            expected_by: s(600),
            warn_after: s(3000),
        };
        assert_eq!(learned.with_start(Some(late)).start(), None);
    }

    #[test]
    fn learned_offsets_are_bounded_and_ordered() {
        let s = |secs| Duration::seconds(secs);
        assert!(LearnedCadence::new(s(0), s(0), s(10), hourly()).is_err());
        assert!(LearnedCadence::new(s(5), s(20), s(10), hourly()).is_err());
        assert!(LearnedCadence::new(s(30), s(20), s(40), hourly()).is_err());
        assert!(LearnedCadence::new(s(5), s(10), s(MAX_SECS + 1), hourly()).is_err());
        assert!(LearnedCadence::new(s(5), s(10), s(10), hourly()).is_ok());
    }
}
