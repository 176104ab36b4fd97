//! AI heartbeats' models, as the ping writers use them: after every ping of an AI heartbeat the
//! writer asks its model what to expect next and writes those deadlines in the ping's own
//! transaction — so the learned deadlines are in place the moment the ping is acknowledged, with
//! no message to lose between ingest and another service.
//!
//! Only heartbeats in AI mode (as the batch locked them) are looked up; fixed-mode ones cost
//! nothing. Models are cached per process for [`FRESH_FOR`], and so is the absence of one: most
//! batches then read nothing more than they did before AI heartbeats existed. A heartbeat the
//! cache does not know costs one indexed read of `ai_models`, in the batch's transaction. A
//! retrained model is thus in use within [`FRESH_FOR`]; until then the previous one (a day
//! older) applies, and training has already stored the new model's deadlines for the current
//! period. The store applies a model only to a heartbeat in AI mode when its row is locked.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use lifeline_cadence::Model;
use lifeline_domain::{HeartbeatId, HeartbeatTiming, LearnedCadence};
use lifeline_store::ai_models::{self, StoredModel};
use lifeline_store::pings::{Expectations, NewPing};
use lifeline_store::{PgConn, StoreError};
use moka::sync::Cache;

/// Models kept at most; beyond that the least used are read again when needed.
const CAPACITY: u64 = 100_000;
/// How long a heartbeat's model (or its lack of one) is trusted without asking Postgres.
pub(crate) const FRESH_FOR: std::time::Duration = std::time::Duration::from_secs(30);

#[derive(Clone)]
pub(crate) struct Models {
    /// `None`: the heartbeat has no model (fixed mode, or not trained yet).
    cache: Cache<HeartbeatId, Option<Arc<Model>>>,
}

/// The models of one batch's AI heartbeats.
pub(crate) struct BatchModels {
    cache: Cache<HeartbeatId, Option<Arc<Model>>>,
    models: HashMap<HeartbeatId, Arc<Model>>,
}

impl Models {
    pub fn new() -> Self {
        Self {
            cache: Cache::builder()
                .max_capacity(CAPACITY)
                .time_to_live(FRESH_FOR)
                .build(),
        }
    }

    /// A new batch's view: empty until the store tells it the batch's AI heartbeats.
    pub fn for_batch(&self) -> BatchModels {
        BatchModels {
            cache: self.cache.clone(),
            models: HashMap::new(),
        }
    }
}

impl Expectations for BatchModels {
    /// The current models of the batch's AI heartbeats, loading those the cache lacks or holds
    /// in an older version.
    async fn prepare(&mut self, conn: &PgConn, ai: &[HeartbeatId]) -> Result<(), StoreError> {
        let mut unknown = Vec::new();
        for &id in ai {
            match self.cache.get(&id) {
                Some(Some(cached)) => {
                    self.models.insert(id, cached);
                }
                Some(None) => {}
                None => unknown.push(id),
            }
        }
        if unknown.is_empty() {
            return Ok(());
        }
        // One read for what the cache does not know; a heartbeat without a row has no model.
        let mut loaded: HashMap<HeartbeatId, StoredModel> =
            ai_models::load(conn, &unknown).await?.into_iter().collect();
        for id in unknown {
            let model = loaded.remove(&id).and_then(|stored| {
                serde_json::from_value::<Model>(stored.params)
                    // A model of another version: the heartbeat keeps its stored cadence until
                    // the analyzer retrains it.
                    .inspect_err(
                        |e| tracing::warn!(heartbeat = %id, error = %e, "stored model unreadable"),
                    )
                    .ok()
                    .map(Arc::new)
            });
            if let Some(m) = &model {
                self.models.insert(id, m.clone());
            }
            self.cache.insert(id, model);
        }
        Ok(())
    }

    fn after(
        &self,
        heartbeat: HeartbeatId,
        ping: &NewPing,
        at: DateTime<Utc>,
        before: &HeartbeatTiming,
    ) -> Option<LearnedCadence> {
        let model = self.models.get(&heartbeat)?;
        let size = u64::try_from(ping.body_size).unwrap_or(0);
        model.after_ping(at, ping.kind, size, before)
    }
}
