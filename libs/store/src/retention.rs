//! The retention purge: deletes pings older than the owning team's plan keeps (7/30/90/365
//! days). Reads already hide them (every history query applies the plan's cut-off), so the purge
//! only reclaims space and may lag without anyone seeing old history.
//!
//! It walks heartbeats in id order, a chunk at a time, and deletes at most a bounded number of
//! rows per heartbeat per statement through the `(heartbeat_id, received_at)` index — short
//! transactions that never hold many row locks, so ingest barely notices.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, Int8, Timestamptz, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use lifeline_domain::{HeartbeatId, Plan};

use crate::label::stored;
use crate::schema::{heartbeats, teams};
use crate::{PgConn, StoreError};

/// What one chunk did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Purged {
    pub heartbeats: usize,
    pub deleted: usize,
    /// Where the next chunk starts; `None` after the last heartbeat (the pass is complete).
    pub next: Option<HeartbeatId>,
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
            next: None,
        });
    };
    let mut ids = Vec::with_capacity(chunk.len());
    let mut cutoffs = Vec::with_capacity(chunk.len());
    for (id, plan) in &chunk {
        let plan: Plan = stored(plan)?;
        ids.push(*id);
        cutoffs.push(plan.retention_cutoff(now));
    }
    let deleted = diesel::sql_query(
        "DELETE FROM pings p USING ( \
           SELECT old.received_at, old.id FROM unnest($1, $2) AS c(hb, cutoff), \
           LATERAL (SELECT received_at, id FROM pings \
                    WHERE heartbeat_id = c.hb AND received_at < c.cutoff \
                    ORDER BY received_at LIMIT $3) old) doomed \
         WHERE p.received_at = doomed.received_at AND p.id = doomed.id",
    )
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Array<Timestamptz>, _>(&cutoffs)
    .bind::<Int8, _>(rows_per_heartbeat)
    .execute(conn)
    .await?;
    let full = i64::try_from(deleted).unwrap_or(i64::MAX) >= rows_per_heartbeat;
    let complete = i64::try_from(chunk.len()).unwrap_or(0) < heartbeats_per_chunk;
    Ok(Purged {
        heartbeats: chunk.len(),
        deleted,
        next: match (full, complete) {
            // The nil id is before every heartbeat: the first chunk again.
            (true, _) => after.or(Some(HeartbeatId::from_uuid(uuid::Uuid::nil()))),
            (false, true) => None,
            (false, false) => Some(HeartbeatId::from_uuid(last)),
        },
    })
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
