//! Accounts: sign up, log in, log out.

mod login;
mod signup;

use crate::routes::Routes;

pub fn routes(r: &mut Routes<'_>) {
    r.get("/signup", signup::form)
        .post("/signup", signup::submit)
        .get("/login", login::form)
        .post("/login", login::submit)
        .post("/logout", login::logout);
}

/// The client's address, for the login limits. Only the peer is trusted: a header saying
/// otherwise could be set by anybody.
pub(crate) fn client_addr(req: &actix_web::HttpRequest) -> String {
    req.peer_addr()
        .map(|a| a.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}
