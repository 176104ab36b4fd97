//! The team page's member forms: invite, revoke an invitation, change a role, remove.

use actix_web::{HttpResponse, web};
use lifeline_domain::{Email, Label, Role};
use lifeline_store::members;

use super::confirm::{self, Confirm};
use crate::actions;
use crate::error::{PageError, path_id};
use crate::form::PostedForm;
use crate::page::done;
use crate::session::Member;
use crate::state::AppState;

fn role_of(form: &PostedForm) -> Result<Role, PageError> {
    Role::parse_label(form.text("role")).map_err(|e| PageError::Invalid(e.to_string()))
}

pub async fn invite(
    member: Member,
    state: web::Data<AppState>,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    member.require(Role::Admin, "invite members")?;
    let email = Email::parse(form.text("email")).map_err(|e| PageError::Invalid(e.to_string()))?;
    let role = role_of(&form)?;
    let mut conn = state.conn().await?;
    let invitation = actions::members::invite(
        &state,
        &mut conn,
        &member.caller(),
        &member.user.email,
        member.team_name(),
        &email,
        role,
    )
    .await?;
    Ok(done(
        &state,
        "/team",
        &format!(
            "Invitation sent to {} (as {}). The link works for {} days.",
            invitation.email,
            actions::members::with_article(invitation.role),
            actions::members::INVITATION_DAYS
        ),
    ))
}

pub async fn revoke(
    member: Member,
    state: web::Data<AppState>,
    id: web::Path<String>,
    _form: PostedForm,
) -> Result<HttpResponse, PageError> {
    member.require(Role::Admin, "revoke invitations")?;
    let id: uuid::Uuid = path_id(&id)?;
    let mut conn = state.conn().await?;
    let revoked = actions::members::revoke_invitation(&mut conn, &member.caller(), id).await?;
    Ok(done(
        &state,
        "/team",
        &format!(
            "The invitation to {} is revoked: its link no longer works.",
            revoked.email
        ),
    ))
}

pub async fn set_role(
    member: Member,
    state: web::Data<AppState>,
    user: web::Path<String>,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    member.require(Role::Admin, "change members' roles")?;
    let user = path_id(&user)?;
    let mut conn = state.conn().await?;
    // Another team's member is not found, whatever the form says.
    lifeline_store::members::find(&mut conn, &member.scope, user).await?;
    let role = role_of(&form)?;
    let before = actions::members::set_role(&mut conn, &member.caller(), user, role).await?;
    let notice = if before.role == role {
        format!(
            "{} is already {}.",
            before.email,
            actions::members::with_article(role)
        )
    } else {
        format!(
            "{} is now {} (was {}).",
            before.email,
            actions::members::with_article(role),
            actions::members::with_article(before.role)
        )
    };
    Ok(done(&state, "/team", &notice))
}

pub async fn remove(
    member: Member,
    state: web::Data<AppState>,
    user: web::Path<String>,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    member.require(Role::Admin, "remove members")?;
    let user = path_id(&user)?;
    if user == member.user.id {
        return Err(PageError::Invalid(
            "to leave the team yourself, use \"Leave the team\" on the team page".to_owned(),
        ));
    }
    let mut conn = state.conn().await?;
    if form.text("confirm") != "yes" {
        let target = members::find(&mut conn, &member.scope, user).await?;
        // Refused before asking, rather than after.
        member
            .role()
            .may_change_member(target.role, None)
            .map_err(|e| PageError::Forbidden(e.to_string()))?;
        let team = member.team_name();
        return confirm::page(
            &member,
            Confirm {
                title: format!("Remove {} from {team}?", target.email),
                message: format!(
                    "{} ({}) will no longer see {team}'s heartbeats or get into its pages. To \
                     come back, they need a new invitation.",
                    target.email, target.role
                ),
                action: format!("/team/members/{user}/remove"),
                button: "Remove from the team".to_owned(),
            },
        );
    }
    let removed = actions::members::remove(&mut conn, &member.caller(), user).await?;
    Ok(done(
        &state,
        "/team",
        &format!("{} is no longer in the team.", removed.email),
    ))
}
