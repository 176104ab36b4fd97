//! The internal API the dashboard calls (`lifeline_domain::billing_service`): whether Stripe is
//! configured, and the Checkout and portal sessions behind the billing page's buttons. Every
//! request but the status presents the installation's billing key.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use lifeline_domain::Plan;
use lifeline_domain::billing_service::{
    CheckoutRequest, PortalRequest, ServiceError, SessionUrl, Status,
};
use lifeline_store::{StoreError, billing};

use crate::service::Billing;
use crate::sessions::{CallError, Stripe};

pub(crate) async fn status(state: web::Data<Billing>) -> HttpResponse {
    HttpResponse::Ok().json(Status {
        configured: state.stripe.is_some(),
    })
}

pub(crate) async fn checkout(
    state: web::Data<Billing>,
    req: HttpRequest,
    body: web::Json<CheckoutRequest>,
) -> HttpResponse {
    let (stripe, team) = match guard(&state, &req, &body.team).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    if team.plan == Plan::Enterprise {
        return refuse(
            StatusCode::CONFLICT,
            "the team is on Enterprise, which its operator manages",
        );
    }
    if team.stripe_subscription.is_some() {
        return refuse(
            StatusCode::CONFLICT,
            "the team already has a subscription: change its plan in the customer portal",
        );
    }
    let url = stripe
        .checkout(
            body.team,
            body.plan,
            team.stripe_customer.as_deref(),
            &body.email,
            &body.success_url,
            &body.cancel_url,
        )
        .await;
    session(url, "checkout")
}

pub(crate) async fn portal(
    state: web::Data<Billing>,
    req: HttpRequest,
    body: web::Json<PortalRequest>,
) -> HttpResponse {
    let (stripe, team) = match guard(&state, &req, &body.team).await {
        Ok(found) => found,
        Err(refused) => return refused,
    };
    let Some(customer) = team.stripe_customer.as_deref() else {
        return refuse(
            StatusCode::CONFLICT,
            "the team has no Stripe customer yet: subscribe to a plan first",
        );
    };
    let url = stripe
        .portal(
            customer,
            team.stripe_subscription.as_deref(),
            body.flow,
            &body.return_url,
        )
        .await;
    session(url, "portal")
}

/// What every session request needs: the caller presents the billing key, Stripe is
/// configured, and the team exists (its billing state).
async fn guard<'a>(
    state: &'a Billing,
    req: &HttpRequest,
    team: &lifeline_domain::TeamId,
) -> Result<(&'a Stripe, billing::BillingState), HttpResponse> {
    let presented = req
        .headers()
        .get("Authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !lifeline_auth::secret::same(presented, &state.key) {
        return Err(refuse(
            StatusCode::UNAUTHORIZED,
            "this API is for the dashboard: present the installation's billing key",
        ));
    }
    let stripe = state.stripe.as_ref().ok_or_else(|| {
        refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "billing is not configured on this installation (LIFELINE_STRIPE_*)",
        )
    })?;
    let found = async {
        let mut conn = state.pool.get().await?;
        billing::state(&mut conn, *team).await
    };
    let team = found.await.map_err(|e| match e {
        StoreError::NotFound => refuse(StatusCode::NOT_FOUND, "no such team"),
        e => {
            tracing::warn!(error = %e, "billing: reading the team");
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is unavailable",
            )
        }
    })?;
    Ok((stripe, team))
}

fn session(url: Result<String, CallError>, what: &'static str) -> HttpResponse {
    match url {
        Ok(url) => HttpResponse::Ok().json(SessionUrl { url }),
        Err(e @ CallError::NotSold(_)) => refuse(StatusCode::BAD_REQUEST, &e.to_string()),
        Err(e) => {
            tracing::warn!(error = %e, what, "Stripe session not created");
            refuse(StatusCode::BAD_GATEWAY, &e.to_string())
        }
    }
}

fn refuse(status: StatusCode, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(ServiceError {
        error: message.to_owned(),
    })
}
