//! `/heartbeats/{id}/delete`: a page that says what deleting loses, and the deletion itself.
//! The confirmation is a page of its own (no script), and the deletion only happens from its
//! form, which carries `confirm`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use lifeline_domain::Role;
use lifeline_store::heartbeats::{self, Heartbeat};

use crate::actions;
use crate::error::PageError;
use crate::error::path_id;
use crate::form::PostedForm;
use crate::page::{Nav, done, render_status};
use crate::session::Member;
use crate::state::AppState;

const WHAT: &str = "delete heartbeats";

#[derive(Template)]
#[template(path = "heartbeats/delete.html")]
struct ConfirmPage {
    nav: Nav,
    hb_id: String,
    name: String,
    ping_url: String,
    /// The deletion was posted without the confirmation's field.
    unconfirmed: bool,
}

fn page(member: &Member, state: &AppState, hb: &Heartbeat, unconfirmed: bool) -> ConfirmPage {
    ConfirmPage {
        nav: Nav::member(member, "heartbeats"),
        hb_id: hb.id.to_string(),
        name: hb.name.clone(),
        ping_url: hb.ping_url(&state.settings.ping_url),
        unconfirmed,
    }
}

pub async fn confirm(
    member: Member,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    member.require(Role::Member, WHAT)?;
    let id = path_id(&id)?;
    let mut conn = state.conn().await?;
    let hb = heartbeats::find(&mut conn, &member.scope, id).await?;
    render_status(&page(&member, &state, &hb, false), StatusCode::OK)
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
    if form.text("confirm") != "delete" {
        // Not from the confirmation page: show it instead of deleting.
        return render_status(
            &page(&member, &state, &hb, true),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    actions::heartbeats::delete(&state, &mut conn, &member.caller(), id).await?;
    Ok(done(
        &state,
        "/heartbeats",
        &format!("Deleted \"{}\". Its ping URL no longer works.", hb.name),
    ))
}
