//! Flapping (`lifeline_domain::flapping`): a heartbeat whose status changes into or out of
//! `down` too often gets a `flapping` incident, announced once; while it is open the alerts and
//! recovery notices of its `down` incidents are held back (the incidents themselves are still
//! recorded); once no change has come for the stable period, [`settle`] resolves it with a
//! summary, announced as its recovery, and alerts return to normal.
//!
//! Both steps lock the heartbeat rows the ping writer and the deadline pass lock, so a change
//! and the end of its flapping are ordered: a change is either counted in the summary or
//! announced on its own, never neither.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{
    Array, BigInt, Double, Int4, Int8, Nullable, Text, Timestamptz, Uuid as SqlUuid,
};
use diesel_async::{AsyncConnection, RunQueryDsl};
use lifeline_domain::{FlapPolicy, FlapSummary, HeartbeatId, Status};

use crate::label::stored;
use crate::{PgConn, StoreError};

/// What [`screen`] did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Screened {
    /// `flapping` notices queued (heartbeats that just started flapping, one per channel).
    pub queued: usize,
    /// Alerts and recovery notices held back.
    pub held: usize,
}

#[derive(QueryableByName)]
struct ScreenedRow {
    #[diesel(sql_type = BigInt)]
    queued: i64,
    #[diesel(sql_type = BigInt)]
    held: i64,
}

/// Inside the caller's transaction, after the status changes and incidents of `heartbeats`
/// (those whose `down` incident just opened or resolved, locked by the caller) are written:
/// marks the ones with enough recent changes as flapping — counting only changes since their
/// last flapping ended, so a spell that just ended does not start again at once — and drops the
/// not yet attempted alerts and recovery notices of every flapping one among them. Without a
/// policy (an operator's change) nothing starts flapping, but an open spell still holds notices.
///
/// Dropping what the incident statements queued, rather than teaching them about flapping,
/// keeps them one pipelined round trip with the rest of the batch (this runs after them, so it
/// counts this batch's changes), and also drops notices of earlier changes still waiting.
pub(crate) async fn screen(
    mut conn: &PgConn,
    heartbeats: &[HeartbeatId],
    policy: Option<&FlapPolicy>,
) -> Result<Screened, StoreError> {
    if heartbeats.is_empty() {
        return Ok(Screened::default());
    }
    let ids: Vec<uuid::Uuid> = heartbeats.iter().map(|h| h.as_uuid()).collect();
    let policy = policy.filter(|p| p.enabled());
    let changes = policy.map_or(0, |p| i32::try_from(p.changes).unwrap_or(i32::MAX));
    let window = policy.map_or(0.0, |p| p.window.as_secs_f64());
    let reason = policy
        .map(FlapPolicy::opening_reason_template)
        .unwrap_or_default();
    let row: ScreenedRow = diesel::sql_query(
        "WITH counted AS ( \
           SELECT h.id AS hb, h.team_id AS team, count(*) AS n \
           FROM heartbeats h JOIN status_changes s ON s.heartbeat_id = h.id \
           WHERE $2 > 0 AND h.id = ANY($1) \
             AND 'down' IN (s.from_status, s.to_status) \
             AND s.changed_at > now() - make_interval(secs => $3) \
             AND s.changed_at > coalesce((SELECT max(f.resolved_at) FROM incidents f \
                                          WHERE f.heartbeat_id = h.id AND f.kind = 'flapping'), \
                                         '-infinity') \
           GROUP BY h.id, h.team_id HAVING count(*) >= $2), \
         opened AS ( \
           INSERT INTO incidents (id, heartbeat_id, team_id, kind, reason, opened_at) \
           SELECT gen_random_uuid(), hb, team, 'flapping', format($4, n), now() FROM counted \
           ON CONFLICT (heartbeat_id, kind) WHERE resolved_at IS NULL DO NOTHING \
           RETURNING id, heartbeat_id, team_id, opened_at), \
         noticed AS ( \
           INSERT INTO notifications (id, team_id, incident_id, channel_id, kind, next_attempt_at) \
           SELECT gen_random_uuid(), o.team_id, o.id, hc.channel_id, 'flapping', o.opened_at \
           FROM opened o JOIN heartbeat_channels hc ON hc.heartbeat_id = o.heartbeat_id \
           JOIN channels ch ON ch.id = hc.channel_id AND ch.confirmed_at IS NOT NULL \
           RETURNING 1), \
         flapping AS ( \
           SELECT heartbeat_id FROM opened \
           UNION SELECT heartbeat_id FROM incidents \
           WHERE kind = 'flapping' AND resolved_at IS NULL AND heartbeat_id = ANY($1)), \
         held AS ( \
           DELETE FROM notifications n USING incidents i \
           WHERE n.incident_id = i.id AND i.kind = 'down' \
             AND i.heartbeat_id IN (SELECT heartbeat_id FROM flapping) \
             AND n.kind IN ('alert', 'recovery') AND n.status = 'pending' AND n.attempts = 0 \
           RETURNING 1) \
         SELECT (SELECT count(*) FROM noticed) AS queued, (SELECT count(*) FROM held) AS held",
    )
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Int4, _>(changes)
    .bind::<Double, _>(window)
    .bind::<Text, _>(&reason)
    .get_result(&mut conn)
    .await?;
    Ok(Screened {
        queued: usize::try_from(row.queued).unwrap_or_default(),
        held: usize::try_from(row.held).unwrap_or_default(),
    })
}

#[derive(QueryableByName)]
struct SpellRow {
    #[diesel(sql_type = SqlUuid)]
    id: uuid::Uuid,
    #[diesel(sql_type = Timestamptz)]
    opened_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = Int8)]
    changes: i64,
    #[diesel(sql_type = Int8)]
    downs: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    last_change: Option<DateTime<Utc>>,
}

/// What one [`settle`] call did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settled {
    /// Spells ended.
    pub spells: usize,
    /// Summary notices queued (one per spell and channel).
    pub notifications: usize,
}

/// Ends up to `limit` flapping spells whose heartbeat has had no change into or out of `down`
/// for the policy's stable period: each incident is resolved with its summary as its reason,
/// and a recovery notice per channel tells the summary.
pub async fn settle(
    conn: &mut PgConn,
    policy: &FlapPolicy,
    limit: i64,
) -> Result<Settled, StoreError> {
    let stable = policy.stable.as_secs_f64();
    conn.transaction::<_, StoreError, _>(async move |conn| {
        // Locking the heartbeats orders this against the ping writer and the deadline pass;
        // the statement after it sees every change they committed meanwhile.
        let quiet = "NOT EXISTS (SELECT 1 FROM status_changes s WHERE s.heartbeat_id = i.heartbeat_id \
                     AND 'down' IN (s.from_status, s.to_status) \
                     AND s.changed_at > now() - make_interval(secs => $1))";
        let spells: Vec<SpellRow> = diesel::sql_query(format!(
            "SELECT i.id, i.opened_at, h.status, \
               (SELECT count(*) FROM status_changes s WHERE s.heartbeat_id = i.heartbeat_id \
                AND 'down' IN (s.from_status, s.to_status) AND s.changed_at >= i.opened_at) AS changes, \
               (SELECT count(*) FROM status_changes s WHERE s.heartbeat_id = i.heartbeat_id \
                AND s.to_status = 'down' AND s.changed_at >= i.opened_at) AS downs, \
               (SELECT max(s.changed_at) FROM status_changes s WHERE s.heartbeat_id = i.heartbeat_id \
                AND 'down' IN (s.from_status, s.to_status)) AS last_change \
             FROM incidents i JOIN heartbeats h ON h.id = i.heartbeat_id \
             WHERE i.kind = 'flapping' AND i.resolved_at IS NULL AND {quiet} \
             ORDER BY i.opened_at LIMIT $2 FOR NO KEY UPDATE OF h SKIP LOCKED"
        ))
        .bind::<Double, _>(stable)
        .bind::<Int8, _>(limit)
        .load(conn)
        .await?;
        if spells.is_empty() {
            return Ok(Settled::default());
        }
        let mut ids = Vec::with_capacity(spells.len());
        let mut reasons = Vec::with_capacity(spells.len());
        for spell in &spells {
            let summary = FlapSummary {
                since: spell.opened_at,
                changes: u32::try_from(spell.changes).unwrap_or(u32::MAX),
                downs: u32::try_from(spell.downs).unwrap_or(u32::MAX),
                last_change: spell.last_change,
                status: stored::<Status>(&spell.status)?,
            };
            ids.push(spell.id);
            reasons.push(summary.describe());
        }
        let queued = diesel::sql_query(format!(
            "WITH ended AS ( \
               UPDATE incidents i SET resolved_at = greatest(now(), i.opened_at), reason = u.reason \
               FROM unnest($2, $3) AS u(id, reason) \
               WHERE i.id = u.id AND i.resolved_at IS NULL AND {quiet} \
               RETURNING i.id, i.heartbeat_id, i.team_id, i.resolved_at) \
             INSERT INTO notifications (id, team_id, incident_id, channel_id, kind, next_attempt_at) \
             SELECT gen_random_uuid(), e.team_id, e.id, hc.channel_id, 'recovery', e.resolved_at \
             FROM ended e JOIN heartbeat_channels hc ON hc.heartbeat_id = e.heartbeat_id \
             JOIN channels ch ON ch.id = hc.channel_id AND ch.confirmed_at IS NOT NULL"
        ))
        .bind::<Double, _>(stable)
        .bind::<Array<SqlUuid>, _>(&ids)
        .bind::<Array<Text>, _>(&reasons)
        .execute(conn)
        .await?;
        Ok(Settled {
            spells: spells.len(),
            notifications: queued,
        })
    })
    .await
}
