//! What a verified event changes, through `lifeline_store::billing` (the one place plans
//! change). Prices Lifeline does not sell and events it does not handle are logged and
//! acknowledged without changing anything, so Stripe stops retrying them.

use lifeline_domain::{Subscription, SubscriptionStatus, TeamId};
use lifeline_store::billing::{self, EventOutcome, EventRef};
use lifeline_store::{PgConn, StoreError};

use crate::events::{Says, SignedEvent, SubscriptionState};
use crate::settings::StripeSettings;

/// What became of an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Applied {
    Stored(EventOutcome),
    /// Acknowledged, nothing changed; why, for the log.
    Ignored(String),
}

pub async fn apply(
    conn: &mut PgConn,
    stripe: &StripeSettings,
    e: &SignedEvent,
) -> Result<Applied, StoreError> {
    let event = EventRef {
        id: &e.id,
        kind: &e.kind,
        created: e.created,
    };
    let ignored = |why: String| Ok(Applied::Ignored(why));
    let outcome = match &e.says {
        Says::CheckoutCompleted {
            team,
            customer,
            subscription,
        } => {
            let team = team.as_deref().and_then(|t| t.parse::<TeamId>().ok());
            let (Some(team), Some(customer)) = (team, customer) else {
                return ignored("a checkout without a Lifeline team or a customer".into());
            };
            billing::link_checkout(conn, &event, team, customer, subscription.as_deref()).await?
        }
        Says::Subscription {
            id,
            customer,
            state,
        } => {
            let state = match state.as_ref().map(|s| subscription(stripe, s)).transpose() {
                Ok(state) => state,
                Err(why) => return ignored(why),
            };
            billing::apply_subscription(conn, &event, customer, id, state).await?
        }
        Says::Invoice {
            customer: Some(customer),
            failed,
        } => billing::record_payment(conn, &event, customer, *failed).await?,
        Says::Invoice { customer: None, .. } => {
            return ignored("an invoice without a customer".into());
        }
        Says::Other => return ignored(format!("event type {} is not handled", e.kind)),
    };
    Ok(Applied::Stored(outcome))
}

/// The domain's view of a subscription; `Err` says why Lifeline cannot act on it.
fn subscription(stripe: &StripeSettings, s: &SubscriptionState) -> Result<Subscription, String> {
    let price = s.price.as_deref().unwrap_or_default();
    let plan = stripe
        .plan_of(price)
        .ok_or_else(|| format!("price {price:?} is not one Lifeline sells"))?;
    let status =
        SubscriptionStatus::parse(&s.status).map_err(|e| format!("subscription status: {e}"))?;
    let period_end = s
        .period_end
        .ok_or_else(|| "a subscription without a current period".to_owned())?;
    Ok(Subscription {
        status,
        plan,
        period_end,
        cancel_at_period_end: s.cancel_at_period_end,
    })
}
