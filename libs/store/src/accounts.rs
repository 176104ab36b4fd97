//! People and their logins: sign-up, password changes, the teams a user belongs to, revoked
//! sessions, and the server secrets the web service shares between its processes.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, RunQueryDsl};
use lifeline_domain::{Email, Plan, Role, TeamId, TeamName, UserId};
use serde::Serialize;

use crate::label::stored;
use crate::schema::{memberships, revoked_sessions, server_secrets, teams, users};
use crate::{PgConn, StoreError};

#[derive(Clone, Debug, Serialize)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub name: String,
}

/// A team as one of its members sees it in the team switcher.
#[derive(Clone, Debug, Serialize)]
pub struct Membership {
    pub team_id: TeamId,
    pub team_name: String,
    pub plan: Plan,
    pub role: Role,
    /// Stripe could not take the team's last payment (cleared by the next one that succeeds).
    pub payment_failed: bool,
}

/// Creates a user with a password and their first team, which they own. An address that already
/// has an account is refused: signing up proves nothing about owning it (the password reset,
/// which mails a link, does).
pub async fn sign_up(
    conn: &mut PgConn,
    email: &Email,
    password_hash: &str,
    team_name: &TeamName,
) -> Result<(UserId, TeamId), StoreError> {
    let email = email.as_str().to_owned();
    let password_hash = password_hash.to_owned();
    let team_name = team_name.as_str().to_owned();
    conn.transaction::<_, StoreError, _>(async move |conn| {
        let user = UserId::new();
        let inserted = diesel::insert_into(users::table)
            .values((
                users::id.eq(user.as_uuid()),
                users::email.eq(&email),
                users::password_hash.eq(&password_hash),
            ))
            .on_conflict(users::email)
            .do_nothing()
            .execute(conn)
            .await?;
        if inserted == 0 {
            return Err(StoreError::Invalid(
                "an account with this email already exists: log in, or reset its password"
                    .to_owned(),
            ));
        }
        let team = TeamId::new();
        diesel::insert_into(teams::table)
            .values((
                teams::id.eq(team.as_uuid()),
                teams::name.eq(&team_name),
                teams::plan.eq(Plan::Free.as_str()),
            ))
            .execute(conn)
            .await?;
        crate::users::add_membership(conn, team, user, Role::Owner).await?;
        Ok((user, team))
    })
    .await
}

/// The user with this email and their password hash (`None` until they set one).
pub async fn find_login(
    conn: &mut PgConn,
    email: &Email,
) -> Result<Option<(UserId, Option<String>)>, StoreError> {
    let found: Option<(uuid::Uuid, Option<String>)> = users::table
        .filter(users::email.eq(email.as_str()))
        .select((users::id, users::password_hash))
        .first(conn)
        .await
        .optional()?;
    Ok(found.map(|(id, hash)| (UserId::from_uuid(id), hash)))
}

pub async fn user(conn: &mut PgConn, id: UserId) -> Result<User, StoreError> {
    let (id, email, name): (uuid::Uuid, String, String) = users::table
        .find(id.as_uuid())
        .select((users::id, users::email, users::name))
        .first(conn)
        .await?;
    Ok(User {
        id: UserId::from_uuid(id),
        email,
        name,
    })
}

/// The stored hash of a user's password, to check the current one before a change.
pub async fn password_hash(conn: &mut PgConn, id: UserId) -> Result<Option<String>, StoreError> {
    Ok(users::table
        .find(id.as_uuid())
        .select(users::password_hash)
        .first(conn)
        .await?)
}

pub async fn set_password(conn: &mut PgConn, id: UserId, hash: &str) -> Result<(), StoreError> {
    let n = diesel::update(users::table.find(id.as_uuid()))
        .set(users::password_hash.eq(hash))
        .execute(conn)
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The teams a user belongs to, by name.
pub async fn memberships(conn: &mut PgConn, user: UserId) -> Result<Vec<Membership>, StoreError> {
    let rows: Vec<(uuid::Uuid, String, String, String, bool)> = memberships::table
        .inner_join(teams::table)
        .filter(memberships::user_id.eq(user.as_uuid()))
        .order((teams::name, teams::id))
        .select((
            teams::id,
            teams::name,
            teams::plan,
            memberships::role,
            teams::payment_failed_at.is_not_null(),
        ))
        .load(conn)
        .await?;
    rows.into_iter()
        .map(|(id, name, plan, role, payment_failed)| {
            Ok(Membership {
                team_id: TeamId::from_uuid(id),
                team_name: name,
                plan: stored(&plan)?,
                role: stored(&role)?,
                payment_failed,
            })
        })
        .collect()
}

/// Records a logged-out session until its token would have expired anyway.
pub async fn revoke_session(
    conn: &mut PgConn,
    jti: uuid::Uuid,
    user: UserId,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(revoked_sessions::table)
        .values((
            revoked_sessions::jti.eq(jti),
            revoked_sessions::user_id.eq(user.as_uuid()),
            revoked_sessions::expires_at.eq(expires_at),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn is_revoked(conn: &mut PgConn, jti: uuid::Uuid) -> Result<bool, StoreError> {
    Ok(
        diesel::select(diesel::dsl::exists(revoked_sessions::table.find(jti)))
            .get_result(conn)
            .await?,
    )
}

/// Sessions revoked at or after `since` that have not expired: what Redis must also know.
pub async fn revoked_since(
    conn: &mut PgConn,
    since: DateTime<Utc>,
) -> Result<Vec<(uuid::Uuid, DateTime<Utc>)>, StoreError> {
    Ok(revoked_sessions::table
        .filter(revoked_sessions::revoked_at.ge(since))
        .filter(revoked_sessions::expires_at.gt(diesel::dsl::now))
        .select((revoked_sessions::jti, revoked_sessions::expires_at))
        .load(conn)
        .await?)
}

/// Forgets revocations of tokens that have expired anyway.
pub async fn prune_revoked(conn: &mut PgConn) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        revoked_sessions::table.filter(revoked_sessions::expires_at.lt(diesel::dsl::now)),
    )
    .execute(conn)
    .await?)
}

/// The secret called `name`, made from `fresh` the first time any process asks; every later
/// call, from any process, gets the same bytes.
pub async fn server_secret(
    conn: &mut PgConn,
    name: &str,
    fresh: &[u8],
) -> Result<Vec<u8>, StoreError> {
    diesel::insert_into(server_secrets::table)
        .values((
            server_secrets::name.eq(name),
            server_secrets::secret.eq(fresh),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(server_secrets::table
        .find(name)
        .select(server_secrets::secret)
        .first(conn)
        .await?)
}

/// The user of a session, with the instant before which their sessions no longer count (set by
/// a password change or reset; `None` when that never happened).
pub async fn session_user(
    conn: &mut PgConn,
    id: UserId,
) -> Result<(User, Option<DateTime<Utc>>), StoreError> {
    let (id, email, name, valid_after): (uuid::Uuid, String, String, Option<DateTime<Utc>>) =
        users::table
            .find(id.as_uuid())
            .select((
                users::id,
                users::email,
                users::name,
                users::sessions_valid_after,
            ))
            .first(conn)
            .await?;
    Ok((
        User {
            id: UserId::from_uuid(id),
            email,
            name,
        },
        valid_after,
    ))
}

/// The instant before which the user's sessions no longer count, if any: a new session must be
/// issued at or after it.
pub async fn sessions_valid_after(
    conn: &mut PgConn,
    id: UserId,
) -> Result<Option<DateTime<Utc>>, StoreError> {
    Ok(users::table
        .find(id.as_uuid())
        .select(users::sessions_valid_after)
        .first(conn)
        .await?)
}

/// Sets a new password and ends every session of the user issued so far. Returns the instant
/// from which sessions count again, to issue the caller's fresh session at.
pub async fn change_password(
    conn: &mut PgConn,
    id: UserId,
    hash: &str,
) -> Result<DateTime<Utc>, StoreError> {
    let valid_after = next_whole_second(Utc::now());
    let n = diesel::update(users::table.find(id.as_uuid()))
        .set((
            users::password_hash.eq(hash),
            users::sessions_valid_after.eq(valid_after),
        ))
        .execute(conn)
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(valid_after)
}

/// Session tokens carry their issue time in whole seconds, so "sessions issued before now" means
/// "issued before the next whole second": a token issued earlier in this very second is ended
/// too, and the fresh one is issued at that next second.
pub(crate) fn next_whole_second(now: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(now.timestamp() + 1, 0).unwrap_or(now)
}
