use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// After a Redis error, Redis is skipped for a moment, so that an outage costs one timeout per
/// second instead of one per request. Everything Redis does for ingest has a fallback.
#[derive(Default)]
pub struct RedisHealth {
    skip_until_ms: AtomicU64,
}

const BACKOFF: Duration = Duration::from_secs(1);

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default()
}

impl RedisHealth {
    pub fn usable(&self) -> bool {
        now_ms() >= self.skip_until_ms.load(Ordering::Relaxed)
    }

    pub fn failed(&self, error: &redis::RedisError) {
        let was_usable = self.usable();
        self.skip_until_ms
            .store(now_ms() + BACKOFF.as_millis() as u64, Ordering::Relaxed);
        if was_usable {
            tracing::warn!(%error, "Redis unavailable; falling back to Postgres for a second");
        }
    }
}
