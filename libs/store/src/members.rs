//! A team's members and their roles. Changes lock the team row, so that two concurrent changes
//! cannot leave the team without an owner.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use lifeline_domain::{Role, UserId};
use serde::Serialize;

use crate::label::stored;
use crate::schema::{memberships, teams, users};
use crate::{PgConn, StoreError, TeamScope};

#[derive(Clone, Debug, Serialize)]
pub struct TeamMember {
    pub user_id: UserId,
    pub email: String,
    pub role: Role,
    pub joined_at: DateTime<Utc>,
}

type MemberRow = (uuid::Uuid, String, String, DateTime<Utc>);

fn member((id, email, role, joined_at): MemberRow) -> Result<TeamMember, StoreError> {
    Ok(TeamMember {
        user_id: UserId::from_uuid(id),
        email,
        role: stored(&role)?,
        joined_at,
    })
}

/// The team's members, owners first, then by email.
pub async fn list(conn: &mut PgConn, scope: &TeamScope) -> Result<Vec<TeamMember>, StoreError> {
    let rows: Vec<MemberRow> = memberships::table
        .inner_join(users::table)
        .filter(memberships::team_id.eq(scope.team_id().as_uuid()))
        .select((
            users::id,
            users::email,
            memberships::role,
            memberships::created_at,
        ))
        .load(conn)
        .await?;
    let mut members = rows
        .into_iter()
        .map(member)
        .collect::<Result<Vec<_>, _>>()?;
    members.sort_by(|a, b| {
        let rank = |r: Role| Role::ALL.iter().position(|x| *x == r);
        rank(a.role)
            .cmp(&rank(b.role))
            .then_with(|| a.email.cmp(&b.email))
    });
    Ok(members)
}

/// One member of the team; `NotFound` for anybody else.
pub async fn find(
    conn: &mut PgConn,
    scope: &TeamScope,
    user: UserId,
) -> Result<TeamMember, StoreError> {
    let row: MemberRow = memberships::table
        .inner_join(users::table)
        .filter(memberships::team_id.eq(scope.team_id().as_uuid()))
        .filter(memberships::user_id.eq(user.as_uuid()))
        .select((
            users::id,
            users::email,
            memberships::role,
            memberships::created_at,
        ))
        .first(conn)
        .await?;
    member(row)
}

/// Gives a member another role, as the scope's member (whose role decides what they may do:
/// `Role::may_change_member`). The last owner keeps their role. Returns the member as they were.
pub async fn set_role(
    conn: &mut PgConn,
    scope: &TeamScope,
    user: UserId,
    role: Role,
) -> Result<TeamMember, StoreError> {
    let scope = scope.clone();
    conn.transaction::<_, StoreError, _>(async move |conn| {
        lock_team(conn, &scope).await?;
        let before = find(conn, &scope, user).await?;
        scope
            .role()
            .may_change_member(before.role, Some(role))
            .map_err(|e| StoreError::Forbidden(e.to_string()))?;
        if before.role == Role::Owner && role != Role::Owner && owners(conn, &scope).await? <= 1 {
            return Err(StoreError::Invalid(
                "a team needs an owner: make another member an owner first".to_owned(),
            ));
        }
        diesel::update(
            memberships::table
                .filter(memberships::team_id.eq(scope.team_id().as_uuid()))
                .filter(memberships::user_id.eq(user.as_uuid())),
        )
        .set(memberships::role.eq(role.as_str()))
        .execute(conn)
        .await?;
        Ok(before)
    })
    .await
}

/// Removes a member, as the scope's member (an admin, or an owner for an owner). Returns the
/// member removed.
pub async fn remove(
    conn: &mut PgConn,
    scope: &TeamScope,
    user: UserId,
) -> Result<TeamMember, StoreError> {
    let scope = scope.clone();
    conn.transaction::<_, StoreError, _>(async move |conn| {
        lock_team(conn, &scope).await?;
        let before = find(conn, &scope, user).await?;
        scope
            .role()
            .may_change_member(before.role, None)
            .map_err(|e| StoreError::Forbidden(e.to_string()))?;
        delete_member(conn, &scope, before).await
    })
    .await
}

/// The scope's own member leaves the team (any role may), unless they are its last owner.
pub async fn leave(
    conn: &mut PgConn,
    scope: &TeamScope,
    user: UserId,
) -> Result<TeamMember, StoreError> {
    let scope = scope.clone();
    conn.transaction::<_, StoreError, _>(async move |conn| {
        lock_team(conn, &scope).await?;
        let before = find(conn, &scope, user).await?;
        delete_member(conn, &scope, before).await
    })
    .await
}

async fn delete_member(
    conn: &mut PgConn,
    scope: &TeamScope,
    member: TeamMember,
) -> Result<TeamMember, StoreError> {
    if member.role == Role::Owner && owners(conn, scope).await? <= 1 {
        return Err(StoreError::Invalid(format!(
            "{} is the team's last owner: make another member an owner first, or delete the team",
            member.email
        )));
    }
    diesel::delete(
        memberships::table
            .filter(memberships::team_id.eq(scope.team_id().as_uuid()))
            .filter(memberships::user_id.eq(member.user_id.as_uuid())),
    )
    .execute(conn)
    .await?;
    Ok(member)
}

/// How many members the team has.
pub async fn count(conn: &mut PgConn, scope: &TeamScope) -> Result<i64, StoreError> {
    Ok(memberships::table
        .filter(memberships::team_id.eq(scope.team_id().as_uuid()))
        .count()
        .get_result(conn)
        .await?)
}

async fn owners(conn: &mut PgConn, scope: &TeamScope) -> Result<i64, StoreError> {
    Ok(memberships::table
        .filter(memberships::team_id.eq(scope.team_id().as_uuid()))
        .filter(memberships::role.eq(Role::Owner.as_str()))
        .count()
        .get_result(conn)
        .await?)
}

/// Serialises membership changes of one team (and invitations, which count against the same
/// plan limit) until the transaction ends.
pub(crate) async fn lock_team(conn: &mut PgConn, scope: &TeamScope) -> Result<(), StoreError> {
    teams::table
        .find(scope.team_id().as_uuid())
        .select(teams::id)
        .for_update()
        .first::<uuid::Uuid>(conn)
        .await?;
    Ok(())
}
