//! `/channels`: every channel of the team, whether it is confirmed, how many heartbeats it
//! serves and how its newest delivery went.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use lifeline_store::channels;

use super::view::ChannelRow;
use crate::error::PageError;
use crate::page::{Nav, render};
use crate::session::Member;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "channels/list.html")]
struct ListPage {
    nav: Nav,
    rows: Vec<ChannelRow>,
}

pub async fn page(member: Member, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let mut conn = state.conn().await?;
    let now = Utc::now();
    let rows = channels::overview(&mut conn, &member.scope)
        .await?
        .iter()
        .map(|o| ChannelRow::of(o, now))
        .collect();
    render(&ListPage {
        nav: Nav::member(&member, "channels"),
        rows,
    })
}
