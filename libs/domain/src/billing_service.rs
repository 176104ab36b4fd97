//! The billing service's internal API: what the dashboard asks of it. Only the billing service
//! talks to Stripe, so the dashboard's upgrade and portal buttons become these requests, and
//! their answers are the Stripe pages to send the browser to. Requests carry the installation's
//! billing key (`Authorization: Bearer …`, a server secret both services read from Postgres);
//! these paths are for the dashboard only and are not routed to from the internet.

use serde::{Deserialize, Serialize};

use crate::ids::TeamId;
use crate::plan::Plan;

/// `GET`: whether Stripe is configured ([`Status`]).
pub const STATUS_PATH: &str = "/internal/status";
/// `POST` a [`CheckoutRequest`]: a Checkout Session to subscribe a team ([`SessionUrl`]).
pub const CHECKOUT_PATH: &str = "/internal/checkout-sessions";
/// `POST` a [`PortalRequest`]: a customer portal session ([`SessionUrl`]).
pub const PORTAL_PATH: &str = "/internal/portal-sessions";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// The Stripe settings are set: plans can be bought online.
    pub configured: bool,
}

/// Subscribe `team` to `plan` (Standard or Premium).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckoutRequest {
    pub team: TeamId,
    pub plan: Plan,
    /// The owner asking, to fill in Checkout's email field (for a team without a customer yet).
    pub email: String,
    /// Where Stripe sends the browser back after paying; may contain `{CHECKOUT_SESSION_ID}`.
    pub success_url: String,
    /// Where Stripe sends the browser back when the owner gives up.
    pub cancel_url: String,
}

/// What the owner wants to do in Stripe's customer portal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PortalFlow {
    /// The portal's home: invoices, payment methods, the subscription.
    Manage,
    /// Straight to switching the subscription to another price.
    ChangePlan,
    /// Straight to cancelling the subscription (at the end of the period).
    Cancel,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalRequest {
    pub team: TeamId,
    pub flow: PortalFlow,
    /// Where the portal's "return" link leads.
    pub return_url: String,
}

/// The Stripe page to send the browser to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUrl {
    pub url: String,
}

/// Every refusal's body: a message meant for the owner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceError {
    pub error: String,
}
