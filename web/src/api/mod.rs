//! The management API under `/api/v1/`: JSON for scripts, authenticated by team API keys
//! (`Authorization: Bearer ll_…`). Errors are `{"error": {"code": "…", "message": "…"}}`;
//! `extract` says which status each kind of bad request gets. The OpenAPI description is served
//! at `/api/v1/openapi.json`.

mod auth;
mod channels;
mod error;
mod extract;
mod heartbeats;
mod history;
pub mod openapi;
mod rate_limit;

pub use auth::ApiCaller;
pub use error::{ApiError, ErrorBody};
pub use extract::{json_config, query_config};

use crate::routes::Routes;

pub fn routes(r: &mut Routes<'_>) {
    r.get("/api/v1/openapi.json", openapi::document);
    r.get("/api/v1/heartbeats", heartbeats::list)
        .post("/api/v1/heartbeats", heartbeats::create)
        .get("/api/v1/heartbeats/{id}", heartbeats::get)
        .patch("/api/v1/heartbeats/{id}", heartbeats::edit)
        .delete("/api/v1/heartbeats/{id}", heartbeats::delete)
        .post("/api/v1/heartbeats/{id}/pause", heartbeats::pause)
        .post("/api/v1/heartbeats/{id}/resume", heartbeats::resume)
        .post("/api/v1/heartbeats/{id}/rotate", heartbeats::rotate)
        .get("/api/v1/heartbeats/{id}/pings", history::pings)
        .get("/api/v1/heartbeats/{id}/incidents", history::incidents);
    r.get("/api/v1/channels", channels::list)
        .post("/api/v1/channels", channels::create);
}

/// The API's answer for a path it does not have.
pub fn not_found() -> actix_web::HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::not_found("no such API route"))
}
