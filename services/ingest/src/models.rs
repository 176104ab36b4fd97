//! AI heartbeats' models, as the ping writers use them: after every ping of an AI heartbeat the
//! writer asks its model what to expect next and writes those deadlines in the ping's own
//! transaction — so the learned deadlines are in place the moment the ping is acknowledged, with
//! no message to lose between ingest and another service.
//!
//! Models are cached per process and checked against `ai_models.trained_at` once per batch (one
//! indexed read of the batch's heartbeats, outside its transaction); a retrained model is
//! loaded the first time one of its heartbeat's pings arrives.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use lifeline_cadence::Model;
use lifeline_domain::{HeartbeatId, LearnedCadence, Schedule};
use lifeline_store::ai_models;
use lifeline_store::pings::{Expectations, NewPing};
use lifeline_store::{PgConn, StoreError};
use moka::sync::Cache;

/// Models kept at most; beyond that the least used are read again when needed.
const CAPACITY: u64 = 100_000;

struct Cached {
    trained_at: DateTime<Utc>,
    model: Model,
}

#[derive(Clone)]
pub(crate) struct Models {
    cache: Cache<HeartbeatId, Arc<Cached>>,
}

/// The models of one batch's AI heartbeats.
pub(crate) struct BatchModels(HashMap<HeartbeatId, Arc<Cached>>);

impl Models {
    pub fn new() -> Self {
        Self {
            cache: Cache::new(CAPACITY),
        }
    }

    /// The current models of the batch's heartbeats, loading those the cache lacks or holds in
    /// an older version.
    pub async fn for_batch(
        &self,
        conn: &PgConn,
        pings: &[NewPing],
    ) -> Result<BatchModels, StoreError> {
        let mut ids: Vec<HeartbeatId> = pings.iter().map(|p| p.heartbeat).collect();
        ids.sort_unstable();
        ids.dedup();
        let current = ai_models::trained(conn, &ids).await?;
        let mut models = HashMap::with_capacity(current.len());
        let mut stale = Vec::new();
        for (id, trained_at) in current {
            match self.cache.get(&id) {
                Some(c) if c.trained_at == trained_at => {
                    models.insert(id, c);
                }
                _ => stale.push(id),
            }
        }
        if !stale.is_empty() {
            for (id, stored) in ai_models::load(conn, &stale).await? {
                match serde_json::from_value::<Model>(stored.params) {
                    Ok(model) => {
                        let cached = Arc::new(Cached {
                            trained_at: stored.trained_at,
                            model,
                        });
                        self.cache.insert(id, cached.clone());
                        models.insert(id, cached);
                    }
                    // A model of another version: the heartbeat keeps its stored cadence until
                    // the analyzer retrains it.
                    Err(e) => {
                        tracing::warn!(heartbeat = %id, error = %e, "stored model unreadable")
                    }
                }
            }
        }
        Ok(BatchModels(models))
    }
}

impl Expectations for BatchModels {
    fn after(
        &self,
        heartbeat: HeartbeatId,
        ping: &NewPing,
        fixed: Schedule,
    ) -> Option<LearnedCadence> {
        let cached = self.0.get(&heartbeat)?;
        let size = u64::try_from(ping.body_size).unwrap_or(0);
        cached
            .model
            .after_ping(ping.received_at, ping.kind, size, fixed)
    }
}
