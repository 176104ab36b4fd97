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

/// One entry; the fields are in the order `list` selects them.
#[derive(Clone, Debug, Serialize, Queryable)]
pub struct Entry {
    pub id: i64,
    pub actor: String,
    /// The actor's email when it is a user who still exists.
    pub actor_email: Option<String>,
    /// The key's prefix when the actor is an API key that still exists.
    pub actor_key_prefix: Option<String>,
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
    insert(conn, Some(team), actor, action, target, detail).await
}

/// One `audit_log` row, under `team` or (a team's deletion) under none.
async fn insert(
    conn: &mut PgConn,
    team: Option<TeamId>,
    actor: Actor,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    diesel::insert_into(audit_log::table)
        .values((
            audit_log::team_id.eq(team.map(|t| t.as_uuid())),
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

/// Records a change that leaves no team to file it under (the team's deletion: the team's own
/// entries are deleted with it). The operator finds these with `team_id IS NULL`.
pub async fn record_without_team(
    conn: &mut PgConn,
    actor: Actor,
    action: &str,
    target: &str,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    insert(conn, None, actor, action, target, detail).await
}

/// Records a change to a person (their password) in every team they belong to, where the
/// team's admins can see it next to the other changes of that member.
pub async fn record_in_teams_of(
    conn: &mut PgConn,
    user: UserId,
    actor: Actor,
    action: &str,
    detail: serde_json::Value,
) -> Result<(), StoreError> {
    use crate::schema::memberships;
    let teams: Vec<uuid::Uuid> = memberships::table
        .filter(memberships::user_id.eq(user.as_uuid()))
        .select(memberships::team_id)
        .load(conn)
        .await?;
    let rows: Vec<_> = teams
        .into_iter()
        .map(|team| {
            (
                audit_log::team_id.eq(team),
                audit_log::actor.eq(actor.to_string()),
                audit_log::action.eq(action),
                audit_log::target.eq(user.to_string()),
                audit_log::detail.eq(detail.clone()),
            )
        })
        .collect();
    if rows.is_empty() {
        return Ok(());
    }
    diesel::insert_into(audit_log::table)
        .values(rows)
        .execute(conn)
        .await?;
    Ok(())
}

/// The team's entries, newest first, older than the entry `before` when given.
pub async fn list(
    conn: &mut PgConn,
    scope: &TeamScope,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<Entry>, StoreError> {
    use crate::schema::{api_keys, users};
    let mut query = audit_log::table
        .left_join(users::table.on(audit_log::actor.eq(
            diesel::dsl::sql::<diesel::sql_types::Text>("'user:' || users.id::text"),
        )))
        .left_join(api_keys::table.on(audit_log::actor.eq(diesel::dsl::sql::<
            diesel::sql_types::Text,
        >(
            "'api_key:' || api_keys.id::text"
        ))))
        .filter(audit_log::team_id.eq(scope.team_id().as_uuid()))
        .order(audit_log::id.desc())
        .limit(limit)
        .select((
            audit_log::id,
            audit_log::actor,
            users::email.nullable(),
            api_keys::prefix.nullable(),
            audit_log::action,
            audit_log::target,
            audit_log::detail,
            audit_log::at,
        ))
        .into_boxed();
    if let Some(before) = before {
        query = query.filter(audit_log::id.lt(before));
    }
    Ok(query.load::<Entry>(conn).await?)
}
