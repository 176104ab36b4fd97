//! Team changes: create, rename, time zone, delete.

use lifeline_domain::{Role, TeamName, TimeZoneName, UserId};
use lifeline_store::audit::{self, Actor};
use lifeline_store::teams::{self, Team};
use lifeline_store::{PgConn, StoreError, TeamScope, tokens};
use serde_json::json;

use super::{Caller, announce, record};
use crate::state::AppState;

/// What the role check names when it refuses.
pub const CHANGE_TIME_ZONE: &str = "change the team's time zone";

/// Creates another team owned by `user`.
pub async fn create(conn: &mut PgConn, user: UserId, name: &TeamName) -> Result<Team, StoreError> {
    let team = teams::create_owned(conn, user, name).await?;
    let scope = TeamScope::for_member(conn, user, team.id).await?;
    audit::record(
        conn,
        &scope,
        Actor::User(user),
        "team.create",
        &team.id.to_string(),
        json!({ "name": team.name }),
    )
    .await?;
    Ok(team)
}

pub async fn rename(conn: &mut PgConn, caller: &Caller, name: &TeamName) -> Result<(), StoreError> {
    caller.scope.require(Role::Admin, "rename the team")?;
    let old = teams::rename(conn, &caller.scope, name).await?;
    record(
        conn,
        caller,
        "team.rename",
        caller.scope.team_id(),
        json!({ "from": old, "to": name.as_str() }),
    )
    .await
}

/// Sets the zone of the team's heartbeats that have none of their own.
pub async fn set_time_zone(
    conn: &mut PgConn,
    caller: &Caller,
    zone: TimeZoneName,
) -> Result<(), StoreError> {
    caller.scope.require(Role::Admin, CHANGE_TIME_ZONE)?;
    let old = teams::set_time_zone(conn, &caller.scope, zone).await?;
    record(
        conn,
        caller,
        "team.time_zone",
        caller.scope.team_id(),
        json!({ "from": old, "to": zone.as_str() }),
    )
    .await
}

/// Deletes the team and everything in it. Its heartbeats' ping URLs stop working at once
/// everywhere, as when a heartbeat is deleted.
pub async fn delete(
    state: &AppState,
    conn: &mut PgConn,
    caller: &Caller,
) -> Result<(), StoreError> {
    caller.scope.require(Role::Owner, "delete the team")?;
    // The deletion is recorded by the store, outside the team: the team's log goes with it.
    let hashes = teams::delete(conn, &caller.scope, caller.actor).await?;
    if !hashes.is_empty() {
        announce(state, "deleted tokens", |mut redis| async move {
            for hash in &hashes {
                tokens::announce_gone(&mut redis, &state.keys, hash).await?;
            }
            Ok(())
        })
        .await;
    }
    Ok(())
}
