//! `/account`: the signed-in user's address, teams and password.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use lifeline_store::accounts::{self, Membership};
use lifeline_store::audit::{self, Actor};

use crate::error::PageError;
use crate::form::PostedForm;
use crate::page::{Nav, done, render_status};
use crate::session::{self, SignedIn};
use crate::state::AppState;

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    nav: Nav,
    email: String,
    teams: Vec<Membership>,
    error: Option<String>,
}

async fn show(
    state: &AppState,
    signed_in: &SignedIn,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let mut conn = state.conn().await?;
    let teams = accounts::memberships(&mut conn, signed_in.user.id).await?;
    render_status(
        &AccountPage {
            nav: Nav::signed_in(signed_in, teams.clone(), "account"),
            email: signed_in.user.email.clone(),
            teams,
            error,
        },
        status,
    )
}

pub async fn page(
    state: web::Data<AppState>,
    signed_in: SignedIn,
) -> Result<HttpResponse, PageError> {
    show(&state, &signed_in, None, StatusCode::OK).await
}

/// Changes the password after checking the current one, and ends every other session of the
/// user: whoever else holds one (a forgotten browser, a thief) must log in with the new password.
pub async fn change_password(
    req: HttpRequest,
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    let user = signed_in.user.id;
    let email = signed_in.user.email.clone();
    let addr = super::client_addr(&req);
    // A session left open must not become a way to guess the password.
    if let Err(e) = state.login_limit.check(&email, &addr).await {
        return show(
            &state,
            &signed_in,
            Some(e.to_string()),
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    }
    let mut conn = state.conn().await?;
    let stored = accounts::password_hash(&mut conn, user)
        .await?
        .unwrap_or_else(|| lifeline_auth::password::decoy().to_owned());
    let current = form.raw("current_password").to_owned();
    let matches = web::block(move || lifeline_auth::password::verify(&current, &stored))
        .await
        .unwrap_or(false);
    if !matches {
        state.login_limit.failed(&email, &addr).await;
        return show(
            &state,
            &signed_in,
            Some("the current password is wrong".to_owned()),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let new = form.raw("new_password").to_owned();
    let hash = match web::block(move || lifeline_auth::password::hash(&new)).await {
        Ok(Ok(hash)) => hash,
        Ok(Err(e)) => {
            return show(
                &state,
                &signed_in,
                Some(e.to_string()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
        Err(e) => return Err(PageError::Internal(e.to_string())),
    };
    let valid_after = accounts::change_password(&mut conn, user, &hash).await?;
    audit::record_in_teams_of(
        &mut conn,
        user,
        Actor::User(user),
        "account.password",
        serde_json::json!({ "email": email, "how": "changed" }),
    )
    .await?;
    tracing::info!(%user, "password changed");
    let mut res = done(
        &state,
        "/account",
        "Your password is changed. Every other session of your account is logged out.",
    );
    res.add_cookie(&session::cookie(&state, user, Some(valid_after)))
        .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(res)
}
