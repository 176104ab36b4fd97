//! `/channels/{id}/edit`: renaming a channel or pointing it elsewhere. A new email address
//! waits for its own confirmation.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use lifeline_domain::Role;
use lifeline_store::{StoreError, channels};

use super::view::ChannelView;
use crate::actions::channels::{self as actions, Confirmation};
use crate::error::{PageError, path_id};
use crate::form::PostedForm;
use crate::page::{Nav, done, render, render_status};
use crate::session::Member;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "channels/edit.html")]
struct EditPage {
    nav: Nav,
    channel: ChannelView,
    error: Option<String>,
    name: String,
    target: String,
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
    render(&EditPage {
        nav: Nav::member(&member, "channels"),
        name: channel.name.clone(),
        target: channel.target.clone(),
        channel: ChannelView::of(&channel, Utc::now()),
        error: None,
    })
}

pub async fn submit(
    member: Member,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    let id = path_id(&id)?;
    let mut conn = state.conn().await?;
    let edited = actions::edit(
        &state,
        &mut conn,
        &member.caller(),
        id,
        Some(form.text("name")),
        Some(form.text("target")),
    )
    .await;
    let (channel, confirmation) = match edited {
        Ok(edited) => edited,
        Err(StoreError::Invalid(message)) => {
            let channel = channels::find(&mut conn, &member.scope, id).await?;
            return render_status(
                &EditPage {
                    nav: Nav::member(&member, "channels"),
                    channel: ChannelView::of(&channel, Utc::now()),
                    error: Some(message),
                    name: form.text("name").to_owned(),
                    target: form.text("target").to_owned(),
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
        Err(e) => return Err(e.into()),
    };
    let notice = match confirmation {
        Confirmation::NotNeeded => "Channel saved.".to_owned(),
        Confirmation::Sent => format!(
            "Channel saved. We emailed a confirmation link to {}: alerts go there once it is \
             opened, and nowhere until then.",
            channel.target
        ),
        Confirmation::NotSent(e) => format!(
            "Channel saved, but the confirmation email could not be sent: {e}. Alerts go to {} \
             only once it is confirmed.",
            channel.target
        ),
    };
    Ok(done(&state, &format!("/channels/{id}"), &notice))
}
