use diesel::prelude::*;
use diesel_async::RunQueryDsl;
use lifeline_domain::{Email, Role, TeamId, UserId};

use crate::schema::{memberships, users};
use crate::{PgConn, StoreError};

/// Finds a user by email or creates one without a password (invitations, the demo user).
pub async fn find_or_create(
    conn: &mut PgConn,
    email: &Email,
    name: &str,
) -> Result<UserId, StoreError> {
    let email = email.as_str();
    let existing: Option<uuid::Uuid> = users::table
        .filter(users::email.eq(email))
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
            users::email.eq(email),
            users::name.eq(name),
        ))
        .on_conflict(users::email)
        .do_nothing()
        .execute(conn)
        .await?;
    let id: uuid::Uuid = users::table
        .filter(users::email.eq(email))
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
    role: Role,
) -> Result<(), StoreError> {
    diesel::insert_into(memberships::table)
        .values((
            memberships::team_id.eq(team.as_uuid()),
            memberships::user_id.eq(user.as_uuid()),
            memberships::role.eq(role.as_str()),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}
