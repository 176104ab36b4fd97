//! What the billing service's handlers share, and what follows a committed change: waking the
//! scheduler when AI heartbeats went back to fixed deadlines, and emailing owners when a
//! payment failed.

use lifeline_notify::Notifier;
use lifeline_store::billing::{self, PlanChanged};
use lifeline_store::{PgPool, RedisKeys, wake};
use redis::aio::ConnectionManager;

use crate::sessions::Stripe;

pub(crate) struct Billing {
    pub pool: PgPool,
    /// `None`: Stripe is not configured; the webhook and the sessions answer `503`.
    pub stripe: Option<Stripe>,
    /// The installation's billing key, which the dashboard presents.
    pub key: String,
    pub notifier: Notifier,
    /// Wake-ups for the scheduler (best effort: its poll covers lost ones).
    pub redis: (ConnectionManager, RedisKeys),
}

impl Billing {
    /// Logs committed plan changes; AI heartbeats back on fixed deadlines may be due sooner
    /// than the scheduler planned, so it looks again now.
    pub async fn plan_changed(&self, changed: &[PlanChanged]) {
        for c in changed {
            tracing::info!(team = %c.team, from = %c.from, to = %c.to,
                ai_turned_off = c.ai_turned_off.len(), "plan changed");
        }
        if changed.iter().any(|c| !c.ai_turned_off.is_empty()) {
            let (redis, keys) = &self.redis;
            let woken = wake::Wake {
                deadlines: true,
                deliveries: false,
            };
            wake::publish(&mut redis.clone(), keys, woken).await;
        }
    }

    /// Emails the owners of the customer's team that Stripe could not take a payment. Best
    /// effort: the dashboard's banner says it too, until a payment succeeds.
    pub async fn payment_failed(&self, customer: &str) {
        let contacts = async {
            let mut conn = self.pool.get().await?;
            billing::payment_contacts(&mut conn, customer).await
        };
        let contacts = match contacts.await {
            Ok(Some(contacts)) => contacts,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(%customer, error = %e, "payment failure: owners not emailed");
                return;
            }
        };
        let link = format!(
            "{}/billing",
            self.notifier.settings().public_url.trim_end_matches('/')
        );
        let subject = format!("Lifeline: a payment for {} failed", contacts.name);
        let body = format!(
            "Stripe could not take the payment for the {plan} plan of {team}.\n\n\
             Your heartbeats are still monitored. Stripe tries the payment again over the next \
             days; if every attempt fails, the subscription ends and {team} goes back to the \
             Free plan. To pay now or change the card, open the billing page and its customer \
             portal:\n\n{link}\n\n\
             The dashboard shows this notice until a payment succeeds.\n",
            plan = contacts.plan,
            team = contacts.name,
        );
        for owner in &contacts.owners {
            if let Err(e) = self.notifier.send_email(owner, &subject, &body).await {
                tracing::warn!(team = %contacts.team, error = %e, "payment failure email not sent");
            }
        }
    }
}
