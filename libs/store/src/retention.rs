//! The retention purge. History follows the owning team's plan (7/30/90/365 days): pings and
//! status changes per heartbeat; resolved incidents, finished notifications and the audit log
//! per team. What no plan governs is kept a fixed period: delivery attempts
//! [`ATTEMPTS_KEPT_DAYS`], Lifeline's own outages and audit entries of no team
//! [`FIXED_KEPT_DAYS`]. Reads of pings already hide what the plan no longer keeps, so the purge
//! only reclaims space and may lag without anyone seeing old history.
//!
//! It walks heartbeats, then teams, in id order, a chunk at a time, and deletes at most a bounded
//! number of rows per heartbeat or team per statement through a `(key, time)` index — short
//! transactions that never hold many row locks, so ingest barely notices. An open incident and a
//! notification still being delivered are never deleted.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Int8, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use lifeline_domain::{HeartbeatId, Plan, TeamId};

use crate::label::stored;
use crate::schema::{heartbeats, teams};
use crate::{PgConn, StoreError};

/// How long delivery attempts are kept: the detail behind a notification's status, useful
/// while someone looks into a failing channel.
pub const ATTEMPTS_KEPT_DAYS: i64 = 30;
/// How long Lifeline's own outages and audit entries of no team are kept: as long as the longest
/// plan keeps history.
pub const FIXED_KEPT_DAYS: i64 = 365;

/// What one chunk did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Purged {
    pub heartbeats: usize,
    /// Pings deleted.
    pub deleted: usize,
    pub status_changes: usize,
    /// Where the next chunk starts; `None` after the last heartbeat (the pass is complete).
    pub next: Option<HeartbeatId>,
}

/// What one chunk of teams did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PurgedTeams {
    pub incidents: usize,
    pub notifications: usize,
    pub audit: usize,
    /// Where the next chunk starts; `None` after the last team (the pass is complete).
    pub next: Option<TeamId>,
}

/// The cursor after a chunk: the same chunk again when a statement hit its row bound (more is
/// left there), the end when the chunk was the last, else the chunk's last key. The nil id is
/// before every key: "the first chunk again".
fn next_cursor(
    full: bool,
    complete: bool,
    after: Option<uuid::Uuid>,
    last: uuid::Uuid,
) -> Option<uuid::Uuid> {
    match (full, complete) {
        (true, _) => after.or(Some(uuid::Uuid::nil())),
        (false, true) => None,
        (false, false) => Some(last),
    }
}

/// The keys of a chunk (heartbeats or teams, each with its team's plan) and the instant before
/// which each one's history is no longer kept.
fn cutoffs_of(
    chunk: &[(uuid::Uuid, String)],
    now: DateTime<Utc>,
) -> Result<(Vec<uuid::Uuid>, Vec<DateTime<Utc>>), StoreError> {
    let mut ids = Vec::with_capacity(chunk.len());
    let mut cutoffs = Vec::with_capacity(chunk.len());
    for (id, plan) in chunk {
        let plan: Plan = stored(plan)?;
        ids.push(*id);
        cutoffs.push(plan.retention_cutoff(now));
    }
    Ok((ids, cutoffs))
}

/// Deletes, for each key and its cut-off, up to `rows` rows of `table` whose `key` column is
/// the key and whose `time` is before the cut-off (and that `also` lets go), oldest first,
/// walking the `(key, time)` index. `table`, `key`, `time` and `also` are this module's
/// constants, never input.
#[allow(clippy::too_many_arguments)]
async fn delete_per_key(
    conn: &mut PgConn,
    table: &str,
    key: &str,
    time: &str,
    also: &str,
    keys: &[uuid::Uuid],
    cutoffs: &[DateTime<Utc>],
    rows: i64,
) -> Result<usize, StoreError> {
    let sql = format!(
        "DELETE FROM {table} t USING ( \
           SELECT old.id FROM unnest($1, $2) AS c(k, cutoff), \
           LATERAL (SELECT x.id FROM {table} x WHERE x.{key} = c.k AND x.{time} < c.cutoff {also} \
                    ORDER BY x.{time} LIMIT $3) old) doomed \
         WHERE t.id = doomed.id"
    );
    Ok(diesel::sql_query(sql)
        .bind::<Array<SqlUuid>, _>(keys)
        .bind::<Array<Timestamptz>, _>(cutoffs)
        .bind::<Int8, _>(rows)
        .execute(conn)
        .await?)
}

/// Purges the heartbeats after `after` (from the first when `None`), up to `heartbeats_per_chunk`
/// of them and `rows_per_heartbeat` pings each. A chunk that hit the row bound is not passed:
/// `next` stays at `after`, so the caller repeats it.
pub async fn purge_chunk(
    conn: &mut PgConn,
    after: Option<HeartbeatId>,
    now: DateTime<Utc>,
    heartbeats_per_chunk: i64,
    rows_per_heartbeat: i64,
) -> Result<Purged, StoreError> {
    let chunk: Vec<(uuid::Uuid, String)> = heartbeats::table
        .inner_join(teams::table)
        .filter(heartbeats::id.gt(after.map_or(uuid::Uuid::nil(), |id| id.as_uuid())))
        .order(heartbeats::id)
        .limit(heartbeats_per_chunk)
        .select((heartbeats::id, teams::plan))
        .load(conn)
        .await?;
    let Some(last) = chunk.last().map(|c| c.0) else {
        return Ok(Purged {
            heartbeats: 0,
            deleted: 0,
            status_changes: 0,
            next: None,
        });
    };
    let (ids, cutoffs) = cutoffs_of(&chunk, now)?;
    let deleted = diesel::sql_query(
        "DELETE FROM pings p USING ( \
           SELECT c.hb, old.received_at, old.id FROM unnest($1, $2) AS c(hb, cutoff), \
           LATERAL (SELECT received_at, id FROM pings \
                    WHERE heartbeat_id = c.hb AND received_at < c.cutoff \
                    ORDER BY received_at LIMIT $3) old) doomed \
         WHERE p.heartbeat_id = doomed.hb AND p.received_at = doomed.received_at \
           AND p.id = doomed.id",
    )
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Array<Timestamptz>, _>(&cutoffs)
    .bind::<Int8, _>(rows_per_heartbeat)
    .execute(conn)
    .await?;
    let status_changes = delete_per_key(
        conn,
        "status_changes",
        "heartbeat_id",
        "changed_at",
        "",
        &ids,
        &cutoffs,
        rows_per_heartbeat,
    )
    .await?;
    let full = i64::try_from(deleted.max(status_changes)).unwrap_or(i64::MAX) >= rows_per_heartbeat;
    let complete = i64::try_from(chunk.len()).unwrap_or(0) < heartbeats_per_chunk;
    Ok(Purged {
        heartbeats: chunk.len(),
        deleted,
        status_changes,
        next: next_cursor(full, complete, after.map(|a| a.as_uuid()), last)
            .map(HeartbeatId::from_uuid),
    })
}

/// Purges the per-team history of the teams after `after` (from the first when `None`), up to
/// `teams_per_chunk` teams and `rows_per_team` rows per table each: resolved incidents (with
/// their notifications) whose resolution is older than the plan keeps, unless one of their
/// notifications is still being delivered; finished notifications; audit entries.
pub async fn purge_team_history_chunk(
    conn: &mut PgConn,
    after: Option<TeamId>,
    now: DateTime<Utc>,
    teams_per_chunk: i64,
    rows_per_team: i64,
) -> Result<PurgedTeams, StoreError> {
    let chunk: Vec<(uuid::Uuid, String)> = teams::table
        .filter(teams::id.gt(after.map_or(uuid::Uuid::nil(), |id| id.as_uuid())))
        .order(teams::id)
        .limit(teams_per_chunk)
        .select((teams::id, teams::plan))
        .load(conn)
        .await?;
    let Some(last) = chunk.last().map(|c| c.0) else {
        return Ok(PurgedTeams {
            incidents: 0,
            notifications: 0,
            audit: 0,
            next: None,
        });
    };
    let (ids, cutoffs) = cutoffs_of(&chunk, now)?;
    let incidents = delete_per_key(
        conn,
        "incidents",
        "team_id",
        "opened_at",
        "AND x.resolved_at < c.cutoff AND NOT EXISTS (SELECT 1 FROM notifications n \
         WHERE n.incident_id = x.id AND n.status = 'pending')",
        &ids,
        &cutoffs,
        rows_per_team,
    )
    .await?;
    let notifications = delete_per_key(
        conn,
        "notifications",
        "team_id",
        "created_at",
        "AND x.status <> 'pending'",
        &ids,
        &cutoffs,
        rows_per_team,
    )
    .await?;
    let audit = delete_per_key(
        conn,
        "audit_log",
        "team_id",
        "at",
        "",
        &ids,
        &cutoffs,
        rows_per_team,
    )
    .await?;
    let most = incidents.max(notifications).max(audit);
    let full = i64::try_from(most).unwrap_or(i64::MAX) >= rows_per_team;
    let complete = i64::try_from(chunk.len()).unwrap_or(0) < teams_per_chunk;
    Ok(PurgedTeams {
        incidents,
        notifications,
        audit,
        next: next_cursor(full, complete, after.map(|a| a.as_uuid()), last).map(TeamId::from_uuid),
    })
}

/// Deletes up to `rows` of each of what is kept a fixed period: delivery attempts older than
/// [`ATTEMPTS_KEPT_DAYS`], outages that ended and audit entries of no team older than
/// [`FIXED_KEPT_DAYS`]. Returns the rows deleted; the caller repeats until it is 0.
pub async fn purge_fixed_chunk(
    conn: &mut PgConn,
    now: DateTime<Utc>,
    rows: i64,
) -> Result<usize, StoreError> {
    let kept = [
        (
            "notification_attempts",
            "started_at",
            "",
            ATTEMPTS_KEPT_DAYS,
        ),
        ("outages", "ended_at", "", FIXED_KEPT_DAYS),
        ("audit_log", "at", "AND team_id IS NULL", FIXED_KEPT_DAYS),
    ];
    let mut deleted = 0;
    for (table, time, also, days) in kept {
        let sql = format!(
            "DELETE FROM {table} WHERE ctid IN (SELECT ctid FROM {table} \
             WHERE {time} < $1 {also} ORDER BY {time} LIMIT $2)"
        );
        deleted += diesel::sql_query(sql)
            .bind::<Timestamptz, _>(now - chrono::Duration::days(days))
            .bind::<Int8, _>(rows)
            .execute(conn)
            .await?;
    }
    Ok(deleted)
}

/// Key of the advisory lock that lets one scheduler replica purge at a time.
const PURGE_LOCK: i64 = 0x6c69_6665_7075_7267; // "lifepurg"

#[derive(QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

/// Takes the purge lock for this connection's session, if no other replica holds it. It is
/// released by [`unlock`] or when the connection closes (a dead process frees it).
pub async fn try_lock(conn: &mut PgConn) -> Result<bool, StoreError> {
    let row: Locked = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
        .bind::<Int8, _>(PURGE_LOCK)
        .get_result(conn)
        .await?;
    Ok(row.locked)
}

pub async fn unlock(conn: &mut PgConn) -> Result<(), StoreError> {
    diesel::sql_query("SELECT pg_advisory_unlock($1) AS locked")
        .bind::<Int8, _>(PURGE_LOCK)
        .execute(conn)
        .await?;
    Ok(())
}
