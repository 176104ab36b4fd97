//! What "ready" means for ingest; `lifeline-ops` serves `/healthz`, `/readyz` and `/metrics`.

use std::time::Duration;

use lifeline_ops::{Readiness, Ready};
use lifeline_store::PgPool;
use redis::aio::ConnectionManager;

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
        let health = lifeline_store::health::check(&self.pool, &self.redis, self.pg_timeout).await;
        if health.postgres {
            Ready::ok(health.body())
        } else {
            Ready::unavailable(health.body())
        }
    }
}
