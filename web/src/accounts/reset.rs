//! Password reset by emailed link. Asking for a link always gets the same answer, whether the
//! address has an account or not (and the mail goes out after the answer, so the time taken does
//! not tell either). A link works once, for an hour; using it ends every session of the account.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{Duration, Utc};
use lifeline_domain::Email;
use lifeline_store::audit::{self, Actor};
use lifeline_store::one_time::LinkState;
use lifeline_store::{StoreError, accounts, password_resets};

use crate::error::PageError;
use crate::form::{CsrfToken, PostedForm};
use crate::page::{Nav, done, render, render_status};
use crate::session;
use crate::state::AppState;

/// How long a reset link works.
const LINK_HOURS: i64 = 1;

#[derive(Template)]
#[template(path = "password_reset.html")]
struct RequestPage {
    nav: Nav,
    email: String,
    error: Option<String>,
    /// The request was taken: the page says what happens next instead of showing the form.
    sent: bool,
}

#[derive(serde::Deserialize)]
pub struct Prefill {
    email: Option<String>,
}

pub async fn form(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<Prefill>,
) -> Result<HttpResponse, PageError> {
    render(&RequestPage {
        nav: Nav::anonymous(CsrfToken::of(&req, &state), crate::cookies::flash_of(&req)),
        email: query.email.clone().unwrap_or_default(),
        error: None,
        sent: false,
    })
}

pub async fn request(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    let typed = form.text("email").to_owned();
    let page = |error: Option<String>, sent: bool, status| {
        render_status(
            &RequestPage {
                nav: Nav::anonymous(CsrfToken::of(&req, &state), None),
                email: typed.clone(),
                error,
                sent,
            },
            status,
        )
    };
    let email = match Email::parse(&typed) {
        Ok(email) => email,
        Err(e) => return page(Some(e.to_string()), false, StatusCode::UNPROCESSABLE_ENTITY),
    };
    let addr = super::client_addr(&req);
    // Counted per address asked for and per client, known accounts or not: the limit itself
    // tells nothing, and nobody's mailbox can be flooded.
    if let Err(e) = state.reset_limit.check(email.as_str(), &addr).await {
        return page(Some(e.to_string()), false, StatusCode::TOO_MANY_REQUESTS);
    }
    state.reset_limit.failed(email.as_str(), &addr).await;
    let mut conn = state.conn().await?;
    if let Some((user, _)) = accounts::find_login(&mut conn, &email).await? {
        let secret = lifeline_auth::secret::token();
        let expires_at = Utc::now() + Duration::hours(LINK_HOURS);
        password_resets::create(
            &mut conn,
            user,
            &lifeline_auth::secret::digest(&secret),
            expires_at,
        )
        .await?;
        let link = format!(
            "{}/password-reset/{secret}",
            state.settings.public_url.trim_end_matches('/')
        );
        let body = format!(
            "Someone (we hope you) asked to reset the password of the Lifeline account {email}.\n\n\
             To choose a new password, open this link within an hour:\n\n{link}\n\n\
             The link works once. If you did not ask for this, ignore this email: your password \
             stays as it is.\n",
            email = email.as_str()
        );
        let notifier = state.notifier.clone();
        let to = email.as_str().to_owned();
        tokio::spawn(async move {
            if let Err(e) = notifier
                .send_email(&to, "Reset your Lifeline password", &body)
                .await
            {
                tracing::warn!(%user, error = %e, "password reset email not sent");
            }
        });
        tracing::info!(%user, "password reset link made");
    }
    page(None, true, StatusCode::OK)
}

#[derive(Template)]
#[template(path = "password_reset_link.html")]
struct LinkPage {
    nav: Nav,
    /// The account's address, for password managers.
    email: String,
    token: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "password_reset_gone.html")]
struct GonePage {
    nav: Nav,
    title: &'static str,
    message: &'static str,
}

fn gone(
    req: &HttpRequest,
    state: &AppState,
    state_of_link: Option<LinkState>,
) -> Result<HttpResponse, PageError> {
    let (status, title, message) = match state_of_link {
        Some(LinkState::Used) => (
            StatusCode::GONE,
            "This link was used already",
            "A password reset link works once. If you did not use it, ask for a new one.",
        ),
        Some(LinkState::Expired) => (
            StatusCode::GONE,
            "This link has expired",
            "A password reset link works for one hour. Ask for a new one.",
        ),
        _ => (
            StatusCode::NOT_FOUND,
            "This link is not valid",
            "Check that you copied the whole link from the email, or ask for a new one.",
        ),
    };
    render_status(
        &GonePage {
            nav: Nav::anonymous(CsrfToken::of(req, state), None),
            title,
            message,
        },
        status,
    )
}

/// The link's state, `None` for a link that does not exist.
async fn lookup(
    state: &AppState,
    token: &str,
) -> Result<Option<password_resets::ResetLink>, PageError> {
    let mut conn = state.conn().await?;
    match password_resets::find(&mut conn, &lifeline_auth::secret::digest(token)).await {
        Ok(link) => Ok(Some(link)),
        Err(StoreError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub async fn link(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    match lookup(&state, &token).await? {
        Some(link) if link.state == LinkState::Usable => render(&LinkPage {
            nav: Nav::anonymous(CsrfToken::of(&req, &state), None),
            email: link.email,
            token: token.into_inner(),
            error: None,
        }),
        other => gone(&req, &state, other.map(|l| l.state)),
    }
}

pub async fn complete(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    let link = match lookup(&state, &token).await? {
        Some(link) if link.state == LinkState::Usable => link,
        other => return gone(&req, &state, other.map(|l| l.state)),
    };
    let new = form.raw("new_password").to_owned();
    let hash = match web::block(move || lifeline_auth::password::hash(&new)).await {
        Ok(Ok(hash)) => hash,
        Ok(Err(e)) => {
            return render_status(
                &LinkPage {
                    nav: Nav::anonymous(CsrfToken::of(&req, &state), None),
                    email: link.email,
                    token: token.into_inner(),
                    error: Some(e.to_string()),
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            );
        }
        Err(e) => return Err(PageError::Internal(e.to_string())),
    };
    let mut conn = state.conn().await?;
    let digest = lifeline_auth::secret::digest(&token);
    let Some((user, valid_after)) = password_resets::redeem(&mut conn, &digest, &hash).await?
    else {
        // Used or expired between the two looks.
        let found = lookup(&state, &token).await?;
        return gone(&req, &state, found.map(|l| l.state));
    };
    audit::record_in_teams_of(
        &mut conn,
        user,
        Actor::User(user),
        "account.password",
        serde_json::json!({ "email": link.email, "how": "reset by emailed link" }),
    )
    .await?;
    // The owner of the address proved it: earlier failed logins are forgiven.
    state.login_limit.succeeded(&link.email).await;
    tracing::info!(%user, "password reset");
    let next = if accounts::memberships(&mut conn, user).await?.is_empty() {
        "/account"
    } else {
        "/heartbeats"
    };
    let mut res = done(
        &state,
        next,
        "Your new password is set, and you are logged in. Every other session of your account is logged out.",
    );
    res.add_cookie(&session::cookie(&state, user, Some(valid_after)))
        .map_err(|e| PageError::Internal(e.to_string()))?;
    Ok(res)
}
