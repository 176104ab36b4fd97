//! `/heartbeats/{id}/rotate`: a new ping URL for a heartbeat whose URL leaked. The old URL stops
//! working at once, so every job using it must be updated: a confirmation page (a plain form,
//! no JavaScript) says so before the POST does it.

use actix_web::{HttpResponse, web};
use askama::Template;
use lifeline_domain::Role;
use lifeline_store::heartbeats;

use crate::actions;
use crate::error::PageError;
use crate::error::path_id;
use crate::form::PostedForm;
use crate::page::{Nav, done, render};
use crate::session::Member;
use crate::state::AppState;

const WHAT: &str = "rotate ping URLs";

#[derive(Template)]
#[template(path = "heartbeats/rotate.html")]
struct RotatePage {
    nav: Nav,
    id: String,
    name: String,
    ping_url: String,
}

pub async fn confirm(
    member: Member,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = path_id(&path)?;
    let mut conn = state.conn().await?;
    // Another team's heartbeat is "not found" whatever the role; only then is the role checked.
    let hb = heartbeats::find(&mut conn, &member.scope, id).await?;
    member.require(Role::Member, WHAT)?;
    render(&RotatePage {
        nav: Nav::member(&member, "heartbeats"),
        id: hb.id.to_string(),
        name: hb.name.clone(),
        ping_url: hb.ping_url(&state.settings.ping_url),
    })
}

pub async fn rotate(
    member: Member,
    state: web::Data<AppState>,
    path: web::Path<String>,
    _form: PostedForm,
) -> Result<HttpResponse, PageError> {
    let id = path_id(&path)?;
    let mut conn = state.conn().await?;
    heartbeats::find(&mut conn, &member.scope, id).await?;
    member.require(Role::Member, WHAT)?;
    actions::heartbeats::rotate(&state, &mut conn, &member.caller(), id).await?;
    Ok(done(
        &state,
        &format!("/heartbeats/{id}"),
        "The ping URL was rotated: the old URL no longer works. Update your jobs with the new one below.",
    ))
}
