//! Accounts: sign up, log in, log out, the account page (password change) and password reset.

mod account;
mod login;
mod reset;
mod signup;

use crate::routes::Routes;

pub fn routes(r: &mut Routes<'_>) {
    r.get("/signup", signup::form)
        .post("/signup", signup::submit)
        .get("/login", login::form)
        .post("/login", login::submit)
        .post("/logout", login::logout)
        .get("/account", account::page)
        .post("/account/password", account::change_password)
        .get("/password-reset", reset::form)
        .post("/password-reset", reset::request)
        .get("/password-reset/{token}", reset::link)
        .post("/password-reset/{token}", reset::complete);
}

/// The client's address, for the login limits. Only the peer is trusted: a header saying
/// otherwise could be set by anybody.
pub(crate) fn client_addr(req: &actix_web::HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}
