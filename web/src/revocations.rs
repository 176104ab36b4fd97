//! Keeps Redis's copy of the logged-out sessions complete. Postgres holds every revocation;
//! Redis answers the per-request check. Until Redis is known to hold them all (at start-up, and
//! after any failed write), requests ask Postgres as well, and this task copies the set over.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use lifeline_store::accounts;

use crate::state::AppState;

/// How often the whole set is copied again, which also repairs a Redis that lost its data.
const RESYNC_EVERY: Duration = Duration::from_secs(60);
/// How soon a missed write is repaired.
const RETRY_EVERY: Duration = Duration::from_secs(2);

#[derive(Debug, Default)]
pub struct RedisCopy {
    complete: AtomicBool,
}

impl RedisCopy {
    pub fn complete(&self) -> bool {
        self.complete.load(Ordering::Acquire)
    }

    pub fn missed(&self) {
        self.complete.store(false, Ordering::Release);
    }
}

pub async fn sync(state: actix_web::web::Data<AppState>) {
    let mut last_full = None::<tokio::time::Instant>;
    loop {
        let due =
            !state.revocations.complete() || last_full.is_none_or(|t| t.elapsed() >= RESYNC_EVERY);
        if due {
            match copy_all(&state).await {
                Ok(n) => {
                    state.revocations.complete.store(true, Ordering::Release);
                    last_full = Some(tokio::time::Instant::now());
                    tracing::debug!(sessions = n, "revoked sessions copied to Redis");
                }
                Err(e) => tracing::debug!(error = %e, "revoked sessions not copied to Redis yet"),
            }
        }
        tokio::time::sleep(RETRY_EVERY).await;
    }
}

async fn copy_all(state: &AppState) -> Result<usize, String> {
    let mut conn = state.pool.get().await.map_err(|e| e.to_string())?;
    // Tokens expire on their own, so the table only needs what could still be presented.
    accounts::prune_revoked(&mut conn)
        .await
        .map_err(|e| e.to_string())?;
    let all = accounts::revoked_since(&mut conn, DateTime::<Utc>::UNIX_EPOCH)
        .await
        .map_err(|e| e.to_string())?;
    let mut pipe = redis::pipe();
    for (jti, expires_at) in &all {
        let ttl = (*expires_at - Utc::now()).num_seconds().max(1) as u64;
        pipe.set_ex(state.keys.revoked_session(*jti), 1, ttl)
            .ignore();
    }
    let mut redis = state.redis.clone();
    tokio::time::timeout(Duration::from_secs(2), pipe.query_async::<()>(&mut redis))
        .await
        .map_err(|_| "timed out".to_owned())?
        .map_err(|e| e.to_string())?;
    Ok(all.len())
}
