//! `/channels/confirm/{token}`: the link mailed to a new email channel's address. Opening it
//! shows what is asked and a Confirm button; only the POST confirms, because mail scanners
//! open links by themselves. No login: whoever reads the mailbox holds the link's secret, and
//! that is who must agree.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use lifeline_store::StoreError;
use lifeline_store::channels::{self, AwaitingConfirmation};

use crate::error::PageError;
use crate::form::{CsrfToken, PostedForm};
use crate::page::{Nav, render_status};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "channels/confirm.html")]
struct ConfirmPage {
    nav: Nav,
    /// `ask`, `done` or `invalid`.
    step: &'static str,
    token: String,
    address: String,
    channel: String,
    team: String,
}

fn page_for(
    req: &HttpRequest,
    state: &AppState,
    token: &str,
    found: Result<AwaitingConfirmation, StoreError>,
    step: &'static str,
) -> Result<HttpResponse, PageError> {
    let nav = Nav::anonymous(CsrfToken::of(req, state), None);
    let (page, status) = match found {
        Ok(a) => (
            ConfirmPage {
                nav,
                step,
                token: token.to_owned(),
                address: a.channel.target,
                channel: a.channel.name,
                team: a.team_name,
            },
            StatusCode::OK,
        ),
        Err(StoreError::NotFound) => (
            ConfirmPage {
                nav,
                step: "invalid",
                token: String::new(),
                address: String::new(),
                channel: String::new(),
                team: String::new(),
            },
            StatusCode::NOT_FOUND,
        ),
        Err(e) => return Err(e.into()),
    };
    let mut res = render_status(&page, status)?;
    // The path holds the secret: it must not travel to anyone in a Referer header.
    res.headers_mut().insert(
        actix_web::http::header::REFERRER_POLICY,
        actix_web::http::header::HeaderValue::from_static("no-referrer"),
    );
    Ok(res)
}

pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let mut conn = state.conn().await?;
    let digest = lifeline_auth::secret::digest(&token);
    let found = channels::awaiting_confirmation(&mut conn, &digest).await;
    page_for(&req, &state, &token, found, "ask")
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    _form: PostedForm,
) -> Result<HttpResponse, PageError> {
    let mut conn = state.conn().await?;
    let digest = lifeline_auth::secret::digest(&token);
    let confirmed = channels::confirm(&mut conn, &digest).await;
    page_for(&req, &state, &token, confirmed, "done")
}
