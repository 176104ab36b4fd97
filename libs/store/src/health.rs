//! Whether the engines answer, for the services' `/readyz`.

use std::time::Duration;

use redis::aio::ConnectionManager;

use crate::PgPool;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EngineHealth {
    pub postgres: bool,
    pub redis: bool,
}

impl EngineHealth {
    /// The `/readyz` body: `{"postgres": "ok"|"unavailable", "redis": "ok"|"degraded"}`.
    pub fn body(self) -> serde_json::Value {
        serde_json::json!({
            "postgres": if self.postgres { "ok" } else { "unavailable" },
            "redis": if self.redis { "ok" } else { "degraded" },
        })
    }
}

/// Asks Postgres (within `pg_timeout`) and Redis (within a second) for a round trip.
pub async fn check(pool: &PgPool, redis: &ConnectionManager, pg_timeout: Duration) -> EngineHealth {
    let postgres = async {
        let mut conn = pool.get().await.ok()?;
        crate::pg::ping(&mut conn).await.ok()
    };
    let postgres = tokio::time::timeout(pg_timeout, postgres)
        .await
        .ok()
        .flatten()
        .is_some();
    let mut redis = redis.clone();
    let redis = tokio::time::timeout(
        Duration::from_secs(1),
        redis::cmd("PING").query_async::<String>(&mut redis),
    )
    .await
    .is_ok_and(|r| r.is_ok());
    EngineHealth { postgres, redis }
}
