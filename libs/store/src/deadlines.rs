//! The scheduler's deadline scan: claim the heartbeats whose `next_check_at` has passed, let the
//! domain decide (late — for an AI heartbeat the early warning —, or down and why), and write
//! the status, its history row, the incident and one notice per channel in one transaction — the
//! outbox.
//!
//! Claiming is `FOR UPDATE SKIP LOCKED` on the `next_check_at` index, so scheduler replicas share
//! the work, and the ping writer's `FOR NO KEY UPDATE` on the same rows orders every ping against
//! every decision: a ping committed before the claim moves the deadline (the row no longer
//! matches, or is re-checked against its new values); a ping that arrives after the decision
//! finds the heartbeat down and recovers it, so the alert is never lost either.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use lifeline_domain::{FlapPolicy, Status};

use crate::decisions::{self, Decided, DecidedBy, committed};
use crate::schema::heartbeats;
use crate::timing_rows::TimingRow;
use crate::{PgConn, StoreError};

/// What one pass decided.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DueOutcome {
    pub claimed: usize,
    pub late: usize,
    pub down: usize,
    /// Alerts queued (one per incident and channel).
    pub notifications: usize,
}

/// Decides up to `limit` heartbeats whose next check is at or before `until` (the latest instant
/// at which Lifeline is known to have been able to receive pings, never later than now): each
/// is judged as of `until`, so silence we could not have heard is never held against a job.
/// `now` stamps the incidents.
pub async fn process_due(
    conn: &mut PgConn,
    until: DateTime<Utc>,
    now: DateTime<Utc>,
    limit: i64,
    flapping: &FlapPolicy,
) -> Result<DueOutcome, StoreError> {
    conn.transaction::<_, StoreError, _>(async move |conn| {
        let rows: Vec<TimingRow> = heartbeats::table
            .filter(heartbeats::next_check_at.le(until))
            .order(heartbeats::next_check_at)
            .limit(limit)
            .for_update()
            .skip_locked()
            .select(TimingRow::as_select())
            .load(conn)
            .await?;
        let mut outcome = DueOutcome {
            claimed: rows.len(),
            ..DueOutcome::default()
        };
        let mut decided = Vec::with_capacity(rows.len());
        for row in &rows {
            // Without a change (the stored next check was stale) the timing is still written:
            // that stores the right next check.
            let decision = row.timing()?.decide(until, now);
            match decision.change.as_ref().map(|c| c.to) {
                Some(Status::Late) => outcome.late += 1,
                Some(Status::Down) => outcome.down += 1,
                _ => {}
            }
            decided.push(Decided {
                heartbeat: row.heartbeat(),
                // By key: the pass keeps sequential scans allowed, and for a few hundred
                // addresses Postgres would rather read the whole table than fetch each.
                address: None,
                team: row.team(),
                zone: row.zone().to_owned(),
                decision,
            });
        }
        let written = decisions::write(conn, &decided, DecidedBy::Deadlines(flapping)).await?;
        outcome.notifications = written.notifications;
        Ok((outcome, written.transitions))
    })
    .await
    // Counted and logged only once committed.
    .map(committed)
}

/// The earliest pending deadline, so the scheduler can sleep until exactly then.
pub async fn next_deadline(conn: &mut PgConn) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(heartbeats::table
        .filter(heartbeats::next_check_at.is_not_null())
        .select(heartbeats::next_check_at)
        .order(heartbeats::next_check_at)
        .first::<Option<DateTime<Utc>>>(conn)
        .await
        .optional()?
        .flatten())
}
