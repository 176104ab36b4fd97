use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use lifeline_domain::{Plan, Role, TeamId, TeamName, TimeZoneName, UserId};
use serde::Serialize;

use crate::audit::Actor;
use crate::label::{stored, stored_time_zone};
use crate::schema::{heartbeats, teams};
use crate::{PgConn, StoreError, TeamScope};

#[derive(Clone, Debug, Serialize)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub plan: Plan,
    /// The zone of its heartbeats that have none of their own.
    pub time_zone: TimeZoneName,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = teams)]
struct TeamRow {
    id: uuid::Uuid,
    name: String,
    plan: String,
    time_zone: String,
    created_at: DateTime<Utc>,
}

impl TryFrom<TeamRow> for Team {
    type Error = StoreError;
    fn try_from(row: TeamRow) -> Result<Self, StoreError> {
        Ok(Team {
            id: TeamId::from_uuid(row.id),
            name: row.name,
            plan: stored(&row.plan)?,
            time_zone: stored_time_zone(&row.time_zone)?,
            created_at: row.created_at,
        })
    }
}

/// Creates a team (operator CLI, sign-up).
pub async fn create(conn: &mut PgConn, name: &TeamName, plan: Plan) -> Result<Team, StoreError> {
    diesel::insert_into(teams::table)
        .values((
            teams::id.eq(TeamId::new().as_uuid()),
            teams::name.eq(name.as_str()),
            teams::plan.eq(plan.as_str()),
        ))
        .returning(TeamRow::as_returning())
        .get_result(conn)
        .await?
        .try_into()
}

/// The oldest team with exactly this name (used by `lifeline demo` to stay idempotent).
pub async fn find_by_name(conn: &mut PgConn, name: &str) -> Result<Option<Team>, StoreError> {
    Ok(named(conn, name).await?.into_iter().next())
}

/// Every team with exactly this name, oldest first (names are not unique): the operator CLI's
/// `--team NAME` is refused when there is more than one.
pub async fn named(conn: &mut PgConn, name: &str) -> Result<Vec<Team>, StoreError> {
    teams::table
        .filter(teams::name.eq(name))
        .order((teams::created_at, teams::id))
        .select(TeamRow::as_select())
        .load(conn)
        .await?
        .into_iter()
        .map(Team::try_from)
        .collect()
}

/// A team in the operator's list, with how much it holds.
#[derive(Clone, Debug, Serialize)]
pub struct TeamOverview {
    #[serde(flatten)]
    pub team: Team,
    pub heartbeats: i64,
    pub members: i64,
}

/// Every team, oldest first, for the operator (`lifeline admin team list`); no team scope, as
/// it is no team's view.
#[cfg(feature = "operator")]
pub async fn list_all(conn: &mut PgConn) -> Result<Vec<TeamOverview>, StoreError> {
    use crate::schema::memberships;
    let heartbeats = heartbeats::table
        .filter(heartbeats::team_id.eq(teams::id))
        .count()
        .single_value();
    let members = memberships::table
        .filter(memberships::team_id.eq(teams::id))
        .count()
        .single_value();
    let rows: Vec<(TeamRow, Option<i64>, Option<i64>)> = teams::table
        .order((teams::created_at, teams::id))
        .select((TeamRow::as_select(), heartbeats, members))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|(row, heartbeats, members)| {
            Ok(TeamOverview {
                team: row.try_into()?,
                heartbeats: heartbeats.unwrap_or(0),
                members: members.unwrap_or(0),
            })
        })
        .collect()
}

/// A team as the operator sees it (`lifeline admin team show`).
#[derive(Clone, Debug, Serialize)]
pub struct TeamSummary {
    pub id: TeamId,
    pub name: String,
    pub plan: Plan,
    /// The zone of its heartbeats that have none of their own.
    pub time_zone: TimeZoneName,
    pub plan_ends_at: Option<DateTime<Utc>>,
    pub stripe_customer: Option<String>,
    pub heartbeats: i64,
    pub members: i64,
    /// Everything billing knows: the scheduled plan, the subscription, a failed payment.
    pub billing: crate::billing::BillingState,
}

pub async fn summary(conn: &mut PgConn, team: TeamId) -> Result<TeamSummary, StoreError> {
    use crate::schema::memberships;
    let billing = crate::billing::state(conn, team).await?;
    let (name, time_zone): (String, String) = teams::table
        .find(team.as_uuid())
        .select((teams::name, teams::time_zone))
        .first(conn)
        .await?;
    let heartbeats: i64 = heartbeats::table
        .filter(heartbeats::team_id.eq(team.as_uuid()))
        .count()
        .get_result(conn)
        .await?;
    let members: i64 = memberships::table
        .filter(memberships::team_id.eq(team.as_uuid()))
        .count()
        .get_result(conn)
        .await?;
    Ok(TeamSummary {
        id: team,
        name,
        time_zone: stored_time_zone(&time_zone)?,
        plan: billing.plan,
        plan_ends_at: billing.plan_ends_at,
        stripe_customer: billing.stripe_customer.clone(),
        heartbeats,
        members,
        billing,
    })
}

/// The name of the scope's team (for emails the team sends).
pub async fn name(conn: &mut PgConn, scope: &crate::TeamScope) -> Result<String, StoreError> {
    Ok(teams::table
        .find(scope.team_id().as_uuid())
        .select(teams::name)
        .first(conn)
        .await?)
}

/// Renames the scope's team. Returns the old name.
pub async fn rename(
    conn: &mut PgConn,
    scope: &TeamScope,
    name: &TeamName,
) -> Result<String, StoreError> {
    let team = scope.team_id().as_uuid();
    let name = name.as_str().to_owned();
    conn.transaction::<_, StoreError, _>(async move |conn| {
        let old: String = teams::table
            .find(team)
            .select(teams::name)
            .for_update()
            .first(conn)
            .await?;
        diesel::update(teams::table.find(team))
            .set(teams::name.eq(&name))
            .execute(conn)
            .await?;
        Ok(old)
    })
    .await
}

/// The scope's team's time zone: the zone of its heartbeats that have none of their own.
pub async fn time_zone(conn: &mut PgConn, scope: &TeamScope) -> Result<TimeZoneName, StoreError> {
    let name: String = teams::table
        .find(scope.team_id().as_uuid())
        .select(teams::time_zone)
        .first(conn)
        .await?;
    stored_time_zone(&name)
}

/// Sets the scope's team's time zone. Returns the old one's name (as stored: a name this binary
/// no longer knows can still be replaced).
pub async fn set_time_zone(
    conn: &mut PgConn,
    scope: &TeamScope,
    zone: TimeZoneName,
) -> Result<String, StoreError> {
    let team = scope.team_id().as_uuid();
    conn.transaction::<_, StoreError, _>(async move |conn| {
        let old: String = teams::table
            .find(team)
            .select(teams::time_zone)
            .for_update()
            .first(conn)
            .await?;
        diesel::update(teams::table.find(team))
            .set(teams::time_zone.eq(zone.as_str()))
            .execute(conn)
            .await?;
        Ok(old)
    })
    .await
}

/// Creates another team (on the free plan) owned by `user`.
pub async fn create_owned(
    conn: &mut PgConn,
    user: UserId,
    name: &TeamName,
) -> Result<Team, StoreError> {
    let name = name.clone();
    conn.transaction::<_, StoreError, _>(async move |conn| {
        let team = create(conn, &name, Plan::Free).await?;
        crate::users::add_membership(conn, team.id, user, Role::Owner).await?;
        Ok(team)
    })
    .await
}

/// What a team uses of its plan's limits.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Usage {
    pub heartbeats: i64,
    pub members: i64,
    /// Pending invitations that have not expired: they count as members against the limit.
    pub invitations: i64,
}

pub async fn usage(conn: &mut PgConn, scope: &TeamScope) -> Result<Usage, StoreError> {
    let heartbeats: i64 = heartbeats::table
        .filter(heartbeats::team_id.eq(scope.team_id().as_uuid()))
        .count()
        .get_result(conn)
        .await?;
    let members = crate::members::count(conn, scope).await?;
    let seats = crate::invitations::seats_taken(conn, scope).await?;
    Ok(Usage {
        heartbeats,
        members,
        invitations: seats - members,
    })
}

/// Deletes the scope's team and everything in it (heartbeats, pings, channels, keys,
/// memberships, its audit log). The heartbeats' ping tokens are recorded as revoked, and their
/// hashes returned so that ingest processes can be told. The deletion itself is recorded in
/// the audit log without a team (the team's own entries go with it).
pub async fn delete(
    conn: &mut PgConn,
    scope: &TeamScope,
    actor: Actor,
) -> Result<Vec<[u8; 32]>, StoreError> {
    let team = scope.team_id().as_uuid();
    conn.transaction::<_, StoreError, _>(async move |conn| {
        let name: String = teams::table
            .find(team)
            .select(teams::name)
            .for_update()
            .first(conn)
            .await?;
        let stored: Vec<Vec<u8>> = heartbeats::table
            .filter(heartbeats::team_id.eq(team))
            .select(heartbeats::token_hash)
            .load(conn)
            .await?;
        let mut hashes = Vec::with_capacity(stored.len());
        for hash in stored {
            let hash: [u8; 32] = hash
                .try_into()
                .map_err(|_| StoreError::Invalid("stored token hash is not 32 bytes".into()))?;
            crate::tokens::record_revocation(conn, &hash).await?;
            hashes.push(hash);
        }
        diesel::delete(teams::table.find(team))
            .execute(conn)
            .await?;
        crate::audit::record_without_team(
            conn,
            actor,
            "team.delete",
            &team.to_string(),
            serde_json::json!({ "name": name, "heartbeats": hashes.len() }),
        )
        .await?;
        Ok(hashes)
    })
    .await
}
