//! `/heartbeats`: every heartbeat of the team with its status, filtered by status and searched by
//! name. AI heartbeats carry a badge, and their early warning is a status of its own; a banner
//! says when Lifeline turned AI mode off (the plan no longer includes it).

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use lifeline_store::{ai, heartbeats};
use serde::Deserialize;

use super::ai_notice::AiOffBanner;
use super::view::{HeartbeatView, ShownStatus};
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
    /// The `data-filter` attribute: `all` or a status key (what the live poll counts by).
    pub key: &'static str,
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
    ai_off: Option<AiOffBanner>,
}

pub async fn page(
    member: Member,
    state: web::Data<AppState>,
    filters: web::Query<Filters>,
) -> Result<HttpResponse, PageError> {
    let mut conn = state.conn().await?;
    let all = heartbeats::list(&mut conn, &member.scope).await?;
    let notices = ai::off_notices(&mut conn, &member.scope).await?;
    drop(conn);
    let now = Utc::now();
    let wanted: Option<ShownStatus> = filters
        .status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(|s| {
            ShownStatus::parse(s).ok_or_else(|| {
                let keys: Vec<&str> = ShownStatus::ALL.iter().map(|s| s.key()).collect();
                PageError::Invalid(format!(
                    "unknown status {s:?}: expected one of {}",
                    keys.join(", ")
                ))
            })
        })
        .transpose()?;
    let q = filters.q.as_deref().unwrap_or("").trim().to_owned();
    let needle = q.to_lowercase();
    let rows = all
        .iter()
        .filter(|hb| wanted.is_none_or(|s| ShownStatus::of(hb) == s))
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
        key: "all",
        label: "All",
        href: href(""),
        count: all.len(),
        current: wanted.is_none(),
    }];
    filters.extend(ShownStatus::ALL.into_iter().map(|s| StatusFilter {
        key: s.key(),
        label: s.label(),
        href: href(s.key()),
        count: all.iter().filter(|hb| ShownStatus::of(hb) == s).count(),
        current: wanted == Some(s),
    }));
    render(&ListPage {
        nav: Nav::member(&member, "heartbeats"),
        rows,
        filters,
        status: wanted.map(|s| s.key().to_owned()).unwrap_or_default(),
        q,
        team_is_empty: all.is_empty(),
        ai_off: AiOffBanner::for_list(&notices, member.scope.plan()),
    })
}
