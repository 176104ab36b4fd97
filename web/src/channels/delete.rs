//! `/channels/{id}/delete`: removing a channel, after a page that says what goes with it.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use lifeline_domain::Role;
use lifeline_store::channels;

use super::view::ChannelView;
use crate::actions::channels as actions;
use crate::error::{PageError, path_id};
use crate::form::PostedForm;
use crate::page::{Nav, done, render};
use crate::session::Member;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "channels/delete.html")]
struct DeletePage {
    nav: Nav,
    channel: ChannelView,
    heartbeats: usize,
}

pub async fn form(
    member: Member,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = path_id(&id)?;
    let mut conn = state.conn().await?;
    let channel = channels::find(&mut conn, &member.scope, id).await?;
    member.require(Role::Admin, "manage channels")?;
    let heartbeats = channels::heartbeat_ids(&mut conn, &member.scope, id)
        .await?
        .len();
    render(&DeletePage {
        nav: Nav::member(&member, "channels"),
        channel: ChannelView::of(&channel, Utc::now()),
        heartbeats,
    })
}

pub async fn submit(
    member: Member,
    state: web::Data<AppState>,
    id: web::Path<String>,
    _form: PostedForm,
) -> Result<HttpResponse, PageError> {
    let id = path_id(&id)?;
    let mut conn = state.conn().await?;
    actions::delete(&mut conn, &member.caller(), id).await?;
    Ok(done(&state, "/channels", "Channel deleted."))
}
