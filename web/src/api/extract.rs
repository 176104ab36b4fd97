//! How the API reads requests, and what it answers when it cannot:
//! - a body that is not JSON, has a wrong type, a missing or an unknown field: 400 `bad_request`
//!   with serde's message (which names the field, line and column);
//! - a query string that does not parse (`limit=ten`): 400 `bad_request`;
//! - a well-formed value outside its range (`limit=0`, an interval of 0 s): 422 `invalid`;
//! - an id in a path that is not a UUID: 404 `not_found`, the answer for any id that names
//!   nothing this key can see, so a script has one case to handle, not two.
//!
//! The JSON and query configurations are app-wide (actix reads them from app data); for paths
//! outside `/api/` they keep actix's own answers, so pages are unaffected.

use actix_web::{HttpRequest, web};
use lifeline_domain::HeartbeatId;
use serde::Deserialize;

use super::ApiError;

/// Largest JSON body accepted.
const MAX_JSON_BYTES: usize = 64 * 1024;

fn is_api(req: &HttpRequest) -> bool {
    req.path().starts_with("/api/")
}

pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(MAX_JSON_BYTES)
        .error_handler(|err, req| {
            if !is_api(req) {
                return err.into();
            }
            use actix_web::error::JsonPayloadError as E;
            let message = match &err {
                E::Deserialize(e) => format!("the JSON body does not fit: {e}"),
                E::ContentType => {
                    "send the body as JSON with `Content-Type: application/json`".to_owned()
                }
                E::Overflow { .. } | E::OverflowKnownLength { .. } => {
                    format!("the body is larger than {} KiB", MAX_JSON_BYTES / 1024)
                }
                other => format!("cannot read the body: {other}"),
            };
            ApiError::bad_request(message).into()
        })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, req| {
        if !is_api(req) {
            return err.into();
        }
        let detail = match &err {
            actix_web::error::QueryPayloadError::Deserialize(e) => e.to_string(),
            other => other.to_string(),
        };
        ApiError::bad_request(format!("the query string does not fit: {detail}")).into()
    })
}

/// `?limit=&cursor=` of a paginated list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// Most entries in one page (see the route for its default and maximum).
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page; absent for the first page.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The page size: `default` when absent, 422 outside `1..=max`.
    pub fn limit(&self, default: u32, max: u32) -> Result<i64, ApiError> {
        match self.limit {
            None => Ok(i64::from(default)),
            Some(n) if (1..=max).contains(&n) => Ok(i64::from(n)),
            Some(n) => Err(ApiError::invalid(format!(
                "limit must be between 1 and {max}, got {n}"
            ))),
        }
    }

    /// The cursor parsed as the list's cursor type; 400 when it is not one.
    pub fn cursor<C>(&self) -> Result<Option<C>, ApiError>
    where
        C: std::str::FromStr,
        C::Err: std::fmt::Display,
    {
        self.cursor
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(|c| {
                c.parse::<C>()
                    .map_err(|e| ApiError::bad_request(format!("cursor: {e}")))
            })
            .transpose()
    }
}

/// A heartbeat id from the path; not a UUID → 404 (see the module's notes).
pub fn heartbeat_id(raw: &str) -> Result<HeartbeatId, ApiError> {
    HeartbeatId::parse(raw).map_err(|_| no_heartbeat(raw))
}

fn no_heartbeat(raw: &str) -> ApiError {
    ApiError::not_found(format!("no heartbeat `{raw}` in this team"))
}

/// Store errors about the heartbeat `raw` of the path, with "not found" saying which.
pub fn on_heartbeat(raw: &str) -> impl Fn(lifeline_store::StoreError) -> ApiError + '_ {
    move |e| match e {
        lifeline_store::StoreError::NotFound => no_heartbeat(raw),
        e => e.into(),
    }
}
