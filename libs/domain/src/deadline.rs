//! What the scheduler decides when a heartbeat's deadline passes: late, or down and why.
//!
//! Every watched heartbeat has one `next_check_at`, the earliest instant at which silence would
//! change its status: `due_at` while up (→ late), `alert_at` while late (→ down), and for a run in
//! progress the end of its progress timeout or maximum run time (→ down). The scheduler scans
//! that single indexed column and calls [`HeartbeatTiming::check`].

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use crate::duration::human;
use crate::local_time::LocalClock;
use crate::{HeartbeatTiming, Status};

/// Why a heartbeat went down. The alert says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DownCause {
    /// No ping within interval + grace; `deadline` is the `alert_at` that passed.
    Silent { deadline: DateTime<Utc> },
    /// A run sent no progress ping within its progress timeout.
    Stalled {
        deadline: DateTime<Utc>,
        last_activity: DateTime<Utc>,
        timeout: Duration,
    },
    /// A run went past its maximum run time.
    TooLong {
        deadline: DateTime<Utc>,
        started_at: DateTime<Utc>,
        max_runtime: Duration,
    },
    /// The job said it failed (`/fail` or a non-zero exit code).
    Failed { exit_code: Option<u8> },
}

impl DownCause {
    /// The deadline that was missed, if the cause is silence.
    pub fn deadline(&self) -> Option<DateTime<Utc>> {
        match *self {
            DownCause::Silent { deadline }
            | DownCause::Stalled { deadline, .. }
            | DownCause::TooLong { deadline, .. } => Some(deadline),
            DownCause::Failed { .. } => None,
        }
    }

    /// One line for the incident and the alert.
    pub fn describe(&self, timing: &HeartbeatTiming) -> String {
        match *self {
            DownCause::Silent { .. } => match timing.last_ping_at {
                Some(last) => format!(
                    "no ping since {} (expected {})",
                    last.format("%Y-%m-%d %H:%M:%S UTC"),
                    timing.cadence.describe(),
                ),
                None => "no ping received".to_owned(),
            },
            DownCause::Stalled {
                last_activity,
                timeout,
                ..
            } => format!(
                "stalled run: no progress for {} (last activity {})",
                human(timeout),
                last_activity.format("%Y-%m-%d %H:%M:%S UTC"),
            ),
            DownCause::TooLong {
                started_at,
                max_runtime,
                ..
            } => format!(
                "run too long: started {} and still running after the maximum run time of {}",
                started_at.format("%Y-%m-%d %H:%M:%S UTC"),
                human(max_runtime),
            ),
            DownCause::Failed { exit_code: None } => "the job reported failure (/fail)".to_owned(),
            DownCause::Failed { exit_code: Some(c) } => {
                format!("the job reported failure (exit code {c})")
            }
        }
    }
}

/// Why an AI heartbeat got an early warning. For an AI heartbeat, `late` is the warned state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WarnCause {
    /// The next ping became improbable: most come by `expected_by`, none by `deadline`; it will
    /// be down at `down_at`.
    Silent {
        expected_by: DateTime<Utc>,
        deadline: DateTime<Utc>,
        down_at: Option<DateTime<Utc>>,
    },
    /// The next run has not started: most runs start by `expected_by`, none by `deadline`; it
    /// will be down at `down_at`.
    NotStarted {
        expected_by: DateTime<Utc>,
        deadline: DateTime<Utc>,
        down_at: Option<DateTime<Utc>>,
    },
    /// A run is taking far longer than the job's runs usually do.
    LongRun {
        started_at: DateTime<Utc>,
        deadline: DateTime<Utc>,
    },
    /// A successful ping whose payload is far from the usual size.
    Payload { size: u64, usual: u64 },
    /// A new run started while the one before never reported its end: it crashed or hangs.
    Unfinished {
        started_at: DateTime<Utc>,
        restarted_at: DateTime<Utc>,
    },
}

impl WarnCause {
    /// The deadline that passed (a payload surprise has none: it came with the ping).
    pub fn deadline(&self) -> Option<DateTime<Utc>> {
        match *self {
            WarnCause::Silent { deadline, .. }
            | WarnCause::NotStarted { deadline, .. }
            | WarnCause::LongRun { deadline, .. } => Some(deadline),
            WarnCause::Payload { .. } | WarnCause::Unfinished { .. } => None,
        }
    }

    /// One line for the incident and the warning, with times in `tz` (the heartbeat's zone):
    /// `usually pings by 02:40 CET (95% of runs); it is 02:55 with no ping — it will be marked
    /// down at 03:30`. The zone is named once and dates are written only for another day than
    /// the warning's.
    pub fn describe_in(&self, tz: Tz) -> String {
        let mut clock = LocalClock::new(tz, self.moment());
        self.render(&mut |t| clock.time(t))
    }

    /// One line for the incident and the warning, in UTC (the offline replay's wording).
    pub fn describe(&self) -> String {
        self.render(&mut |t| t.format("%Y-%m-%d %H:%M UTC").to_string())
    }

    /// The instant the sentence speaks of ("it is 02:55"). A payload surprise writes no time.
    fn moment(&self) -> DateTime<Utc> {
        match *self {
            WarnCause::Silent { deadline, .. }
            | WarnCause::NotStarted { deadline, .. }
            | WarnCause::LongRun { deadline, .. } => deadline,
            WarnCause::Unfinished { restarted_at, .. } => restarted_at,
            WarnCause::Payload { .. } => DateTime::UNIX_EPOCH,
        }
    }

    /// The sentence, with each time written by `time` in the order the sentence reads them.
    fn render(&self, time: &mut dyn FnMut(DateTime<Utc>) -> String) -> String {
        match *self {
            WarnCause::Silent {
                expected_by,
                deadline,
                down_at,
            }
            | WarnCause::NotStarted {
                expected_by,
                deadline,
                down_at,
            } => {
                let usually = time(expected_by);
                let now = time(deadline);
                let down = down_at.map_or(String::new(), |d| {
                    format!(" — it will be marked down at {}", time(d))
                });
                match self {
                    WarnCause::NotStarted { .. } => format!(
                        "usually starts by {usually} (95% of runs); it is {now} and no run has started{down}"
                    ),
                    _ => format!(
                        "usually pings by {usually} (95% of runs); it is {now} with no ping{down}"
                    ),
                }
            }
            WarnCause::LongRun {
                started_at,
                deadline,
            } => format!(
                "run started {} is still going after {}, far longer than its runs usually take",
                time(started_at),
                human(deadline - started_at),
            ),
            WarnCause::Unfinished {
                started_at,
                restarted_at,
            } => {
                let started = time(started_at);
                let restarted = time(restarted_at);
                format!(
                    "the run started {started} never reported its end; a new run started {restarted}"
                )
            }
            WarnCause::Payload { size, usual } => format!(
                "the job reported success with a {size}-byte payload; it usually sends about {usual} bytes"
            ),
        }
    }
}

/// A status change the scheduler makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    Late,
    /// Late for an AI heartbeat: the early warning.
    Warn(WarnCause),
    Down(DownCause),
}

impl HeartbeatTiming {
    /// The earliest instant at which silence changes this heartbeat's status, if any.
    pub fn next_check_at(&self) -> Option<DateTime<Utc>> {
        let silence = match self.status {
            Status::Up => self.due_at,
            Status::Late => self.alert_at,
            Status::New | Status::Down | Status::Paused => None,
        };
        let run = self.run_problem().map(|cause| cause.deadline());
        let long_run = self.long_run_warning().map(|(_, deadline)| deadline);
        [silence, run.flatten(), long_run]
            .into_iter()
            .flatten()
            .min()
    }

    /// For an AI heartbeat that is up with a run in progress: when the run becomes unusually
    /// long, with its start.
    fn long_run_warning(&self) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let after = self.cadence.learned()?.run_warning_after()?;
        let started_at = self.started_at.filter(|_| self.status == Status::Up)?;
        Some((started_at, started_at + after))
    }

    /// The deadline of the run in progress, as the cause it would have. Only watched heartbeats
    /// (new, up, late) check runs: a down one already has its incident open.
    fn run_problem(&self) -> Option<DownCause> {
        if !matches!(self.status, Status::New | Status::Up | Status::Late) {
            return None;
        }
        let started_at = self.started_at?;
        let too_long = self
            .limits
            .max_runtime()
            .map(|max_runtime| DownCause::TooLong {
                deadline: started_at + max_runtime,
                started_at,
                max_runtime,
            });
        let stalled = self.limits.progress_timeout().map(|timeout| {
            let last_activity = self
                .last_progress_at
                .map_or(started_at, |p| p.max(started_at));
            DownCause::Stalled {
                deadline: last_activity + timeout,
                last_activity,
                timeout,
            }
        });
        [too_long, stalled]
            .into_iter()
            .flatten()
            .min_by_key(|c| c.deadline())
    }

    /// Applies the passing of time up to `now`: the status change silence causes, if any.
    /// Afterwards [`Self::next_check_at`] is `None` or later than `now`.
    pub fn check(&mut self, now: DateTime<Utc>) -> Option<Transition> {
        if let Some(cause) = self.run_problem().filter(|c| c.deadline() <= Some(now)) {
            self.go_down();
            return Some(Transition::Down(cause));
        }
        if let Some((started_at, deadline)) = self.long_run_warning().filter(|w| w.1 <= now)
            && self.status_at(now) == Status::Up
        {
            self.status = Status::Late;
            return Some(Transition::Warn(WarnCause::LongRun {
                started_at,
                deadline,
            }));
        }
        match (self.status, self.status_at(now)) {
            (Status::Up | Status::Late, Status::Down) => {
                let deadline = self.alert_at.unwrap_or(now);
                self.go_down();
                Some(Transition::Down(DownCause::Silent { deadline }))
            }
            (Status::Up, Status::Late) => {
                self.status = Status::Late;
                let learned = self.cadence.learned().copied();
                Some(match (learned, self.last_ping_at, self.due_at) {
                    // Still waiting for the run to start: that is what was missed.
                    (Some(l), Some(last), Some(deadline))
                        if let Some(start) =
                            l.start().filter(|s| last + s.warn_after == deadline) =>
                    {
                        Transition::Warn(WarnCause::NotStarted {
                            expected_by: last + start.expected_by,
                            deadline,
                            down_at: self.alert_at,
                        })
                    }
                    (Some(l), Some(last), Some(deadline)) => Transition::Warn(WarnCause::Silent {
                        expected_by: last + l.expected_by(),
                        deadline,
                        down_at: self.alert_at,
                    }),
                    _ => Transition::Late,
                })
            }
            _ => None,
        }
    }

    fn go_down(&mut self) {
        self.status = Status::Down;
        // Down stays down until a ping: nothing left to alert on.
        self.alert_at = None;
    }

    /// Moves every deadline `gap` later: Lifeline itself could not receive pings for that long,
    /// so the job gets the time back instead of an alert for our outage.
    pub fn shift(&mut self, gap: Duration) {
        // A learned cadence's offsets count from the last ping, which stays: they grow, so that
        // "usually by" and a pending start move with the deadlines they belong to.
        self.cadence = self.cadence.later_by(gap);
        for at in [
            &mut self.due_at,
            &mut self.alert_at,
            &mut self.started_at,
            &mut self.last_progress_at,
        ] {
            *at = at.map(|t| t + gap);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{kinds, t};
    use crate::timing::RunLimits;
    use crate::{PingKind, Schedule};
    use proptest::prelude::*;

    fn timing(interval: i64, grace: i64) -> HeartbeatTiming {
        HeartbeatTiming::new(Schedule::from_secs(interval, grace).unwrap_or_else(|e| panic!("{e}")))
    }

    fn with_limits(max: Option<i64>, progress: Option<i64>) -> HeartbeatTiming {
        let mut hb = timing(86_400, 3600);
        hb.limits = RunLimits::from_secs(max, progress).unwrap_or_else(|e| panic!("{e}"));
        hb
    }

    #[test]
    fn up_goes_late_at_due_then_down_at_alert() {
        let mut hb = timing(3600, 600);
        hb.apply_ping(PingKind::Success, t(0));
        assert_eq!(hb.next_check_at(), Some(t(3600)));
        assert_eq!(hb.check(t(3599)), None);
        assert_eq!(hb.check(t(3600)), Some(Transition::Late));
        assert_eq!(hb.status, Status::Late);
        assert_eq!(hb.next_check_at(), Some(t(4200)));
        assert_eq!(hb.check(t(4199)), None);
        assert_eq!(
            hb.check(t(4200)),
            Some(Transition::Down(DownCause::Silent { deadline: t(4200) }))
        );
        assert_eq!(
            (hb.status, hb.alert_at, hb.next_check_at()),
            (Status::Down, None, None)
        );
    }

    #[test]
    fn a_scheduler_that_wakes_late_goes_straight_to_down() {
        let mut hb = timing(60, 30);
        hb.apply_ping(PingKind::Success, t(0));
        assert!(matches!(hb.check(t(500)), Some(Transition::Down(_))));
    }

    #[test]
    fn zero_grace_skips_late() {
        let mut hb = timing(60, 0);
        hb.apply_ping(PingKind::Success, t(0));
        assert!(matches!(hb.check(t(60)), Some(Transition::Down(_))));
    }

    #[test]
    fn new_paused_and_down_are_not_checked() {
        let mut new = timing(60, 0);
        assert_eq!((new.next_check_at(), new.check(t(1_000_000))), (None, None));
        let mut paused = timing(60, 0);
        paused.apply_ping(PingKind::Success, t(0));
        paused.pause();
        assert_eq!(
            (paused.next_check_at(), paused.check(t(1_000_000))),
            (None, None)
        );
        let mut down = timing(60, 0);
        down.apply_ping(PingKind::Fail, t(0));
        assert_eq!(
            (down.next_check_at(), down.check(t(1_000_000))),
            (None, None)
        );
    }

    #[test]
    fn a_run_without_progress_stalls() {
        let mut hb = with_limits(None, Some(300));
        hb.apply_ping(PingKind::Success, t(0));
        hb.apply_ping(PingKind::Start, t(1000));
        assert_eq!(hb.next_check_at(), Some(t(1300)));
        hb.apply_ping(PingKind::Progress, t(1200));
        assert_eq!(
            hb.next_check_at(),
            Some(t(1500)),
            "progress resets the timeout"
        );
        assert_eq!(hb.check(t(1499)), None);
        let Some(Transition::Down(cause)) = hb.check(t(1500)) else {
            panic!("expected down");
        };
        assert_eq!(
            cause,
            DownCause::Stalled {
                deadline: t(1500),
                last_activity: t(1200),
                timeout: Duration::seconds(300)
            }
        );
        assert!(
            cause
                .describe(&hb)
                .contains("stalled run: no progress for 5 min")
        );
    }

    #[test]
    fn a_run_past_its_maximum_is_too_long_even_with_progress() {
        let mut hb = with_limits(Some(600), Some(300));
        hb.apply_ping(PingKind::Start, t(0));
        for at in (100..=700).step_by(100) {
            if hb.check(t(at)).is_some() {
                break;
            }
            hb.apply_ping(PingKind::Progress, t(at));
        }
        assert_eq!(hb.status, Status::Down);
        let mut fresh = with_limits(Some(600), Some(300));
        fresh.apply_ping(PingKind::Start, t(0));
        fresh.apply_ping(PingKind::Progress, t(500));
        let Some(Transition::Down(cause)) = fresh.check(t(600)) else {
            panic!("expected down");
        };
        assert!(matches!(cause, DownCause::TooLong { .. }), "{cause:?}");
        assert!(cause.describe(&fresh).contains("run too long"));
        assert!(cause.describe(&fresh).contains("10 min"));
    }

    #[test]
    fn a_finished_run_has_no_run_deadline() {
        let mut hb = with_limits(Some(600), Some(300));
        hb.apply_ping(PingKind::Start, t(0));
        hb.apply_ping(PingKind::Success, t(100));
        assert_eq!(hb.next_check_at(), Some(t(100 + 86_400)));
    }

    #[test]
    fn progress_before_the_start_does_not_extend_the_run() {
        let mut hb = with_limits(None, Some(300));
        hb.apply_ping(PingKind::Progress, t(0));
        hb.apply_ping(PingKind::Success, t(10));
        hb.apply_ping(PingKind::Start, t(1000));
        assert_eq!(hb.next_check_at(), Some(t(1300)));
    }

    #[test]
    fn shift_moves_every_deadline() {
        let mut hb = with_limits(Some(600), None);
        hb.apply_ping(PingKind::Success, t(0));
        hb.apply_ping(PingKind::Start, t(100));
        let before = hb.next_check_at();
        hb.shift(Duration::seconds(60));
        assert_eq!(
            hb.next_check_at(),
            before.map(|b| b + Duration::seconds(60))
        );
        assert_eq!(hb.alert_at, Some(t(86_400 + 3600 + 60)));
    }

    #[test]
    fn shift_moves_what_a_learned_cadence_expects_too() {
        let s = Duration::seconds;
        let waiting = crate::test_support::waiting_for_start();
        let mut hb = HeartbeatTiming::new(waiting);
        hb.apply_ping(PingKind::Success, t(0));
        hb.shift(s(60));
        assert_eq!(hb.due_at, Some(t(2560)));
        let after = hb
            .cadence
            .learned()
            .copied()
            .unwrap_or_else(|| panic!("still learned"));
        assert_eq!(after.expected_by(), s(3060));
        assert_eq!(after.start().map(|x| x.expected_by), Some(s(2460)));
        // The start then puts the warning back to the success's, shifted as well.
        hb.apply_ping(PingKind::Start, t(2450));
        assert_eq!(hb.due_at, Some(t(3360)));
    }

    #[test]
    fn describe_says_what_happened() {
        let mut hb = timing(3600, 600);
        hb.apply_ping(PingKind::Success, t(0));
        let silent = DownCause::Silent { deadline: t(4200) };
        assert!(
            silent
                .describe(&hb)
                .contains("expected every 1 h + 10 min grace")
        );
        let failed = DownCause::Failed { exit_code: Some(3) };
        assert!(failed.describe(&hb).contains("exit code 3"));
    }

    #[test]
    fn a_warning_reads_in_the_heartbeats_time_zone() {
        use chrono::TimeZone;
        let at = |d, h, m| {
            Utc.with_ymd_and_hms(2026, 11, d, h, m, 0)
                .single()
                .unwrap_or_default()
        };
        let paris = chrono_tz::Europe::Paris;
        let silent = WarnCause::Silent {
            expected_by: at(25, 1, 40),
            deadline: at(25, 1, 55),
            down_at: Some(at(25, 2, 30)),
        };
        assert_eq!(
            silent.describe_in(paris),
            "usually pings by 02:40 CET (95% of runs); it is 02:55 with no ping — it will be \
             marked down at 03:30"
        );
        assert_eq!(silent.deadline(), Some(at(25, 1, 55)));
        // The replay keeps its UTC wording.
        assert!(
            silent
                .describe()
                .starts_with("usually pings by 2026-11-25 01:40 UTC")
        );

        // Around midnight: the other day's time carries its date.
        let overnight = WarnCause::Silent {
            expected_by: at(24, 22, 50),
            deadline: at(24, 23, 5),
            down_at: None,
        };
        assert_eq!(
            overnight.describe_in(paris),
            "usually pings by 2026-11-24 23:50 CET (95% of runs); it is 00:05 with no ping"
        );

        let not_started = WarnCause::NotStarted {
            expected_by: at(25, 1, 40),
            deadline: at(25, 1, 55),
            down_at: None,
        };
        assert_eq!(
            not_started.describe_in(paris),
            "usually starts by 02:40 CET (95% of runs); it is 02:55 and no run has started"
        );
        assert_eq!(not_started.deadline(), Some(at(25, 1, 55)));

        let long_run = WarnCause::LongRun {
            started_at: at(25, 0, 10),
            deadline: at(25, 1, 40),
        };
        assert_eq!(
            long_run.describe_in(chrono_tz::America::New_York),
            "run started 19:10 EST is still going after 1 h 30 min, far longer than its runs \
             usually take"
        );
        let payload = WarnCause::Payload {
            size: 0,
            usual: 48_000,
        };
        assert_eq!(payload.describe_in(paris), payload.describe());
        assert_eq!(payload.deadline(), None);

        // A crashed run found by the next one, the day before.
        let unfinished = WarnCause::Unfinished {
            started_at: at(24, 1, 0),
            restarted_at: at(25, 1, 0),
        };
        assert_eq!(
            unfinished.describe_in(paris),
            "the run started 2026-11-24 02:00 CET never reported its end; a new run started 02:00"
        );
        assert_eq!(unfinished.deadline(), None);
    }

    proptest! {
        #[test]
        fn after_a_check_the_next_check_is_in_the_future(
            interval in 1i64..10_000, grace in 0i64..10_000,
            max in proptest::option::of(1i64..10_000), progress in proptest::option::of(1i64..10_000),
            pings in proptest::collection::vec((kinds(), 0i64..20_000), 0..20),
            checks in proptest::collection::vec(0i64..60_000, 1..10),
        ) {
            let mut hb = timing(interval, grace);
            hb.limits = RunLimits::from_secs(max, progress).unwrap_or_else(|e| panic!("{e}"));
            for (kind, at) in &pings {
                hb.apply_ping(*kind, t(*at));
            }
            let mut checks = checks;
            checks.sort_unstable();
            for now in checks {
                let before = hb.status;
                let change = hb.check(t(now));
                prop_assert!(hb.next_check_at().is_none_or(|n| n > t(now)));
                match change {
                    Some(Transition::Late | Transition::Warn(_)) => prop_assert_eq!((before, hb.status), (Status::Up, Status::Late)),
                    Some(Transition::Down(_)) => prop_assert_eq!(hb.status, Status::Down),
                    None => prop_assert_eq!(hb.status, before),
                }
                // The stored row's invariant: only up or late heartbeats carry an alert_at.
                prop_assert!(matches!(hb.status, Status::Up | Status::Late) || hb.alert_at.is_none());
            }
        }
    }
}
