//! `/invitations/{token}`: the emailed invitation link. Whoever opens it sees the team and what
//! to do: join (logged in as the invited address), log in first (the address has an account), or
//! choose a password (it has none yet: the link proves the address, so the account and the
//! membership are made at once).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use lifeline_store::invitations::{self, Accepted, InvitationLink};
use lifeline_store::one_time::LinkState;
use lifeline_store::{PgConn, StoreError, accounts};

use crate::actions;
use crate::error::PageError;
use crate::form::{CsrfToken, PostedForm};
use crate::links::login_then;
use crate::page::{Nav, done, render_status};
use crate::session::{self, SignedIn};
use crate::state::AppState;

/// What the page offers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum View {
    Join,
    WrongUser,
    LogIn,
    SignUp,
    Expired,
    Used,
    Unknown,
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    nav: Nav,
    view: &'static str,
    token: String,
    team: String,
    /// The invited address.
    email: String,
    /// "a member", "an admin"…
    role: String,
    signed_in_as: String,
    login_href: String,
    error: Option<String>,
}

fn view_of(link: Option<&InvitationLink>, signed_in: Option<&SignedIn>) -> View {
    let Some(link) = link else {
        return View::Unknown;
    };
    match (link.state, signed_in) {
        (LinkState::Expired, _) => View::Expired,
        (LinkState::Used, _) => View::Used,
        (LinkState::Usable, Some(s)) if s.user.email == link.email => View::Join,
        (LinkState::Usable, Some(_)) => View::WrongUser,
        (LinkState::Usable, None) if link.has_account => View::LogIn,
        (LinkState::Usable, None) => View::SignUp,
    }
}

async fn show(
    req: &HttpRequest,
    state: &AppState,
    conn: &mut PgConn,
    token: &str,
    signed_in: Option<&SignedIn>,
    link: Option<&InvitationLink>,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let view = view_of(link, signed_in);
    let status = match view {
        View::Unknown => StatusCode::NOT_FOUND,
        View::Expired | View::Used => StatusCode::GONE,
        View::WrongUser => StatusCode::FORBIDDEN,
        _ if error.is_some() => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    let nav = match signed_in {
        Some(s) => Nav::signed_in(s, accounts::memberships(conn, s.user.id).await?, ""),
        None => Nav::anonymous(CsrfToken::of(req, state), None),
    };
    render_status(
        &InvitationPage {
            nav,
            view: match view {
                View::Join => "join",
                View::WrongUser => "wrong-user",
                View::LogIn => "log-in",
                View::SignUp => "sign-up",
                View::Expired => "expired",
                View::Used => "used",
                View::Unknown => "unknown",
            },
            token: token.to_owned(),
            team: link.map(|l| l.team_name.clone()).unwrap_or_default(),
            email: link.map(|l| l.email.clone()).unwrap_or_default(),
            role: link
                .map(|l| actions::members::with_article(l.role))
                .unwrap_or_default(),
            signed_in_as: signed_in.map(|s| s.user.email.clone()).unwrap_or_default(),
            login_href: login_then(&format!("/invitations/{token}")),
            error,
        },
        status,
    )
}

async fn lookup(conn: &mut PgConn, token: &str) -> Result<Option<InvitationLink>, PageError> {
    match invitations::by_token(conn, &lifeline_auth::secret::digest(token)).await {
        Ok(link) => Ok(Some(link)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub async fn page(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let signed_in = SignedIn::optional(&req).await?;
    let mut conn = state.conn().await?;
    let link = lookup(&mut conn, &token).await?;
    show(
        &req,
        &state,
        &mut conn,
        &token,
        signed_in.as_ref(),
        link.as_ref(),
        None,
    )
    .await
}

/// Accepts the invitation: as the signed-in user, or by signing up with the `password` field.
pub async fn accept(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    let signed_in = SignedIn::optional(&req).await?;
    let mut conn = state.conn().await?;
    let link = lookup(&mut conn, &token).await?;
    let view = view_of(link.as_ref(), signed_in.as_ref());
    let again = async |conn: &mut PgConn, error: Option<String>| {
        let link = lookup(conn, &token).await?;
        show(
            &req,
            &state,
            conn,
            &token,
            signed_in.as_ref(),
            link.as_ref(),
            error,
        )
        .await
    };
    let (Some(link), View::Join | View::SignUp | View::LogIn) = (&link, view) else {
        return again(&mut conn, None).await;
    };
    let digest = lifeline_auth::secret::digest(&token);
    let (accepted, session) = match (&signed_in, view) {
        (Some(s), View::Join) => {
            let Some(accepted) = invitations::accept(&mut conn, &digest, s.user.id).await? else {
                return again(&mut conn, None).await;
            };
            (accepted, None)
        }
        (None, View::SignUp) => {
            let password = form.raw("password").to_owned();
            let hash = match web::block(move || lifeline_auth::password::hash(&password)).await {
                Ok(Ok(hash)) => hash,
                Ok(Err(e)) => return again(&mut conn, Some(e.to_string())).await,
                Err(e) => return Err(PageError::Internal(e.to_string())),
            };
            match invitations::sign_up_and_accept(&mut conn, &digest, &hash).await {
                Ok(Some(accepted)) => {
                    let valid_after =
                        accounts::sessions_valid_after(&mut conn, accepted.user).await?;
                    (accepted, Some(valid_after))
                }
                Ok(None) => return again(&mut conn, None).await,
                Err(StoreError::Invalid(m)) => return again(&mut conn, Some(m)).await,
                Err(e) => return Err(e.into()),
            }
        }
        // The address has an account: its password is needed, on the login page.
        _ => {
            return Ok(HttpResponse::SeeOther()
                .insert_header((
                    actix_web::http::header::LOCATION,
                    login_then(&format!("/invitations/{token}")),
                ))
                .finish());
        }
    };
    joined(
        &state,
        &mut conn,
        accepted,
        &link.email,
        &link.team_name,
        session,
    )
    .await
}

/// The answer to an accepted invitation: the team becomes the current one (and a new account
/// is logged in).
async fn joined(
    state: &AppState,
    conn: &mut PgConn,
    accepted: Accepted,
    email: &str,
    team: &str,
    session: Option<Option<chrono::DateTime<chrono::Utc>>>,
) -> Result<HttpResponse, PageError> {
    actions::members::accepted(conn, accepted, email).await?;
    tracing::info!(user = %accepted.user, team = %accepted.team, "invitation accepted");
    let mut res = done(
        state,
        "/heartbeats",
        &format!(
            "Welcome to {team}: you joined as {}.",
            actions::members::with_article(accepted.role)
        ),
    );
    let internal = |e: actix_web::error::HttpError| PageError::Internal(e.to_string());
    res.add_cookie(&crate::cookies::build(
        state,
        crate::cookies::TEAM,
        accepted.team.to_string(),
    ))
    .map_err(internal)?;
    if let Some(valid_after) = session {
        res.add_cookie(&session::cookie(state, accepted.user, valid_after))
            .map_err(internal)?;
    }
    Ok(res)
}
