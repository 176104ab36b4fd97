//! Failed logins are limited per account and per client address, so a password cannot be
//! guessed by trying many against one account, nor many accounts from one address. Counters live
//! in Redis (shared by every web process); while Redis is unreachable each process counts on its
//! own, which still stops a guesser. Password reset requests are counted the same way (each one
//! mails somebody), with counters of their own.

use std::time::Duration;

use redis::aio::ConnectionManager;
use sha2::{Digest, Sha256};

use lifeline_store::RedisKeys;

use crate::error::PageError;

/// An address may fail this many times more than one account may: an office behind one NAT
/// address has several people who mistype.
const ADDR_FACTOR: u32 = 4;

/// What a limiter counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counted {
    FailedLogins,
    ResetRequests,
}

pub struct LoginLimiter {
    counted: Counted,
    redis: ConnectionManager,
    keys: RedisKeys,
    max_failures: u32,
    window: Duration,
    local: moka::sync::Cache<String, u32>,
}

impl LoginLimiter {
    pub fn new(
        redis: ConnectionManager,
        keys: RedisKeys,
        max_failures: u32,
        window: Duration,
    ) -> Self {
        Self::counting(Counted::FailedLogins, redis, keys, max_failures, window)
    }

    /// A limiter of something else than failed logins, with the same rules.
    pub fn counting(
        counted: Counted,
        redis: ConnectionManager,
        keys: RedisKeys,
        max_failures: u32,
        window: Duration,
    ) -> Self {
        Self {
            counted,
            redis,
            keys,
            max_failures,
            window,
            local: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(window)
                .build(),
        }
    }

    fn counters(&self, email: &str, addr: &str) -> [(String, u32); 2] {
        let account = hex::encode(Sha256::digest(email.trim().to_lowercase().as_bytes()));
        let key = |who: &str, id: &str| match self.counted {
            Counted::FailedLogins => self.keys.login_failures(who, id),
            Counted::ResetRequests => self.keys.reset_requests(who, id),
        };
        [
            (key("account", &account), self.max_failures),
            (key("addr", addr), self.max_failures * ADDR_FACTOR),
        ]
    }

    /// `TooManyRequests` when the account or the address has used up its failures.
    pub async fn check(&self, email: &str, addr: &str) -> Result<(), PageError> {
        let counters = self.counters(email, addr);
        let keys: Vec<&String> = counters.iter().map(|(k, _)| k).collect();
        let mut redis = self.redis.clone();
        let counts: Vec<u32> = match tokio::time::timeout(
            Duration::from_millis(500),
            redis::cmd("MGET")
                .arg(&keys)
                .query_async::<Vec<Option<u32>>>(&mut redis),
        )
        .await
        {
            Ok(Ok(counts)) => counts.into_iter().map(Option::unwrap_or_default).collect(),
            _ => keys
                .iter()
                .map(|k| self.local.get(*k).unwrap_or(0))
                .collect(),
        };
        let minutes = self.window.as_secs().div_ceil(60);
        for ((_, max), count) in counters.iter().zip(counts) {
            if count >= *max {
                return Err(PageError::TooManyRequests(match self.counted {
                    Counted::FailedLogins => format!(
                        "too many failed logins: wait {minutes} minutes, or reset the password"
                    ),
                    Counted::ResetRequests => format!(
                        "too many password reset requests: wait {minutes} minutes, and look for \
                         the emails already sent (and in the spam folder)"
                    ),
                }));
            }
        }
        Ok(())
    }

    /// Counts one failed login (or one reset request).
    pub async fn failed(&self, email: &str, addr: &str) {
        let window = self.window.as_secs().max(1) as i64;
        let mut pipe = redis::pipe();
        for (key, _) in self.counters(email, addr) {
            pipe.incr(&key, 1).ignore().expire(&key, window).ignore();
            self.local
                .entry(key)
                .and_upsert_with(|c| c.map_or(1, |c| c.into_value() + 1));
        }
        let mut redis = self.redis.clone();
        let _ = tokio::time::timeout(
            Duration::from_millis(500),
            pipe.query_async::<()>(&mut redis),
        )
        .await;
    }

    /// A successful login forgives the account's failures (not the address's).
    pub async fn succeeded(&self, email: &str) {
        let [(account, _), _] = self.counters(email, "");
        self.local.invalidate(&account);
        let mut redis = self.redis.clone();
        let _ = tokio::time::timeout(
            Duration::from_millis(500),
            redis::cmd("DEL")
                .arg(&account)
                .query_async::<()>(&mut redis),
        )
        .await;
    }
}
