//! `/api/v1/heartbeats/{id}/pings` and `/incidents`: a heartbeat's history, within what the
//! team's plan keeps (its retention).

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use lifeline_store::history::{self, PingCursor};
use lifeline_store::{heartbeats, incidents};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{PageQuery, heartbeat_id, on_heartbeat};
use super::{ApiCaller, ApiError, ErrorBody};
use crate::state::AppState;

/// Default and largest page of pings.
pub const PINGS_DEFAULT: u32 = 50;
pub const PINGS_MAX: u32 = 500;
/// Default and largest number of incidents.
pub const INCIDENTS_DEFAULT: u32 = 50;
pub const INCIDENTS_MAX: u32 = 500;

/// A ping as received.
#[derive(Serialize, ToSchema)]
pub struct PingJson {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    /// `success`, `start`, `fail` or `progress`.
    #[schema(value_type = String, example = "success")]
    pub kind: lifeline_domain::PingKind,
    pub exit_code: Option<i16>,
    /// `GET`, `POST` or `HEAD`.
    pub method: String,
    pub remote_addr: Option<String>,
    pub user_agent: Option<String>,
    pub body_size: i64,
    /// For a success or failure after a start ping: the run's duration.
    pub duration_ms: Option<i64>,
    /// The first kilobyte of the body of a progress, failure or exit-code ping.
    pub detail: Option<String>,
}

impl From<lifeline_store::pings::Ping> for PingJson {
    fn from(p: lifeline_store::pings::Ping) -> Self {
        PingJson {
            id: p.id,
            received_at: p.received_at,
            kind: p.kind,
            exit_code: p.exit_code,
            method: p.method,
            remote_addr: p.remote_addr,
            user_agent: p.user_agent,
            body_size: p.body_size,
            duration_ms: p.duration_ms,
            detail: p.detail,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct PingList {
    /// Newest first.
    pub pings: Vec<PingJson>,
    /// Pass as `cursor` for the next (older) page; `null` on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct IncidentJson {
    #[schema(value_type = String, format = Uuid)]
    pub id: lifeline_domain::IncidentId,
    /// `down` or `early_warning`.
    #[schema(value_type = String, example = "down")]
    pub kind: lifeline_domain::IncidentKind,
    pub reason: String,
    pub opened_at: DateTime<Utc>,
    /// `null` while open.
    pub resolved_at: Option<DateTime<Utc>>,
    pub deadline_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct IncidentList {
    /// Newest first: open ones always, closed ones within the plan's retention.
    pub incidents: Vec<IncidentJson>,
}

/// `?limit=` of the incident list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LimitQuery {
    /// Most incidents returned (default 50, at most 500).
    pub limit: Option<u32>,
}

/// The heartbeat's pings, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/heartbeats/{id}/pings",
    operation_id = "list_pings",
    tag = "history",
    params(
        ("id" = String, Path, format = Uuid, description = "The heartbeat's id"),
        PageQuery,
    ),
    responses(
        (status = 200, description = "A page of pings (default 50, at most 500)", body = PingList),
        (status = 400, description = "Malformed query or cursor", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 404, description = "No such heartbeat in the key's team", body = ErrorBody),
        (status = 422, description = "`limit` out of range", body = ErrorBody),
        (status = 429, description = "Rate limit", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn pings(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = heartbeat_id(&path)?;
    let limit = query.limit(PINGS_DEFAULT, PINGS_MAX)?;
    let cursor = query.cursor::<PingCursor>()?;
    let scope = &caller.0.scope;
    let mut conn = state.conn().await?;
    heartbeats::find(&mut conn, scope, id)
        .await
        .map_err(on_heartbeat(&path))?;
    let (pings, next) = history::pings_page(&mut conn, scope, id, cursor, limit).await?;
    Ok(HttpResponse::Ok().json(PingList {
        pings: pings.into_iter().map(PingJson::from).collect(),
        next_cursor: next.map(|c| c.to_string()),
    }))
}

/// The heartbeat's incidents (down, early warning), newest first.
#[utoipa::path(
    get,
    path = "/api/v1/heartbeats/{id}/incidents",
    operation_id = "list_incidents",
    tag = "history",
    params(
        ("id" = String, Path, format = Uuid, description = "The heartbeat's id"),
        LimitQuery,
    ),
    responses(
        (status = 200, description = "Its incidents", body = IncidentList),
        (status = 400, description = "Malformed query", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 404, description = "No such heartbeat in the key's team", body = ErrorBody),
        (status = 422, description = "`limit` out of range", body = ErrorBody),
        (status = 429, description = "Rate limit", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn incidents(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<LimitQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = heartbeat_id(&path)?;
    let limit = PageQuery {
        limit: query.limit,
        cursor: None,
    }
    .limit(INCIDENTS_DEFAULT, INCIDENTS_MAX)?;
    let scope = &caller.0.scope;
    let mut conn = state.conn().await?;
    heartbeats::find(&mut conn, scope, id)
        .await
        .map_err(on_heartbeat(&path))?;
    let found = incidents::history(&mut conn, scope, id, limit).await?;
    Ok(HttpResponse::Ok().json(IncidentList {
        incidents: found
            .into_iter()
            .map(|i| IncidentJson {
                id: i.id,
                kind: i.kind,
                reason: i.reason,
                opened_at: i.opened_at,
                resolved_at: i.resolved_at,
                deadline_at: i.deadline_at,
            })
            .collect(),
    }))
}
