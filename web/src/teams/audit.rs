//! `/audit`: the team's audit log, newest first, for admins and owners.

use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::Utc;
use lifeline_domain::Role;
use lifeline_store::audit::{self, Entry};
use serde::Deserialize;

use crate::error::PageError;
use crate::heartbeats::view::{ago, iso};
use crate::page::{Nav, render};
use crate::session::Member;
use crate::state::AppState;

/// Entries per page.
const PAGE: i64 = 50;

#[derive(Deserialize)]
pub struct Cursor {
    before: Option<i64>,
}

pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub when: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    nav: Nav,
    rows: Vec<AuditRow>,
    /// The next (older) page, when there is one.
    older: Option<String>,
    /// This is not the first page.
    paged: bool,
}

/// Who made the change, for people.
fn actor(entry: &Entry) -> String {
    let kind = entry.actor.split(':').next().unwrap_or("");
    match kind {
        "user" => entry
            .actor_email
            .clone()
            .unwrap_or_else(|| "a deleted user".to_owned()),
        "api_key" => match &entry.actor_key_prefix {
            Some(prefix) => format!("API key {prefix}"),
            None => "a deleted API key".to_owned(),
        },
        "operator" => "operator".to_owned(),
        "system" => "Lifeline".to_owned(),
        _ => entry.actor.clone(),
    }
}

/// `name: nightly, role: admin`: the entry's detail without JSON punctuation.
fn detail(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}: {}", plain(v)))
            .collect::<Vec<_>>()
            .join(", "),
        serde_json::Value::Null => String::new(),
        other => plain(other),
    }
}

fn plain(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub async fn page(
    member: Member,
    state: web::Data<AppState>,
    cursor: web::Query<Cursor>,
) -> Result<HttpResponse, PageError> {
    member.require(Role::Admin, "see the audit log")?;
    let mut conn = state.conn().await?;
    let mut entries = audit::list(&mut conn, &member.scope, cursor.before, PAGE + 1).await?;
    let more = entries.len() as i64 > PAGE;
    entries.truncate(PAGE as usize);
    let now = Utc::now();
    let older = more
        .then(|| entries.last().map(|e| format!("/audit?before={}", e.id)))
        .flatten();
    let rows = entries
        .iter()
        .map(|e| AuditRow {
            id: e.id,
            at: iso(Some(e.at)),
            when: ago(Some(e.at), now),
            actor: actor(e),
            action: e.action.clone(),
            target: e.target.clone(),
            detail: detail(&e.detail),
        })
        .collect();
    render(&AuditPage {
        nav: Nav::member(&member, "audit"),
        rows,
        older,
        paged: cursor.before.is_some(),
    })
}
