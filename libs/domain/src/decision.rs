//! What the rules decide for one heartbeat, as a typed outcome that storage only has to write:
//! its new timing, the status change with its reason, whether an incident opens or resolves, and
//! whether the scheduler must look again sooner than it planned. Three things decide: a batch of
//! pings ([`PingBatch`]), the passing of a deadline ([`HeartbeatTiming::decide`]) and an
//! operator's pause or resume ([`HeartbeatTiming::decide_pause`], [`HeartbeatTiming::decide_resume`]).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::deadline::{DownCause, Transition, WarnCause};
use crate::{
    Cadence, HeartbeatTiming, LearnedCadence, PingEffect, PingKind, RunLimits, Schedule, Status,
};

/// Everything decided for one heartbeat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    /// The timing to store.
    pub timing: HeartbeatTiming,
    pub change: Option<StatusChange>,
    pub incident: Option<IncidentChange>,
    /// What happens to the heartbeat's `early_warning` incident (AI heartbeats only).
    pub warning: Option<WarningChange>,
    /// A deadline moved earlier than the one the scheduler knew: it must look again now, not at
    /// its next planned pass.
    pub wake_scheduler: bool,
}

/// A status change, for the heartbeat's history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusChange {
    pub from: Status,
    pub to: Status,
    pub reason: ChangeReason,
}

/// Why a status changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeReason {
    /// A ping arrived.
    Ping,
    /// A ping arrived while paused, which resumes monitoring.
    ResumedByPing,
    /// The job reported failure.
    FailureSignal,
    /// The interval passed without a ping.
    IntervalPassed,
    /// An AI heartbeat's early warning.
    Warned(WarnCause),
    /// A deadline passed: silence, a stalled run or a run too long.
    Missed(DownCause),
    PausedByOperator,
    ResumedByOperator,
    /// The team changed the schedule, which moved the deadlines.
    ScheduleChanged,
}

impl ChangeReason {
    /// The line stored with the change.
    pub fn describe(&self, timing: &HeartbeatTiming) -> String {
        match self {
            ChangeReason::Ping => "ping".to_owned(),
            ChangeReason::ResumedByPing => "resumed by ping".to_owned(),
            ChangeReason::FailureSignal => "failure signal".to_owned(),
            ChangeReason::IntervalPassed => "interval passed".to_owned(),
            ChangeReason::Warned(cause) => format!("early warning: {}", cause.describe()),
            ChangeReason::Missed(cause) => cause.describe(timing),
            ChangeReason::PausedByOperator => "paused by operator".to_owned(),
            ChangeReason::ResumedByOperator => "resumed by operator".to_owned(),
            ChangeReason::ScheduleChanged => "schedule changed".to_owned(),
        }
    }

    /// [`Self::describe`], with an early warning's times in `tz` (the heartbeat's zone), worded
    /// as its incident is.
    pub fn describe_in(&self, timing: &HeartbeatTiming, tz: Tz) -> String {
        match self {
            ChangeReason::Warned(cause) => format!("early warning: {}", cause.describe_in(tz)),
            other => other.describe(timing),
        }
    }
}

/// What happens to the heartbeat's `down` incident.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IncidentChange {
    /// It went down: open an incident (one per heartbeat at a time) and alert every channel.
    Open {
        cause: DownCause,
        /// The incident's line, also the alert's "what happened".
        reason: String,
        at: DateTime<Utc>,
    },
    /// It is back (`notify`: tell every channel) or was paused (quietly: the team chose it).
    Resolve { at: DateTime<Utc>, notify: bool },
}

/// What happens to an AI heartbeat's `early_warning` incident. One overdue period has at most
/// one: it opens when the heartbeat goes late and closes when a usual ping comes ("back on
/// track", told to every channel) or when the heartbeat goes down or is paused (quietly: the
/// down alert or the team's choice supersedes it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WarningChange {
    Open {
        cause: WarnCause,
        reason: String,
        at: DateTime<Utc>,
    },
    Resolve {
        at: DateTime<Utc>,
        notify: bool,
    },
}

/// A ping as the rules see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ping {
    pub kind: PingKind,
    pub exit_code: Option<u8>,
    pub at: DateTime<Utc>,
    /// For an AI heartbeat with a model: what the model expects after this ping, and its verdict
    /// on the ping's payload. `None` keeps the heartbeat's cadence as it is.
    pub learned: Option<LearnedCadence>,
}

/// The pings of one heartbeat committed together, applied in arrival order.
#[derive(Clone, Debug)]
pub struct PingBatch {
    before: HeartbeatTiming,
    timing: HeartbeatTiming,
    reason: ChangeReason,
    /// Set while a failure signal holds it down: why, for the incident.
    failure: Option<DownCause>,
    /// The latest ping applied.
    last_at: Option<DateTime<Utc>>,
    /// A payload surprise that warned within this batch.
    surprise: Option<WarnCause>,
}

impl PingBatch {
    /// Starts from the heartbeat's timing as locked, before any ping of the batch.
    pub fn new(before: HeartbeatTiming) -> Self {
        Self {
            before,
            timing: before,
            reason: ChangeReason::Ping,
            failure: None,
            last_at: None,
            surprise: None,
        }
    }

    /// The timing as the pings so far left it.
    pub fn timing(&self) -> &HeartbeatTiming {
        &self.timing
    }

    /// Applies one ping; its effect is what the ping row records (a run's duration).
    pub fn apply(&mut self, ping: Ping) -> PingEffect {
        let was_paused = self.timing.status == Status::Paused;
        let was_down = self.timing.status == Status::Down;
        if let Some(learned) = ping.learned {
            self.timing.cadence = Cadence::Learned(learned);
        }
        let unfinished = self.unfinished_run(&ping);
        let effect = self.timing.apply_ping(ping.kind, ping.at);
        if let Some(cause) = unfinished {
            self.timing.status = Status::Late;
            self.surprise = Some(cause);
        }
        if let Some(surprise) = ping.learned.and_then(|l| l.payload_surprise())
            && ping.kind == PingKind::Success
            && self.timing.last_ping_at == Some(ping.at)
        {
            // It came, but did nothing (or far too much): warned, and down if no usual ping
            // follows by the deadline.
            self.timing.status = Status::Late;
            self.surprise = Some(WarnCause::Payload {
                size: surprise.size,
                usual: surprise.usual,
            });
        } else if ping.kind.ends_run() {
            self.surprise = None;
        }
        let down = self.timing.status == Status::Down;
        self.last_at = self.last_at.max(Some(ping.at));
        if was_paused {
            self.reason = ChangeReason::ResumedByPing;
        } else if down {
            self.reason = ChangeReason::FailureSignal;
        }
        if down && !was_down {
            self.failure = Some(DownCause::Failed {
                exit_code: ping.exit_code.filter(|c| *c != 0),
            });
        } else if !down {
            self.failure = None;
        }
        effect
    }

    /// For an up AI heartbeat whose runs are learned: a start while the run before is still
    /// open means that run never reported its end — the sign of a run that crashed, where the
    /// next one starts on time and silence alone would say nothing until it is too late. A
    /// start sooner than the run warning and half the configured interval is a retry.
    fn unfinished_run(&self, ping: &Ping) -> Option<WarnCause> {
        let t = &self.timing;
        let learned = t.cadence.learned()?;
        let retry = learned
            .run_warning_after()?
            .min(t.cadence.fixed().interval() / 2);
        let started_at = t.started_at.filter(|s| *s + retry <= ping.at)?;
        (ping.kind == PingKind::Start
            && t.status == Status::Up
            && t.last_ping_at.is_none_or(|last| last < started_at))
        .then_some(WarnCause::Unfinished {
            started_at,
            restarted_at: ping.at,
        })
    }

    pub fn finish(self) -> Decision {
        let (before, timing) = (self.before, self.timing);
        let at = self.last_at.unwrap_or(DateTime::<Utc>::MIN_UTC);
        // A down heartbeat that pinged is back. (When a failure came after the recovering ping
        // in the same batch, it stays down and its incident open.)
        let recovered = before.status == Status::Down && timing.status != Status::Down;
        let incident = match self.failure {
            Some(cause) => Some(IncidentChange::Open {
                cause,
                reason: cause.describe(&timing),
                at,
            }),
            None if recovered => Some(IncidentChange::Resolve { at, notify: true }),
            None => None,
        };
        let warned = before.status == Status::Late && before.cadence.learned().is_some();
        let warning = match (self.surprise, timing.status) {
            (Some(cause), _) if !warned => Some(WarningChange::Open {
                cause,
                reason: cause.describe(),
                at,
            }),
            (Some(_), _) => None,
            (None, Status::Up) if warned => Some(WarningChange::Resolve { at, notify: true }),
            (None, Status::Down) if warned => Some(WarningChange::Resolve { at, notify: false }),
            _ => None,
        };
        let reason = match self.surprise {
            Some(cause) if !warned => ChangeReason::Warned(cause),
            _ => self.reason,
        };
        Decision {
            change: changed(&before, &timing, reason),
            incident,
            warning,
            wake_scheduler: moved_earlier(&before, &timing),
            timing,
        }
    }
}

fn changed(
    before: &HeartbeatTiming,
    after: &HeartbeatTiming,
    reason: ChangeReason,
) -> Option<StatusChange> {
    (before.status != after.status).then_some(StatusChange {
        from: before.status,
        to: after.status,
        reason,
    })
}

/// Whether the earliest deadline is now earlier than before (or exists where none did).
fn moved_earlier(before: &HeartbeatTiming, after: &HeartbeatTiming) -> bool {
    let old = before.next_check_at();
    after
        .next_check_at()
        .is_some_and(|new| old.is_none_or(|old| new < old))
}

impl HeartbeatTiming {
    /// The scheduler's decision once the deadline has passed: silence is judged up to `until`
    /// (the latest instant Lifeline could verifiably receive pings); an incident opened is
    /// stamped `now`. No change when the stored next check was stale: the timing is still
    /// stored, and its next check is then in the future.
    pub fn decide(&self, until: DateTime<Utc>, now: DateTime<Utc>) -> Decision {
        let mut after = *self;
        let warned = self.status == Status::Late && self.cadence.learned().is_some();
        let (reason, incident, warning) = match after.check(until) {
            // Without a transition the status stays, so the reason is never written.
            None | Some(Transition::Late) => (ChangeReason::IntervalPassed, None, None),
            Some(Transition::Warn(cause)) => (
                ChangeReason::Warned(cause),
                None,
                Some(WarningChange::Open {
                    cause,
                    reason: cause.describe(),
                    at: now,
                }),
            ),
            Some(Transition::Down(cause)) => (
                ChangeReason::Missed(cause),
                Some(IncidentChange::Open {
                    cause,
                    reason: cause.describe(&after),
                    at: now,
                }),
                warned.then_some(WarningChange::Resolve {
                    at: now,
                    notify: false,
                }),
            ),
        };
        Decision {
            change: changed(self, &after, reason),
            incident,
            warning,
            wake_scheduler: false,
            timing: after,
        }
    }

    /// An operator turns monitoring off: an open incident closes quietly, so the next outage
    /// after a resume opens (and alerts on) one of its own.
    pub fn decide_pause(&self, now: DateTime<Utc>) -> Decision {
        let mut after = *self;
        after.pause();
        Decision {
            change: changed(self, &after, ChangeReason::PausedByOperator),
            incident: Some(IncidentChange::Resolve {
                at: now,
                notify: false,
            }),
            warning: Some(WarningChange::Resolve {
                at: now,
                notify: false,
            }),
            wake_scheduler: false,
            timing: after,
        }
    }

    /// The team changes the schedule and run limits. Deadlines are counted again from the last
    /// ping with the new schedule: a late heartbeat whose new deadline is still ahead is up
    /// again, and deadlines that the new schedule puts in the past are left to the scheduler,
    /// which decides them at once with the usual alerts. A down heartbeat stays down until its
    /// next ping; a new or paused one has no deadlines to move.
    pub fn decide_reschedule(
        &self,
        schedule: Schedule,
        limits: RunLimits,
        now: DateTime<Utc>,
    ) -> Decision {
        let mut after = *self;
        after.limits = limits;
        after.recount(self.cadence.with_fixed(schedule), now);
        self.decide_recounted(after, ChangeReason::ScheduleChanged, now)
    }

    /// The analyzer trained a model (or it went away: a downgrade, AI mode turned off): the
    /// deadlines of the current period are counted again from the last ping with `cadence`, as
    /// [`Self::decide_reschedule`] does for a new schedule.
    pub fn decide_relearn(&self, cadence: Cadence, now: DateTime<Utc>) -> Decision {
        let mut after = *self;
        after.recount(cadence, now);
        self.decide_recounted(after, ChangeReason::ScheduleChanged, now)
    }

    fn recount(&mut self, cadence: Cadence, now: DateTime<Utc>) {
        self.cadence = cadence;
        if matches!(self.status, Status::Up | Status::Late)
            && let Some(last) = self.last_ping_at
        {
            self.alert_at = Some(cadence.alert_at(last));
            self.due_at = Some(self.warning_due(last));
            if self.status == Status::Late && self.due_at.is_some_and(|due| now < due) {
                self.status = Status::Up;
            }
        }
    }

    fn decide_recounted(
        &self,
        after: HeartbeatTiming,
        reason: ChangeReason,
        now: DateTime<Utc>,
    ) -> Decision {
        // A warning whose deadline the new expectations put back in the future is over, quietly:
        // nothing the job did changed, only what Lifeline expects of it. So is any warning when
        // the heartbeat goes back to its fixed schedule: fixed mode has no early warnings.
        let warned = self.status == Status::Late && self.cadence.learned().is_some();
        let over = after.status == Status::Up || after.cadence.learned().is_none();
        Decision {
            change: changed(self, &after, reason),
            incident: None,
            warning: (warned && over).then_some(WarningChange::Resolve {
                at: now,
                notify: false,
            }),
            wake_scheduler: moved_earlier(self, &after),
            timing: after,
        }
    }

    /// An operator turns monitoring back on: a full interval + grace from `now`.
    pub fn decide_resume(&self, now: DateTime<Utc>) -> Decision {
        let mut after = *self;
        after.resume(now);
        Decision {
            change: changed(self, &after, ChangeReason::ResumedByOperator),
            incident: None,
            warning: None,
            wake_scheduler: moved_earlier(self, &after),
            timing: after,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Schedule;
    use crate::test_support::t;

    fn hourly() -> HeartbeatTiming {
        HeartbeatTiming::new(Schedule::from_secs(3600, 600).unwrap_or_else(|e| panic!("{e}")))
    }

    fn ping(kind: PingKind, at: i64) -> Ping {
        Ping {
            kind,
            exit_code: None,
            at: t(at),
            learned: None,
        }
    }

    fn batch(before: HeartbeatTiming, pings: &[Ping]) -> Decision {
        let mut batch = PingBatch::new(before);
        for p in pings {
            batch.apply(*p);
        }
        batch.finish()
    }

    fn down_at(secs: i64) -> HeartbeatTiming {
        let mut hb = hourly();
        hb.apply_ping(PingKind::Fail, t(secs));
        hb
    }

    #[test]
    fn a_first_ping_makes_it_up_and_wakes_the_scheduler() {
        let d = batch(hourly(), &[ping(PingKind::Success, 0)]);
        assert_eq!(
            d.change,
            Some(StatusChange {
                from: Status::New,
                to: Status::Up,
                reason: ChangeReason::Ping
            })
        );
        assert_eq!((d.incident, d.wake_scheduler), (None, true));
        assert_eq!(d.timing.due_at, Some(t(3600)));
    }

    #[test]
    fn a_later_ping_moves_the_deadline_out_without_waking_anyone() {
        let mut up = hourly();
        up.apply_ping(PingKind::Success, t(0));
        let d = batch(up, &[ping(PingKind::Success, 100)]);
        assert_eq!(
            (d.change, d.incident, d.wake_scheduler),
            (None, None, false)
        );
    }

    #[test]
    fn a_failure_opens_an_incident_with_its_exit_code() {
        let mut up = hourly();
        up.apply_ping(PingKind::Success, t(0));
        let fail = Ping {
            kind: PingKind::Fail,
            exit_code: Some(3),
            at: t(50),
            learned: None,
        };
        let d = batch(up, &[fail]);
        assert_eq!(
            d.change.map(|c| c.reason),
            Some(ChangeReason::FailureSignal)
        );
        let Some(IncidentChange::Open { cause, reason, at }) = d.incident else {
            panic!("expected an incident, got {:?}", d.incident);
        };
        assert_eq!(cause, DownCause::Failed { exit_code: Some(3) });
        assert!(reason.contains("exit code 3"), "{reason}");
        assert_eq!(at, t(50));
    }

    #[test]
    fn a_ping_to_a_down_heartbeat_resolves_and_notifies_at_the_ping() {
        let d = batch(down_at(0), &[ping(PingKind::Success, 70)]);
        assert_eq!(
            d.incident,
            Some(IncidentChange::Resolve {
                at: t(70),
                notify: true
            })
        );
        assert_eq!(
            d.change.map(|c| (c.from, c.to)),
            Some((Status::Down, Status::Up))
        );
    }

    #[test]
    fn recovery_then_failure_in_one_batch_keeps_it_down_and_open() {
        let pings = [ping(PingKind::Success, 70), ping(PingKind::Fail, 80)];
        let d = batch(down_at(0), &pings);
        assert_eq!(d.change, None, "down before, down after");
        assert!(matches!(d.incident, Some(IncidentChange::Open { .. })));
    }

    #[test]
    fn failure_then_recovery_in_one_batch_opens_nothing() {
        let mut up = hourly();
        up.apply_ping(PingKind::Success, t(0));
        let pings = [ping(PingKind::Fail, 10), ping(PingKind::Success, 20)];
        let d = batch(up, &pings);
        assert_eq!((d.change, d.incident), (None, None));
    }

    #[test]
    fn any_ping_to_a_paused_heartbeat_resumes_it_with_that_reason() {
        let mut paused = hourly();
        paused.apply_ping(PingKind::Success, t(0));
        paused.pause();
        let d = batch(paused, &[ping(PingKind::Start, 500)]);
        assert_eq!(
            d.change.map(|c| (c.from, c.to, c.reason)),
            Some((Status::Paused, Status::Up, ChangeReason::ResumedByPing))
        );
        assert!(d.wake_scheduler);
    }

    #[test]
    fn pings_are_applied_in_the_order_given_and_older_ones_change_nothing() {
        let mut up = hourly();
        up.apply_ping(PingKind::Success, t(100));
        let d = batch(up, &[ping(PingKind::Fail, 50)]);
        assert_eq!((d.change, d.incident), (None, None));
        assert_eq!(d.timing, up);
    }

    #[test]
    fn a_run_with_a_limit_moves_the_deadline_earlier_and_wakes_the_scheduler() {
        let mut up = hourly();
        up.limits = crate::RunLimits::from_secs(Some(60), None).unwrap_or_else(|e| panic!("{e}"));
        up.apply_ping(PingKind::Success, t(0));
        let d = batch(up, &[ping(PingKind::Start, 100)]);
        assert_eq!(d.change, None, "a start changes no status");
        assert!(d.wake_scheduler);
        assert_eq!(d.timing.next_check_at(), Some(t(160)));
        let stalled = d.timing.decide(t(160), t(161));
        assert!(matches!(
            stalled.change.map(|c| c.reason),
            Some(ChangeReason::Missed(DownCause::TooLong { .. }))
        ));
    }

    #[test]
    fn a_passed_deadline_decides_late_then_down_with_its_cause() {
        let mut up = hourly();
        up.apply_ping(PingKind::Success, t(0));
        assert_eq!(up.decide(t(3599), t(3599)).change, None, "not yet");
        let late = up.decide(t(3600), t(3601));
        assert_eq!(
            late.change.map(|c| c.reason),
            Some(ChangeReason::IntervalPassed)
        );
        assert_eq!(late.incident, None);
        let down = late.timing.decide(t(4200), t(4201));
        let cause = DownCause::Silent { deadline: t(4200) };
        assert_eq!(
            down.change.map(|c| (c.from, c.to, c.reason)),
            Some((Status::Late, Status::Down, ChangeReason::Missed(cause)))
        );
        let Some(IncidentChange::Open { reason, at, .. }) = down.incident else {
            panic!("expected an incident");
        };
        assert!(reason.starts_with("no ping since"), "{reason}");
        assert_eq!(at, t(4201), "stamped when decided");
        let again = down.timing.decide(t(9000), t(9000));
        assert_eq!(
            (again.change, again.incident),
            (None, None),
            "down stays down"
        );
    }

    #[test]
    fn pausing_closes_quietly_and_resuming_wakes_the_scheduler() {
        let d = down_at(0).decide_pause(t(10));
        assert_eq!(d.change.map(|c| c.to), Some(Status::Paused));
        assert_eq!(
            d.incident,
            Some(IncidentChange::Resolve {
                at: t(10),
                notify: false
            })
        );
        let resumed = d.timing.decide_resume(t(20));
        assert_eq!(
            resumed.change.map(|c| (c.to, c.reason)),
            Some((Status::Up, ChangeReason::ResumedByOperator))
        );
        assert!(resumed.wake_scheduler);
        assert_eq!(resumed.timing.alert_at, Some(t(20 + 4200)));
    }

    #[test]
    fn a_new_schedule_counts_from_the_last_ping() {
        let mut timing = hourly();
        timing.apply_ping(PingKind::Success, t(0));
        // Late at 3600 s; the team makes it a two-hour job.
        let late = timing.decide(t(3700), t(3700)).timing;
        assert_eq!(late.status, Status::Late);
        let two_hours = Schedule::from_secs(7200, 600).unwrap_or_else(|e| panic!("{e}"));
        let d = late.decide_reschedule(two_hours, RunLimits::default(), t(3800));
        assert_eq!(d.timing.status, Status::Up);
        assert_eq!(d.timing.due_at, Some(t(7200)));
        assert_eq!(d.timing.alert_at, Some(t(7800)));
        assert_eq!(
            d.change.map(|c| c.reason),
            Some(ChangeReason::ScheduleChanged)
        );
        assert!(!d.wake_scheduler, "the deadline moved later");

        // Shorter: the deadline moves earlier, the scheduler must look.
        let ten_minutes = Schedule::from_secs(600, 60).unwrap_or_else(|e| panic!("{e}"));
        let mut up = hourly();
        up.apply_ping(PingKind::Success, t(0));
        let d = up.decide_reschedule(ten_minutes, RunLimits::default(), t(100));
        assert_eq!(d.timing.due_at, Some(t(600)));
        assert!(d.wake_scheduler);
        assert_eq!(d.change, None);

        // New and down heartbeats have no deadlines to move.
        let d = hourly().decide_reschedule(ten_minutes, RunLimits::default(), t(0));
        assert_eq!((d.timing.status, d.timing.due_at), (Status::New, None));
        assert_eq!(d.timing.cadence.fixed(), ten_minutes);
    }

    mod learned {
        use super::*;
        use crate::{LearnedCadence, PayloadSurprise, StartExpectation};
        use chrono::Duration;

        /// Usually within 50 min, warned at 55, down at 80; a run is long after 20 min.
        fn learned() -> LearnedCadence {
            let m = |minutes| Duration::minutes(minutes);
            let fixed = Schedule::from_secs(3600, 600).unwrap_or_else(|e| panic!("{e}"));
            LearnedCadence::new(m(50), m(55), m(80), fixed)
                .unwrap_or_else(|e| panic!("{e}"))
                .with_run_warning(Some(m(20)))
        }

        fn ai_ping(kind: PingKind, at: i64, surprise: Option<PayloadSurprise>) -> Ping {
            Ping {
                learned: Some(learned().with_payload_surprise(surprise)),
                ..ping(kind, at)
            }
        }

        fn up_at_zero() -> HeartbeatTiming {
            batch(hourly(), &[ai_ping(PingKind::Success, 0, None)]).timing
        }

        #[test]
        fn a_ping_takes_its_deadlines_from_the_model() {
            let hb = up_at_zero();
            assert_eq!((hb.due_at, hb.alert_at), (Some(t(3300)), Some(t(4800))));
            assert_eq!(hb.next_check_at(), Some(t(3300)));
        }

        #[test]
        fn silence_warns_once_then_goes_down_and_the_warning_closes_quietly() {
            let hb = up_at_zero();
            let warned = hb.decide(t(3300), t(3300));
            assert_eq!(warned.timing.status, Status::Late);
            let Some(WarningChange::Open { cause, reason, at }) = &warned.warning else {
                panic!("no warning: {warned:?}");
            };
            assert_eq!(*at, t(3300));
            assert_eq!(
                *cause,
                WarnCause::Silent {
                    expected_by: t(3000),
                    deadline: t(3300),
                    down_at: Some(t(4800)),
                }
            );
            assert_eq!(
                reason,
                "usually pings by 2027-01-15 08:50 UTC (95% of runs); it is 2027-01-15 08:55 UTC \
                 with no ping — it will be marked down at 2027-01-15 09:20 UTC"
            );
            assert_eq!(warned.incident, None);
            // Nothing more until the down deadline.
            assert_eq!(warned.timing.next_check_at(), Some(t(4800)));
            let down = warned.timing.decide(t(4800), t(4800));
            assert_eq!(down.timing.status, Status::Down);
            assert!(matches!(down.incident, Some(IncidentChange::Open { .. })));
            assert_eq!(
                down.warning,
                Some(WarningChange::Resolve {
                    at: t(4800),
                    notify: false
                })
            );
        }

        #[test]
        fn a_run_that_does_not_start_is_warned_before_its_success_is_missed() {
            let m = Duration::minutes;
            let waiting = learned().with_start(Some(StartExpectation {
                expected_by: m(30),
                warn_after: m(35),
            }));
            let ping = Ping {
                learned: Some(waiting),
                ..ping(PingKind::Success, 0)
            };
            let hb = batch(hourly(), &[ping]).timing;
            assert_eq!(hb.next_check_at(), Some(t(35 * 60)));
            let warned = hb.decide(t(35 * 60), t(35 * 60));
            let Some(WarningChange::Open { cause, .. }) = warned.warning else {
                panic!("no warning: {warned:?}");
            };
            assert_eq!(
                cause,
                WarnCause::NotStarted {
                    expected_by: t(30 * 60),
                    deadline: t(35 * 60),
                    down_at: Some(t(4800)),
                }
            );
            // A run that starts in time moves the warning back to its success.
            let started = batch(hb, &[ai_ping(PingKind::Start, 33 * 60, None)]).timing;
            assert_eq!(started.due_at, Some(t(3300)));
        }

        #[test]
        fn a_run_that_never_ended_is_warned_when_the_next_one_starts() {
            let hb = up_at_zero();
            let running = batch(hb, &[ai_ping(PingKind::Start, 600, None)]);
            assert_eq!(running.warning, None);
            // Started again five minutes later: a retry.
            let retried = batch(running.timing, &[ai_ping(PingKind::Start, 900, None)]);
            assert_eq!(retried.warning, None);
            let restarted = batch(running.timing, &[ai_ping(PingKind::Start, 3000, None)]);
            let Some(WarningChange::Open { cause, reason, .. }) = &restarted.warning else {
                panic!("no warning: {restarted:?}");
            };
            assert_eq!(
                *cause,
                WarnCause::Unfinished {
                    started_at: t(600),
                    restarted_at: t(3000)
                }
            );
            assert!(reason.contains("never reported its end"), "{reason}");
            assert_eq!(restarted.timing.status, Status::Late);
            // Its success is back on track.
            let done = batch(restarted.timing, &[ai_ping(PingKind::Success, 3100, None)]);
            assert!(matches!(
                done.warning,
                Some(WarningChange::Resolve { notify: true, .. })
            ));
            // A fixed heartbeat knows nothing of its runs: a restart is just a restart.
            let mut fixed = hourly();
            fixed.apply_ping(PingKind::Success, t(0));
            let fixed = batch(fixed, &[ping(PingKind::Start, 600)]).timing;
            assert_eq!(batch(fixed, &[ping(PingKind::Start, 3000)]).warning, None);
        }

        #[test]
        fn a_ping_after_the_warning_is_back_on_track() {
            let warned = up_at_zero().decide(t(3300), t(3300)).timing;
            let back = batch(warned, &[ai_ping(PingKind::Success, 3400, None)]);
            assert_eq!(back.timing.status, Status::Up);
            assert_eq!(
                back.warning,
                Some(WarningChange::Resolve {
                    at: t(3400),
                    notify: true
                })
            );
        }

        #[test]
        fn fixed_heartbeats_go_late_without_a_warning() {
            let mut hb = hourly();
            hb.apply_ping(PingKind::Success, t(0));
            let late = hb.decide(t(3600), t(3600));
            assert_eq!(late.timing.status, Status::Late);
            assert_eq!(late.warning, None);
            let back = batch(late.timing, &[ping(PingKind::Success, 3700)]);
            assert_eq!(back.warning, None);
        }

        #[test]
        fn a_surprising_payload_warns_at_the_ping_until_a_usual_one() {
            let surprise = PayloadSurprise {
                size: 0,
                usual: 48_000,
            };
            let hb = up_at_zero();
            let d = batch(hb, &[ai_ping(PingKind::Success, 3000, Some(surprise))]);
            assert_eq!(d.timing.status, Status::Late);
            assert!(matches!(
                d.warning,
                Some(WarningChange::Open {
                    cause: WarnCause::Payload {
                        size: 0,
                        usual: 48_000
                    },
                    ..
                })
            ));
            // Another empty run: still the same warning, not a second one.
            let again = batch(
                d.timing,
                &[ai_ping(PingKind::Success, 6000, Some(surprise))],
            );
            assert_eq!((again.timing.status, again.warning), (Status::Late, None));
            // Down if nothing usual comes by the deadline counted from the last ping.
            assert_eq!(again.timing.next_check_at(), Some(t(6000 + 4800)));
            let usual = batch(again.timing, &[ai_ping(PingKind::Success, 9000, None)]);
            assert_eq!(usual.timing.status, Status::Up);
            assert!(matches!(
                usual.warning,
                Some(WarningChange::Resolve { notify: true, .. })
            ));
        }

        #[test]
        fn a_run_far_longer_than_usual_warns() {
            let hb = up_at_zero();
            let started = batch(hb, &[ai_ping(PingKind::Start, 1000, None)]).timing;
            assert_eq!(started.next_check_at(), Some(t(1000 + 1200)));
            let d = started.decide(t(2200), t(2200));
            assert_eq!(d.timing.status, Status::Late);
            assert!(matches!(
                d.warning,
                Some(WarningChange::Open {
                    cause: WarnCause::LongRun { .. },
                    ..
                })
            ));
            // The warned run is then left to the down deadline.
            assert_eq!(d.timing.next_check_at(), Some(t(4800)));
        }

        #[test]
        fn back_to_fixed_mode_ends_a_warning_even_when_still_late() {
            let warned = up_at_zero().decide(t(3300), t(3300)).timing;
            let fixed = Schedule::from_secs(3000, 600).unwrap_or_else(|e| panic!("{e}"));
            let d = warned.decide_relearn(Cadence::Fixed(fixed), t(3400));
            assert_eq!(
                d.timing.status,
                Status::Late,
                "the fixed interval has passed too"
            );
            assert_eq!(
                d.warning,
                Some(WarningChange::Resolve {
                    at: t(3400),
                    notify: false
                })
            );
        }

        #[test]
        fn relearning_counts_the_period_again_and_ends_a_stale_warning_quietly() {
            let warned = up_at_zero().decide(t(3300), t(3300)).timing;
            let fixed = Schedule::from_secs(3600, 600).unwrap_or_else(|e| panic!("{e}"));
            let d = warned.decide_relearn(Cadence::Fixed(fixed), t(3400));
            assert_eq!(d.timing.status, Status::Up);
            assert_eq!(d.timing.due_at, Some(t(3600)));
            assert_eq!(
                d.warning,
                Some(WarningChange::Resolve {
                    at: t(3400),
                    notify: false
                })
            );
        }
    }
}
