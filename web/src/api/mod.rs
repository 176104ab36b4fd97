//! The management API under `/api/v1/`: JSON for scripts, authenticated by team API keys
//! (`Authorization: Bearer ll_…`). Errors are `{"error": {"code": "…", "message": "…"}}`.

mod auth;
mod error;

pub use auth::ApiCaller;
pub use error::ApiError;

use crate::routes::Routes;

pub fn routes(_r: &mut Routes<'_>) {}

/// The API's answer for a path it does not have.
pub fn not_found() -> actix_web::HttpResponse {
    actix_web::ResponseError::error_response(&ApiError::not_found("no such API route"))
}
