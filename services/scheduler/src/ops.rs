//! What "ready" means for the scheduler. `lifeline-ops` serves `/healthz`, `/readyz` and
//! `/metrics` on `LIFELINE_SCHEDULER_ADDR`, since the scheduler has no HTTP server of its own.

use std::time::Duration;

use lifeline_ops::{Readiness, Ready};
use lifeline_store::{PgPool, coverage};
use serde_json::json;

/// Ready when Postgres answers. Also says whether Lifeline is blind (no ingest beacon lately),
/// which holds deadlines — worth an operator's page, but no reason to restart the scheduler.
pub(crate) struct SchedulerReadiness {
    pub pool: PgPool,
    pub blind_after: Duration,
}

impl Readiness for SchedulerReadiness {
    async fn check(&self) -> Ready {
        let current = async {
            let mut conn = self.pool.get().await.ok()?;
            coverage::current(&mut conn).await.ok()
        };
        match tokio::time::timeout(Duration::from_secs(2), current).await {
            Ok(Some(coverage)) => Ready::ok(json!({
                "postgres": "ok",
                "covered_until": coverage.covered_until,
                "blind": coverage.blind_at(coverage.now, self.blind_after),
            })),
            _ => Ready::unavailable(json!({"postgres": "unavailable"})),
        }
    }
}
