//! `GET /heartbeats/statuses`: the status of every heartbeat of the team as JSON, which the list
//! page polls (web/static/app.js) to follow changes without a reload. It uses the session like
//! the pages do; the texts are the list's own, so a row updated in place reads as a reload would.

use actix_web::{HttpResponse, ResponseError, web};
use chrono::Utc;
use lifeline_store::heartbeats;
use serde::Serialize;

use super::view::HeartbeatView;
use crate::error::PageError;
use crate::session::Member;
use crate::state::AppState;

#[derive(Serialize)]
struct Statuses {
    heartbeats: Vec<Row>,
}

#[derive(Serialize)]
struct Row {
    id: String,
    status: &'static str,
    status_label: &'static str,
    last_ping: String,
    next_due: String,
}

pub async fn json(
    member: Result<Member, PageError>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    // A script asks, not a person: an ended session is a 401 to stop polling on, not a
    // redirect to the login page.
    let member = match member {
        Ok(m) => m,
        Err(PageError::LoginRequired { .. }) => {
            return Ok(HttpResponse::Unauthorized()
                .insert_header(("Cache-Control", "no-store"))
                .json(serde_json::json!({
                    "error": { "code": "unauthorized", "message": "the session has ended: log in again" }
                })));
        }
        Err(e) => return Ok(e.error_response()),
    };
    let mut conn = state.conn().await?;
    let now = Utc::now();
    let rows = heartbeats::list(&mut conn, &member.scope)
        .await?
        .iter()
        .map(|hb| {
            let view = HeartbeatView::of(hb, now);
            Row {
                id: view.id,
                status: view.status,
                status_label: view.status_label,
                last_ping: view.last_ping,
                next_due: view.next_due,
            }
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(Statuses { heartbeats: rows }))
}
