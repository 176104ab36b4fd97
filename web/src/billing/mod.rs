//! `/billing`: the team's plan, its usage against each limit, the plans to choose from, and the
//! buttons that start a change — Stripe Checkout for a team without a subscription, the customer
//! portal for one with — through the billing service ([`client`]). Owners only: they are the
//! ones who pay. Stripe's return pages land on `/billing/success` and `/billing/canceled`.

mod client;
mod page;
mod returns;

pub use client::{BillingClient, Offer};

use crate::routes::Routes;

/// What the billing pages ask of a member.
pub(crate) const MANAGE: &str = "manage the team's plan and billing";

pub fn routes(r: &mut Routes<'_>) {
    r.get("/billing", page::page)
        .post("/billing/checkout", page::checkout)
        .post("/billing/portal", page::portal)
        .get("/billing/success", returns::success)
        .get("/billing/canceled", returns::canceled);
}
