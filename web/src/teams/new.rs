//! `/teams/new`: another team, owned by its creator, who is switched to it.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use lifeline_domain::TeamName;
use lifeline_store::accounts;

use crate::actions;
use crate::error::PageError;
use crate::form::PostedForm;
use crate::page::{Nav, done, render_status};
use crate::session::SignedIn;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "team_new.html")]
struct NewTeamPage {
    nav: Nav,
    team: String,
    error: Option<String>,
}

async fn show(
    state: &AppState,
    signed_in: &SignedIn,
    team: String,
    error: Option<String>,
    status: StatusCode,
) -> Result<HttpResponse, PageError> {
    let mut conn = state.conn().await?;
    let teams = accounts::memberships(&mut conn, signed_in.user.id).await?;
    render_status(
        &NewTeamPage {
            nav: Nav::signed_in(signed_in, teams, "team"),
            team,
            error,
        },
        status,
    )
}

pub async fn form(
    state: web::Data<AppState>,
    signed_in: SignedIn,
) -> Result<HttpResponse, PageError> {
    show(&state, &signed_in, String::new(), None, StatusCode::OK).await
}

pub async fn submit(
    state: web::Data<AppState>,
    signed_in: SignedIn,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    let typed = form.text("team").to_owned();
    let name = match TeamName::parse(&typed) {
        Ok(name) => name,
        Err(e) => {
            return show(
                &state,
                &signed_in,
                typed,
                Some(e.to_string()),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let mut conn = state.conn().await?;
    let team = actions::team::create(&mut conn, signed_in.user.id, &name).await?;
    tracing::info!(team = %team.id, user = %signed_in.user.id, "team created");
    let mut res = done(
        &state,
        "/heartbeats",
        &format!("The team {} is created, and you are its owner.", team.name),
    );
    res.add_cookie(&crate::cookies::build(
        &state,
        crate::cookies::TEAM,
        team.id.to_string(),
    ))
    .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(res)
}
