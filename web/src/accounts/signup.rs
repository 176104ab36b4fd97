use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use lifeline_domain::{Email, TeamName};
use lifeline_store::audit::{self, Actor};
use lifeline_store::{StoreError, TeamScope, accounts};

use crate::error::PageError;
use crate::form::{CsrfToken, PostedForm};
use crate::page::{Nav, render, render_status};
use crate::session;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupPage {
    nav: Nav,
    error: Option<String>,
    email: String,
    team: String,
}

pub async fn form(req: HttpRequest, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    render(&SignupPage {
        nav: Nav::anonymous(CsrfToken::of(&req, &state), None),
        error: None,
        email: String::new(),
        team: String::new(),
    })
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    let again = |error: String| {
        render_status(
            &SignupPage {
                nav: Nav::anonymous(CsrfToken::of(&req, &state), None),
                error: Some(error),
                email: form.text("email").to_owned(),
                team: form.text("team").to_owned(),
            },
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let email = match Email::parse(form.text("email")) {
        Ok(e) => e,
        Err(e) => return again(e.to_string()),
    };
    let team = match TeamName::parse(form.text("team")) {
        Ok(t) => t,
        Err(e) => return again(e.to_string()),
    };
    let hash = match lifeline_auth::password::hash(form.raw("password")) {
        Ok(h) => h,
        Err(e) => return again(e.to_string()),
    };
    let mut conn = state.conn().await?;
    let (user, team_id) = match accounts::sign_up(&mut conn, &email, &hash, &team).await {
        Ok(ids) => ids,
        Err(StoreError::Invalid(m)) => return again(m),
        Err(e) => return Err(e.into()),
    };
    let scope = TeamScope::for_member(&mut conn, user, team_id).await?;
    audit::record(
        &mut conn,
        &scope,
        Actor::User(user),
        "team.create",
        &team_id.to_string(),
        serde_json::json!({ "name": team.as_str() }),
    )
    .await?;
    tracing::info!(%user, team = %team_id, "signed up");
    let mut res = session::start(&state, user, "/heartbeats");
    res.add_cookie(&crate::cookies::build(
        &state,
        crate::cookies::TEAM,
        team_id.to_string(),
    ))
    .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(res)
}
