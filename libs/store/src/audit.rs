//! The audit log: every change a person, an API key or the operator makes to a team.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use lifeline_domain::{TeamId, UserId};
use serde::Serialize;

use crate::schema::audit_log;
use crate::{PgConn, StoreError, TeamScope};

/// Who made a change, as stored in `audit_log.actor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Actor {
    Operator,
    User(UserId),
    ApiKey(uuid::Uuid),
    System,
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Actor::Operator => f.write_str("operator"),
            Actor::User(id) => write!(f, "user:{id}"),
            Actor::ApiKey(id) => write!(f, "api_key:{id}"),
            Actor::System => f.write_str("system"),
        }
    }
}

#[derive(Clone, Debug, Serialize, Queryable)]
pub struct Entry {
    pub id: i64,
    pub actor: String,
    /// The actor's email when it is a user who still exists.
    pub actor_email: Option<String>,
    pub action: String,
    pub target: String,
    pub detail: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// Records one change in the scope's team. `action` is a dotted verb (`heartbeat.create`),
/// `target` what it acted on (usually an id).
pub async fn record(
    conn: &mut PgConn,
    scope: &TeamScope,
    actor: Actor,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    record_for_team(conn, scope.team_id(), actor, action, target, detail).await
}

/// [`record`] for a change no team member made, where the store found the team itself (an
/// emailed link confirmed).
pub(crate) async fn record_for_team(
    conn: &mut PgConn,
    team: TeamId,
    actor: Actor,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::team_id.eq(team.as_uuid()),
            audit_log::actor.eq(actor.to_string()),
            audit_log::action.eq(action),
            audit_log::target.eq(target),
            audit_log::detail.eq(detail),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// How many times the team did `action` on `target` since `since` (to limit repeats, such as
/// confirmation emails to one address).
pub async fn count_since(
    conn: &mut PgConn,
    scope: &TeamScope,
    action: &str,
    target: &str,
    since: DateTime<Utc>,
) -> Result<i64, StoreError> {
    Ok(audit_log::table
        .filter(audit_log::team_id.eq(scope.team_id().as_uuid()))
        .filter(audit_log::action.eq(action))
        .filter(audit_log::target.eq(target))
        .filter(audit_log::at.ge(since))
        .count()
        .get_result(conn)
        .await?)
}

/// The team's entries, newest first, older than the entry `before` when given.
pub async fn list(
    conn: &mut PgConn,
    scope: &TeamScope,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Entry>, StoreError> {
    use crate::schema::users;
    let mut query = audit_log::table
        .left_join(users::table.on(audit_log::actor.eq(
            diesel::dsl::sql::<diesel::sql_types::Text>("'user:' || users.id::text"),
        )))
        .filter(audit_log::team_id.eq(scope.team_id().as_uuid()))
        .order(audit_log::id.desc())
        .limit(limit)
        .select((
            audit_log::id,
            audit_log::actor,
            users::email.nullable(),
            audit_log::action,
            audit_log::target,
            audit_log::detail,
            audit_log::at,
        ))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(audit_log::id.lt(before));
    }
    Ok(query.load(conn).await?)
}
