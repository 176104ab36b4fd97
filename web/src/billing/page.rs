//! The billing page and its two buttons: Checkout (subscribe) and the customer portal (manage,
//! change plan, cancel). A plan changes only when Stripe's signed event reaches the billing
//! service, never on the way back from Stripe's pages.

use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{DateTime, Utc};
use lifeline_domain::billing::rank;
use lifeline_domain::billing_service::{CheckoutRequest, PortalFlow, PortalRequest};
use lifeline_domain::{Plan, Role};
use lifeline_store::{billing, teams};

use super::{MANAGE, Offer};
use crate::error::PageError;
use crate::form::PostedForm;
use crate::page::{Nav, done, render};
use crate::session::Member;
use crate::state::AppState;
use crate::teams::{limit, plan_name, used};

/// One plan of the table, with what choosing it does from the team's current state.
pub struct PlanOption {
    /// `free`, `standard`…
    pub plan: &'static str,
    pub name: &'static str,
    pub heartbeats: String,
    pub members: String,
    pub retention_days: u32,
    pub ai: bool,
    pub current: bool,
    /// `checkout` (subscribe), `change_plan` or `cancel` (in the portal), `operator` (ask the
    /// operator), or empty (nothing to do: the current plan, or billing is offline).
    pub action: &'static str,
    /// `upgrade` or `downgrade`, for the button's words and `data-*` attribute.
    pub direction: &'static str,
}

/// A change Stripe scheduled for the end of the period.
pub struct Scheduled {
    pub plan: &'static str,
    pub name: &'static str,
    pub at: String,
    pub at_iso: String,
}

#[derive(Template)]
#[template(path = "billing/page.html")]
struct BillingPage {
    nav: Nav,
    team_id: String,
    plan: &'static str,
    plan_name: &'static str,
    scheduled: Option<Scheduled>,
    heartbeats_used: String,
    members_used: String,
    retention_days: u32,
    ai: bool,
    /// Heartbeats over the plan's limit: they keep being monitored, no new ones can be made.
    over_limit: Option<String>,
    payment_failed: Option<String>,
    online: bool,
    not_configured: bool,
    unreachable: Option<String>,
    has_customer: bool,
    has_subscription: bool,
    plans: Vec<PlanOption>,
}

/// "24 Dec 2026".
fn day(at: DateTime<Utc>) -> String {
    at.format("%-d %b %Y").to_string()
}

pub async fn page(member: Member, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    member.require(Role::Owner, MANAGE)?;
    let scope = &member.scope;
    let mut conn = state.conn().await?;
    let current = billing::state_of(&mut conn, scope).await?;
    let usage = teams::usage(&mut conn, scope).await?;
    drop(conn);
    let offer = state.billing.offer().await;
    let plan = current.plan;
    let limits = plan.limits();
    let online = offer == Offer::Online;
    let subscribed = current.stripe_subscription.is_some();
    let plans = Plan::ALL
        .iter()
        .map(|&p| {
            let l = p.limits();
            let action = if p == plan {
                ""
            } else if p == Plan::Enterprise || plan == Plan::Enterprise {
                "operator"
            } else if !online {
                ""
            } else if subscribed {
                if p == Plan::Free {
                    "cancel"
                } else {
                    "change_plan"
                }
            } else if rank(p) < rank(plan) {
                // A paid plan without a subscription was set by the operator, and so is a
                // move down from it.
                "operator"
            } else {
                "checkout"
            };
            PlanOption {
                plan: p.as_str(),
                name: plan_name(p),
                heartbeats: limit(l.max_heartbeats),
                members: limit(l.max_members),
                retention_days: l.retention_days,
                ai: l.ai_heartbeats,
                current: p == plan,
                action,
                direction: if rank(p) > rank(plan) {
                    "upgrade"
                } else {
                    "downgrade"
                },
            }
        })
        .collect();
    let over_limit = limits
        .max_heartbeats
        .filter(|&max| usage.heartbeats > i64::from(max))
        .map(|max| {
            format!(
                "The team has {} heartbeats, more than the {} plan's {max}: they all keep being \
                 monitored, but no new one can be created until the team is under the limit.",
                usage.heartbeats,
                plan_name(plan)
            )
        });
    let scheduled = match (current.next_plan, current.plan_ends_at) {
        (Some(next), Some(at)) => Some(Scheduled {
            plan: next.as_str(),
            name: plan_name(next),
            at: day(at),
            at_iso: at.to_rfc3339(),
        }),
        _ => None,
    };
    let (unreachable, not_configured) = match offer {
        Offer::Unreachable(why) => (Some(why), false),
        Offer::NotConfigured => (None, true),
        Offer::Online => (None, false),
    };
    render(&BillingPage {
        nav: Nav::member(&member, "billing"),
        team_id: scope.team_id().to_string(),
        plan: plan.as_str(),
        plan_name: plan_name(plan),
        scheduled,
        heartbeats_used: used(usage.heartbeats, limits.max_heartbeats),
        members_used: used(usage.members + usage.invitations, limits.max_members),
        retention_days: limits.retention_days,
        ai: limits.ai_heartbeats,
        over_limit,
        payment_failed: current.payment_failed_at.map(day),
        online,
        not_configured,
        unreachable,
        has_customer: current.stripe_customer.is_some(),
        has_subscription: subscribed,
        plans,
    })
}

/// "Upgrade to …" for a team without a subscription: off to Stripe Checkout.
pub async fn checkout(
    member: Member,
    state: web::Data<AppState>,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    member.require(Role::Owner, MANAGE)?;
    let plan = Plan::parse(form.text("plan")).map_err(|e| PageError::Invalid(e.to_string()))?;
    let public = state.settings.public_url.trim_end_matches('/');
    let request = CheckoutRequest {
        team: member.scope.team_id(),
        plan,
        email: member.user.email.clone(),
        success_url: format!(
            "{public}/billing/success?plan={plan}&session_id={{CHECKOUT_SESSION_ID}}"
        ),
        cancel_url: format!("{public}/billing/canceled"),
    };
    match state.billing.checkout(&request).await {
        Ok(url) => Ok(to_stripe(url)),
        Err(why) => Ok(done(
            &state,
            "/billing",
            &format!("Checkout could not start: {why}."),
        )),
    }
}

/// The customer portal: its home, or straight to changing or cancelling the subscription.
pub async fn portal(
    member: Member,
    state: web::Data<AppState>,
    form: PostedForm,
) -> Result<HttpResponse, PageError> {
    member.require(Role::Owner, MANAGE)?;
    let flow = match form.text("flow") {
        "" | "manage" => PortalFlow::Manage,
        "change_plan" => PortalFlow::ChangePlan,
        "cancel" => PortalFlow::Cancel,
        other => {
            return Err(PageError::Invalid(format!(
                "flow {other:?} is not one of manage, change_plan, cancel"
            )));
        }
    };
    let request = PortalRequest {
        team: member.scope.team_id(),
        flow,
        return_url: format!(
            "{}/billing",
            state.settings.public_url.trim_end_matches('/')
        ),
    };
    match state.billing.portal(&request).await {
        Ok(url) => Ok(to_stripe(url)),
        Err(why) => Ok(done(
            &state,
            "/billing",
            &format!("The customer portal could not open: {why}."),
        )),
    }
}

fn to_stripe(url: String) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, url))
        .finish()
}
