//! `/heartbeats/new`: the form for a new heartbeat, and creating it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use lifeline_domain::{HeartbeatMode, Role};
use lifeline_store::StoreError;
use lifeline_store::heartbeats::{self, NewHeartbeat};

use super::form::{FieldErrors, FormPage, HeartbeatForm, TeamChoices, channel_choices};
use crate::actions;
use crate::error::PageError;
use crate::form::PostedForm;
use crate::page::{Nav, done, render_status};
use crate::session::Member;
use crate::state::AppState;

const WHAT: &str = "create heartbeats";

fn page(
    member: &Member,
    values: HeartbeatForm,
    team: &TeamChoices,
    errors: FieldErrors,
    plan_limit: Option<String>,
) -> FormPage {
    FormPage {
        nav: Nav::member(member, "heartbeats"),
        title: "New heartbeat".to_owned(),
        action: "/heartbeats/new".to_owned(),
        submit: "Create heartbeat",
        cancel: "/heartbeats".to_owned(),
        channels: channel_choices(&team.channels, &values),
        team_time_zone: team.time_zone,
        time_zones: crate::time_zones::suggestions(),
        values,
        errors,
        plan_limit,
    }
}

pub async fn form(member: Member, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    member.require(Role::Member, WHAT)?;
    let mut conn = state.conn().await?;
    let team = TeamChoices::load(&mut conn, &member.scope).await?;
    // Say so before the user fills in the form, not after.
    let plan = member.scope.plan();
    let at_limit = match plan.limits().max_heartbeats {
        Some(max) => {
            let count = heartbeats::list(&mut conn, &member.scope).await?.len();
            (count >= max as usize).then(|| {
                format!("the {plan} plan allows {max} heartbeats, and the team has {count}")
            })
        }
        None => None,
    };
    render_status(
        &page(
            &member,
            HeartbeatForm::defaults(),
            &team,
            FieldErrors::default(),
            at_limit,
        ),
        StatusCode::OK,
    )
}

pub async fn submit(
    member: Member,
    state: web::Data<AppState>,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    member.require(Role::Member, WHAT)?;
    let mut conn = state.conn().await?;
    let team = TeamChoices::load(&mut conn, &member.scope).await?;
    let values = HeartbeatForm::posted(&form);
    let checked = match values.check(&team.channels) {
        Ok(checked) => checked,
        Err(errors) => {
            let again = page(&member, values, &team, errors, None);
            return render_status(&again, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let new = NewHeartbeat {
        name: checked.name,
        description: checked.description,
        schedule: checked.schedule,
        limits: checked.limits,
        time_zone: checked.time_zone,
        channels: checked.channels,
    };
    match actions::heartbeats::create(
        &state,
        &mut conn,
        &member.caller(),
        new,
        HeartbeatMode::Fixed,
    )
    .await
    {
        Ok(hb) => Ok(done(
            &state,
            &format!("/heartbeats/{}", hb.id),
            &format!(
                "Created \"{}\". Make your job request its ping URL when it finishes.",
                hb.name
            ),
        )),
        Err(StoreError::PlanLimit(message)) => {
            let again = page(
                &member,
                values,
                &team,
                FieldErrors::default(),
                Some(message),
            );
            render_status(&again, StatusCode::PAYMENT_REQUIRED)
        }
        // A channel deleted between the check and the insert.
        Err(StoreError::NotFound) => {
            let again = page(&member, values, &team, FieldErrors::channel_gone(), None);
            render_status(&again, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e.into()),
    }
}
