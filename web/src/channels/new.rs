//! `/channels/new`: adding a channel. A webhook's signing secret is shown on the page that
//! answers the form, once; an email address gets a confirmation link.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use lifeline_domain::{ChannelKind, Role};
use lifeline_store::StoreError;

use crate::actions::channels::{self as actions, Confirmation, Created};
use crate::error::PageError;
use crate::form::PostedForm;
use crate::page::{Nav, done, render, render_status};
use crate::session::Member;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "channels/new.html")]
struct NewPage {
    nav: Nav,
    error: Option<String>,
    kind: String,
    name: String,
    target: String,
}

/// The answer to creating a webhook channel: its secret, this once.
#[derive(Template)]
#[template(path = "channels/created.html")]
struct CreatedPage {
    nav: Nav,
    id: String,
    name: String,
    target: String,
    secret: String,
}

pub async fn form(member: Member) -> Result<HttpResponse, PageError> {
    member.require(Role::Admin, "manage channels")?;
    render(&NewPage {
        nav: Nav::member(&member, "channels"),
        error: None,
        kind: ChannelKind::Email.as_str().to_owned(),
        name: String::new(),
        target: String::new(),
    })
}

pub async fn submit(
    member: Member,
    state: web::Data<AppState>,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    let again = |error: String| {
        render_status(
            &NewPage {
                nav: Nav::member(&member, "channels"),
                error: Some(error),
                kind: form.text("kind").to_owned(),
                name: form.text("name").to_owned(),
                target: form.text("target").to_owned(),
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let kind: ChannelKind = match form.text("kind").parse() {
        Ok(kind) => kind,
        Err(_) => {
            member.require(Role::Admin, "manage channels")?;
            return again("choose the kind of channel: email, webhook or Slack".to_owned());
        }
    };
    let mut conn = state.conn().await?;
    let name = Some(form.text("name")).filter(|n| !n.is_empty());
    let created = actions::create_reporting(
        &state,
        &mut conn,
        &member.caller(),
        kind,
        form.text("target"),
        name,
    )
    .await;
    let Created {
        channel,
        secret,
        confirmation,
    } = match created {
        Ok(created) => created,
        Err(StoreError::Invalid(message)) => return again(message),
        Err(e) => return Err(e.into()),
    };
    let location = format!("/channels/{}", channel.id);
    if let Some(secret) = secret {
        return render(&CreatedPage {
            nav: Nav::member(&member, "channels"),
            id: channel.id.to_string(),
            name: channel.name,
            target: channel.target,
            secret,
        });
    }
    let notice = match confirmation {
        Confirmation::Sent => format!(
            "Channel created. We emailed a confirmation link to {}: alerts go there once it \
             is opened.",
            channel.target
        ),
        Confirmation::NotSent(e) => format!(
            "Channel created, but the confirmation email could not be sent: {e}. Alerts go to \
             {} only once it is confirmed.",
            channel.target
        ),
        Confirmation::NotNeeded => {
            "Channel created. Attach heartbeats to it, then send a test.".to_owned()
        }
    };
    Ok(done(&state, &location, &notice))
}
