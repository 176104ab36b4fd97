//! What "ready" means for ingest; `lifeline-ops` serves `/healthz`, `/readyz` and `/metrics`.

use std::time::Duration;

use lifeline_ops::{Readiness, Ready};
use lifeline_store::PgPool;
use redis::aio::ConnectionManager;
use serde_json::json;

/// Postgres must answer, since without it no ping can be acknowledged. Redis is reported but
/// does not make the process unready: ingest works without it (slower), and pulling every
/// replica out of the load balancer during a Redis blip would lose every ping.
pub struct IngestReadiness {
    pub pool: PgPool,
    pub redis: ConnectionManager,
    /// How long to wait for Postgres, as for a ping (`LIFELINE_DB_TIMEOUT_MS`).
    pub pg_timeout: Duration,
}

impl Readiness for IngestReadiness {
    async fn check(&self) -> Ready {
        let postgres = async {
            let mut conn = self.pool.get().await.ok()?;
            lifeline_store::pg::ping(&mut conn).await.ok()
        };
        let postgres = tokio::time::timeout(self.pg_timeout, postgres)
            .await
            .ok()
            .flatten()
            .is_some();
        let mut redis = self.redis.clone();
        let redis_ok = tokio::time::timeout(
            Duration::from_secs(1),
            redis::cmd("PING").query_async::<String>(&mut redis),
        )
        .await
        .is_ok_and(|r| r.is_ok());
        let body = json!({
            "postgres": if postgres { "ok" } else { "unavailable" },
            "redis": if redis_ok { "ok" } else { "degraded" },
        });
        if postgres {
            Ready::ok(body)
        } else {
            Ready::unavailable(body)
        }
    }
}
