//! Where Stripe Checkout sends the owner back. Paying does not change the plan by itself: the
//! plan changes when Stripe's signed event reaches the billing service, usually within seconds,
//! so the success page shows the plan as it is and looks again until the new one is in.

use actix_web::{HttpResponse, web};
use askama::Template;
use lifeline_domain::Plan;
use serde::Deserialize;

use crate::error::PageError;
use crate::page::{Nav, render};
use crate::session::Member;
use crate::teams::plan_name;

#[derive(Deserialize)]
pub struct Returned {
    /// The plan the checkout was for.
    plan: Option<String>,
}

#[derive(Template)]
#[template(path = "billing/returned.html")]
struct ReturnedPage {
    nav: Nav,
    /// `success` or `canceled`.
    outcome: &'static str,
    plan: &'static str,
    plan_name: &'static str,
    /// The plan paid for, while the team is not on it yet.
    waiting_for: Option<&'static str>,
    ai: bool,
}

pub async fn success(
    member: Member,
    query: web::Query<Returned>,
) -> Result<HttpResponse, PageError> {
    let plan = member.scope.plan();
    let wanted = query.plan.as_deref().and_then(|p| Plan::parse(p).ok());
    returned(&member, "success", wanted.filter(|&w| w != plan))
}

pub async fn canceled(member: Member) -> Result<HttpResponse, PageError> {
    returned(&member, "canceled", None)
}

fn returned(
    member: &Member,
    outcome: &'static str,
    waiting_for: Option<Plan>,
) -> Result<HttpResponse, PageError> {
    let plan = member.scope.plan();
    render(&ReturnedPage {
        nav: Nav::member(member, "billing"),
        outcome,
        plan: plan.as_str(),
        plan_name: plan_name(plan),
        waiting_for: waiting_for.map(plan_name),
        ai: plan.limits().ai_heartbeats,
    })
}
