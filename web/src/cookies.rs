//! The dashboard's cookies, and the middleware that keeps two of them: every browser gets a
//! random `ll_csrf` cookie on its first visit (the CSRF tokens of its forms are derived from it),
//! and a one-shot `ll_flash` notice is cleared once a page has shown it.
//!
//! | cookie | holds | flags |
//! |---|---|---|
//! | `ll_session` | the session JWT | HttpOnly, SameSite=Lax, Secure on https, expires with the session |
//! | `ll_csrf` | random, per browser | HttpOnly, SameSite=Lax, Secure on https |
//! | `ll_team` | the team the user is looking at | SameSite=Lax |
//! | `ll_flash` | a notice for the next page ("Heartbeat created") | HttpOnly, SameSite=Lax, one request |

use actix_web::body::MessageBody;
use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpRequest, HttpResponseBuilder, web};

use crate::state::AppState;

pub const SESSION: &str = "ll_session";
pub const CSRF: &str = "ll_csrf";
pub const TEAM: &str = "ll_team";
pub const FLASH: &str = "ll_flash";

/// The CSRF cookie value of this request: the browser's, or the one the middleware is about to
/// give it.
#[derive(Clone, Debug)]
pub struct CsrfCookie(pub String);

/// A cookie with the dashboard's flags.
pub fn build(state: &AppState, name: &'static str, value: String) -> Cookie<'static> {
    Cookie::build(name, value)
        .path("/")
        .http_only(name != TEAM)
        .same_site(SameSite::Lax)
        .secure(state.settings.secure_cookies())
        .finish()
}

/// A cookie that tells the browser to forget `name`.
pub fn removal(state: &AppState, name: &'static str) -> Cookie<'static> {
    let mut c = build(state, name, String::new());
    c.make_removal();
    c
}

/// Adds a notice for the next page to a redirect.
pub fn flash(state: &AppState, response: &mut HttpResponseBuilder, notice: &str) {
    let mut c = build(state, FLASH, notice.chars().take(300).collect());
    c.set_max_age(time::Duration::minutes(5));
    // Percent-encoded: a notice may quote what someone typed (a `;`, non-ASCII), which a raw
    // cookie value cannot carry; `req.cookie` decodes it.
    response.append_header((actix_web::http::header::SET_COOKIE, c.encoded().to_string()));
}

/// The notice a previous request left, if any.
pub fn flash_of(req: &HttpRequest) -> Option<String> {
    req.cookie(FLASH)
        .map(|c| c.value().to_owned())
        .filter(|v| !v.is_empty())
}

pub async fn middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody + 'static>, actix_web::Error> {
    let existing = req
        .cookie(CSRF)
        .map(|c| c.value().to_owned())
        .filter(|v| v.len() >= 32);
    let fresh = existing.is_none().then(lifeline_auth::secret::token);
    let value = existing.clone().or(fresh.clone()).unwrap_or_default();
    req.extensions_mut().insert(CsrfCookie(value));
    let had_flash = req.cookie(FLASH).is_some();
    let state = req.app_data::<web::Data<AppState>>().cloned();

    let mut res = next.call(req).await?;
    if let Some(state) = state {
        if let Some(fresh) = fresh {
            res.response_mut().add_cookie(&build(&state, CSRF, fresh))?;
        }
        // A page that was shown (not a redirect, which may be setting a new notice) consumed
        // the notice.
        let shown = res.status().is_success() || res.status().is_client_error();
        if had_flash && shown {
            res.response_mut().add_cookie(&removal(&state, FLASH))?;
        }
    }
    Ok(res)
}
