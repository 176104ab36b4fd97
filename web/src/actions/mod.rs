//! What a change does, whichever door it came through: a dashboard form and the management API
//! call the same function, which changes the rows through the store, writes the audit entry, and
//! tells the other processes (ingest caches, the scheduler) over Redis.

pub mod api_keys;
pub mod channels;
pub mod heartbeats;
pub mod members;
pub mod team;

use std::future::Future;
use std::time::Duration;

use lifeline_store::audit::Actor;
use lifeline_store::{PgConn, StoreError, TeamScope, audit};
use redis::aio::ConnectionManager;

use crate::state::AppState;

/// The caller of an action: which team, with what rights, and who (for the audit log).
#[derive(Clone, Debug)]
pub struct Caller {
    pub scope: TeamScope,
    pub actor: Actor,
}

pub(crate) async fn record(
    conn: &mut PgConn,
    caller: &Caller,
    action: &str,
    target: impl ToString,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    audit::record(
        conn,
        &caller.scope,
        caller.actor,
        action,
        &target.to_string(),
        detail,
    )
    .await
}

/// Sends a Redis message after the change committed. Best effort: the change is in Postgres,
/// and every listener has a Postgres fallback (ingest polls revocations, the scheduler polls).
pub(crate) async fn announce<F, Fut>(state: &AppState, what: &str, send: F)
where
    F: FnOnce(ConnectionManager) -> Fut,
    Fut: Future<Output = redis::RedisResult<()>>,
{
    let sent = tokio::time::timeout(Duration::from_secs(1), send(state.redis.clone())).await;
    match sent {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::warn!(error = %e, what, "change not announced on Redis"),
        Err(_) => tracing::warn!(what, "change not announced on Redis: timed out"),
    }
}
