//! The confirmation step of a destructive team form: the form posts once without `confirm`,
//! gets this page, and its button posts again with `confirm=yes`. No JavaScript needed.

use actix_web::HttpResponse;
use askama::Template;

use crate::error::PageError;
use crate::page::{Nav, render};
use crate::session::Member;

pub struct Confirm {
    pub title: String,
    pub message: String,
    /// Where the confirmed form posts.
    pub action: String,
    pub button: String,
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    nav: Nav,
    confirm: Confirm,
}

pub fn page(member: &Member, confirm: Confirm) -> Result<HttpResponse, PageError> {
    render(&ConfirmPage {
        nav: Nav::member(member, "team"),
        confirm,
    })
}
