//! Token → heartbeat resolution: in-process cache, then Redis, then Postgres.
//!
//! The in-process cache is trusted only while this process is subscribed to the token events
//! channel; a rotation publishes the old token there, so every process forgets it within
//! milliseconds. While the subscription is down (Redis outage), the cache is bypassed and every
//! lookup goes to Postgres: slower, never wrong. On resubscribing the cache is cleared, since
//! events may have been missed.
//!
//! Besides Redis, every process polls Postgres's `token_revocations` twice a second: a rotation
//! that could not be announced (Redis down or partitioned from the rotating process) still takes
//! effect within a second, and the poller replaces any stale Redis entry with a tombstone.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use lifeline_store::keys::unhex;
use lifeline_store::tokens::{self, TokenTarget};
use lifeline_store::{PgPool, RedisKeys, StoreError};
use moka::sync::Cache;
use quick_cache::sync::Cache as KnownCache;
use redis::aio::ConnectionManager;

use crate::redis_health::RedisHealth;

/// Known tokens kept at most; beyond that the least used are looked up again.
const KNOWN_CAPACITY: u64 = 1_000_000;
/// How long a known token is trusted without asking again, should both its announcement and
/// the revocation poll have missed a change.
const KNOWN_FOR: Duration = Duration::from_secs(300);

pub struct TokenResolver {
    /// Every real ping reads this, so it is a cache whose read is a hash probe under a shard's
    /// read lock (quick_cache), not one that records each read for its policy (moka). It keeps
    /// no time: an entry carries when it was stored and counts as absent after [`KNOWN_FOR`].
    known: KnownCache<[u8; 32], (TokenTarget, Instant)>,
    unknown: Cache<[u8; 32], ()>,
    subscribed: AtomicBool,
    pool: PgPool,
    redis: ConnectionManager,
    keys: RedisKeys,
    health: Arc<RedisHealth>,
}

impl TokenResolver {
    pub fn new(
        pool: PgPool,
        redis: ConnectionManager,
        keys: RedisKeys,
        health: Arc<RedisHealth>,
    ) -> Self {
        Self {
            known: KnownCache::with_weighter(100_000, KNOWN_CAPACITY, quick_cache::UnitWeighter),
            unknown: Cache::builder()
                .max_capacity(100_000)
                .time_to_live(Duration::from_secs(5))
                .build(),
            subscribed: AtomicBool::new(false),
            pool,
            redis,
            keys,
            health,
        }
    }

    /// What this process knows of the token without asking anyone: `Some(Some(target))` for a
    /// known token, `Some(None)` for one looked up and found unknown in the last few seconds.
    pub fn remembered(&self, hash: &[u8; 32]) -> Option<Option<TokenTarget>> {
        // Known tokens first: they are what real pings carry, so most pings cost one cache
        // lookup. (A token in both caches can only be one deleted a moment ago whose
        // announcement is on its way; its ping then finds the heartbeat gone when written.)
        if self.subscribed.load(Ordering::Acquire)
            && let Some((target, stored)) = self.known.get(hash)
            && stored.elapsed() < KNOWN_FOR
        {
            return Some(Some(target));
        }
        // A token can only become known by being created, which no client can have pinged
        // before: the negative cache is safe even while rotations could be missed.
        self.unknown.contains_key(hash).then_some(None)
    }

    /// Asks Redis, then Postgres, and remembers the answer.
    pub async fn look_up(&self, hash: &[u8; 32]) -> Result<Option<TokenTarget>, StoreError> {
        let trusted = self.subscribed.load(Ordering::Acquire);
        let mut redis = self.redis.clone();
        if self.health.usable() {
            match tokens::cached(&mut redis, &self.keys, hash).await {
                Ok(Some(target)) => {
                    metrics::counter!("lifeline_token_lookups_total", "answered_by" => "redis")
                        .increment(1);
                    self.remember(hash, target, trusted);
                    return Ok(target);
                }
                Ok(None) => {}
                Err(e) => self.health.failed(&e),
            }
        }
        let mut conn = self.pool.get().await?;
        let target = tokens::lookup(&mut conn, hash).await?;
        drop(conn);
        metrics::counter!("lifeline_token_lookups_total", "answered_by" => "postgres").increment(1);
        if self.health.usable()
            && let Err(e) = tokens::fill_cache(&mut redis, &self.keys, hash, target).await
        {
            self.health.failed(&e);
        }
        self.remember(hash, target, trusted);
        Ok(target)
    }

    fn remember(&self, hash: &[u8; 32], target: Option<TokenTarget>, trusted: bool) {
        match target {
            // Without a live subscription we could not hear of a rotation.
            Some(t) if trusted => self.known.insert(*hash, (t, Instant::now())),
            Some(_) => {}
            None => self.unknown.insert(*hash, ()),
        }
    }

    fn forget(&self, hash: &[u8; 32]) {
        self.known.remove(hash);
        self.unknown.invalidate(hash);
    }

    fn set_subscribed(&self, live: bool) {
        if live {
            // Events may have been missed while we were not listening.
            self.known.clear();
            self.unknown.invalidate_all();
        }
        self.subscribed.store(live, Ordering::Release);
    }
}

/// Keeps a subscription to the token events channel, forever. A ping on the subscription every
/// quarter second detects a silent failure fast enough that a rotation during a Redis outage
/// still takes effect within a second; until it is restored the cache stays bypassed.
pub async fn listen(
    resolver: Arc<TokenResolver>,
    client: redis::Client,
    keys: RedisKeys,
    timeout: Duration,
) {
    let channel = keys.token_events();
    loop {
        match subscribe(&client, &channel, timeout).await {
            Ok(pubsub) => {
                let (mut sink, mut stream) = pubsub.split();
                resolver.set_subscribed(true);
                tracing::debug!(%channel, "listening for token changes");
                let mut heartbeat = tokio::time::interval(Duration::from_millis(250));
                loop {
                    tokio::select! {
                        msg = stream.next() => match msg {
                            Some(msg) => {
                                let payload: String = msg.get_payload().unwrap_or_default();
                                if let Some(hash) = unhex(&payload) {
                                    resolver.forget(&hash);
                                }
                            }
                            None => break,
                        },
                        _ = heartbeat.tick() => {
                            let alive = tokio::time::timeout(timeout, sink.ping::<redis::Value>()).await;
                            if !matches!(alive, Ok(Ok(_))) {
                                break;
                            }
                        }
                    }
                }
                resolver.set_subscribed(false);
                tracing::warn!("token events subscription lost; resolving tokens from Postgres");
            }
            Err(e) => {
                resolver.set_subscribed(false);
                tracing::debug!(error = %e, "cannot subscribe to token events");
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Polls `token_revocations` forever (see the module comment).
pub async fn poll_revocations(resolver: Arc<TokenResolver>) {
    // Start ten minutes back (the Redis entry lifetime), so a restart also repairs Redis.
    let mut since = chrono::Utc::now() - chrono::Duration::minutes(10);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut rounds: u64 = 0;
    loop {
        tick.tick().await;
        rounds += 1;
        let Ok(mut conn) = resolver.pool.get().await else {
            continue;
        };
        // Commits are not visible in timestamp order: look back a little and re-apply.
        let revoked =
            match tokens::revoked_since(&mut conn, since - chrono::Duration::seconds(5)).await {
                Ok(revoked) => revoked,
                Err(e) => {
                    tracing::debug!(error = %e, "cannot poll token revocations");
                    continue;
                }
            };
        if rounds.is_multiple_of(7200) {
            let _ = tokens::prune_revocations(&mut conn).await;
        }
        drop(conn);
        let mut redis = resolver.redis.clone();
        for (hash, at) in revoked {
            resolver.forget(&hash);
            if resolver.health.usable()
                && let Err(e) = tokens::bury(&mut redis, &resolver.keys, &hash).await
            {
                resolver.health.failed(&e);
            }
            since = since.max(at);
        }
    }
}

async fn subscribe(
    client: &redis::Client,
    channel: &str,
    timeout: Duration,
) -> Result<redis::aio::PubSub, redis::RedisError> {
    let attempt = async {
        let mut pubsub = client.get_async_pubsub().await?;
        pubsub.subscribe(channel).await?;
        // Redis answers in order: a reply to PING proves the subscription is in place, so no
        // event published from now on can be missed.
        pubsub.ping::<redis::Value>().await?;
        Ok(pubsub)
    };
    tokio::time::timeout(timeout * 4, attempt)
        .await
        .unwrap_or_else(|_| {
            Err(redis::RedisError::from(std::io::Error::from(
                std::io::ErrorKind::TimedOut,
            )))
        })
}
