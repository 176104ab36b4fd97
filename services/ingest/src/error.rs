use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{ALLOW, CONTENT_TYPE, HeaderValue, RETRY_AFTER};
use actix_web::{HttpResponse, ResponseError};

use crate::routes::PING_METHODS;

/// The content type of every answer of the ping API; a constant, so no answer copies it (the
/// storage-free `bench_baseline` answers with it too).
pub const TEXT_PLAIN: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");

/// Every way a ping can be refused, with the status the ping API promises for it.
#[derive(Debug, thiserror::Error)]
pub enum PingError {
    #[error("not found: no heartbeat has this ping URL")]
    UnknownHeartbeat,
    #[error("not found: {0}")]
    UnknownSignal(String),
    #[error("method not allowed: ping with {}", PING_METHODS.join(", "))]
    MethodNotAllowed,
    #[error("too many pings for this heartbeat; retry after {} s", .0.as_secs())]
    RateLimited(Duration),
    #[error(
        "too many pings to unknown ping URLs from this address; retry after {} s",
        .0.as_secs()
    )]
    TooManyUnknown(Duration),
    #[error("request body larger than 10 MB")]
    TooLarge,
    #[error("could not read the request body: {0}")]
    BadBody(String),
    #[error("ping not recorded: storage is unavailable, retry shortly")]
    Unavailable(String),
}

impl PingError {
    /// The `result` label of `lifeline_pings_total`.
    pub fn label(&self) -> &'static str {
        match self {
            PingError::UnknownHeartbeat | PingError::UnknownSignal(_) => "not_found",
            PingError::MethodNotAllowed => "method_not_allowed",
            PingError::RateLimited(_) => "rate_limited",
            PingError::TooManyUnknown(_) => "unknown_limited",
            PingError::TooLarge => "too_large",
            PingError::BadBody(_) => "bad_request",
            PingError::Unavailable(_) => "unavailable",
        }
    }
}

impl ResponseError for PingError {
    fn status_code(&self) -> StatusCode {
        match self {
            PingError::UnknownHeartbeat | PingError::UnknownSignal(_) => StatusCode::NOT_FOUND,
            PingError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            PingError::RateLimited(_) | PingError::TooManyUnknown(_) => {
                StatusCode::TOO_MANY_REQUESTS
            }
            PingError::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            PingError::BadBody(_) => StatusCode::BAD_REQUEST,
            PingError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    fn error_response(&self) -> HttpResponse {
        metrics::counter!("lifeline_pings_total", "result" => self.label()).increment(1);
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((CONTENT_TYPE, TEXT_PLAIN));
        match self {
            PingError::MethodNotAllowed => {
                response.insert_header((ALLOW, PING_METHODS.join(", ")));
            }
            PingError::RateLimited(after) | PingError::TooManyUnknown(after) => {
                response.insert_header((RETRY_AFTER, after.as_secs().to_string()));
            }
            PingError::Unavailable(cause) => {
                tracing::warn!(%cause, "ping answered 503");
                response.insert_header((RETRY_AFTER, "1"));
            }
            _ => {}
        }
        response.body(format!("{self}\n"))
    }
}
