//! `/channels/{id}`: one channel, the heartbeats it serves (a checkbox list to change them),
//! its recent deliveries with their errors, and the test button.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use lifeline_domain::HeartbeatId;
use lifeline_store::{channels, heartbeats, notifications};

use super::view::{ChannelView, DeliveryView};
use crate::actions::channels::{self as actions, Confirmation};
use crate::error::{PageError, path_id};
use crate::form::PostedForm;
use crate::heartbeats::view::status_label;
use crate::page::{Nav, done, render};
use crate::session::Member;
use crate::state::AppState;

/// How many deliveries the page lists.
const RECENT: i64 = 20;

pub struct HeartbeatChoice {
    pub id: String,
    pub name: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub attached: bool,
}

#[derive(Template)]
#[template(path = "channels/detail.html")]
struct DetailPage {
    nav: Nav,
    channel: ChannelView,
    heartbeats: Vec<HeartbeatChoice>,
    attached: usize,
    deliveries: Vec<DeliveryView>,
    /// Why a confirmation link cannot be mailed at all, for a channel that waits for one.
    mail_problem: Option<&'static str>,
}

pub async fn page(
    member: Member,
    state: web::Data<AppState>,
    id: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let id = path_id(&id)?;
    let mut conn = state.conn().await?;
    let channel = channels::find(&mut conn, &member.scope, id).await?;
    let attached_ids = channels::heartbeat_ids(&mut conn, &member.scope, id).await?;
    let heartbeats: Vec<HeartbeatChoice> = heartbeats::list(&mut conn, &member.scope)
        .await?
        .into_iter()
        .map(|hb| HeartbeatChoice {
            id: hb.id.to_string(),
            attached: attached_ids.contains(&hb.id),
            name: hb.name,
            status: hb.timing.status.as_str(),
            status_label: status_label(hb.timing.status),
        })
        .collect();
    let now = Utc::now();
    let deliveries = notifications::recent_for_channel(&mut conn, &member.scope, id, RECENT)
        .await?
        .iter()
        .map(|d| DeliveryView::of(d, now))
        .collect();
    let mail_problem = if channel.is_confirmed() {
        None
    } else {
        state.notifier.email_unavailable()
    };
    render(&DetailPage {
        nav: Nav::member(&member, "channels"),
        channel: ChannelView::of(&channel, now),
        attached: heartbeats.iter().filter(|h| h.attached).count(),
        heartbeats,
        deliveries,
        mail_problem,
    })
}

/// `POST /channels/{id}/heartbeats`: the checked `heartbeats` become the channel's.
pub async fn attach(
    member: Member,
    state: web::Data<AppState>,
    id: web::Path<String>,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    let id = path_id(&id)?;
    let wanted = form
        .all("heartbeats")
        .into_iter()
        .map(path_id::<HeartbeatId>)
        .collect::<Result<Vec<_>, _>>()?;
    let mut conn = state.conn().await?;
    let changed = actions::attach(&mut conn, &member.caller(), id, &wanted).await?;
    let notice = match (changed.attached.len(), changed.detached.len()) {
        (0, 0) => "Nothing changed.".to_owned(),
        (a, 0) => format!("Attached {}.", heartbeats_word(a)),
        (0, d) => format!("Detached {}.", heartbeats_word(d)),
        (a, d) => format!(
            "Attached {}, detached {}.",
            heartbeats_word(a),
            heartbeats_word(d)
        ),
    };
    Ok(done(&state, &format!("/channels/{id}"), &notice))
}

fn heartbeats_word(n: usize) -> String {
    if n == 1 {
        "1 heartbeat".to_owned()
    } else {
        format!("{n} heartbeats")
    }
}

/// `POST /channels/{id}/test`: queues a test notification for the scheduler to deliver.
pub async fn test(
    member: Member,
    state: web::Data<AppState>,
    id: web::Path<String>,
    _form: PostedForm,
) -> Result<HttpResponse, PageError> {
    let id = path_id(&id)?;
    let mut conn = state.conn().await?;
    actions::send_test(&state, &mut conn, &member.caller(), id).await?;
    Ok(done(
        &state,
        &format!("/channels/{id}"),
        "Test notification queued: it shows below, pending until it is sent. Reload to see \
         how it went.",
    ))
}

/// `POST /channels/{id}/confirmation`: mails a new confirmation link.
pub async fn resend_confirmation(
    member: Member,
    state: web::Data<AppState>,
    id: web::Path<String>,
    _form: PostedForm,
) -> Result<HttpResponse, PageError> {
    let id = path_id(&id)?;
    let mut conn = state.conn().await?;
    let (channel, confirmation) =
        actions::resend_confirmation(&state, &mut conn, &member.caller(), id).await?;
    let notice = match confirmation {
        Confirmation::NotSent(e) => format!("The confirmation email could not be sent: {e}."),
        _ => format!(
            "We emailed a new confirmation link to {}; earlier links no longer work.",
            channel.target
        ),
    };
    Ok(done(&state, &format!("/channels/{id}"), &notice))
}
