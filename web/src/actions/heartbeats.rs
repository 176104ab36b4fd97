//! Heartbeat changes: create, edit, pause, resume, rotate, delete, switch between fixed and AI
//! mode, and mark an AI heartbeat's early warning as expected.

use lifeline_domain::{HeartbeatId, HeartbeatMode, IncidentId, Role};
use lifeline_store::ai::{self, Switched};
use lifeline_store::audit::Actor;
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
        "mode": hb.mode,
    })
}

/// Creates a heartbeat in `mode`; AI mode needs a plan that includes it (nothing is created
/// otherwise).
pub async fn create(
    state: &AppState,
    conn: &mut PgConn,
    caller: &Caller,
    new: NewHeartbeat,
    mode: HeartbeatMode,
) -> Result<Heartbeat, StoreError> {
    caller.scope.require(Role::Member, MANAGE)?;
    let hb = ai::create_in_mode(conn, &caller.scope, new, mode).await?;
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
        tokens::announce_rotated(&mut redis, &state.keys, &old, &new).await
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

/// Switches between the fixed interval + grace and AI mode (refused with `PlanLimit` on plans
/// without AI heartbeats). Back to fixed, the deadlines may move earlier: the scheduler looks.
pub async fn switch_mode(
    state: &AppState,
    conn: &mut PgConn,
    caller: &Caller,
    id: HeartbeatId,
    to: HeartbeatMode,
) -> Result<Switched, StoreError> {
    caller.scope.require(Role::Member, MANAGE)?;
    let switched = ai::switch_mode(conn, &caller.scope, id, to).await?;
    if switched.changed {
        record(
            conn,
            caller,
            "heartbeat.mode",
            id,
            json!({ "from": switched.from, "to": to }),
        )
        .await?;
    }
    if switched.wake_scheduler {
        wake_scheduler(state).await;
    }
    Ok(switched)
}

/// The team says an early warning was expected: the model learns the pattern at its next
/// training, which is queued for now. Returns false when it was already marked.
pub async fn mark_expected(
    conn: &mut PgConn,
    caller: &Caller,
    heartbeat: HeartbeatId,
    incident: IncidentId,
) -> Result<bool, StoreError> {
    caller.scope.require(Role::Member, MANAGE)?;
    let by = match caller.actor {
        Actor::User(user) => Some(user),
        _ => None,
    };
    let marked = ai::mark_expected(conn, &caller.scope, heartbeat, incident, by).await?;
    if marked {
        record(
            conn,
            caller,
            "heartbeat.warning_expected",
            heartbeat,
            json!({ "incident": incident }),
        )
        .await?;
    }
    Ok(marked)
}

async fn wake_scheduler(state: &AppState) {
    let mut redis = state.redis.clone();
    let woken = wake::Wake {
        deadlines: true,
        deliveries: false,
    };
    wake::publish(&mut redis, &state.keys, woken).await;
}
