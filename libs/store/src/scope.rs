//! The team scope: the only way to reach tenant-owned rows.

use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use lifeline_domain::{Plan, Role, TeamId, UserId};

use crate::accounts::Membership;
use crate::label::stored;
use crate::schema::{api_keys, memberships, teams};
use crate::{PgConn, StoreError};

/// Proof that the caller may act for one team, carrying the team's plan (which decides what
/// history is visible) and the caller's role there (which decides what it may change). It cannot
/// be built from a bare id: only from a membership row, from an API key, or by the operator CLI,
/// which runs with the database's own authority. The operator's constructors exist only with the
/// `operator` feature, which the web service does not enable (tests/architecture.rs checks), so
/// no request can reach them.
#[derive(Clone, Debug)]
pub struct TeamScope {
    team_id: TeamId,
    plan: Plan,
    role: Role,
}

/// A scope built from an API key, with the key's id (the audit log's actor).
#[derive(Clone, Debug)]
pub struct KeyScope {
    pub scope: TeamScope,
    pub key_id: uuid::Uuid,
}

impl TeamScope {
    pub fn team_id(&self) -> TeamId {
        self.team_id
    }

    pub fn plan(&self) -> Plan {
        self.plan
    }

    pub fn role(&self) -> Role {
        self.role
    }

    /// `Forbidden` unless the caller's role is at least `needed`; `what` names the action for the
    /// message ("manage heartbeats").
    pub fn require(&self, needed: Role, what: &str) -> Result<(), StoreError> {
        if self.role.at_least(needed) {
            Ok(())
        } else {
            Err(StoreError::Forbidden(format!(
                "only a team {} or above may {what}; you are a {}",
                needed.as_str(),
                self.role.as_str()
            )))
        }
    }

    /// For a signed-in user: the scope exists only if they are a member of the team, and carries
    /// their role there.
    pub async fn for_member(
        conn: &mut PgConn,
        user: UserId,
        team: TeamId,
    ) -> Result<Self, StoreError> {
        let (plan, role): (String, String) = memberships::table
            .inner_join(teams::table)
            .filter(memberships::user_id.eq(user.as_uuid()))
            .filter(memberships::team_id.eq(team.as_uuid()))
            .select((teams::plan, memberships::role))
            .first(conn)
            .await?;
        Self::build(team, &plan, stored(&role)?)
    }

    /// For a signed-in user looking at one of their teams: their memberships (for the team
    /// switcher) and the scope of `wanted` if they are a member of it, else of their first team,
    /// from the same rows (one query). `None` when they belong to no team.
    pub async fn for_member_among(
        conn: &mut PgConn,
        user: UserId,
        wanted: Option<TeamId>,
    ) -> Result<(Vec<Membership>, Option<Self>), StoreError> {
        let teams = crate::accounts::memberships(conn, user).await?;
        let chosen = wanted
            .and_then(|id| teams.iter().find(|t| t.team_id == id))
            .or(teams.as_slice().first());
        let scope = chosen.map(|t| Self {
            team_id: t.team_id,
            plan: t.plan,
            role: t.role,
        });
        Ok((teams, scope))
    }

    /// For a management API call: the team of an unrevoked key. Read-write keys act as a team
    /// admin (heartbeats and channels), read-only keys as a viewer. Marks the key used.
    pub async fn for_api_key(
        conn: &mut PgConn,
        key_hash: &[u8; 32],
    ) -> Result<KeyScope, StoreError> {
        let (key_id, team, plan, read_only): (uuid::Uuid, uuid::Uuid, String, bool) =
            api_keys::table
                .inner_join(teams::table)
                .filter(api_keys::key_hash.eq(key_hash.as_slice()))
                .filter(api_keys::revoked_at.is_null())
                .select((api_keys::id, teams::id, teams::plan, api_keys::read_only))
                .first(conn)
                .await?;
        // Recorded at most once a minute per key, so a busy script does not write on every call.
        diesel::update(api_keys::table.find(key_id))
            .filter(
                api_keys::last_used_at
                    .is_null()
                    .or(api_keys::last_used_at
                        .lt(chrono::Utc::now() - chrono::Duration::minutes(1))),
            )
            .set(api_keys::last_used_at.eq(diesel::dsl::now))
            .execute(conn)
            .await?;
        let role = if read_only { Role::Viewer } else { Role::Admin };
        Ok(KeyScope {
            scope: Self::build(TeamId::from_uuid(team), &plan, role)?,
            key_id,
        })
    }

    /// For the operator CLI (`lifeline admin …`), which acts on any team by its id.
    #[cfg(feature = "operator")]
    pub async fn for_operator(conn: &mut PgConn, team: TeamId) -> Result<Self, StoreError> {
        let plan: String = teams::table
            .find(team.as_uuid())
            .select(teams::plan)
            .first(conn)
            .await?;
        Self::build(team, &plan, Role::Owner)
    }

    /// For the operator CLI, given only a heartbeat id: the scope of the team that owns it.
    #[cfg(feature = "operator")]
    pub async fn for_operator_heartbeat(
        conn: &mut PgConn,
        heartbeat: lifeline_domain::HeartbeatId,
    ) -> Result<Self, StoreError> {
        use crate::schema::heartbeats;
        let (team, plan): (uuid::Uuid, String) = heartbeats::table
            .inner_join(teams::table)
            .filter(heartbeats::id.eq(heartbeat.as_uuid()))
            .select((teams::id, teams::plan))
            .first(conn)
            .await?;
        Self::build(TeamId::from_uuid(team), &plan, Role::Owner)
    }

    fn build(team_id: TeamId, plan: &str, role: Role) -> Result<Self, StoreError> {
        Ok(Self {
            team_id,
            plan: stored(plan)?,
            role,
        })
    }
}
