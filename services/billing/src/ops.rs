//! What "ready" means for billing: Postgres answers (every event is applied there). Whether
//! Stripe is configured is reported, not required: without it the service still applies the
//! plan changes already scheduled for the end of a period.

use std::time::Duration;

use lifeline_ops::{Readiness, Ready};
use lifeline_store::PgPool;
use serde_json::json;

pub(crate) struct BillingReadiness {
    pub pool: PgPool,
    pub stripe_configured: bool,
}

impl Readiness for BillingReadiness {
    async fn check(&self) -> Ready {
        let stripe = if self.stripe_configured {
            "configured"
        } else {
            "not configured"
        };
        let answers = async {
            let mut conn = self.pool.get().await.ok()?;
            lifeline_store::billing::due_count(&mut conn).await.ok()
        };
        match tokio::time::timeout(Duration::from_secs(2), answers).await {
            Ok(Some(due)) => Ready::ok(json!({
                "postgres": "ok",
                "stripe": stripe,
                "plan_changes_scheduled": due,
            })),
            _ => Ready::unavailable(json!({"postgres": "unavailable", "stripe": stripe})),
        }
    }
}
