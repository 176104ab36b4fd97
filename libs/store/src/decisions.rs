//! Writing what the domain decided. The ping batch, the deadline pass and operator changes each
//! lock their heartbeats, ask the domain, and hand the [`Decision`]s here: the new timing, the
//! status history row, and the incidents (`down`, and an AI heartbeat's `early_warning`) with
//! their notifications are statements in the caller's transaction, so a status change and its
//! alerts commit or vanish together.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use lifeline_domain::{
    ChangeReason, Decision, DownCause, FlapPolicy, HeartbeatId, IncidentChange, IncidentKind,
    Status, TeamId, TimeZoneName, WarningChange,
};

use crate::flapping;
use crate::incidents::{self, Opening, Resolving};
use crate::label::stored_time_zone;
use crate::row_address::RowAddress;
use crate::schema::status_changes;
use crate::timing_rows::{NextCheck, TimingColumns};
use crate::{PgConn, StoreError};

/// A decision about one heartbeat of a team.
#[derive(Clone, Debug)]
pub(crate) struct Decided {
    pub heartbeat: HeartbeatId,
    /// Where its row is stored, when the caller holds it locked and has not updated it in
    /// this transaction (the timing is then written by address).
    pub address: Option<RowAddress>,
    pub team: TeamId,
    /// The name of the heartbeat's time zone (its own or its team's): warnings give their
    /// times in it. Read only when a warning is written, so that a name this binary does not
    /// know fails that write alone, not every ping and deadline of the heartbeat.
    pub zone: String,
    pub decision: Decision,
}

/// What the written decisions queued and changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Written {
    /// Alerts, early warnings and their end notices queued (one per incident, channel and kind).
    pub notifications: usize,
    /// The status changes, to count and log once the caller's transaction has committed.
    pub transitions: Transitions,
}

/// The status changes a set of decisions made. They are counted
/// (`lifeline_scheduler_transitions_total{to, cause}`) and logged by [`Self::committed`], which
/// the owner of the transaction calls after `COMMIT` succeeded: a batch that rolled back
/// changed nothing, so it must neither count nor tell the operator that an incident opened.
/// Whichever process decides counts (the ping writer in ingest, the deadline pass in the
/// scheduler, an operator's change in the dashboard or the CLI), so a failure reported by a
/// `/fail` ping is counted like a missed deadline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[must_use = "call `committed` once the transaction has committed"]
pub struct Transitions(Vec<Transition>);

/// The value of a transaction that decided status changes, once it has committed: the changes
/// are counted and logged now (`conn.transaction(…).await.map(committed)`).
pub(crate) fn committed<T>((value, transitions): (T, Transitions)) -> T {
    transitions.committed();
    value
}

/// One heartbeat's status change.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Transition {
    pub heartbeat: HeartbeatId,
    pub team: TeamId,
    pub from: Status,
    pub to: Status,
    /// Why, as the metric's `cause` label: see [`cause_label`].
    pub cause: &'static str,
}

impl Transitions {
    /// Adds another set's changes (a transaction that wrote several sets of decisions).
    pub(crate) fn extend(&mut self, other: Transitions) {
        self.0.extend(other.0);
    }

    /// Counts and logs the changes; call it only once their transaction has committed. A
    /// heartbeat going down opened an incident and queued its alerts: that is the line an
    /// operator watches for, at INFO; the other changes are DEBUG.
    pub fn committed(self) {
        for t in self.0 {
            metrics::counter!(
                "lifeline_scheduler_transitions_total",
                "to" => t.to.as_str(),
                "cause" => t.cause,
            )
            .increment(1);
            if t.to == Status::Down {
                tracing::info!(
                    heartbeat = %t.heartbeat, team = %t.team, from = t.from.as_str(),
                    cause = t.cause, "incident opened: heartbeat down"
                );
            } else if t.from == Status::Down {
                tracing::info!(
                    heartbeat = %t.heartbeat, team = %t.team, to = t.to.as_str(),
                    cause = t.cause, "incident resolved: heartbeat no longer down"
                );
            } else {
                tracing::debug!(
                    heartbeat = %t.heartbeat, team = %t.team, from = t.from.as_str(),
                    to = t.to.as_str(), cause = t.cause, "status changed"
                );
            }
        }
    }
}

/// The metric's `cause` label for a change, from the domain's [`ChangeReason`] (and, for a
/// failure, the incident's cause: a `/fail` ping or a non-zero exit code). A closed set of
/// words, so the label cannot grow without bound.
fn cause_label(d: &Decided, reason: &ChangeReason) -> &'static str {
    let failed = |exit_code: Option<u8>| match exit_code {
        Some(_) => "exit_code",
        None => "fail_ping",
    };
    match reason {
        ChangeReason::Ping => "ping",
        ChangeReason::ResumedByPing => "ping_resume",
        ChangeReason::FailureSignal => match &d.decision.incident {
            Some(IncidentChange::Open {
                cause: DownCause::Failed { exit_code },
                ..
            }) => failed(*exit_code),
            _ => "fail_ping",
        },
        ChangeReason::IntervalPassed => "interval",
        ChangeReason::Warned(_) => "early_warning",
        ChangeReason::Missed(cause) => match cause {
            DownCause::Silent { .. } => "silence",
            DownCause::Stalled { .. } => "stalled",
            DownCause::TooLong { .. } => "max_runtime",
            DownCause::Failed { exit_code } => failed(*exit_code),
        },
        ChangeReason::PausedByOperator => "pause",
        ChangeReason::ResumedByOperator => "resume",
        ChangeReason::ScheduleChanged => "schedule",
    }
}

fn transitions_of(decided: &[Decided]) -> Transitions {
    Transitions(
        decided
            .iter()
            .filter_map(|d| {
                let change = d.decision.change.as_ref()?;
                Some(Transition {
                    heartbeat: d.heartbeat,
                    team: d.team,
                    from: change.from,
                    to: change.to,
                    cause: cause_label(d, &change.reason),
                })
            })
            .collect(),
    )
}

/// Who decided: it sets how the next check is stored and whether flapping is screened.
#[derive(Clone, Copy, Debug)]
pub(crate) enum DecidedBy<'a> {
    /// The ping writer. An earlier `next_check_at` already stored is left in place: the
    /// scheduler comes by then, finds nothing due, and stores the right one. So a ping that
    /// moves its deadline later changes no indexed column and its row update is HOT (no new
    /// index entries), which is most of what a burst of pings costs Postgres. A deadline a ping
    /// moves earlier is stored as it is.
    Pings(&'a FlapPolicy),
    /// The scheduler's deadline pass: the exact next check, which also corrects one left early.
    Deadlines(&'a FlapPolicy),
    /// An operator's or the system's change (pause, schedule, mode): the exact next check, and
    /// no flapping screen.
    Operator,
}

impl<'a> DecidedBy<'a> {
    fn flapping(self) -> Option<&'a FlapPolicy> {
        match self {
            DecidedBy::Pings(policy) | DecidedBy::Deadlines(policy) => Some(policy),
            DecidedBy::Operator => None,
        }
    }

    fn next_check(self) -> NextCheck {
        match self {
            DecidedBy::Pings(_) => NextCheck::KeepEarlier,
            DecidedBy::Deadlines(_) | DecidedBy::Operator => NextCheck::Exact,
        }
    }
}

/// Writes the decisions inside the caller's open transaction. The statements are independent, so
/// they travel pipelined in one round trip; kinds of change the set does not contain send none.
/// When a `down` incident opened or resolved, one more round trip screens for flapping (see
/// [`flapping::screen`]).
pub(crate) async fn write(
    conn: &PgConn,
    decided: &[Decided],
    by: DecidedBy<'_>,
) -> Result<Written, StoreError> {
    let timing = TimingColumns::of(
        decided
            .iter()
            .map(|d| (d.heartbeat, d.address, &d.decision.timing)),
        by.next_check(),
    );
    let (mut opened, mut resolved) = (Vec::new(), Vec::new());
    for d in decided {
        incident_of(d, &mut opened, &mut resolved);
        warning_of(d, &mut opened, &mut resolved)?;
    }
    let (written, recorded, notices, alerts) = tokio::join!(
        timing.write(conn),
        insert_status_changes(conn, decided),
        incidents::resolve(conn, &resolved),
        incidents::open(conn, &opened),
    );
    written?;
    recorded?;
    let queued = notices? + alerts?;
    let changed: Vec<HeartbeatId> = decided
        .iter()
        .filter(|d| d.decision.incident.is_some())
        .map(|d| d.heartbeat)
        .collect();
    let screened = flapping::screen(conn, &changed, by.flapping()).await?;
    Ok(Written {
        notifications: (queued + screened.queued).saturating_sub(screened.held),
        transitions: transitions_of(decided),
    })
}

/// The `down` incident: opened with an alert per channel, or resolved (with a recovery notice
/// per channel unless it was quiet).
fn incident_of(d: &Decided, opened: &mut Vec<Opening>, resolved: &mut Vec<Resolving>) {
    match &d.decision.incident {
        Some(IncidentChange::Open { cause, reason, at }) => opened.push(Opening {
            heartbeat: d.heartbeat,
            team: d.team,
            kind: IncidentKind::Down,
            reason: reason.clone(),
            opened_at: *at,
            deadline: cause.deadline(),
        }),
        Some(IncidentChange::Resolve { at, notify }) => resolved.push(Resolving {
            heartbeat: d.heartbeat,
            kind: IncidentKind::Down,
            at: *at,
            notify: *notify,
        }),
        None => {}
    }
}

/// The `early_warning` incident: opened with a warning per channel, its reason in the
/// heartbeat's zone; resolved with a "back on track" notice per channel, or quietly when the
/// heartbeat went down (the alert supersedes it) or was paused.
fn warning_of(
    d: &Decided,
    opened: &mut Vec<Opening>,
    resolved: &mut Vec<Resolving>,
) -> Result<(), StoreError> {
    match &d.decision.warning {
        Some(WarningChange::Open { cause, at, .. }) => opened.push(Opening {
            heartbeat: d.heartbeat,
            team: d.team,
            kind: IncidentKind::EarlyWarning,
            reason: cause.describe_in(d.local_zone()?.tz()),
            opened_at: *at,
            deadline: cause.deadline(),
        }),
        Some(WarningChange::Resolve { at, notify }) => resolved.push(Resolving {
            heartbeat: d.heartbeat,
            kind: IncidentKind::EarlyWarning,
            at: *at,
            notify: *notify,
        }),
        None => {}
    }
    Ok(())
}

impl Decided {
    fn local_zone(&self) -> Result<TimeZoneName, StoreError> {
        stored_time_zone(&self.zone)
    }

    /// The line stored with the status change; a warning's in the heartbeat's zone, as its
    /// incident words it.
    fn change_reason(&self, reason: &ChangeReason) -> Result<String, StoreError> {
        let timing = &self.decision.timing;
        Ok(match reason {
            ChangeReason::Warned(_) => reason.describe_in(timing, self.local_zone()?.tz()),
            _ => reason.describe(timing),
        })
    }
}

async fn insert_status_changes(mut conn: &PgConn, decided: &[Decided]) -> Result<(), StoreError> {
    let mut rows = Vec::new();
    for d in decided {
        let Some(change) = d.decision.change.as_ref() else {
            continue;
        };
        rows.push((
            status_changes::heartbeat_id.eq(d.heartbeat.as_uuid()),
            status_changes::team_id.eq(d.team.as_uuid()),
            status_changes::from_status.eq(change.from.as_str()),
            status_changes::to_status.eq(change.to.as_str()),
            status_changes::reason.eq(d.change_reason(&change.reason)?),
        ));
    }
    if rows.is_empty() {
        return Ok(());
    }
    diesel::insert_into(status_changes::table)
        .values(rows)
        .execute(&mut conn)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests;
