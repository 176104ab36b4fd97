//! Who is signed in, and for which team. [`SignedIn`] comes from a valid, unrevoked session
//! cookie; [`Member`] adds the team the user is looking at, whose [`TeamScope`] is built from
//! their membership (and so carries their role). Pages take one of the two as an argument, so a
//! page cannot forget to check.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, http::header, web};
use chrono::{DateTime, Utc};
use lifeline_auth::Claims;
use lifeline_domain::{Role, TeamId};
use lifeline_store::accounts::{self, Membership, User};
use lifeline_store::{PgConn, StoreError, TeamScope};
use redis::AsyncCommands;

use crate::cookies;
use crate::error::PageError;
use crate::form::CsrfToken;
use crate::state::AppState;

#[derive(Clone, Debug)]
pub struct SignedIn {
    pub user: User,
    pub claims: Claims,
    pub csrf: CsrfToken,
    pub flash: Option<String>,
}

/// A signed-in user acting for one of their teams.
#[derive(Clone, Debug)]
pub struct Member {
    pub user: User,
    pub scope: TeamScope,
    pub teams: Vec<Membership>,
    pub csrf: CsrfToken,
    pub flash: Option<String>,
}

impl Member {
    pub fn team(&self) -> Option<&Membership> {
        self.teams
            .iter()
            .find(|t| t.team_id == self.scope.team_id())
    }

    pub fn team_name(&self) -> &str {
        self.team().map(|t| t.team_name.as_str()).unwrap_or("")
    }

    pub fn role(&self) -> Role {
        self.scope.role()
    }

    /// `Forbidden` (403) unless the member's role is at least `needed`.
    pub fn require(&self, needed: Role, what: &str) -> Result<(), PageError> {
        Ok(self.scope.require(needed, what)?)
    }

    /// The member as the caller of an action (`crate::actions`).
    pub fn caller(&self) -> crate::actions::Caller {
        crate::actions::Caller {
            scope: self.scope.clone(),
            actor: lifeline_store::audit::Actor::User(self.user.id),
        }
    }
}

fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, PageError> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| PageError::Internal("no state".to_owned()))
}

fn back_to(req: &HttpRequest) -> String {
    // Only a page the user was reading is worth returning to; a form's target is not.
    if req.method() == actix_web::http::Method::GET {
        req.uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default()
    } else {
        String::new()
    }
}

impl SignedIn {
    async fn load(req: &HttpRequest) -> Result<SignedIn, PageError> {
        let state = state_of(req)?;
        let mut conn = state.conn().await?;
        Self::load_on(req, &state, &mut conn).await
    }

    /// The session of `req`, checked on `conn` (which `Member` goes on using).
    async fn load_on(
        req: &HttpRequest,
        state: &AppState,
        conn: &mut PgConn,
    ) -> Result<SignedIn, PageError> {
        let login = || PageError::LoginRequired {
            back_to: back_to(req),
        };
        let token = req.cookie(cookies::SESSION).ok_or_else(login)?;
        let claims = state.sessions.verify(token.value()).map_err(|_| login())?;
        if is_revoked(state, conn, claims.jti).await? {
            return Err(login());
        }
        let (user, valid_after) = match accounts::session_user(conn, claims.user()).await {
            Ok(found) => found,
            Err(StoreError::NotFound) => return Err(login()),
            Err(e) => return Err(e.into()),
        };
        // A password change or reset ended every session issued before it.
        if valid_after.is_some_and(|after| claims.iat < after.timestamp()) {
            return Err(login());
        }
        Ok(SignedIn {
            user,
            claims,
            csrf: CsrfToken::of(req, state),
            flash: cookies::flash_of(req),
        })
    }

    /// The signed-in user, or `None` for a visitor without a (valid) session: for pages that
    /// anybody may open but that differ for a signed-in user.
    pub async fn optional(req: &HttpRequest) -> Result<Option<SignedIn>, PageError> {
        match SignedIn::load(req).await {
            Ok(s) => Ok(Some(s)),
            Err(PageError::LoginRequired { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl FromRequest for SignedIn {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { SignedIn::load(&req).await })
    }
}

impl FromRequest for Member {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, PageError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = state_of(&req)?;
            let mut conn = state.conn().await?;
            let signed_in = SignedIn::load_on(&req, &state, &mut conn).await?;
            // The cookie only chooses among the user's own teams; the scope comes from the
            // membership row.
            let wanted: Option<TeamId> = req
                .cookie(cookies::TEAM)
                .and_then(|c| c.value().parse().ok());
            let (teams, scope) =
                TeamScope::for_member_among(&mut conn, signed_in.user.id, wanted).await?;
            let Some(scope) = scope else {
                return Err(PageError::Forbidden(
                    "you are not a member of any team: ask a team's admin for an invitation, or \
                     create a team at /teams/new"
                        .to_owned(),
                ));
            };
            Ok(Member {
                user: signed_in.user,
                scope,
                teams,
                csrf: signed_in.csrf,
                flash: signed_in.flash,
            })
        })
    }
}

/// Redis answers first; when it cannot, Postgres (which every logout also writes) decides.
async fn is_revoked(
    state: &AppState,
    conn: &mut PgConn,
    jti: uuid::Uuid,
) -> Result<bool, PageError> {
    let mut redis = state.redis.clone();
    let key = state.keys.revoked_session(jti);
    match tokio::time::timeout(
        std::time::Duration::from_millis(300),
        redis.exists::<_, bool>(&key),
    )
    .await
    {
        Ok(Ok(true)) => Ok(true),
        // Redis does not know it: it may have missed the logout (down at the time, or flushed),
        // which the sync task repairs within seconds; until then Postgres is asked too.
        Ok(Ok(false)) if state.revocations.complete() => Ok(false),
        _ => Ok(accounts::is_revoked(conn, jti).await?),
    }
}

/// Starts a session for `user`: the response sets the session cookie and goes to `next`.
pub fn start(state: &AppState, user: lifeline_domain::UserId, next: &str) -> HttpResponse {
    start_after(state, user, next, None)
}

/// [`start`] for a user whose earlier sessions were ended at `valid_after` (see [`cookie`]).
pub fn start_after(
    state: &AppState,
    user: lifeline_domain::UserId,
    next: &str,
    valid_after: Option<DateTime<Utc>>,
) -> HttpResponse {
    HttpResponse::SeeOther()
        .cookie(cookie(state, user, valid_after))
        .insert_header((header::LOCATION, next.to_owned()))
        .finish()
}

/// The cookie of a new session for `user`. `valid_after` is the instant before which the user's
/// sessions were ended (`accounts::sessions_valid_after`): the session is issued no earlier,
/// so that it is not ended with them.
pub fn cookie(
    state: &AppState,
    user: lifeline_domain::UserId,
    valid_after: Option<DateTime<Utc>>,
) -> actix_web::cookie::Cookie<'static> {
    let now = Utc::now();
    let at = valid_after.map_or(now, |after| after.max(now));
    let (token, claims) = state.sessions.issue(user, at);
    let mut cookie = cookies::build(state, cookies::SESSION, token);
    cookie
        .set_expires(actix_web::cookie::time::OffsetDateTime::from_unix_timestamp(claims.exp).ok());
    cookie
}

/// Ends the session of `claims` everywhere: Postgres keeps the record, Redis the fast copy.
pub async fn revoke(state: &AppState, conn: &mut PgConn, claims: &Claims) -> Result<(), PageError> {
    accounts::revoke_session(conn, claims.jti, claims.user(), claims.expires_at()).await?;
    remember_revoked(state, claims.jti, claims.expires_at()).await;
    Ok(())
}

/// Copies one revocation into Redis, to expire with the token. A failure is logged; the sync task
/// copies it later.
pub async fn remember_revoked(
    state: &AppState,
    jti: uuid::Uuid,
    expires_at: chrono::DateTime<Utc>,
) {
    let ttl = (expires_at - Utc::now()).num_seconds().max(1) as u64;
    let mut redis = state.redis.clone();
    let set = redis.set_ex::<_, _, ()>(state.keys.revoked_session(jti), 1, ttl);
    match tokio::time::timeout(std::time::Duration::from_millis(500), set).await {
        Ok(Ok(())) => {}
        _ => {
            state.revocations.missed();
            tracing::warn!(%jti, "Redis did not take a session revocation; Postgres has it");
        }
    }
}
