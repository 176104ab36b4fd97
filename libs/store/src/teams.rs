use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use lifeline_domain::{Plan, TeamId, TeamName};
use serde::Serialize;

use crate::label::stored;
use crate::schema::teams;
use crate::{PgConn, StoreError};

#[derive(Clone, Debug, Serialize)]
pub struct Team {
    pub id: TeamId,
    pub name: String,
    pub plan: Plan,
    pub created_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = teams)]
struct TeamRow {
    id: uuid::Uuid,
    name: String,
    plan: String,
    created_at: DateTime<Utc>,
}

impl TryFrom<TeamRow> for Team {
    type Error = StoreError;
    fn try_from(row: TeamRow) -> Result<Self, StoreError> {
        Ok(Team {
            id: TeamId::from_uuid(row.id),
            name: row.name,
            plan: stored(&row.plan)?,
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

/// Finds a team by its exact name (used by `lifeline demo` to stay idempotent).
pub async fn find_by_name(conn: &mut PgConn, name: &str) -> Result<Option<Team>, StoreError> {
    teams::table
        .filter(teams::name.eq(name))
        .order(teams::created_at)
        .select(TeamRow::as_select())
        .first(conn)
        .await
        .optional()?
        .map(Team::try_from)
        .transpose()
}

/// Changes a team's plan (billing, operator). History beyond the new plan's retention becomes
/// invisible at once because every history query reads the plan through the scope.
pub async fn set_plan(conn: &mut PgConn, team: TeamId, plan: Plan) -> Result<(), StoreError> {
    let n = diesel::update(teams::table.find(team.as_uuid()))
        .set(teams::plan.eq(plan.as_str()))
        .execute(conn)
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The name of the scope's team (for emails the team sends).
pub async fn name(conn: &mut PgConn, scope: &crate::TeamScope) -> Result<String, StoreError> {
    Ok(teams::table
        .find(scope.team_id().as_uuid())
        .select(teams::name)
        .first(conn)
        .await?)
}
