//! Writing what the domain decided. The ping batch, the deadline pass and operator changes each
//! lock their heartbeats, ask the domain, and hand the [`Decision`]s here: the new timing, the
//! status history row, and the incident with one notification per channel are statements in the
//! caller's transaction, so a status change and its alerts commit or vanish together.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use lifeline_domain::{Decision, HeartbeatId, IncidentChange, TeamId};

use crate::incidents::{self, Opening, Resolving};
use crate::schema::status_changes;
use crate::timing_rows::TimingColumns;
use crate::{PgConn, StoreError};

/// A decision about one heartbeat of a team.
#[derive(Clone, Debug)]
pub(crate) struct Decided {
    pub heartbeat: HeartbeatId,
    pub team: TeamId,
    pub decision: Decision,
}

/// What the written decisions queued.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Written {
    /// Alerts and recovery notices queued (one per incident and channel).
    pub notifications: usize,
}

/// Writes the decisions inside the caller's open transaction. The statements are independent, so
/// they travel pipelined in one round trip; kinds of change the set does not contain send none.
pub(crate) async fn write(conn: &PgConn, decided: &[Decided]) -> Result<Written, StoreError> {
    let timing = TimingColumns::of(decided.iter().map(|d| (d.heartbeat, &d.decision.timing)));
    let mut opened = Vec::new();
    let (mut recovered, mut closed_quietly) = (Vec::new(), Vec::new());
    for d in decided {
        match &d.decision.incident {
            Some(IncidentChange::Open { cause, reason, at }) => opened.push(Opening {
                heartbeat: d.heartbeat,
                team: d.team,
                reason: reason.as_str(),
                opened_at: *at,
                deadline: cause.deadline(),
            }),
            Some(IncidentChange::Resolve { at, notify }) => {
                let resolving = Resolving {
                    heartbeat: d.heartbeat,
                    at: *at,
                };
                if *notify {
                    recovered.push(resolving);
                } else {
                    closed_quietly.push(resolving);
                }
            }
            None => {}
        }
    }
    let (written, recorded, notices, quiet, alerts) = tokio::join!(
        timing.write(conn),
        insert_status_changes(conn, decided),
        incidents::resolve(conn, &recovered, true),
        incidents::resolve(conn, &closed_quietly, false),
        incidents::open_down(conn, &opened),
    );
    written?;
    recorded?;
    quiet?;
    Ok(Written {
        notifications: notices? + alerts?,
    })
}

async fn insert_status_changes(mut conn: &PgConn, decided: &[Decided]) -> Result<(), StoreError> {
    let rows: Vec<_> = decided
        .iter()
        .filter_map(|d| {
            let change = d.decision.change.as_ref()?;
            Some((
                status_changes::heartbeat_id.eq(d.heartbeat.as_uuid()),
                status_changes::team_id.eq(d.team.as_uuid()),
                status_changes::from_status.eq(change.from.as_str()),
                status_changes::to_status.eq(change.to.as_str()),
                status_changes::reason.eq(change.reason.describe(&d.decision.timing)),
            ))
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    diesel::insert_into(status_changes::table)
        .values(rows)
        .execute(&mut conn)
        .await?;
    Ok(())
}
