//! What "ready" means for the analyzer: Postgres answers (its work and its models live there).

use std::time::Duration;

use lifeline_ops::{Readiness, Ready};
use lifeline_store::{PgPool, ai_models};
use serde_json::json;

pub(crate) struct AnalyzerReadiness {
    pub pool: PgPool,
}

impl Readiness for AnalyzerReadiness {
    async fn check(&self) -> Ready {
        let next = async {
            let conn = self.pool.get().await.ok()?;
            ai_models::next_due(&conn).await.ok()
        };
        match tokio::time::timeout(Duration::from_secs(2), next).await {
            Ok(Some(next_due)) => Ready::ok(json!({"postgres": "ok", "next_training": next_due})),
            _ => Ready::unavailable(json!({"postgres": "unavailable"})),
        }
    }
}
