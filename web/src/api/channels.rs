//! `/api/v1/channels`: the team's alert channels. A webhook's signing secret is shown once, in
//! the answer to its creation, and never listed.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use lifeline_domain::{ChannelId, ChannelKind, Role};
use lifeline_store::channels::{self, Channel};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::read_body;
use super::{ApiCaller, ApiError, ErrorBody};
use crate::actions;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct ChannelJson {
    #[schema(value_type = String, format = Uuid)]
    pub id: ChannelId,
    /// `email`, `webhook` or `slack`.
    #[schema(value_type = String, example = "webhook")]
    pub kind: ChannelKind,
    pub name: String,
    /// The email address or URL alerts go to.
    pub target: String,
    pub created_at: DateTime<Utc>,
}

impl From<&Channel> for ChannelJson {
    fn from(c: &Channel) -> Self {
        ChannelJson {
            id: c.id,
            kind: c.kind,
            name: c.name.clone(),
            target: c.target.clone(),
            created_at: c.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ChannelList {
    pub channels: Vec<ChannelJson>,
}

/// A created channel; a webhook's `secret` signs its requests (`whsec_…`), shown only here.
#[derive(Serialize, ToSchema)]
pub struct CreatedChannel {
    #[serde(flatten)]
    pub channel: ChannelJson,
    pub secret: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateChannel {
    /// `email`, `webhook` or `slack`.
    #[schema(value_type = String, example = "webhook")]
    pub kind: ChannelKind,
    /// An email address, or the webhook / Slack incoming-webhook URL.
    pub target: String,
    /// A label for people; defaults to the target.
    pub name: Option<String>,
}

/// The team's channels, oldest first.
#[utoipa::path(
    get,
    path = "/api/v1/channels",
    operation_id = "list_channels",
    tag = "channels",
    responses(
        (status = 200, description = "The team's channels", body = ChannelList),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 429, description = "Rate limit", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn list(caller: ApiCaller, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut conn = state.conn().await?;
    let found = channels::list(&mut conn, &caller.0.scope).await?;
    Ok(HttpResponse::Ok().json(ChannelList {
        channels: found.iter().map(ChannelJson::from).collect(),
    }))
}

/// Creates an alert channel; attach it to heartbeats with their `channels`.
#[utoipa::path(
    post,
    path = "/api/v1/channels",
    operation_id = "create_channel",
    tag = "channels",
    request_body = CreateChannel,
    responses(
        (status = 201, description = "Created (with a webhook's signing secret, shown once)", body = CreatedChannel),
        (status = 400, description = "Malformed JSON, an unknown kind or field", body = ErrorBody),
        (status = 401, description = "No valid key", body = ErrorBody),
        (status = 403, description = "Read-only key", body = ErrorBody),
        (status = 422, description = "A target that cannot be used", body = ErrorBody),
        (status = 429, description = "Rate limit", body = ErrorBody),
    ),
    security(("bearer" = []))
)]
pub async fn create(
    caller: ApiCaller,
    state: web::Data<AppState>,
    body: Result<web::Json<CreateChannel>, actix_web::Error>,
) -> Result<HttpResponse, ApiError> {
    caller.0.scope.require(Role::Admin, "manage channels")?;
    let body = read_body(body)?;
    let mut conn = state.conn().await?;
    let (channel, secret) = actions::channels::create(
        &state,
        &mut conn,
        &caller.0,
        body.kind,
        &body.target,
        body.name.as_deref(),
    )
    .await?;
    Ok(HttpResponse::Created().json(CreatedChannel {
        channel: ChannelJson::from(&channel),
        secret,
    }))
}
