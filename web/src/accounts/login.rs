use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use lifeline_domain::Email;
use lifeline_store::accounts;
use serde::Deserialize;

use crate::error::PageError;
use crate::form::{CsrfToken, PostedForm};
use crate::links::safe_next;
use crate::page::{Nav, render, render_status};
use crate::session::{self, SignedIn};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    nav: Nav,
    error: Option<String>,
    email: String,
    next: String,
}

#[derive(Deserialize)]
pub struct Next {
    next: Option<String>,
}

pub async fn form(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Next>,
) -> Result<HttpResponse, PageError> {
    render(&LoginPage {
        nav: Nav::anonymous(CsrfToken::of(&req, &state), crate::cookies::flash_of(&req)),
        error: None,
        email: String::new(),
        next: safe_next(query.next.as_deref()),
    })
}

const WRONG: &str = "wrong email or password";

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    let next = safe_next(Some(form.text("next")));
    let again = |error: String, status| {
        render_status(
            &LoginPage {
                nav: Nav::anonymous(CsrfToken::of(&req, &state), None),
                error: Some(error),
                email: form.text("email").to_owned(),
                next: next.clone(),
            },
            status,
        )
    };
    let addr = super::client_addr(&req);
    let email_text = form.text("email");
    if let Err(e) = state.login_limit.check(email_text, &addr).await {
        return again(
            e.to_string(),
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let found = match Email::parse(email_text) {
        Ok(email) => {
            let mut conn = state.conn().await?;
            accounts::find_login(&mut conn, &email).await?
        }
        Err(_) => None,
    };
    // Unknown addresses cost the same argon2 check as known ones, so timing does not tell which
    // addresses have accounts.
    let stored = found
        .as_ref()
        .and_then(|(_, hash)| hash.clone())
        .unwrap_or_else(|| lifeline_auth::password::decoy().to_owned());
    let password = form.raw("password").to_owned();
    let matches = web::block(move || lifeline_auth::password::verify(&password, &stored))
        .await
        .unwrap_or(false);
    match found {
        Some((user, Some(_))) if matches => {
            state.login_limit.succeeded(email_text).await;
            let mut conn = state.conn().await?;
            let valid_after = accounts::sessions_valid_after(&mut conn, user).await?;
            tracing::info!(%user, "logged in");
            Ok(session::start_after(&state, user, &next, valid_after))
        }
        _ => {
            state.login_limit.failed(email_text, &addr).await;
            again(WRONG.to_owned(), actix_web::http::StatusCode::UNAUTHORIZED)
        }
    }
}

pub async fn logout(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    _form: PostedForm,
) -> Result<HttpResponse, PageError> {
    let mut conn = state.conn().await?;
    session::revoke(&state, &mut conn, &signed_in.claims).await?;
    let mut res = crate::page::done(&state, "/login", "You are logged out.");
    res.add_removal_cookie(&crate::cookies::removal(&state, crate::cookies::SESSION))
        .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(res)
}
