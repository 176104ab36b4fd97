//! `/api/v1/heartbeats…`: list, create, read, edit, delete, pause, resume and rotate. Every
//! change goes through `actions::heartbeats`, as the dashboard's do, so it is audited (actor
//! `api_key:<id>`) and announced to the other processes alike.

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use lifeline_domain::{
    ChannelId, HeartbeatDescription, HeartbeatMode, HeartbeatName, Role, RunLimits, Schedule,
    Status, TimeZoneName,
};
use lifeline_store::heartbeats::{
    self, Heartbeat, HeartbeatChanges, HeartbeatCursor, NewHeartbeat,
};
use lifeline_store::{PgConn, StoreError, TeamScope, ai, channels};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

use super::error::read_body;
use super::extract::{PageQuery, heartbeat_id, on_heartbeat};
use super::{ApiCaller, ApiError, ErrorBody};
use crate::actions;
use crate::state::AppState;

/// Default and largest page of the heartbeat list.
pub const LIST_DEFAULT: u32 = 100;
pub const LIST_MAX: u32 = 500;
/// A heartbeat. Times are RFC 3339 in UTC; durations are whole seconds.
#[derive(Debug, Serialize, ToSchema)]
pub struct HeartbeatJson {
    #[schema(value_type = String, format = Uuid)]
    pub id: lifeline_domain::HeartbeatId,
    pub name: String,
    pub description: String,
    /// `new` (never pinged), `up`, `late` (past its interval, within grace; in AI mode: the
    /// early warning, see `early_warning`), `down` or `paused`.
    #[schema(value_type = String, example = "up")]
    pub status: lifeline_domain::Status,
    /// `fixed` (deadlines from `interval` and `grace`) or `ai` (learned from its history,
    /// Premium and Enterprise; `interval` + `grace` stay the fallback and cap).
    #[schema(value_type = String, example = "fixed")]
    pub mode: HeartbeatMode,
    /// AI heartbeats: whether it is in its warned state (the learned cadence says the job
    /// strays; `status` is then `late`). `null` in fixed mode.
    pub early_warning: Option<bool>,
    /// The URL the job requests (`/start`, `/fail`, `/progress` or `/<exit code>` appended for
    /// other signals).
    pub ping_url: String,
    /// Expected seconds between pings.
    pub interval: i64,
    /// Seconds of lateness tolerated before the heartbeat goes down.
    pub grace: i64,
    /// Longest a run may take after its start ping, in seconds.
    pub max_runtime: Option<i64>,
    /// Longest a run may go without a progress ping, in seconds.
    pub progress_timeout: Option<i64>,
    /// The IANA time zone its times of day and weekdays are counted in (AI heartbeats learn
    /// them); `null`: the team's zone.
    #[schema(value_type = Option<String>, example = "Europe/Paris")]
    pub time_zone: Option<TimeZoneName>,
    pub last_ping_at: Option<DateTime<Utc>>,
    /// When the next ping is expected.
    pub due_at: Option<DateTime<Utc>>,
    /// Start of the run in progress, if any.
    pub started_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// Ids of the channels that get its alerts.
    #[schema(value_type = Vec<String>)]
    pub channels: Vec<ChannelId>,
}

impl HeartbeatJson {
    pub fn of(hb: &Heartbeat, ping_base: &str, channels: Vec<ChannelId>) -> Self {
        let (t, schedule) = (&hb.timing, hb.schedule());
        HeartbeatJson {
            id: hb.id,
            name: hb.name.clone(),
            description: hb.description.clone(),
            status: t.status,
            mode: hb.mode,
            early_warning: (hb.mode == HeartbeatMode::Ai).then_some(t.status == Status::Late),
            ping_url: hb.ping_url(ping_base),
            interval: schedule.interval_secs(),
            grace: schedule.grace_secs(),
            max_runtime: t.limits.max_runtime().map(|d| d.num_seconds()),
            progress_timeout: t.limits.progress_timeout().map(|d| d.num_seconds()),
            time_zone: hb.time_zone,
            last_ping_at: t.last_ping_at,
            due_at: t.due_at,
            started_at: t.started_at,
            created_at: hb.created_at,
            channels,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct HeartbeatList {
    pub heartbeats: Vec<HeartbeatJson>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// A new heartbeat.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateHeartbeat {
    /// 1 to 200 characters; need not be unique.
    pub name: String,
    /// What the job is, for people (optional).
    #[serde(default)]
    pub description: String,
    /// Expected seconds between pings (1 s to 400 days).
    pub interval: i64,
    /// Seconds of lateness tolerated (0 s to 400 days).
    pub grace: i64,
    #[serde(default)]
    pub max_runtime: Option<i64>,
    #[serde(default)]
    pub progress_timeout: Option<i64>,
    /// An IANA time zone such as `Europe/Paris`; absent or `null`: the team's zone.
    #[serde(default)]
    #[schema(example = "Europe/Paris")]
    pub time_zone: Option<String>,
    /// Channel ids of the team that get its alerts.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub channels: Vec<ChannelId>,
    /// `fixed` (the default) or `ai`: AI heartbeats are part of Premium and Enterprise (403
    /// `plan_limit` otherwise, with `upgrade_url`).
    #[serde(default)]
    #[schema(value_type = Option<String>, example = "fixed")]
    pub mode: Option<HeartbeatMode>,
}

/// Any subset of the fields; those absent keep their value. `max_runtime` and
/// `progress_timeout` may be `null` to remove the limit, `time_zone` `null` to follow the team's
/// zone again; `channels` replaces the whole list.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditHeartbeat {
    pub name: Option<String>,
    pub description: Option<String>,
    pub interval: Option<i64>,
    pub grace: Option<i64>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub max_runtime: Option<Option<i64>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>)]
    pub progress_timeout: Option<Option<i64>>,
    /// An IANA time zone such as `Europe/Paris`; `null`: the team's zone.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>, example = "Europe/Paris")]
    pub time_zone: Option<Option<String>>,
    #[schema(value_type = Option<Vec<String>>)]
    pub channels: Option<Vec<ChannelId>>,
    /// `fixed` or `ai` (Premium and Enterprise; 403 `plan_limit` otherwise, with
    /// `upgrade_url`). Back to `fixed`, the deadlines follow `interval` and `grace` at once.
    #[schema(value_type = Option<String>, example = "ai")]
    pub mode: Option<HeartbeatMode>,
}

/// A field that is present, maybe `null` (absent fields take the `default`, `None`).
fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

impl EditHeartbeat {
    fn touches_schedule(&self) -> bool {
        self.interval.is_some()
            || self.grace.is_some()
            || self.max_runtime.is_some()
            || self.progress_timeout.is_some()
    }

    /// Whether it changes anything besides the mode.
    fn edits_fields(&self) -> bool {
        self.touches_schedule()
            || self.name.is_some()
            || self.description.is_some()
            || self.time_zone.is_some()
            || self.channels.is_some()
    }

    fn is_empty(&self) -> bool {
        !self.edits_fields() && self.mode.is_none()
    }
}

const MANAGE: &str = "manage heartbeats";

/// The plan gate of AI mode, checked before anything changes (the store checks it again under
/// the team's row lock), with the upgrade link.
fn may_use(
    state: &AppState,
    scope: &TeamScope,
    mode: Option<HeartbeatMode>,
) -> Result<(), ApiError> {
    if mode == Some(HeartbeatMode::Ai) && !scope.plan().limits().ai_heartbeats {
        return Err(upgradable(state)(ai::refused_on(scope.plan())));
    }
    Ok(())
}

/// A store error as the API answers it, a plan limit with the link to the upgrade.
fn upgradable(state: &AppState) -> impl Fn(StoreError) -> ApiError + '_ {
    |e| ApiError::from(e).with_upgrade_link(&state.settings.public_url)
}

/// Read-only keys are refused before the body is checked, so they get 403 whatever they send.
fn may_change(caller: &ApiCaller) -> Result<(), ApiError> {
    Ok(caller.0.scope.require(Role::Member, MANAGE)?)
}

fn name(raw: &str) -> Result<HeartbeatName, ApiError> {
    HeartbeatName::parse(raw).map_err(|e| ApiError::invalid(e.to_string()))
}

fn description(raw: &str) -> Result<String, ApiError> {
    HeartbeatDescription::parse(raw)
        .map(HeartbeatDescription::into_string)
        .map_err(|e| ApiError::invalid(format!("description: {e}")))
}

fn schedule(interval: i64, grace: i64) -> Result<Schedule, ApiError> {
    Schedule::from_secs(interval, grace).map_err(|e| ApiError::invalid(e.to_string()))
}

/// A zone out of the tz database is a value out of range (422), as a bad interval is.
fn time_zone(raw: &str) -> Result<TimeZoneName, ApiError> {
    TimeZoneName::parse(raw).map_err(|e| ApiError::invalid(e.to_string()))
}

fn limits(max_runtime: Option<i64>, progress_timeout: Option<i64>) -> Result<RunLimits, ApiError> {
    RunLimits::from_secs(max_runtime, progress_timeout)
        .map_err(|e| ApiError::invalid(e.to_string()))
}

/// Every channel must be one of the team's: an unknown id is a mistake in the body (422), not
/// a missing heartbeat (404).
async fn check_channels(
    conn: &mut PgConn,
    scope: &TeamScope,
    wanted: &[ChannelId],
) -> Result<(), ApiError> {
    if wanted.is_empty() {
        return Ok(());
    }
    let team: Vec<ChannelId> = channels::list(conn, scope)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    match wanted.iter().find(|id| !team.contains(id)) {
        Some(unknown) => Err(ApiError::invalid(format!(
            "channels: `{unknown}` is not a channel of this team (GET /api/v1/channels lists them)"
        ))),
        None => Ok(()),
    }
}

/// One heartbeat as JSON, with its channels.
async fn json_of(
    state: &AppState,
    conn: &mut PgConn,
    scope: &TeamScope,
    hb: &Heartbeat,
) -> Result<HeartbeatJson, ApiError> {
    let channels = heartbeats::channel_ids(conn, scope, hb.id).await?;
    Ok(HeartbeatJson::of(hb, &state.settings.ping_url, channels))
}

/// The team's heartbeats by name (then id), a page at a time.
#[utoipa::path(
    get,
    path = "/api/v1/heartbeats",
    operation_id = "list_heartbeats",
    tag = "heartbeats",
    params(PageQuery),
    responses(
        (status = 200, description = "A page of heartbeats (default 100, at most 500)", body = HeartbeatList),
        (status = 400, description = "Malformed query or cursor", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 422, description = "`limit` out of range", body = ErrorBody),
        (status = 429, description = "Rate limit", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(
    caller: ApiCaller,
    state: web::Data<AppState>,
    query: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = query.limit(LIST_DEFAULT, LIST_MAX)?;
    let cursor = query.cursor::<HeartbeatCursor>()?;
    let scope = &caller.0.scope;
    let mut conn = state.conn().await?;
    let (page, next) = heartbeats::list_page(&mut conn, scope, cursor, limit).await?;
    let ids: Vec<_> = page.iter().map(|hb| hb.id).collect();
    let mut channels: HashMap<_, _> = heartbeats::channel_ids_of(&mut conn, scope, &ids).await?;
    let heartbeats = page
        .iter()
        .map(|hb| {
            let of = channels.remove(&hb.id).unwrap_or_default();
            HeartbeatJson::of(hb, &state.settings.ping_url, of)
        })
        .collect();
    Ok(HttpResponse::Ok().json(HeartbeatList {
        heartbeats,
        next_cursor: next.map(|c| c.to_string()),
    }))
}

/// Creates a heartbeat. It is `new` until its first ping.
#[utoipa::path(
    post,
    path = "/api/v1/heartbeats",
    operation_id = "create_heartbeat",
    tag = "heartbeats",
    request_body = CreateHeartbeat,
    responses(
        (status = 201, description = "Created", body = HeartbeatJson),
        (status = 400, description = "Malformed JSON, a wrong type, an unknown field", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 403, description = "Read-only key (`forbidden`), or the plan's heartbeat limit or AI mode on a plan without it (`plan_limit`, with `upgrade_url`)", body = ErrorBody),
        (status = 409, description = "Conflicts with an existing row", body = ErrorBody),
        (status = 422, description = "A name, interval, grace, limit, time zone or channel that is not allowed", body = ErrorBody),
        (status = 429, description = "Rate limit", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    caller: ApiCaller,
    state: web::Data<AppState>,
    body: Result<web::Json<CreateHeartbeat>, actix_web::Error>,
) -> Result<HttpResponse, ApiError> {
    may_change(&caller)?;
    let body = read_body(body)?;
    let mode = body.mode.unwrap_or(HeartbeatMode::Fixed);
    let new = NewHeartbeat {
        name: name(&body.name)?,
        description: description(&body.description)?,
        schedule: schedule(body.interval, body.grace)?,
        limits: limits(body.max_runtime, body.progress_timeout)?,
        time_zone: body.time_zone.as_deref().map(time_zone).transpose()?,
        channels: body.channels,
    };
    let scope = &caller.0.scope;
    may_use(&state, scope, Some(mode))?;
    let mut conn = state.conn().await?;
    check_channels(&mut conn, scope, &new.channels).await?;
    let hb = actions::heartbeats::create(&state, &mut conn, &caller.0, new, mode)
        .await
        .map_err(upgradable(&state))?;
    let json = json_of(&state, &mut conn, scope, &hb).await?;
    Ok(HttpResponse::Created()
        .insert_header((
            actix_web::http::header::LOCATION,
            format!("/api/v1/heartbeats/{}", hb.id),
        ))
        .json(json))
}

/// One heartbeat.
#[utoipa::path(
    get,
    path = "/api/v1/heartbeats/{id}",
    operation_id = "get_heartbeat",
    tag = "heartbeats",
    params(("id" = String, Path, format = Uuid, description = "The heartbeat's id; not a UUID → 404")),
    responses(
        (status = 200, description = "The heartbeat", body = HeartbeatJson),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 404, description = "No such heartbeat in the key's team", body = ErrorBody),
        (status = 429, description = "Rate limit", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn get(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let id = heartbeat_id(&path)?;
    let scope = &caller.0.scope;
    let mut conn = state.conn().await?;
    let hb = heartbeats::find(&mut conn, scope, id)
        .await
        .map_err(on_heartbeat(&path))?;
    Ok(HttpResponse::Ok().json(json_of(&state, &mut conn, scope, &hb).await?))
}

/// Changes any subset of name, description, schedule, run limits, time zone, channels and mode.
/// A new schedule moves the deadlines from the last ping; so does going back to fixed mode.
#[utoipa::path(
    patch,
    path = "/api/v1/heartbeats/{id}",
    operation_id = "edit_heartbeat",
    tag = "heartbeats",
    params(("id" = String, Path, format = Uuid, description = "The heartbeat's id")),
    request_body = EditHeartbeat,
    responses(
        (status = 200, description = "The heartbeat as changed", body = HeartbeatJson),
        (status = 400, description = "Malformed JSON, a wrong type, an unknown field", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 403, description = "Read-only key (`forbidden`), or AI mode on a plan without it (`plan_limit`, with `upgrade_url`)", body = ErrorBody),
        (status = 404, description = "No such heartbeat in the key's team", body = ErrorBody),
        (status = 422, description = "A value that is not allowed", body = ErrorBody),
        (status = 429, description = "Rate limit", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn edit(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: Result<web::Json<EditHeartbeat>, actix_web::Error>,
) -> Result<HttpResponse, ApiError> {
    may_change(&caller)?;
    let id = heartbeat_id(&path)?;
    let body = read_body(body)?;
    let scope = &caller.0.scope;
    let mut conn = state.conn().await?;
    let current = heartbeats::find(&mut conn, scope, id)
        .await
        .map_err(on_heartbeat(&path))?;
    if body.is_empty() {
        return Ok(HttpResponse::Ok().json(json_of(&state, &mut conn, scope, &current).await?));
    }
    may_use(&state, scope, body.mode)?;
    let edits_fields = body.edits_fields();
    let mut changes = HeartbeatChanges {
        name: body.name.as_deref().map(name).transpose()?,
        ..HeartbeatChanges::default()
    };
    changes.description = body.description.as_deref().map(description).transpose()?;
    if body.touches_schedule() {
        // Values not given keep the heartbeat's current ones.
        let (now, limits_now) = (current.schedule(), current.timing.limits);
        let secs = |d: Option<chrono::Duration>| d.map(|d| d.num_seconds());
        changes.schedule = Some((
            schedule(
                body.interval.unwrap_or(now.interval_secs()),
                body.grace.unwrap_or(now.grace_secs()),
            )?,
            limits(
                body.max_runtime
                    .unwrap_or_else(|| secs(limits_now.max_runtime())),
                body.progress_timeout
                    .unwrap_or_else(|| secs(limits_now.progress_timeout())),
            )?,
        ));
    }
    if let Some(wanted) = &body.time_zone {
        changes.time_zone = Some(wanted.as_deref().map(time_zone).transpose()?);
    }
    if let Some(wanted) = body.channels {
        check_channels(&mut conn, scope, &wanted).await?;
        changes.channels = Some(wanted);
    }
    let mut hb = if edits_fields {
        actions::heartbeats::edit(&state, &mut conn, &caller.0, id, changes)
            .await
            .map_err(on_heartbeat(&path))?
    } else {
        current
    };
    if let Some(to) = body.mode {
        hb = actions::heartbeats::switch_mode(&state, &mut conn, &caller.0, id, to)
            .await
            .map_err(upgradable(&state))?
            .heartbeat;
    }
    Ok(HttpResponse::Ok().json(json_of(&state, &mut conn, scope, &hb).await?))
}

/// Deletes a heartbeat with its history; its ping URL stops working at once.
#[utoipa::path(
    delete,
    path = "/api/v1/heartbeats/{id}",
    operation_id = "delete_heartbeat",
    tag = "heartbeats",
    params(("id" = String, Path, format = Uuid, description = "The heartbeat's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 403, description = "Read-only key", body = ErrorBody),
        (status = 404, description = "No such heartbeat in the key's team", body = ErrorBody),
        (status = 429, description = "Rate limit", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn delete(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    may_change(&caller)?;
    let id = heartbeat_id(&path)?;
    let mut conn = state.conn().await?;
    actions::heartbeats::delete(&state, &mut conn, &caller.0, id)
        .await
        .map_err(on_heartbeat(&path))?;
    Ok(HttpResponse::NoContent().finish())
}

/// The three one-word changes: pause, resume, rotate.
#[derive(Clone, Copy)]
enum Verb {
    Pause,
    Resume,
    Rotate,
}

async fn act(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
    verb: Verb,
) -> Result<HttpResponse, ApiError> {
    may_change(&caller)?;
    let id = heartbeat_id(&path)?;
    let scope = &caller.0.scope;
    let mut conn = state.conn().await?;
    let done = match verb {
        Verb::Pause => actions::heartbeats::pause(&mut conn, &caller.0, id).await,
        Verb::Resume => actions::heartbeats::resume(&state, &mut conn, &caller.0, id).await,
        Verb::Rotate => actions::heartbeats::rotate(&state, &mut conn, &caller.0, id).await,
    };
    let hb = done.map_err(on_heartbeat(&path))?;
    Ok(HttpResponse::Ok().json(json_of(&state, &mut conn, scope, &hb).await?))
}

/// Stops monitoring until the next ping or `resume`: no deadlines, no alerts.
#[utoipa::path(
    post,
    path = "/api/v1/heartbeats/{id}/pause",
    operation_id = "pause_heartbeat",
    tag = "heartbeats",
    params(("id" = String, Path, format = Uuid, description = "The heartbeat's id")),
    responses(
        (status = 200, description = "The paused heartbeat", body = HeartbeatJson),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 403, description = "Read-only key", body = ErrorBody),
        (status = 404, description = "No such heartbeat in the key's team", body = ErrorBody),
        (status = 429, description = "Rate limit", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn pause(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    act(caller, state, path, Verb::Pause).await
}

/// Resumes monitoring with a full interval and grace from now.
#[utoipa::path(
    post,
    path = "/api/v1/heartbeats/{id}/resume",
    operation_id = "resume_heartbeat",
    tag = "heartbeats",
    params(("id" = String, Path, format = Uuid, description = "The heartbeat's id")),
    responses(
        (status = 200, description = "The resumed heartbeat", body = HeartbeatJson),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 403, description = "Read-only key", body = ErrorBody),
        (status = 404, description = "No such heartbeat in the key's team", body = ErrorBody),
        (status = 429, description = "Rate limit", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn resume(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    act(caller, state, path, Verb::Resume).await
}

/// Gives the heartbeat a new ping URL; the old one stops working within a second.
#[utoipa::path(
    post,
    path = "/api/v1/heartbeats/{id}/rotate",
    operation_id = "rotate_heartbeat",
    tag = "heartbeats",
    params(("id" = String, Path, format = Uuid, description = "The heartbeat's id")),
    responses(
        (status = 200, description = "The heartbeat with its new `ping_url`", body = HeartbeatJson),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 403, description = "Read-only key", body = ErrorBody),
        (status = 404, description = "No such heartbeat in the key's team", body = ErrorBody),
        (status = 429, description = "Rate limit", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn rotate(
    caller: ApiCaller,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    act(caller, state, path, Verb::Rotate).await
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn a_patch_tells_absent_from_null() {
        let edit: EditHeartbeat = serde_json::from_str(r#"{"max_runtime": null}"#).unwrap();
        assert_eq!(edit.max_runtime, Some(None), "null removes the limit");
        assert_eq!(edit.progress_timeout, None, "absent keeps it");
        assert!(edit.touches_schedule());
        let edit: EditHeartbeat = serde_json::from_str(r#"{"max_runtime": 60}"#).unwrap();
        assert_eq!(edit.max_runtime, Some(Some(60)));
        let edit: EditHeartbeat = serde_json::from_str("{}").unwrap();
        assert!(edit.is_empty());
        let edit: EditHeartbeat = serde_json::from_str(r#"{"time_zone": null}"#).unwrap();
        assert_eq!(
            edit.time_zone,
            Some(None),
            "null returns to the team's zone"
        );
        assert!(!edit.is_empty());
        let err = serde_json::from_str::<EditHeartbeat>(r#"{"intervl": 60}"#).unwrap_err();
        assert!(err.to_string().contains("unknown field `intervl`"), "{err}");
    }
}
