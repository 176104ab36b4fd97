//! The management API under `/api/v1/`.

use crate::routes::Routes;

pub fn routes(_r: &mut Routes<'_>) {}

/// The API's answer for a path it does not have.
pub fn not_found() -> actix_web::HttpResponse {
    actix_web::HttpResponse::NotFound().json(serde_json::json!({
        "error": { "code": "not_found", "message": "no such API route" }
    }))
}
