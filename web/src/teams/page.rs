//! `/team`: the team's name, time zone, plan and limits, members and invitations, and the forms
//! that change them (each handled in `members.rs` or here).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use lifeline_domain::{Plan, PlanLimits, Role, TeamName, TimeZoneName};
use lifeline_store::{accounts, invitations, members, teams};

use crate::actions;
use crate::error::PageError;
use crate::form::PostedForm;
use crate::heartbeats::view::{ago, iso, until};
use crate::page::{Nav, done, render, render_status};
use crate::session::Member;
use crate::state::AppState;

pub struct MemberRow {
    pub user_id: String,
    pub email: String,
    pub role: &'static str,
    pub joined: String,
    pub joined_at: String,
    pub is_me: bool,
    /// The viewer may change this member's role or remove them.
    pub can_change: bool,
}

pub struct InvitationRow {
    pub id: String,
    pub email: String,
    pub role: &'static str,
    pub invited_by: String,
    pub expires: String,
    pub expires_at: String,
    pub expired: bool,
}

#[derive(Template)]
#[template(path = "team.html")]
struct TeamPage {
    nav: Nav,
    name: String,
    /// The team's zone (what heartbeats without one of their own follow).
    time_zone: String,
    /// The time zone field: the zone, or what was typed when it was refused, and why.
    time_zone_value: String,
    time_zone_error: Option<String>,
    time_zones: &'static [&'static str],
    plan: &'static str,
    retention_days: u32,
    heartbeats_used: String,
    members_used: String,
    /// Members and pending invitations fill the plan: inviting is refused.
    seats_full: bool,
    members: Vec<MemberRow>,
    invitations: Vec<InvitationRow>,
    /// The roles the viewer may give (owners may make owners).
    roles: Vec<&'static str>,
    /// The roles an invitation may carry.
    invite_roles: Vec<&'static str>,
}

/// "Free", "Standard"…
pub fn plan_name(plan: Plan) -> &'static str {
    match plan {
        Plan::Free => "Free",
        Plan::Standard => "Standard",
        Plan::Premium => "Premium",
        Plan::Enterprise => "Enterprise",
    }
}

/// A limit, or "unlimited".
pub fn limit(n: Option<u32>) -> String {
    n.map_or_else(|| "unlimited".to_owned(), |n| n.to_string())
}

/// "3 of 20", or "3 (unlimited)".
pub fn used(used: i64, max: Option<u32>) -> String {
    match max {
        Some(max) => format!("{used} of {max}"),
        None => format!("{used} (unlimited)"),
    }
}

/// A time zone the form refused: what was typed, and why.
struct RefusedZone {
    typed: String,
    message: String,
}

pub async fn page(member: Member, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    render(&team_page(&member, &state, None).await?)
}

async fn team_page(
    member: &Member,
    state: &AppState,
    refused_zone: Option<RefusedZone>,
) -> Result<TeamPage, PageError> {
    let mut conn = state.conn().await?;
    let scope = &member.scope;
    let plan = scope.plan();
    let limits: PlanLimits = plan.limits();
    let usage = teams::usage(&mut conn, scope).await?;
    let time_zone = teams::time_zone(&mut conn, scope).await?.to_string();
    let now = Utc::now();
    let me = member.role();
    let members = members::list(&mut conn, scope)
        .await?
        .into_iter()
        .map(|m| MemberRow {
            user_id: m.user_id.to_string(),
            is_me: m.user_id == member.user.id,
            can_change: me.may_change_member(m.role, None).is_ok(),
            joined: ago(Some(m.joined_at), now),
            joined_at: iso(Some(m.joined_at)),
            email: m.email,
            role: m.role.as_str(),
        })
        .collect();
    let invitations = invitations::pending(&mut conn, scope)
        .await?
        .into_iter()
        .map(|i| InvitationRow {
            id: i.id.to_string(),
            expired: i.expired(now),
            expires: if i.expired(now) {
                format!("expired {}", ago(Some(i.expires_at), now))
            } else {
                format!("expires {}", until(Some(i.expires_at), now))
            },
            expires_at: iso(Some(i.expires_at)),
            invited_by: i.invited_by.unwrap_or_else(|| "a former member".to_owned()),
            email: i.email,
            role: i.role.as_str(),
        })
        .collect();
    let seats = usage.members + usage.invitations;
    let mut members_used = used(seats, limits.max_members);
    if usage.invitations > 0 {
        let s = if usage.invitations == 1 { "" } else { "s" };
        members_used = format!(
            "{members_used}, {} pending invitation{s} included",
            usage.invitations
        );
    }
    let grantable = |r: &&Role| me.may_change_member(Role::Viewer, Some(**r)).is_ok();
    let (time_zone_value, time_zone_error) = match refused_zone {
        Some(refused) => (refused.typed, Some(refused.message)),
        None => (time_zone.clone(), None),
    };
    Ok(TeamPage {
        nav: Nav::member(member, "team"),
        name: member.team_name().to_owned(),
        time_zone,
        time_zone_value,
        time_zone_error,
        time_zones: crate::time_zones::suggestions(),
        plan: plan_name(plan),
        retention_days: limits.retention_days,
        heartbeats_used: used(usage.heartbeats, limits.max_heartbeats),
        members_used,
        seats_full: limits
            .max_members
            .is_some_and(|max| seats >= i64::from(max)),
        members,
        invitations,
        roles: Role::ALL
            .iter()
            .filter(grantable)
            .map(|r| r.as_str())
            .collect(),
        invite_roles: Role::ALL
            .iter()
            .filter(|r| **r != Role::Owner)
            .map(|r| r.as_str())
            .collect(),
    })
}

/// Sets the team's time zone; a name that is not one shows the page again with the message
/// beside the field and what was typed kept.
pub async fn set_time_zone(
    member: Member,
    state: web::Data<AppState>,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    member.require(Role::Admin, actions::team::CHANGE_TIME_ZONE)?;
    let typed = form.text("time_zone");
    let zone = match TimeZoneName::parse(typed) {
        Ok(zone) => zone,
        Err(e) => {
            let refused = RefusedZone {
                typed: typed.to_owned(),
                message: crate::time_zones::refused(&e),
            };
            let again = team_page(&member, &state, Some(refused)).await?;
            return render_status(&again, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let mut conn = state.conn().await?;
    actions::team::set_time_zone(&mut conn, &member.caller(), zone).await?;
    Ok(done(
        &state,
        "/team",
        &format!(
            "The team's time zone is now {zone}: heartbeats without one of their own follow it."
        ),
    ))
}

pub async fn rename(
    member: Member,
    state: web::Data<AppState>,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    member.require(Role::Admin, "rename the team")?;
    let name = TeamName::parse(form.text("name")).map_err(|e| PageError::Invalid(e.to_string()))?;
    let mut conn = state.conn().await?;
    actions::team::rename(&mut conn, &member.caller(), &name).await?;
    Ok(done(
        &state,
        "/team",
        &format!("The team is now called {}.", name.as_str()),
    ))
}

/// After leaving or deleting the current team: another team of the user, or their account page
/// when none is left. The team cookie is dropped (the next page picks a team the user is in).
async fn elsewhere(
    state: &AppState,
    member: &Member,
    notice: &str,
) -> Result<HttpResponse, PageError> {
    let mut conn = state.conn().await?;
    let left = accounts::memberships(&mut conn, member.user.id).await?;
    let next = if left.is_empty() {
        "/account"
    } else {
        "/heartbeats"
    };
    let mut res = done(state, next, notice);
    res.add_removal_cookie(&crate::cookies::removal(state, crate::cookies::TEAM))
        .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(res)
}

pub async fn leave(
    member: Member,
    state: web::Data<AppState>,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    let team = member.team_name().to_owned();
    if form.text("confirm") != "yes" {
        return super::confirm::page(
            &member,
            super::confirm::Confirm {
                title: format!("Leave {team}?"),
                message: format!(
                    "You will no longer see {team}'s heartbeats or get into its pages. To come \
                     back, an admin of the team has to invite you again."
                ),
                action: "/team/leave".to_owned(),
                button: "Leave the team".to_owned(),
            },
        );
    }
    let mut conn = state.conn().await?;
    actions::members::leave(&mut conn, &member.caller(), member.user.id).await?;
    elsewhere(&state, &member, &format!("You left {team}.")).await
}

pub async fn delete(
    member: Member,
    state: web::Data<AppState>,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    member.require(Role::Owner, "delete the team")?;
    let team = member.team_name().to_owned();
    if form.text("confirm_name") != team.trim() {
        return Err(PageError::Invalid(format!(
            "to delete the team, type its name exactly as it is written: {team}"
        )));
    }
    let mut conn = state.conn().await?;
    actions::team::delete(&state, &mut conn, &member.caller()).await?;
    tracing::info!(team = %member.scope.team_id(), user = %member.user.id, "team deleted");
    elsewhere(
        &state,
        &member,
        &format!("The team {team} and everything in it is deleted."),
    )
    .await
}
