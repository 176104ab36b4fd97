//! A Stripe webhook request read into what Lifeline acts on. The signature is checked first
//! (`Stripe-Signature: t=…,v1=…`: HMAC-SHA256 of `t.payload` keyed by the endpoint's secret,
//! compared in constant time, at most 300 seconds old or early — `async-stripe`'s webhook
//! crate does this), and the event is decided from its signed body alone: nothing is fetched
//! back from Stripe on the webhook path, so a forged or replayed request has nothing to steer.

use chrono::{DateTime, Utc};
use stripe_webhook::{Event, EventObject, Webhook, WebhookError};

/// Why a request is refused with `400`; nothing was changed.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("no Stripe-Signature header")]
    Unsigned,
    #[error("the Stripe-Signature header does not match the body")]
    Forged,
    #[error("the Stripe-Signature timestamp is more than 300 seconds from now")]
    Stale,
    #[error("malformed request: {0}")]
    Malformed(String),
}

/// A verified event: its id, type and creation time, and what it says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedEvent {
    pub id: String,
    pub kind: String,
    pub created: DateTime<Utc>,
    pub says: Says,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Says {
    /// `checkout.session.completed`: the team it was started for (`client_reference_id`).
    CheckoutCompleted {
        team: Option<String>,
        customer: Option<String>,
        subscription: Option<String>,
    },
    /// `customer.subscription.created/updated/deleted`; `state` is `None` when deleted.
    Subscription {
        id: String,
        customer: String,
        state: Option<SubscriptionState>,
    },
    /// `invoice.paid` / `invoice.payment_failed`.
    Invoice {
        customer: Option<String>,
        failed: bool,
    },
    /// Anything else: acknowledged, nothing done.
    Other,
}

/// A subscription as the event shows it, in Stripe's words.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionState {
    pub status: String,
    /// The first item's price.
    pub price: Option<String>,
    /// The end of the paid period (Stripe keeps it per item).
    pub period_end: Option<DateTime<Utc>>,
    pub cancel_at_period_end: bool,
}

/// Verifies and reads one webhook request at `now`.
pub fn read(
    payload: &str,
    signature: Option<&str>,
    secret: &str,
    now: DateTime<Utc>,
) -> Result<SignedEvent, Refused> {
    let signature = signature.ok_or(Refused::Unsigned)?;
    let event =
        Webhook::construct_event_with_timestamp(payload, signature, secret, now.timestamp())
            .map_err(|e| match e {
                WebhookError::BadSignature | WebhookError::BadKey => Refused::Forged,
                WebhookError::BadTimestamp(_) => Refused::Stale,
                WebhookError::BadHeader(e) => Refused::Malformed(format!("Stripe-Signature: {e}")),
                WebhookError::BadParse(e) => Refused::Malformed(e),
            })?;
    let created = DateTime::from_timestamp(event.created, 0)
        .ok_or_else(|| Refused::Malformed(format!("created {} is not a time", event.created)))?;
    Ok(SignedEvent {
        id: event.id.as_str().to_owned(),
        kind: event.type_.as_str().to_owned(),
        created,
        says: says(&event),
    })
}

fn says(event: &Event) -> Says {
    let time = |secs: i64| DateTime::from_timestamp(secs, 0);
    match &event.data.object {
        EventObject::CheckoutSessionCompleted(session) => Says::CheckoutCompleted {
            team: session.client_reference_id.clone(),
            customer: session
                .customer
                .as_ref()
                .map(|c| c.id().as_str().to_owned()),
            subscription: session
                .subscription
                .as_ref()
                .map(|s| s.id().as_str().to_owned()),
        },
        EventObject::CustomerSubscriptionCreated(sub)
        | EventObject::CustomerSubscriptionUpdated(sub)
        | EventObject::CustomerSubscriptionDeleted(sub) => {
            let deleted = matches!(
                event.data.object,
                EventObject::CustomerSubscriptionDeleted(_)
            );
            let item = sub.items.data.first();
            Says::Subscription {
                id: sub.id.as_str().to_owned(),
                customer: sub.customer.id().as_str().to_owned(),
                state: (!deleted).then(|| SubscriptionState {
                    status: sub.status.as_str().to_owned(),
                    price: item.map(|i| i.price.id.as_str().to_owned()),
                    period_end: item.and_then(|i| time(i.current_period_end)),
                    cancel_at_period_end: sub.cancel_at_period_end,
                }),
            }
        }
        EventObject::InvoicePaid(invoice) | EventObject::InvoicePaymentFailed(invoice) => {
            Says::Invoice {
                customer: invoice
                    .customer
                    .as_ref()
                    .map(|c| c.id().as_str().to_owned()),
                failed: matches!(event.data.object, EventObject::InvoicePaymentFailed(_)),
            }
        }
        _ => Says::Other,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::test_payloads::{event, subscription};

    const SECRET: &str = "whsec_test_secret";

    fn at(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(secs, 0).unwrap()
    }

    fn signed(payload: &str, t: i64) -> String {
        Webhook::generate_test_header(payload, SECRET, Some(t))
    }

    #[test]
    fn a_signed_subscription_update_reads_as_its_state() {
        let now = 1_800_000_000;
        let body = event(
            "evt_1",
            "customer.subscription.updated",
            now - 5,
            &subscription("active", "price_p", true),
        );
        let e = read(&body, Some(&signed(&body, now)), SECRET, at(now)).unwrap();
        assert_eq!(
            (e.id.as_str(), e.kind.as_str()),
            ("evt_1", "customer.subscription.updated")
        );
        assert_eq!(e.created, at(now - 5));
        assert_eq!(
            e.says,
            Says::Subscription {
                id: "sub_1".into(),
                customer: "cus_1".into(),
                state: Some(SubscriptionState {
                    status: "active".into(),
                    price: Some("price_p".into()),
                    period_end: Some(at(1_702_592_000)),
                    cancel_at_period_end: true,
                }),
            }
        );
        let deleted = event(
            "evt_2",
            "customer.subscription.deleted",
            now,
            &subscription("canceled", "price_p", false),
        );
        let e = read(&deleted, Some(&signed(&deleted, now)), SECRET, at(now)).unwrap();
        assert!(matches!(e.says, Says::Subscription { state: None, .. }));
    }

    #[test]
    fn unsigned_forged_stale_and_malformed_requests_are_refused() {
        let now = 1_800_000_000;
        let body = event(
            "evt_1",
            "customer.subscription.updated",
            now,
            &subscription("active", "price_p", false),
        );
        assert_eq!(read(&body, None, SECRET, at(now)), Err(Refused::Unsigned));
        let forged = Webhook::generate_test_header(&body, "whsec_other", Some(now));
        assert_eq!(
            read(&body, Some(&forged), SECRET, at(now)),
            Err(Refused::Forged)
        );
        let tampered = body.replace("active", "unpaid");
        assert_eq!(
            read(&tampered, Some(&signed(&body, now)), SECRET, at(now)),
            Err(Refused::Forged)
        );
        assert_eq!(
            read(&body, Some(&signed(&body, now - 301)), SECRET, at(now)),
            Err(Refused::Stale)
        );
        assert!(read(&body, Some(&signed(&body, now - 300)), SECRET, at(now)).is_ok());
        assert!(matches!(
            read(&body, Some("t=abc,v1=00"), SECRET, at(now)),
            Err(Refused::Malformed(_))
        ));
        let broken = "{\"id\": 1}";
        assert!(matches!(
            read(broken, Some(&signed(broken, now)), SECRET, at(now)),
            Err(Refused::Malformed(_))
        ));
    }

    #[test]
    fn unknown_events_are_read_as_other() {
        let now = 1_800_000_000;
        let body = event(
            "evt_9",
            "some.future_event",
            now,
            r#"{"id":"x_1","object":"mystery"}"#,
        );
        let e = read(&body, Some(&signed(&body, now)), SECRET, at(now)).unwrap();
        assert_eq!(e.says, Says::Other);
        assert_eq!(e.kind, "some.future_event");
    }
}
