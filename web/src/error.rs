//! What a page answers when something goes wrong: a page that says what happened and what to do,
//! with a deliberate status. The management API has its own JSON form (`api::error`).

use actix_web::http::StatusCode;
use actix_web::http::header::{self, ContentType};
use actix_web::{HttpResponse, ResponseError};
use askama::Template;
use lifeline_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// No session (or an expired or revoked one): go to the login page, and come back.
    #[error("please log in")]
    LoginRequired { back_to: String },
    #[error("this page does not exist, or belongs to a team you are not in")]
    NotFound,
    #[error("{0}")]
    Forbidden(String),
    #[error("this form has expired: go back, reload the page and submit it again")]
    Csrf,
    #[error("{0}")]
    Invalid(String),
    /// The plan's limit; the page links to the upgrade.
    #[error("{0}")]
    PlanLimit(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("Lifeline cannot reach its database right now; try again in a minute")]
    Unavailable,
    #[error("something went wrong on our side")]
    Internal(String),
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => PageError::NotFound,
            StoreError::Invalid(m) => PageError::Invalid(m),
            StoreError::Forbidden(m) => PageError::Forbidden(m),
            StoreError::PlanLimit(m) => PageError::PlanLimit(m),
            StoreError::Unavailable(m) => {
                tracing::warn!(error = %m, "database unavailable");
                PageError::Unavailable
            }
            StoreError::Database(e) => PageError::Internal(e.to_string()),
        }
    }
}

/// An id from the path (or a form field naming an object): anything that is not one is a page
/// that does not exist, like an id of another team's object.
pub fn path_id<T: std::str::FromStr>(raw: &str) -> Result<T, PageError> {
    raw.trim().parse().map_err(|_| PageError::NotFound)
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    title: &'a str,
    message: String,
    upgrade: bool,
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            PageError::LoginRequired { .. } => StatusCode::SEE_OTHER,
            PageError::NotFound => StatusCode::NOT_FOUND,
            PageError::Forbidden(_) | PageError::Csrf => StatusCode::FORBIDDEN,
            PageError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            PageError::PlanLimit(_) => StatusCode::PAYMENT_REQUIRED,
            PageError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            PageError::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            PageError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let PageError::LoginRequired { back_to } = self {
            let location = crate::links::login_then(back_to);
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, location))
                .finish();
        }
        if let PageError::Internal(detail) = self {
            tracing::error!(%detail, "page failed");
        }
        let status = self.status_code();
        let page = ErrorPage {
            status: status.as_u16(),
            title: status.canonical_reason().unwrap_or("Error"),
            message: self.to_string(),
            upgrade: matches!(self, PageError::PlanLimit(_)),
        };
        match page.render() {
            Ok(html) => HttpResponse::build(status)
                .content_type(ContentType::html())
                .body(html),
            Err(_) => HttpResponse::build(status).body(self.to_string()),
        }
    }
}
