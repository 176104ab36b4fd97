//! A limit per client address on answers about unknown tokens.
//!
//! A well-formed token that no heartbeat has misses every cache, so each one costs a Postgres
//! query; a flood of random tokens from one address would compete with real pings for the pool.
//! Every unknown-token answer that cost a lookup is counted per address in a fixed window,
//! shared by the ingest processes through Redis (in this process only while Redis is unusable).
//! Once an address reaches the limit it is remembered here until the window ends, and its
//! requests are answered from this process's caches alone: a token this process already knows
//! still pings, anything else gets `429` before Redis or Postgres is asked. Tokens this process
//! already knows to be unknown (the negative cache) are answered without counting: they cost
//! nothing, and a job pinging a deleted heartbeat's URL every second should not lock its host
//! out.

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use lifeline_store::RedisKeys;
use moka::sync::Cache;
use redis::aio::ConnectionManager;

use crate::IngestSettings;
use crate::rate_limit::FixedWindow;
use crate::redis_health::RedisHealth;

/// Addresses remembered at once (over the limit, or counted while Redis is down).
const ADDRESSES: u64 = 100_000;

pub struct UnknownTokenLimit {
    redis: ConnectionManager,
    keys: RedisKeys,
    health: Arc<RedisHealth>,
    limit: u32,
    window: FixedWindow,
    /// Addresses at the limit, with the window they reached it in.
    refused: Cache<IpAddr, i64>,
    /// Counts kept in this process while Redis is unusable.
    local: Cache<(IpAddr, i64), Arc<AtomicU32>>,
}

impl UnknownTokenLimit {
    pub fn new(
        redis: ConnectionManager,
        keys: RedisKeys,
        health: Arc<RedisHealth>,
        settings: &IngestSettings,
    ) -> Self {
        let window = FixedWindow::new(settings.rate_window);
        Self {
            redis,
            keys,
            health,
            limit: settings.unknown_token_limit,
            window,
            refused: by_address(window.length()),
            local: by_address(window.length() * 2),
        }
    }

    /// `Err(retry_after)` when `addr` has had its share of unknown tokens in this window: the
    /// caller must not look the token up.
    pub fn admit(&self, addr: IpAddr) -> Result<(), Duration> {
        if self.limit == 0 {
            return Ok(());
        }
        let (window, left) = self.window.now();
        match self.refused.get(&addr) {
            Some(at) if at == window => Err(left),
            _ => Ok(()),
        }
    }

    /// Counts one unknown-token answer that cost a lookup.
    pub async fn count(&self, addr: IpAddr) {
        if self.limit == 0 {
            return;
        }
        let (window, _) = self.window.now();
        let counted = if self.health.usable() {
            self.count_shared(addr, window).await
        } else {
            None
        };
        let n = counted.unwrap_or_else(|| {
            self.local
                .get_with((addr, window), || Arc::new(AtomicU32::new(0)))
                .fetch_add(1, Ordering::Relaxed)
                .saturating_add(1)
        });
        if n >= self.limit {
            if n == self.limit {
                tracing::warn!(%addr, limit = self.limit, "address reached the unknown-token limit");
            }
            self.refused.insert(addr, window);
        }
    }

    async fn count_shared(&self, addr: IpAddr, window: i64) -> Option<u32> {
        let key = self.keys.unknown_tokens(addr, window);
        let mut redis = self.redis.clone();
        let counted: redis::RedisResult<(u32,)> = redis::pipe()
            .incr(&key, 1u32)
            .expire(&key, self.window.seconds() * 2)
            .ignore()
            .query_async(&mut redis)
            .await;
        match counted {
            Ok((n,)) => Some(n),
            Err(e) => {
                self.health.failed(&e);
                None
            }
        }
    }
}

fn by_address<K, V>(lifetime: Duration) -> Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    Cache::builder()
        .max_capacity(ADDRESSES)
        .time_to_live(lifetime)
        .build()
}
