//! The team scope: the only way to reach tenant-owned rows.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use lifeline_domain::{HeartbeatId, Plan, TeamId, UserId};

use crate::label::stored;
use crate::schema::{heartbeats, memberships, teams};
use crate::{PgConn, StoreError};

/// Proof that the caller may act for one team, carrying the team's plan (which decides what
/// history is visible). It cannot be built from a bare id: only from a membership row, or by the
/// operator CLI, which runs with the database's own authority.
#[derive(Clone, Debug)]
pub struct TeamScope {
    team_id: TeamId,
    plan: Plan,
}

impl TeamScope {
    pub fn team_id(&self) -> TeamId {
        self.team_id
    }

    pub fn plan(&self) -> Plan {
        self.plan
    }

    /// For a signed-in user: the scope exists only if they are a member of the team.
    pub async fn for_member(
        conn: &mut PgConn,
        user: UserId,
        team: TeamId,
    ) -> Result<Self, StoreError> {
        let plan: String = memberships::table
            .inner_join(teams::table)
            .filter(memberships::user_id.eq(user.as_uuid()))
            .filter(memberships::team_id.eq(team.as_uuid()))
            .select(teams::plan)
            .first(conn)
            .await?;
        Self::build(team, &plan)
    }

    /// For the operator CLI (`lifeline admin …`), which acts on any team by its id.
    pub async fn for_operator(conn: &mut PgConn, team: TeamId) -> Result<Self, StoreError> {
        let plan: String = teams::table
            .find(team.as_uuid())
            .select(teams::plan)
            .first(conn)
            .await?;
        Self::build(team, &plan)
    }

    /// For the operator CLI, given only a heartbeat id: the scope of the team that owns it.
    pub async fn for_operator_heartbeat(
        conn: &mut PgConn,
        heartbeat: HeartbeatId,
    ) -> Result<Self, StoreError> {
        let (team, plan): (uuid::Uuid, String) = heartbeats::table
            .inner_join(teams::table)
            .filter(heartbeats::id.eq(heartbeat.as_uuid()))
            .select((teams::id, teams::plan))
            .first(conn)
            .await?;
        Self::build(TeamId::from_uuid(team), &plan)
    }

    fn build(team_id: TeamId, plan: &str) -> Result<Self, StoreError> {
        Ok(Self {
            team_id,
            plan: stored(plan)?,
        })
    }
}
