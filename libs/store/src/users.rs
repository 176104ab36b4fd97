use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use lifeline_domain::{TeamId, UserId};

use crate::schema::{memberships, users};
use crate::{PgConn, StoreError};

/// Roles a member can have in a team, from most to least powerful.
pub const ROLES: [&str; 4] = ["owner", "admin", "member", "viewer"];

/// Normalises and checks an email address (lower case, one `@`, something on both sides).
pub fn parse_email(email: &str) -> Result<String, StoreError> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= 254
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.'))
        && !email.chars().any(char::is_whitespace);
    if valid {
        Ok(email)
    } else {
        Err(StoreError::Invalid(format!(
            "{email:?} is not an email address"
        )))
    }
}

/// Finds a user by email or creates one without a password (invitations, the demo user).
pub async fn find_or_create(
    conn: &mut PgConn,
    email: &str,
    name: &str,
) -> Result<UserId, StoreError> {
    let email = parse_email(email)?;
    let existing: Option<uuid::Uuid> = users::table
        .filter(users::email.eq(&email))
        .select(users::id)
        .first(conn)
        .await
        .optional()?;
    if let Some(id) = existing {
        return Ok(UserId::from_uuid(id));
    }
    // Two first sign-ups with one address may race: the loser's insert does nothing, and both
    // read back the row that won.
    diesel::insert_into(users::table)
        .values((
            users::id.eq(UserId::new().as_uuid()),
            users::email.eq(&email),
            users::name.eq(name),
        ))
        .on_conflict(users::email)
        .do_nothing()
        .execute(conn)
        .await?;
    let id: uuid::Uuid = users::table
        .filter(users::email.eq(&email))
        .select(users::id)
        .first(conn)
        .await?;
    Ok(UserId::from_uuid(id))
}

/// Adds a user to a team with a role (idempotent: an existing membership keeps its role).
pub async fn add_membership(
    conn: &mut PgConn,
    team: TeamId,
    user: UserId,
    role: &str,
) -> Result<(), StoreError> {
    if !ROLES.contains(&role) {
        return Err(StoreError::Invalid(format!(
            "unknown role {role:?}: expected one of {}",
            ROLES.join(", ")
        )));
    }
    diesel::insert_into(memberships::table)
        .values((
            memberships::team_id.eq(team.as_uuid()),
            memberships::user_id.eq(user.as_uuid()),
            memberships::role.eq(role),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}
