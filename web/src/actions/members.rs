//! Membership changes: invitations (sent, revoked, accepted), roles, removals and leaving.

use chrono::{Duration, Utc};
use lifeline_domain::{Email, Role, UserId};
use lifeline_store::audit::{self, Actor};
use lifeline_store::invitations::{self, Accepted, Invitation, NewInvitation};
use lifeline_store::members::{self, TeamMember};
use lifeline_store::{PgConn, StoreError, TeamScope};
use serde_json::json;

use super::{Caller, record};
use crate::state::AppState;

/// How long an invitation link works.
pub const INVITATION_DAYS: i64 = 7;

const MANAGE: &str = "manage the team's members";

/// Invites `email` to the caller's team with `role` and mails them the link. When the mail
/// cannot be sent, nothing is kept: an invitation nobody received would only take a seat.
pub async fn invite(
    state: &AppState,
    conn: &mut PgConn,
    caller: &Caller,
    inviter: &str,
    team_name: &str,
    email: &Email,
    role: Role,
) -> Result<Invitation, StoreError> {
    caller.scope.require(Role::Admin, "invite members")?;
    let Actor::User(invited_by) = caller.actor else {
        return Err(StoreError::Forbidden(
            "invitations are sent by a person".to_owned(),
        ));
    };
    let secret = lifeline_auth::secret::token();
    let invitation = invitations::create(
        conn,
        &caller.scope,
        NewInvitation {
            email,
            role,
            token_hash: lifeline_auth::secret::digest(&secret),
            invited_by,
            expires_at: Utc::now() + Duration::days(INVITATION_DAYS),
        },
    )
    .await?;
    let link = format!(
        "{}/invitations/{secret}",
        state.settings.public_url.trim_end_matches('/')
    );
    let subject = format!("{inviter} invited you to {team_name} on Lifeline");
    let body = format!(
        "{inviter} invited you to join the team \"{team_name}\" on Lifeline, as {}.\n\n\
         Lifeline watches cron jobs and background workers: they ping a URL when they run, and \
         the team is alerted when one is late.\n\n\
         To join, open this link within {INVITATION_DAYS} days:\n\n{link}\n\n\
         If you did not expect this invitation, you can ignore this email.\n",
        with_article(role)
    );
    if let Err(e) = state
        .notifier
        .send_email(email.as_str(), &subject, &body)
        .await
    {
        invitations::revoke(conn, &caller.scope, invitation.id).await?;
        return Err(StoreError::Invalid(format!(
            "the invitation email to {email} could not be sent ({e}), so no invitation was \
             made: check the address and try again, or ask the operator to check Lifeline's \
             mail settings",
            email = email.as_str()
        )));
    }
    record(
        conn,
        caller,
        "member.invite",
        invitation.id,
        json!({ "email": invitation.email, "role": role }),
    )
    .await?;
    Ok(invitation)
}

/// "an admin", "a member", "a viewer".
pub fn with_article(role: Role) -> String {
    let word = role.as_str();
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        format!("an {word}")
    } else {
        format!("a {word}")
    }
}

pub async fn revoke_invitation(
    conn: &mut PgConn,
    caller: &Caller,
    id: uuid::Uuid,
) -> Result<Invitation, StoreError> {
    caller.scope.require(Role::Admin, "revoke invitations")?;
    let invitation = invitations::revoke(conn, &caller.scope, id).await?;
    record(
        conn,
        caller,
        "invitation.revoke",
        id,
        json!({ "email": invitation.email, "role": invitation.role }),
    )
    .await?;
    Ok(invitation)
}

/// Gives a member another role. Returns the member as they were.
pub async fn set_role(
    conn: &mut PgConn,
    caller: &Caller,
    user: UserId,
    role: Role,
) -> Result<TeamMember, StoreError> {
    caller.scope.require(Role::Admin, MANAGE)?;
    let before = members::set_role(conn, &caller.scope, user, role).await?;
    record(
        conn,
        caller,
        "member.role",
        user,
        json!({ "email": before.email, "from": before.role, "to": role }),
    )
    .await?;
    Ok(before)
}

/// Removes a member from the team. Returns them.
pub async fn remove(
    conn: &mut PgConn,
    caller: &Caller,
    user: UserId,
) -> Result<TeamMember, StoreError> {
    caller.scope.require(Role::Admin, MANAGE)?;
    let removed = members::remove(conn, &caller.scope, user).await?;
    record(
        conn,
        caller,
        "member.remove",
        user,
        json!({ "email": removed.email, "role": removed.role }),
    )
    .await?;
    Ok(removed)
}

/// The caller leaves the team.
pub async fn leave(conn: &mut PgConn, caller: &Caller, user: UserId) -> Result<(), StoreError> {
    let left = members::leave(conn, &caller.scope, user).await?;
    record(
        conn,
        caller,
        "member.leave",
        user,
        json!({ "email": left.email, "role": left.role }),
    )
    .await
}

/// Records an accepted invitation in the team it joined.
pub async fn accepted(
    conn: &mut PgConn,
    accepted: Accepted,
    email: &str,
) -> Result<(), StoreError> {
    let scope = TeamScope::for_member(conn, accepted.user, accepted.team).await?;
    audit::record(
        conn,
        &scope,
        Actor::User(accepted.user),
        "invitation.accept",
        &accepted.user.to_string(),
        json!({ "email": email, "role": accepted.role }),
    )
    .await
}
