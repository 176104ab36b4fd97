//! `/api/v1/openapi.json`: the API's OpenAPI 3 description, generated from the handlers'
//! `#[utoipa::path]` and the bodies' `ToSchema`, so it cannot drift from the code. Public (no key
//! needed): it describes the API, not a team's data.

use std::sync::OnceLock;

use actix_web::HttpResponse;
use actix_web::http::header::ContentType;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{channels, error, heartbeats, history};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Lifeline management API",
        description = "Manage a team's heartbeats and channels from scripts. Authenticate with a \
            team API key (dashboard → API keys, or `lifeline admin api-key create`) as \
            `Authorization: Bearer ll_…`; read-only keys may only read. Errors are \
            `{\"error\": {\"code\": …, \"message\": …}}`: 400 `bad_request` (malformed JSON or \
            query, wrong type, unknown field), 401 `unauthorized` (no, malformed or revoked key), \
            403 `forbidden` (read-only key) or `plan_limit`, 404 `not_found` (no such id in the \
            key's team, including ids that are not UUIDs), 409 `conflict`, 422 `invalid` (a value \
            out of its range), 429 `rate_limited` (with `Retry-After`). Lists are paginated with \
            `limit` and the opaque `cursor` from the previous page's `next_cursor`.",
        version = "1"
    ),
    paths(
        heartbeats::list,
        heartbeats::create,
        heartbeats::get,
        heartbeats::edit,
        heartbeats::delete,
        heartbeats::pause,
        heartbeats::resume,
        heartbeats::rotate,
        history::pings,
        history::incidents,
        channels::list,
        channels::create,
        document,
    ),
    components(schemas(error::ErrorBody, error::ErrorDetail)),
    modifiers(&BearerKey),
    tags(
        (name = "heartbeats", description = "Monitored jobs"),
        (name = "history", description = "What a heartbeat received and went through"),
        (name = "channels", description = "Where alerts go"),
        (name = "meta", description = "This description"),
    )
)]
struct ApiDoc;

/// The `bearer` security scheme every keyed route names.
struct BearerKey;

impl Modify for BearerKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("ll_ API key")
                    .build(),
            ),
        );
    }
}

/// The document as JSON text, built once.
pub fn json() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        ApiDoc::openapi().to_json().unwrap_or_else(|e| {
            tracing::error!(error = %e, "OpenAPI document not serialisable");
            String::from("{}")
        })
    })
}

/// This document.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    operation_id = "openapi",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI 3 description of this API", content_type = "application/json")),
)]
pub async fn document() -> HttpResponse {
    HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(json())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    #[test]
    fn the_document_describes_every_api_route() {
        let doc: serde_json::Value = serde_json::from_str(super::json()).unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
        let api_routes: Vec<_> = crate::routes::table()
            .into_iter()
            .filter(|r| r.path.starts_with("/api/v1/"))
            .collect();
        assert!(api_routes.len() >= 13, "{api_routes:?}");
        for route in api_routes {
            let method = route.method.as_str().to_lowercase();
            assert!(
                doc["paths"][route.path][&method].is_object(),
                "{method} {} is not described",
                route.path
            );
        }
        assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    }
}
