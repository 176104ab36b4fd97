//! Heartbeat changes: create, edit, pause, resume, rotate, delete.

use lifeline_domain::{HeartbeatId, Role};
use lifeline_store::heartbeats::{self, Heartbeat, HeartbeatChanges, NewHeartbeat};
use lifeline_store::{PgConn, StoreError, tokens, wake};
use serde_json::json;

use super::{Caller, announce, record};
use crate::state::AppState;

const MANAGE: &str = "manage heartbeats";

/// The JSON an audit entry keeps about a heartbeat.
fn described(hb: &Heartbeat) -> serde_json::Value {
    let schedule = hb.schedule();
    json!({
        "name": hb.name,
        "interval_secs": schedule.interval_secs(),
        "grace_secs": schedule.grace_secs(),
        "time_zone": hb.time_zone,
    })
}

pub async fn create(
    state: &AppState,
    conn: &mut PgConn,
    caller: &Caller,
    new: NewHeartbeat,
) -> Result<Heartbeat, StoreError> {
    caller.scope.require(Role::Member, MANAGE)?;
    let hb = heartbeats::create(conn, &caller.scope, new).await?;
    record(conn, caller, "heartbeat.create", hb.id, described(&hb)).await?;
    let hash = hb.token_hash()?;
    announce(state, "new token", |mut redis| async move {
        tokens::announce_new(&mut redis, &state.keys, &hash).await
    })
    .await;
    Ok(hb)
}

pub async fn edit(
    state: &AppState,
    conn: &mut PgConn,
    caller: &Caller,
    id: HeartbeatId,
    changes: HeartbeatChanges,
) -> Result<Heartbeat, StoreError> {
    caller.scope.require(Role::Member, MANAGE)?;
    let rescheduled = changes.schedule.is_some();
    let hb = heartbeats::edit(conn, &caller.scope, id, changes).await?;
    record(conn, caller, "heartbeat.edit", hb.id, described(&hb)).await?;
    if rescheduled {
        wake_scheduler(state).await;
    }
    Ok(hb)
}

pub async fn pause(
    conn: &mut PgConn,
    caller: &Caller,
    id: HeartbeatId,
) -> Result<Heartbeat, StoreError> {
    caller.scope.require(Role::Member, MANAGE)?;
    let hb = heartbeats::pause(conn, &caller.scope, id).await?;
    record(conn, caller, "heartbeat.pause", hb.id, json!({})).await?;
    // A paused heartbeat's open incident is resolved quietly: nothing to deliver, no deadline
    // to wake the scheduler for.
    Ok(hb)
}

pub async fn resume(
    state: &AppState,
    conn: &mut PgConn,
    caller: &Caller,
    id: HeartbeatId,
) -> Result<Heartbeat, StoreError> {
    caller.scope.require(Role::Member, MANAGE)?;
    let hb = heartbeats::resume(conn, &caller.scope, id).await?;
    record(conn, caller, "heartbeat.resume", hb.id, json!({})).await?;
    if hb.next_check_at.is_some() {
        wake_scheduler(state).await;
    }
    Ok(hb)
}

/// A new ping URL; the old one answers 404 on every ingest process at once (the announcement),
/// or within a second (their revocation poll) if Redis is down.
pub async fn rotate(
    state: &AppState,
    conn: &mut PgConn,
    caller: &Caller,
    id: HeartbeatId,
) -> Result<Heartbeat, StoreError> {
    caller.scope.require(Role::Member, MANAGE)?;
    let rotated = heartbeats::rotate_token(conn, &caller.scope, id).await?;
    record(conn, caller, "heartbeat.rotate", id, json!({})).await?;
    let old = rotated.old_token_hash;
    let new = rotated.heartbeat.token_hash()?;
    announce(state, "rotated token", |mut redis| async move {
        tokens::announce_gone(&mut redis, &state.keys, &old).await?;
        tokens::announce_new(&mut redis, &state.keys, &new).await
    })
    .await;
    Ok(rotated.heartbeat)
}

pub async fn delete(
    state: &AppState,
    conn: &mut PgConn,
    caller: &Caller,
    id: HeartbeatId,
) -> Result<(), StoreError> {
    caller.scope.require(Role::Member, MANAGE)?;
    let name = heartbeats::find(conn, &caller.scope, id).await?.name;
    let hash = heartbeats::delete(conn, &caller.scope, id).await?;
    record(
        conn,
        caller,
        "heartbeat.delete",
        id,
        json!({ "name": name }),
    )
    .await?;
    announce(state, "deleted token", |mut redis| async move {
        tokens::announce_gone(&mut redis, &state.keys, &hash).await
    })
    .await;
    Ok(())
}

async fn wake_scheduler(state: &AppState) {
    let mut redis = state.redis.clone();
    let woken = wake::Wake {
        deadlines: true,
        deliveries: false,
    };
    wake::publish(&mut redis, &state.keys, woken).await;
}
