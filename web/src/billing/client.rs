//! The dashboard's side of the billing service's internal API
//! (`lifeline_domain::billing_service`): only the billing service talks to Stripe.

use std::time::Duration;

use lifeline_domain::billing_service::{
    CHECKOUT_PATH, CheckoutRequest, PORTAL_PATH, PortalRequest, STATUS_PATH, ServiceError,
    SessionUrl, Status,
};
use serde::Serialize;

/// Whether plans can be bought online, as the billing service says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Offer {
    Online,
    /// No Stripe settings: the operator sets plans.
    NotConfigured,
    /// The billing service did not answer; why, for the page.
    Unreachable(String),
}

pub struct BillingClient {
    http: reqwest::Client,
    /// `LIFELINE_BILLING_URL`.
    base: String,
    /// The installation's billing key.
    key: String,
}

impl BillingClient {
    pub fn new(base: &str, key: String) -> Self {
        let http = reqwest::Client::builder()
            // Stripe's own calls are bounded at 10 s by the billing service.
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap_or_default();
        Self {
            http,
            base: base.trim_end_matches('/').to_owned(),
            key,
        }
    }

    pub async fn offer(&self) -> Offer {
        let asked = self
            .http
            .get(format!("{}{STATUS_PATH}", self.base))
            .timeout(Duration::from_secs(2))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status);
        match asked {
            Ok(res) => match res.json::<Status>().await {
                Ok(Status { configured: true }) => Offer::Online,
                Ok(Status { configured: false }) => Offer::NotConfigured,
                Err(e) => Offer::Unreachable(e.to_string()),
            },
            Err(e) => {
                tracing::warn!(base = %self.base, error = %e, "billing service unreachable");
                Offer::Unreachable(self.unreachable())
            }
        }
    }

    /// The Checkout page for the request; `Err` is a message for the owner.
    pub async fn checkout(&self, request: &CheckoutRequest) -> Result<String, String> {
        self.session(CHECKOUT_PATH, request).await
    }

    /// The customer portal for the request; `Err` is a message for the owner.
    pub async fn portal(&self, request: &PortalRequest) -> Result<String, String> {
        self.session(PORTAL_PATH, request).await
    }

    async fn session(&self, path: &str, body: &impl Serialize) -> Result<String, String> {
        let res = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.key)
            .json(body)
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(base = %self.base, error = %e, "billing service unreachable");
                self.unreachable()
            })?;
        let status = res.status();
        if status.is_success() {
            let session: SessionUrl = res
                .json()
                .await
                .map_err(|e| format!("the billing service's answer is unreadable: {e}"))?;
            return Ok(session.url);
        }
        Err(match res.json::<ServiceError>().await {
            Ok(refused) => refused.error,
            Err(_) => format!("the billing service answered {status}"),
        })
    }

    fn unreachable(&self) -> String {
        format!(
            "the billing service does not answer at {} (LIFELINE_BILLING_URL): try again in a \
             minute, or tell the operator",
            self.base
        )
    }
}
