use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use lifeline_store::StoreError;
use serde::Serialize;

/// An API error: a status chosen on purpose, a stable machine-readable `code`, and a message
/// for the person reading the script's output.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds for the `Retry-After` header (429).
    pub retry_after: Option<u64>,
    /// Where the team upgrades its plan (`plan_limit`).
    pub upgrade_url: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable: `bad_request`, `unauthorized`, `forbidden`, `not_found`, `conflict`,
    /// `invalid`, `plan_limit`, `rate_limited`, `unavailable`, `internal`.
    pub code: String,
    pub message: String,
    /// With `plan_limit`: the dashboard page where the team's plan is upgraded.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "https://lifeline.example.com/billing")]
    pub upgrade_url: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            retry_after: None,
            upgrade_url: None,
        }
    }

    /// A `plan_limit` error gets the link to the plan's upgrade on the dashboard at
    /// `public_url`; any other error is returned as it is.
    pub fn with_upgrade_link(mut self, public_url: &str) -> Self {
        if self.code == "plan_limit" {
            self.upgrade_url = Some(format!("{}/billing", public_url.trim_end_matches('/')));
        }
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
    }

    pub fn rate_limited(limit: u32, retry_after: u64) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "this key made more than {limit} calls this minute; retry in {retry_after} s"
                ),
            )
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::not_found("not found"),
            StoreError::Invalid(m) if m.starts_with("already exists") => {
                ApiError::new(StatusCode::CONFLICT, "conflict", m)
            }
            StoreError::Invalid(m) => ApiError::invalid(m),
            StoreError::Forbidden(m) => ApiError::new(StatusCode::FORBIDDEN, "forbidden", m),
            // 403, not 402: the key is valid, its team's plan does not allow the change.
            StoreError::PlanLimit(m) => ApiError::new(StatusCode::FORBIDDEN, "plan_limit", m),
            StoreError::Unavailable(m) => {
                tracing::warn!(error = %m, "database unavailable");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the database is unavailable; retry in a minute",
                )
            }
            StoreError::Database(e) => {
                tracing::error!(error = %e, "API call failed");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            }
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(seconds) = self.retry_after {
            response.insert_header((actix_web::http::header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message.clone(),
                upgrade_url: self.upgrade_url.clone(),
            },
        })
    }
}

/// A JSON body, read only after the caller's rights were checked: actix extracts a handler's
/// arguments together, so a body error could otherwise answer before a refused caller's 403.
pub fn read_body<T>(
    read: Result<actix_web::web::Json<T>, actix_web::Error>,
) -> Result<T, ApiError> {
    read.map(actix_web::web::Json::into_inner).map_err(|e| {
        e.as_error::<ApiError>()
            .cloned()
            .unwrap_or_else(|| ApiError::bad_request(e.to_string()))
    })
}
