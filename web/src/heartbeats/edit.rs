//! `/heartbeats/{id}/edit`: the form prefilled with the heartbeat's settings, and saving it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use lifeline_domain::Role;
use lifeline_store::StoreError;
use lifeline_store::heartbeats::{self, Heartbeat, HeartbeatChanges};

use super::form::{FieldErrors, FormPage, HeartbeatForm, TeamChoices, channel_choices};
use crate::actions;
use crate::error::{PageError, path_id};
use crate::form::PostedForm;
use crate::page::{Nav, done, render, render_status};
use crate::session::Member;
use crate::state::AppState;

const WHAT: &str = "edit heartbeats";

fn page(
    member: &Member,
    hb: &Heartbeat,
    values: HeartbeatForm,
    team: &TeamChoices,
    errors: FieldErrors,
) -> FormPage {
    FormPage {
        nav: Nav::member(member, "heartbeats"),
        title: format!("Edit {}", hb.name),
        action: format!("/heartbeats/{}/edit", hb.id),
        submit: "Save changes",
        cancel: format!("/heartbeats/{}", hb.id),
        channels: channel_choices(&team.channels, &values),
        team_time_zone: team.time_zone,
        time_zones: crate::time_zones::suggestions(),
        values,
        errors,
        plan_limit: None,
    }
}

pub async fn form(
    member: Member,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    member.require(Role::Member, WHAT)?;
    let id = path_id(&id)?;
    let mut conn = state.conn().await?;
    let hb = heartbeats::find(&mut conn, &member.scope, id).await?;
    let chosen = heartbeats::channel_ids(&mut conn, &member.scope, id).await?;
    let team = TeamChoices::load(&mut conn, &member.scope).await?;
    let values = HeartbeatForm::of(&hb, &chosen);
    render(&page(&member, &hb, values, &team, FieldErrors::default()))
}

pub async fn submit(
    member: Member,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    member.require(Role::Member, WHAT)?;
    let id = path_id(&id)?;
    let mut conn = state.conn().await?;
    let hb = heartbeats::find(&mut conn, &member.scope, id).await?;
    let team = TeamChoices::load(&mut conn, &member.scope).await?;
    let values = HeartbeatForm::posted(&form);
    let checked = match values.check(&team.channels) {
        Ok(checked) => checked,
        Err(errors) => {
            let again = page(&member, &hb, values, &team, errors);
            return render_status(&again, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    // Deadlines move only when the schedule or the run limits did: saving a new description
    // leaves a late heartbeat late.
    let rescheduled = checked.schedule != hb.schedule() || checked.limits != hb.timing.limits;
    let changes = HeartbeatChanges {
        name: Some(checked.name),
        description: Some(checked.description),
        schedule: rescheduled.then_some((checked.schedule, checked.limits)),
        channels: Some(checked.channels),
        // The form shows the heartbeat's own zone, so an empty field means the team's.
        time_zone: Some(checked.time_zone),
    };
    match actions::heartbeats::edit(&state, &mut conn, &member.caller(), id, changes).await {
        Ok(hb) => Ok(done(
            &state,
            &format!("/heartbeats/{}", hb.id),
            &format!("Saved \"{}\".", hb.name),
        )),
        // Deleted meanwhile, or a channel deleted between the check and the save.
        Err(StoreError::NotFound) => {
            heartbeats::find(&mut conn, &member.scope, id).await?;
            let again = page(&member, &hb, values, &team, FieldErrors::channel_gone());
            render_status(&again, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => Err(e.into()),
    }
}
