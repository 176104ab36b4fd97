//! Deadline math: how a ping moves a heartbeat's status and deadlines, and when a silent
//! heartbeat becomes late and then down.
//!
//! `due_at = last_ping_at + interval` and `alert_at = due_at + grace` (product text, "How the
//! timing works"). Pings may be applied out of order (several ingest writers commit
//! concurrently), so a ping older than the last one applied is stored but changes nothing.

use chrono::{DateTime, Duration, Utc};

use crate::{Cadence, PingKind, Status};

/// Longest interval or grace we accept: a yearly job plus slack.
pub(crate) const MAX_SECS: i64 = 400 * 24 * 3600;

/// A heartbeat's fixed expectations: how often it pings and how much lateness is tolerated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    interval: Duration,
    grace: Duration,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScheduleError {
    #[error("interval must be between 1 second and 400 days, got {0} s")]
    Interval(i64),
    #[error("grace must be between 0 seconds and 400 days, got {0} s")]
    Grace(i64),
    #[error("a learned cadence needs 1 s <= late <= down <= 400 days, got {late} s and {down} s")]
    Learned { late: i64, down: i64 },
}

impl Schedule {
    pub fn from_secs(interval_secs: i64, grace_secs: i64) -> Result<Self, ScheduleError> {
        if !(1..=MAX_SECS).contains(&interval_secs) {
            return Err(ScheduleError::Interval(interval_secs));
        }
        if !(0..=MAX_SECS).contains(&grace_secs) {
            return Err(ScheduleError::Grace(grace_secs));
        }
        Ok(Self {
            interval: Duration::seconds(interval_secs),
            grace: Duration::seconds(grace_secs),
        })
    }

    pub fn interval(&self) -> Duration {
        self.interval
    }

    pub fn grace(&self) -> Duration {
        self.grace
    }

    pub fn interval_secs(&self) -> i64 {
        self.interval.num_seconds()
    }

    pub fn grace_secs(&self) -> i64 {
        self.grace.num_seconds()
    }

    /// The next ping is expected by this instant after a ping at `at`.
    pub fn due_at(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        at + self.interval
    }

    /// After a ping at `at`, silence until this instant makes the heartbeat down.
    pub fn alert_at(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        self.due_at(at) + self.grace
    }
}

/// Limits on one run of a long job (the activity-heartbeat idea): after a start ping the run
/// must end within `max_runtime` and report progress at least every `progress_timeout`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct RunLimits {
    max_runtime: Option<Duration>,
    progress_timeout: Option<Duration>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RunLimitsError {
    #[error("maximum run time must be between 1 second and 400 days, got {0} s")]
    MaxRuntime(i64),
    #[error("progress timeout must be between 1 second and 400 days, got {0} s")]
    ProgressTimeout(i64),
}

impl RunLimits {
    pub fn from_secs(
        max_runtime_secs: Option<i64>,
        progress_timeout_secs: Option<i64>,
    ) -> Result<Self, RunLimitsError> {
        let check = |secs: Option<i64>, err: fn(i64) -> RunLimitsError| match secs {
            Some(s) if !(1..=MAX_SECS).contains(&s) => Err(err(s)),
            other => Ok(other.map(Duration::seconds)),
        };
        Ok(Self {
            max_runtime: check(max_runtime_secs, RunLimitsError::MaxRuntime)?,
            progress_timeout: check(progress_timeout_secs, RunLimitsError::ProgressTimeout)?,
        })
    }

    pub fn max_runtime(&self) -> Option<Duration> {
        self.max_runtime
    }

    pub fn progress_timeout(&self) -> Option<Duration> {
        self.progress_timeout
    }
}

/// The timing state of one heartbeat, as stored in its row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeartbeatTiming {
    pub status: Status,
    pub cadence: Cadence,
    pub limits: RunLimits,
    /// The latest success or failure signal.
    pub last_ping_at: Option<DateTime<Utc>>,
    /// Start of the run in progress, if a start ping came after the last success or failure.
    pub started_at: Option<DateTime<Utc>>,
    /// The latest progress ping, which resets the run's progress timeout.
    pub last_progress_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub alert_at: Option<DateTime<Utc>>,
}

/// What applying a ping measured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PingEffect {
    /// The run's duration, when this ping ended a run that had a start ping.
    pub duration: Option<Duration>,
}

impl HeartbeatTiming {
    /// A newly created heartbeat: no deadlines until its first ping.
    pub fn new(cadence: impl Into<Cadence>) -> Self {
        Self {
            status: Status::New,
            cadence: cadence.into(),
            limits: RunLimits::default(),
            last_ping_at: None,
            started_at: None,
            last_progress_at: None,
            due_at: None,
            alert_at: None,
        }
    }

    /// Applies a ping received at `at`.
    pub fn apply_ping(&mut self, kind: PingKind, at: DateTime<Utc>) -> PingEffect {
        if kind.ends_run() {
            self.end_run(kind, at)
        } else {
            if kind == PingKind::Start && self.started_at.is_none_or(|s| at > s) {
                // A start older than the last signal belongs to a run that already ended.
                if self.last_ping_at.is_none_or(|l| at > l) {
                    self.started_at = Some(at);
                    self.run_began();
                }
            }
            if kind == PingKind::Progress {
                self.last_progress_at = self.last_progress_at.max(Some(at));
            }
            if self.status == Status::Paused {
                self.resume(at);
            }
            PingEffect::default()
        }
    }

    /// A learned cadence that was waiting for the next run to start now waits for its success:
    /// the warning for a missing start no longer applies. One already given stays until the
    /// success (the run is late), as does anything but an up heartbeat.
    fn run_began(&mut self) {
        self.cadence = self.cadence.started();
        if self.status == Status::Up
            && self.cadence.learned().is_some()
            && let Some(last) = self.last_ping_at
        {
            self.due_at = Some(self.warning_due(last));
        }
    }

    /// When silence since the last success or failure at `last` becomes a warning. While a run
    /// is in progress on a learned cadence, not before the run itself is unusually long (its
    /// run warning): the job is alive, and how long its runs take is the better judge of this
    /// one than how far apart its successes usually are (a long training run is not a missing
    /// one). Never after down.
    pub(crate) fn warning_due(&self, last: DateTime<Utc>) -> DateTime<Utc> {
        let due = self.cadence.due_at(last);
        let run = self.cadence.learned().and_then(|l| l.run_warning_after());
        match (run, self.started_at) {
            (Some(run), Some(started)) => {
                let down = self.alert_at.unwrap_or_else(|| self.cadence.alert_at(last));
                due.max(started + run).min(down)
            }
            _ => due,
        }
    }

    fn end_run(&mut self, kind: PingKind, at: DateTime<Utc>) -> PingEffect {
        let duration = self.started_at.filter(|s| *s <= at).map(|s| at - s);
        if self.last_ping_at.is_some_and(|last| at < last) {
            return PingEffect { duration };
        }
        self.last_ping_at = Some(at);
        if duration.is_some() {
            self.started_at = None;
        }
        self.due_at = Some(self.cadence.due_at(at));
        if kind == PingKind::Fail {
            self.status = Status::Down;
            // Already down: nothing left for the scheduler to alert on until the next ping.
            self.alert_at = None;
        } else {
            self.status = Status::Up;
            self.alert_at = Some(self.cadence.alert_at(at));
        }
        PingEffect { duration }
    }

    /// Turns monitoring off: no deadlines until a ping or an explicit resume.
    pub fn pause(&mut self) {
        self.status = Status::Paused;
        self.started_at = None;
        self.due_at = None;
        self.alert_at = None;
    }

    /// Turns monitoring back on at `now`. A heartbeat that never pinged is new again; one that
    /// did gets a full interval + grace from now, so resuming never alerts at once.
    pub fn resume(&mut self, now: DateTime<Utc>) {
        if self.status != Status::Paused {
            return;
        }
        if self.last_ping_at.is_none() {
            self.status = Status::New;
            self.due_at = None;
            self.alert_at = None;
        } else {
            self.status = Status::Up;
            self.due_at = Some(self.cadence.due_at(now));
            self.alert_at = Some(self.cadence.alert_at(now));
        }
    }

    /// The status the heartbeat has at `now` if no ping arrives: the late/down decision.
    pub fn status_at(&self, now: DateTime<Utc>) -> Status {
        if !self.status.is_monitored() {
            return self.status;
        }
        match (self.due_at, self.alert_at) {
            (_, Some(alert)) if now >= alert => Status::Down,
            (Some(due), _) if now >= due => Status::Late,
            _ => Status::Up,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LearnedCadence;
    use crate::test_support::{kinds, t};
    use proptest::prelude::*;

    fn hourly() -> Schedule {
        Schedule::from_secs(3600, 600).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn schedule_bounds_are_checked() {
        assert_eq!(Schedule::from_secs(0, 0), Err(ScheduleError::Interval(0)));
        assert_eq!(Schedule::from_secs(60, -1), Err(ScheduleError::Grace(-1)));
        assert!(Schedule::from_secs(MAX_SECS + 1, 0).is_err());
        assert!(Schedule::from_secs(1, 0).is_ok());
        assert!(Schedule::from_secs(MAX_SECS, MAX_SECS).is_ok());
    }

    #[test]
    fn new_heartbeats_never_go_late() {
        let hb = HeartbeatTiming::new(hourly());
        assert_eq!(hb.status_at(t(10 * 86_400)), Status::New);
    }

    #[test]
    fn first_ping_makes_new_up_with_deadlines() {
        let mut hb = HeartbeatTiming::new(hourly());
        hb.apply_ping(PingKind::Success, t(0));
        assert_eq!(hb.status, Status::Up);
        assert_eq!(hb.due_at, Some(t(3600)));
        assert_eq!(hb.alert_at, Some(t(4200)));
    }

    #[test]
    fn up_then_late_then_down_at_the_exact_boundaries() {
        let mut hb = HeartbeatTiming::new(hourly());
        hb.apply_ping(PingKind::Success, t(0));
        assert_eq!(hb.status_at(t(3599)), Status::Up);
        assert_eq!(hb.status_at(t(3600)), Status::Late);
        assert_eq!(hb.status_at(t(4199)), Status::Late);
        assert_eq!(hb.status_at(t(4200)), Status::Down);
    }

    #[test]
    fn failure_is_down_at_once_and_success_recovers() {
        let mut hb = HeartbeatTiming::new(hourly());
        hb.apply_ping(PingKind::Success, t(0));
        hb.apply_ping(PingKind::Fail, t(10));
        assert_eq!(hb.status, Status::Down);
        assert_eq!(hb.alert_at, None);
        assert_eq!(hb.status_at(t(20)), Status::Down);
        hb.apply_ping(PingKind::Success, t(30));
        assert_eq!(hb.status, Status::Up);
        assert_eq!(hb.alert_at, Some(t(30 + 4200)));
    }

    #[test]
    fn start_then_success_measures_the_run() {
        let mut hb = HeartbeatTiming::new(hourly());
        hb.apply_ping(PingKind::Start, t(100));
        assert_eq!(hb.status, Status::New, "a start alone does not make it up");
        assert_eq!(hb.started_at, Some(t(100)));
        let effect = hb.apply_ping(PingKind::Success, t(145));
        assert_eq!(effect.duration, Some(Duration::seconds(45)));
        assert_eq!(hb.started_at, None);
        let effect = hb.apply_ping(PingKind::Success, t(200));
        assert_eq!(effect.duration, None, "no start, no duration");
    }

    #[test]
    fn a_start_ends_the_wait_for_a_start() {
        let mut hb = HeartbeatTiming::new(crate::test_support::waiting_for_start());
        hb.apply_ping(PingKind::Success, t(0));
        assert_eq!(hb.due_at, Some(t(2500)), "warned if no run starts");
        hb.apply_ping(PingKind::Start, t(2450));
        assert_eq!(hb.due_at, Some(t(3300)), "then its success is waited for");
        assert_eq!(hb.cadence.learned().and_then(|l| l.start()), None);
        assert_eq!(hb.alert_at, Some(t(4200)));
    }

    #[test]
    fn a_run_in_progress_is_warned_by_its_run_time() {
        let s = Duration::seconds;
        // Successes usually an hour apart (warned after 55 min); a run is long after 40 min.
        let learned = LearnedCadence::new(s(3000), s(3300), s(4200), hourly())
            .unwrap_or_else(|e| panic!("{e}"))
            .with_run_warning(Some(s(2400)));
        let mut hb = HeartbeatTiming::new(Cadence::Learned(learned));
        hb.apply_ping(PingKind::Success, t(0));
        // A run that started at 50 min is not missing at 55: it is long at 90, but down
        // comes first.
        hb.apply_ping(PingKind::Start, t(3000));
        assert_eq!(hb.due_at, Some(t(4200)));
        // One that started at 10 min is long at 50, and the success's warning at 55 stands.
        let mut hb = HeartbeatTiming::new(Cadence::Learned(learned));
        hb.apply_ping(PingKind::Success, t(0));
        hb.apply_ping(PingKind::Start, t(600));
        assert_eq!(hb.due_at, Some(t(3300)));
    }

    #[test]
    fn any_ping_resumes_a_paused_heartbeat() {
        for kind in [
            PingKind::Success,
            PingKind::Start,
            PingKind::Progress,
            PingKind::Fail,
        ] {
            let mut hb = HeartbeatTiming::new(hourly());
            hb.apply_ping(PingKind::Success, t(0));
            hb.pause();
            assert_eq!(hb.status_at(t(100_000)), Status::Paused);
            hb.apply_ping(kind, t(5000));
            assert_ne!(hb.status, Status::Paused, "{kind:?}");
            assert!(hb.due_at.is_some_and(|d| d >= t(5000)), "{kind:?}");
        }
    }

    #[test]
    fn resume_of_a_never_pinged_heartbeat_is_new() {
        let mut hb = HeartbeatTiming::new(hourly());
        hb.pause();
        hb.resume(t(50));
        assert_eq!(hb.status, Status::New);
        assert_eq!(hb.due_at, None);
    }

    #[test]
    fn explicit_resume_gives_a_full_period() {
        let mut hb = HeartbeatTiming::new(hourly());
        hb.apply_ping(PingKind::Success, t(0));
        hb.pause();
        hb.resume(t(90_000));
        assert_eq!(hb.status_at(t(90_001)), Status::Up);
        assert_eq!(hb.alert_at, Some(t(90_000 + 4200)));
    }

    #[test]
    fn an_older_ping_applied_late_changes_nothing() {
        let mut hb = HeartbeatTiming::new(hourly());
        hb.apply_ping(PingKind::Success, t(100));
        let before = hb;
        hb.apply_ping(PingKind::Fail, t(50));
        assert_eq!(hb, before);
    }

    fn rank(s: Status) -> u8 {
        match s {
            Status::Up => 0,
            Status::Late => 1,
            _ => 2,
        }
    }

    proptest! {
        #[test]
        fn deadlines_follow_the_last_signal(
            interval in 1i64..MAX_SECS, grace in 0i64..MAX_SECS,
            pings in proptest::collection::vec((kinds(), 0i64..1_000_000), 1..30),
        ) {
            let schedule = Schedule::from_secs(interval, grace).unwrap_or_else(|e| panic!("{e}"));
            let mut hb = HeartbeatTiming::new(schedule);
            for (kind, at) in &pings {
                hb.apply_ping(*kind, t(*at));
            }
            let last_signal = pings.iter().filter(|(k, _)| k.ends_run()).map(|(_, at)| *at).max();
            prop_assert_eq!(hb.last_ping_at, last_signal.map(t));
            if let Some(last) = hb.last_ping_at {
                prop_assert_eq!(hb.due_at, Some(last + Duration::seconds(interval)));
                if hb.status == Status::Up {
                    prop_assert_eq!(hb.alert_at, Some(last + Duration::seconds(interval + grace)));
                    prop_assert_eq!(hb.status_at(last), Status::Up);
                } else {
                    prop_assert_eq!(hb.status, Status::Down);
                    prop_assert_eq!(hb.alert_at, None);
                }
            } else {
                prop_assert_eq!(hb.status, Status::New);
                prop_assert_eq!(hb.alert_at, None);
            }
        }

        #[test]
        fn order_of_success_pings_does_not_matter(
            mut times in proptest::collection::vec(0i64..1_000_000, 1..20),
            interval in 1i64..100_000, grace in 0i64..100_000,
        ) {
            let schedule = Schedule::from_secs(interval, grace).unwrap_or_else(|e| panic!("{e}"));
            let mut in_order = HeartbeatTiming::new(schedule);
            let mut shuffled = HeartbeatTiming::new(schedule);
            for at in &times { shuffled.apply_ping(PingKind::Success, t(*at)); }
            times.sort_unstable();
            for at in &times { in_order.apply_ping(PingKind::Success, t(*at)); }
            prop_assert_eq!(in_order, shuffled);
        }

        #[test]
        fn silence_only_ever_makes_things_worse(
            interval in 1i64..100_000, grace in 0i64..100_000,
            ping_at in 0i64..1_000_000, a in 0i64..500_000, b in 0i64..500_000,
        ) {
            let schedule = Schedule::from_secs(interval, grace).unwrap_or_else(|e| panic!("{e}"));
            let mut hb = HeartbeatTiming::new(schedule);
            hb.apply_ping(PingKind::Success, t(ping_at));
            let (early, late) = (a.min(b), a.max(b));
            prop_assert!(rank(hb.status_at(t(ping_at + early))) <= rank(hb.status_at(t(ping_at + late))));
            prop_assert_eq!(hb.status_at(t(ping_at + interval - 1)), Status::Up);
            prop_assert_eq!(hb.status_at(t(ping_at + interval + grace)), Status::Down);
            if grace > 0 {
                prop_assert_eq!(hb.status_at(t(ping_at + interval)), Status::Late);
            }
        }
    }
}
