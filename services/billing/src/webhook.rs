//! `POST /billing/stripe/webhook`: Stripe's events. Refused with `400` (and nothing changed)
//! when unsigned, forged, stale or malformed; otherwise applied once and acknowledged with
//! `200`, including events Lifeline ignores, so Stripe stops sending them. A `5xx` (database
//! unreachable) makes Stripe retry later, which is safe: an event is applied at most once.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use lifeline_store::billing::EventOutcome;
use serde_json::json;

use crate::apply::{Applied, apply};
use crate::events::{self, Says, SignedEvent};
use crate::service::Billing;

pub(crate) async fn receive(
    state: web::Data<Billing>,
    req: HttpRequest,
    body: web::Bytes,
) -> HttpResponse {
    let Some(stripe) = &state.stripe else {
        return HttpResponse::ServiceUnavailable().json(json!({
            "error": "Stripe is not configured on this installation (LIFELINE_STRIPE_*)"
        }));
    };
    let signature = req
        .headers()
        .get("Stripe-Signature")
        .and_then(|v| v.to_str().ok());
    let read = match std::str::from_utf8(&body) {
        Ok(payload) => events::read(
            payload,
            signature,
            &stripe.settings.webhook_secret,
            Utc::now(),
        ),
        Err(_) => Err(events::Refused::Malformed("the body is not UTF-8".into())),
    };
    let event = match read {
        Ok(event) => event,
        Err(refused) => {
            metrics::counter!("lifeline_billing_webhooks_total", "outcome" => "refused")
                .increment(1);
            tracing::warn!(reason = %refused, "Stripe webhook refused");
            return HttpResponse::BadRequest().json(json!({ "error": refused.to_string() }));
        }
    };
    let applied = async {
        let mut conn = state.pool.get().await?;
        apply(&mut conn, &stripe.settings, &event).await
    };
    match applied.await {
        Ok(applied) => {
            let outcome = outcome_label(&applied);
            metrics::counter!("lifeline_billing_webhooks_total", "outcome" => outcome).increment(1);
            match &applied {
                Applied::Ignored(why) => {
                    tracing::info!(event = %event.id, kind = %event.kind, %why, "Stripe event acknowledged, nothing changed");
                }
                _ => tracing::info!(event = %event.id, kind = %event.kind, outcome, "Stripe event"),
            }
            after(&state, &event, &applied).await;
            HttpResponse::Ok().json(json!({ "received": true, "outcome": outcome }))
        }
        Err(e) => {
            metrics::counter!("lifeline_billing_webhooks_total", "outcome" => "failed")
                .increment(1);
            tracing::error!(event = %event.id, error = %e, "Stripe event not applied; Stripe retries it");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "error": "the event could not be stored; retry later" }))
        }
    }
}

fn outcome_label(applied: &Applied) -> &'static str {
    match applied {
        Applied::Stored(EventOutcome::Applied(_)) => "applied",
        Applied::Stored(EventOutcome::Replayed) => "replayed",
        Applied::Stored(EventOutcome::Stale) => "stale",
        Applied::Stored(EventOutcome::UnknownTeam) => "unknown_team",
        Applied::Ignored(_) => "ignored",
    }
}

/// What follows a change, once it is committed: the scheduler looks again at heartbeats that
/// left AI mode, and the owners hear of a failed payment (once: a replay applies nothing).
async fn after(state: &Billing, event: &SignedEvent, applied: &Applied) {
    let Applied::Stored(EventOutcome::Applied(changed)) = applied else {
        return;
    };
    if let Some(changed) = changed {
        state.plan_changed(std::slice::from_ref(changed)).await;
    }
    if let Says::Invoice {
        customer: Some(customer),
        failed: true,
    } = &event.says
    {
        state.payment_failed(customer).await;
    }
}
