//! The two calls Lifeline makes to Stripe, both on an owner's click: a Checkout Session to
//! subscribe a team, and a customer portal session to manage or change what it pays for.
//! Nothing else calls Stripe: plans change only through signed webhook events.

use std::time::Duration;

use lifeline_domain::billing_service::PortalFlow;
use lifeline_domain::{Plan, TeamId};
use stripe::{Client, ClientBuilder, StripeError};
use stripe_billing::billing_portal_session::{
    CreateBillingPortalSession, CreateBillingPortalSessionFlowData,
    CreateBillingPortalSessionFlowDataSubscriptionCancel,
    CreateBillingPortalSessionFlowDataSubscriptionUpdate, CreateBillingPortalSessionFlowDataType,
};
use stripe_checkout::CheckoutSessionMode;
use stripe_checkout::checkout_session::{CreateCheckoutSession, CreateCheckoutSessionLineItems};

use crate::settings::StripeSettings;

/// Each attempt's limit: the owner is waiting on the page.
const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("the {0} plan is not sold online")]
    NotSold(Plan),
    #[error("Stripe refused: {0}")]
    Refused(String),
    #[error("Stripe could not be reached: {0}")]
    Unreachable(String),
}

impl From<StripeError> for CallError {
    fn from(e: StripeError) -> Self {
        match e {
            StripeError::Stripe(api, status) => CallError::Refused(
                api.message
                    .clone()
                    .unwrap_or_else(|| format!("status {status}")),
            ),
            other => CallError::Unreachable(other.to_string()),
        }
    }
}

/// A Stripe client with Lifeline's prices.
#[derive(Clone)]
pub struct Stripe {
    client: Client,
    pub settings: StripeSettings,
}

impl std::fmt::Debug for Stripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stripe")
            .field("api_base", &self.settings.api_base)
            .finish_non_exhaustive()
    }
}

impl Stripe {
    pub fn new(settings: StripeSettings) -> Result<Self, StripeError> {
        let client = ClientBuilder::new(settings.secret_key.as_str())
            .url(settings.api_base.as_str())
            .timeout(TIMEOUT)
            .build()?;
        Ok(Self { client, settings })
    }

    /// A Checkout Session subscribing `team` to `plan`; returns the page to send the owner to.
    /// The team id rides along as `client_reference_id`, which the completed checkout's event
    /// brings back to link the customer to the team.
    pub async fn checkout(
        &self,
        team: TeamId,
        plan: Plan,
        customer: Option<&str>,
        email: &str,
        success_url: &str,
        cancel_url: &str,
    ) -> Result<String, CallError> {
        let price = self
            .settings
            .price_of(plan)
            .ok_or(CallError::NotSold(plan))?;
        let mut item = CreateCheckoutSessionLineItems::new();
        item.price = Some(price.to_owned());
        item.quantity = Some(1);
        let mut create = CreateCheckoutSession::new()
            .mode(CheckoutSessionMode::Subscription)
            .line_items(vec![item])
            .client_reference_id(team.to_string())
            .success_url(success_url)
            .cancel_url(cancel_url);
        // A team that paid before stays one customer in Stripe.
        create = match customer {
            Some(customer) => create.customer(customer),
            None => create.customer_email(email),
        };
        let session = create.send(&self.client).await?;
        session
            .url
            .ok_or_else(|| CallError::Refused("the Checkout Session has no URL".into()))
    }

    /// A customer portal session for `customer`, opened on `flow` (the subscription's flows
    /// need its id; without one the portal opens on its home).
    pub async fn portal(
        &self,
        customer: &str,
        subscription: Option<&str>,
        flow: PortalFlow,
        return_url: &str,
    ) -> Result<String, CallError> {
        let mut create = CreateBillingPortalSession::new()
            .customer(customer)
            .return_url(return_url);
        if let Some(subscription) = subscription {
            match flow {
                PortalFlow::Manage => {}
                PortalFlow::ChangePlan => {
                    let mut data = CreateBillingPortalSessionFlowData::new(
                        CreateBillingPortalSessionFlowDataType::SubscriptionUpdate,
                    );
                    data.subscription_update = Some(
                        CreateBillingPortalSessionFlowDataSubscriptionUpdate::new(subscription),
                    );
                    create = create.flow_data(data);
                }
                PortalFlow::Cancel => {
                    let mut data = CreateBillingPortalSessionFlowData::new(
                        CreateBillingPortalSessionFlowDataType::SubscriptionCancel,
                    );
                    data.subscription_cancel = Some(
                        CreateBillingPortalSessionFlowDataSubscriptionCancel::new(subscription),
                    );
                    create = create.flow_data(data);
                }
            }
        }
        Ok(create.send(&self.client).await?.url)
    }
}
