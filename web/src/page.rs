//! What every page shares: the navigation bar's data ([`Nav`]) and rendering a template into a
//! response.

use actix_web::HttpResponse;
use actix_web::http::header::ContentType;
use askama::Template;
use lifeline_domain::Role;
use lifeline_store::accounts::Membership;

use crate::error::PageError;
use crate::form::CsrfToken;
use crate::session::{Member, SignedIn};

/// The navigation bar and the notice on top of every page.
#[derive(Clone, Debug, Default)]
pub struct Nav {
    /// Hidden `csrf_token` value for the page's forms.
    pub csrf: String,
    pub flash: Option<String>,
    /// The signed-in user's email.
    pub user: Option<String>,
    pub team_id: String,
    pub team_name: String,
    pub teams: Vec<Membership>,
    pub role: Option<Role>,
    /// Which top-level section the page belongs to, to highlight it.
    pub section: &'static str,
    /// The team's last payment failed: every page of the team says so until one succeeds.
    pub payment_failed: bool,
}

impl Nav {
    pub fn member(m: &Member, section: &'static str) -> Self {
        Nav {
            csrf: m.csrf.0.clone(),
            flash: m.flash.clone(),
            user: Some(m.user.email.clone()),
            team_id: m.scope.team_id().to_string(),
            team_name: m.team_name().to_owned(),
            teams: m.teams.clone(),
            role: Some(m.role()),
            section,
            payment_failed: m.team().is_some_and(|t| t.payment_failed),
        }
    }

    /// A signed-in user's page outside any team (their account).
    pub fn signed_in(s: &SignedIn, teams: Vec<Membership>, section: &'static str) -> Self {
        Nav {
            csrf: s.csrf.0.clone(),
            flash: s.flash.clone(),
            user: Some(s.user.email.clone()),
            teams,
            section,
            ..Nav::default()
        }
    }

    pub fn anonymous(csrf: CsrfToken, flash: Option<String>) -> Self {
        Nav {
            csrf: csrf.0,
            flash,
            ..Nav::default()
        }
    }

    /// Whether the viewer's role is at least `needed` (to show a button or not; the handler
    /// behind it checks again).
    pub fn can(&self, needed: &Role) -> bool {
        self.role.is_some_and(|r| r.at_least(*needed))
    }

    pub fn can_manage_heartbeats(&self) -> bool {
        self.can(&Role::Member)
    }

    pub fn can_manage_team(&self) -> bool {
        self.can(&Role::Admin)
    }

    pub fn is_owner(&self) -> bool {
        self.can(&Role::Owner)
    }
}

/// Renders a page with status 200.
pub fn render(page: &impl Template) -> Result<HttpResponse, PageError> {
    render_status(page, actix_web::http::StatusCode::OK)
}

pub fn render_status(
    page: &impl Template,
    status: actix_web::http::StatusCode,
) -> Result<HttpResponse, PageError> {
    let html = page
        .render()
        .map_err(|e| PageError::Internal(format!("template: {e}")))?;
    Ok(HttpResponse::build(status)
        .content_type(ContentType::html())
        .insert_header(("Cache-Control", "no-store"))
        .body(html))
}

/// A redirect after a successful form (303, so a reload does not post again), with a notice
/// for the next page.
pub fn done(state: &crate::state::AppState, location: &str, notice: &str) -> HttpResponse {
    let mut res = HttpResponse::SeeOther();
    res.insert_header((actix_web::http::header::LOCATION, location.to_owned()));
    crate::cookies::flash(state, &mut res, notice);
    res.finish()
}
