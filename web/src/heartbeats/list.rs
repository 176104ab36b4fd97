//! `/heartbeats`: every heartbeat of the team with its status, filtered by status and searched by
//! name.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use lifeline_domain::{Label, Status};
use lifeline_store::heartbeats;
use serde::Deserialize;

use super::view::{HeartbeatView, status_label};
use crate::error::PageError;
use crate::links::query;
use crate::page::{Nav, render};
use crate::session::Member;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct Filters {
    status: Option<String>,
    q: Option<String>,
}

pub struct StatusFilter {
    pub label: &'static str,
    pub href: String,
    pub count: usize,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "heartbeats/list.html")]
struct ListPage {
    nav: Nav,
    rows: Vec<HeartbeatView>,
    filters: Vec<StatusFilter>,
    q: String,
    status: String,
    /// The team has no heartbeat at all (not just none matching the filters).
    team_is_empty: bool,
}

pub async fn page(
    member: Member,
    state: web::Data<AppState>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, PageError> {
    let mut conn = state.conn().await?;
    let all = heartbeats::list(&mut conn, &member.scope).await?;
    let now = Utc::now();
    let wanted: Option<Status> = filters
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| Status::parse_label(s).map_err(|e| PageError::Invalid(e.to_string())))
        .transpose()?;
    let q = filters.q.as_deref().unwrap_or("").trim().to_owned();
    let needle = q.to_lowercase();
    let rows = all
        .iter()
        .filter(|hb| wanted.is_none_or(|s| hb.timing.status == s))
        .filter(|hb| needle.is_empty() || hb.name.to_lowercase().contains(&needle))
        .map(|hb| HeartbeatView::of(hb, now))
        .collect();
    let href = |status: &str| {
        let mut pairs = Vec::new();
        if !status.is_empty() {
            pairs.push(("status", status));
        }
        if !q.is_empty() {
            pairs.push(("q", q.as_str()));
        }
        if pairs.is_empty() {
            "/heartbeats".to_owned()
        } else {
            format!("/heartbeats?{}", query(&pairs))
        }
    };
    let mut filters = vec![StatusFilter {
        label: "All",
        href: href(""),
        count: all.len(),
        current: wanted.is_none(),
    }];
    filters.extend(Status::ALL.iter().map(|&s| StatusFilter {
        label: status_label(s),
        href: href(s.as_str()),
        count: all.iter().filter(|hb| hb.timing.status == s).count(),
        current: wanted == Some(s),
    }));
    render(&ListPage {
        nav: Nav::member(&member, "heartbeats"),
        rows,
        filters,
        status: wanted.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        q,
        team_is_empty: all.is_empty(),
    })
}
