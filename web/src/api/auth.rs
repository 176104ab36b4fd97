//! `Authorization: Bearer <key>`: the key's team becomes the caller's scope. Read-write keys act
//! as a team admin (heartbeats and channels), read-only keys as a viewer, so every change they
//! attempt is refused with 403 by the same role checks the pages use. Each call counts against
//! the key's rate limit (`rate_limit`).

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header::AUTHORIZATION;
use actix_web::http::{Method, StatusCode};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use lifeline_domain::Role;
use lifeline_store::audit::Actor;
use lifeline_store::{StoreError, TeamScope};

use super::ApiError;
use crate::actions::Caller;
use crate::state::AppState;

/// A management API call with a valid key.
#[derive(Clone, Debug)]
pub struct ApiCaller(pub Caller);

impl FromRequest for ApiCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let header = req
                .headers()
                .get(AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| {
                    ApiError::unauthorized("send a team API key as `Authorization: Bearer <key>`")
                })?;
            let key = header
                .strip_prefix("Bearer ")
                .map(str::trim)
                .ok_or_else(|| {
                    ApiError::unauthorized("the Authorization header must be `Bearer <key>`")
                })?;
            let hash = lifeline_auth::api_key::presented(key)
                .ok_or_else(|| ApiError::unauthorized("this is not a Lifeline API key"))?;
            let state = req
                .app_data::<web::Data<AppState>>()
                .ok_or_else(|| ApiError::bad_request("no state"))?;
            let mut conn = state.conn().await?;
            let found = match TeamScope::for_api_key(&mut conn, &hash).await {
                Ok(found) => found,
                Err(StoreError::NotFound) => {
                    return Err(ApiError::unauthorized("unknown or revoked API key"));
                }
                Err(e) => return Err(e.into()),
            };
            drop(conn);
            super::rate_limit::check(state, found.key_id).await?;
            // A read-only key changes nothing: refused here, before the request's body is read,
            // so the answer is 403 whatever the body holds.
            let reads = matches!(*req.method(), Method::GET | Method::HEAD);
            if !reads && !found.scope.role().at_least(Role::Member) {
                return Err(ApiError::new(
                    StatusCode::FORBIDDEN,
                    "forbidden",
                    "this API key is read-only: it reads as a team viewer and changes nothing",
                ));
            }
            Ok(ApiCaller(Caller {
                scope: found.scope,
                actor: Actor::ApiKey(found.key_id),
            }))
        })
    }
}
