//! Invitations to join a team, sent as emailed links. Only the SHA-256 of the link's secret is
//! stored. Pending invitations count against the plan's member limit, as members do, so that a
//! team cannot invite past it.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use lifeline_domain::{Email, Role, TeamId, UserId};
use serde::Serialize;

use crate::label::stored;
use crate::members::lock_team;
use crate::one_time::LinkState;
use crate::schema::{invitations, memberships, teams, users};
use crate::{PgConn, StoreError, TeamScope};

/// A pending invitation, as the team's page lists it.
#[derive(Clone, Debug, Serialize)]
pub struct Invitation {
    pub id: uuid::Uuid,
    pub email: String,
    pub role: Role,
    /// Who sent it, when they still exist.
    pub invited_by: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Invitation {
    pub fn expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at <= now
    }
}

pub struct NewInvitation<'a> {
    pub email: &'a Email,
    pub role: Role,
    pub token_hash: [u8; 32],
    pub invited_by: UserId,
    pub expires_at: DateTime<Utc>,
}

/// Records an invitation, within the plan's member limit (members and pending invitations that
/// have not expired). A pending invitation to the same address is replaced: its link stops
/// working, and the new one is the invitation sent again.
pub async fn create(
    conn: &mut PgConn,
    scope: &TeamScope,
    new: NewInvitation<'_>,
) -> Result<Invitation, StoreError> {
    if new.role == Role::Owner {
        return Err(StoreError::Invalid(
            "invite as an admin, member or viewer; an owner can make them an owner once they joined"
                .to_owned(),
        ));
    }
    let scope = scope.clone();
    let email = new.email.as_str().to_owned();
    let (role, token_hash, invited_by, expires_at) =
        (new.role, new.token_hash, new.invited_by, new.expires_at);
    conn.transaction::<_, StoreError, _>(async move |conn| {
        lock_team(conn, &scope).await?;
        let team = scope.team_id().as_uuid();
        let already: bool = diesel::select(diesel::dsl::exists(
            memberships::table
                .inner_join(users::table)
                .filter(memberships::team_id.eq(team))
                .filter(users::email.eq(&email)),
        ))
        .get_result(conn)
        .await?;
        if already {
            return Err(StoreError::Invalid(format!(
                "{email} is already a member of this team"
            )));
        }
        diesel::delete(
            invitations::table
                .filter(invitations::team_id.eq(team))
                .filter(invitations::email.eq(&email))
                .filter(invitations::accepted_at.is_null()),
        )
        .execute(conn)
        .await?;
        if let Some(max) = scope.plan().limits().max_members {
            let taken = seats_taken(conn, &scope).await?;
            if taken >= i64::from(max) {
                return Err(StoreError::PlanLimit(format!(
                    "the {} plan allows {max} members, pending invitations included; upgrade \
                     the plan, or remove a member or revoke an invitation first",
                    scope.plan()
                )));
            }
        }
        let id = uuid::Uuid::new_v4();
        diesel::insert_into(invitations::table)
            .values((
                invitations::id.eq(id),
                invitations::team_id.eq(team),
                invitations::email.eq(&email),
                invitations::role.eq(role.as_str()),
                invitations::token_hash.eq(token_hash.as_slice()),
                invitations::invited_by.eq(invited_by.as_uuid()),
                invitations::expires_at.eq(expires_at),
            ))
            .execute(conn)
            .await?;
        find(conn, &scope, id).await
    })
    .await
}

/// Members plus pending invitations that have not expired: what the member limit counts.
pub async fn seats_taken(conn: &mut PgConn, scope: &TeamScope) -> Result<i64, StoreError> {
    let members = crate::members::count(conn, scope).await?;
    let pending: i64 = invitations::table
        .filter(invitations::team_id.eq(scope.team_id().as_uuid()))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::expires_at.gt(diesel::dsl::now))
        .count()
        .get_result(conn)
        .await?;
    Ok(members + pending)
}

type InvitationRow = (
    uuid::Uuid,
    String,
    String,
    Option<String>,
    DateTime<Utc>,
    DateTime<Utc>,
);

fn invitation(
    (id, email, role, invited_by, created_at, expires_at): InvitationRow,
) -> Result<Invitation, StoreError> {
    Ok(Invitation {
        id,
        email,
        role: stored(&role)?,
        invited_by,
        created_at,
        expires_at,
    })
}

/// The team's invitations not accepted yet (expired ones too, to be sent again or revoked),
/// newest first.
pub async fn pending(conn: &mut PgConn, scope: &TeamScope) -> Result<Vec<Invitation>, StoreError> {
    let rows: Vec<InvitationRow> = invitations::table
        .left_join(users::table.on(users::id.nullable().eq(invitations::invited_by)))
        .filter(invitations::team_id.eq(scope.team_id().as_uuid()))
        .filter(invitations::accepted_at.is_null())
        .order(invitations::created_at.desc())
        .select((
            invitations::id,
            invitations::email,
            invitations::role,
            users::email.nullable(),
            invitations::created_at,
            invitations::expires_at,
        ))
        .load(conn)
        .await?;
    rows.into_iter().map(invitation).collect()
}

async fn find(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: uuid::Uuid,
) -> Result<Invitation, StoreError> {
    let row: InvitationRow = invitations::table
        .left_join(users::table.on(users::id.nullable().eq(invitations::invited_by)))
        .filter(invitations::team_id.eq(scope.team_id().as_uuid()))
        .filter(invitations::id.eq(id))
        .select((
            invitations::id,
            invitations::email,
            invitations::role,
            users::email.nullable(),
            invitations::created_at,
            invitations::expires_at,
        ))
        .first(conn)
        .await?;
    invitation(row)
}

/// Withdraws a pending invitation: its link stops working. Returns it.
pub async fn revoke(
    conn: &mut PgConn,
    scope: &TeamScope,
    id: uuid::Uuid,
) -> Result<Invitation, StoreError> {
    let found = find(conn, scope, id).await?;
    let n = diesel::delete(
        invitations::table
            .filter(invitations::team_id.eq(scope.team_id().as_uuid()))
            .filter(invitations::id.eq(id))
            .filter(invitations::accepted_at.is_null()),
    )
    .execute(conn)
    .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(found)
}

/// An invitation as the holder of its link sees it.
#[derive(Clone, Debug)]
pub struct InvitationLink {
    pub team_id: TeamId,
    pub team_name: String,
    pub email: String,
    pub role: Role,
    pub state: LinkState,
    /// Whether the invited address has an account with a password (to log in with), rather
    /// than none yet (to sign up).
    pub has_account: bool,
}

/// The invitation whose link secret hashes to `token_hash`. Unscoped: the secret is the
/// credential. `NotFound` for a link that never existed or was revoked.
pub async fn by_token(
    conn: &mut PgConn,
    token_hash: &[u8; 32],
) -> Result<InvitationLink, StoreError> {
    let (team_id, team_name, email, role, expires_at, accepted_at): (
        uuid::Uuid,
        String,
        String,
        String,
        DateTime<Utc>,
        Option<DateTime<Utc>>,
    ) = invitations::table
        .inner_join(teams::table)
        .filter(invitations::token_hash.eq(token_hash.as_slice()))
        .select((
            teams::id,
            teams::name,
            invitations::email,
            invitations::role,
            invitations::expires_at,
            invitations::accepted_at,
        ))
        .first(conn)
        .await?;
    let password: Option<Option<String>> = users::table
        .filter(users::email.eq(&email))
        .select(users::password_hash)
        .first(conn)
        .await
        .optional()?;
    Ok(InvitationLink {
        team_id: TeamId::from_uuid(team_id),
        team_name,
        email,
        role: stored(&role)?,
        state: LinkState::of(expires_at, accepted_at, Utc::now()),
        has_account: matches!(password, Some(Some(_))),
    })
}

/// An invitation accepted: who joined which team, with what role.
#[derive(Clone, Copy, Debug)]
pub struct Accepted {
    pub user: UserId,
    pub team: TeamId,
    pub role: Role,
}

/// Locks the usable invitation with this secret: `(id, team, email, role)`, `None` when it is
/// unknown, expired or used.
async fn lock_usable(
    conn: &mut PgConn,
    token_hash: &[u8],
) -> Result<Option<(uuid::Uuid, uuid::Uuid, String, String)>, StoreError> {
    Ok(invitations::table
        .filter(invitations::token_hash.eq(token_hash))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::expires_at.gt(diesel::dsl::now))
        .select((
            invitations::id,
            invitations::team_id,
            invitations::email,
            invitations::role,
        ))
        .for_update()
        .first(conn)
        .await
        .optional()?)
}

async fn join(
    conn: &mut PgConn,
    invitation: uuid::Uuid,
    team: uuid::Uuid,
    user: UserId,
    role: &str,
) -> Result<Accepted, StoreError> {
    let role: Role = stored(role)?;
    let team = TeamId::from_uuid(team);
    // Someone who is already a member (they joined another way meanwhile) keeps their role.
    crate::users::add_membership(conn, team, user, role).await?;
    diesel::update(invitations::table.find(invitation))
        .set(invitations::accepted_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    Ok(Accepted { user, team, role })
}

/// Accepts the invitation for the signed-in `user`, whose address must be the invited one.
/// `None` when the link is not usable (any more).
pub async fn accept(
    conn: &mut PgConn,
    token_hash: &[u8; 32],
    user: UserId,
) -> Result<Option<Accepted>, StoreError> {
    let token_hash = token_hash.to_vec();
    conn.transaction::<_, StoreError, _>(async move |conn| {
        let Some((id, team, email, role)) = lock_usable(conn, &token_hash).await? else {
            return Ok(None);
        };
        let own: String = users::table
            .find(user.as_uuid())
            .select(users::email)
            .first(conn)
            .await?;
        if own != email {
            return Err(StoreError::Forbidden(format!(
                "this invitation is for {email}, and you are logged in as {own}: log out and \
                 open the link again"
            )));
        }
        join(conn, id, team, user, &role).await.map(Some)
    })
    .await
}

/// Creates the invited address's account with a password and accepts the invitation, at once:
/// the emailed link proves the address. An address that has an account with a password must log
/// in instead; one without a password yet (made by an operator) gets this one. `None` when the
/// link is not usable (any more).
pub async fn sign_up_and_accept(
    conn: &mut PgConn,
    token_hash: &[u8; 32],
    password_hash: &str,
) -> Result<Option<Accepted>, StoreError> {
    let token_hash = token_hash.to_vec();
    let password_hash = password_hash.to_owned();
    conn.transaction::<_, StoreError, _>(async move |conn| {
        let Some((id, team, email, role)) = lock_usable(conn, &token_hash).await? else {
            return Ok(None);
        };
        let existing: Option<(uuid::Uuid, Option<String>)> = users::table
            .filter(users::email.eq(&email))
            .select((users::id, users::password_hash))
            .for_update()
            .first(conn)
            .await
            .optional()?;
        let user = match existing {
            Some((_, Some(_))) => {
                return Err(StoreError::Invalid(format!(
                    "{email} already has an account: log in to accept the invitation"
                )));
            }
            Some((id, None)) => {
                diesel::update(users::table.find(id))
                    .set(users::password_hash.eq(&password_hash))
                    .execute(conn)
                    .await?;
                UserId::from_uuid(id)
            }
            None => {
                let user = UserId::new();
                diesel::insert_into(users::table)
                    .values((
                        users::id.eq(user.as_uuid()),
                        users::email.eq(&email),
                        users::password_hash.eq(&password_hash),
                    ))
                    .execute(conn)
                    .await?;
                user
            }
        };
        join(conn, id, team, user, &role).await.map(Some)
    })
    .await
}
