//! The analyzer's loop: claim heartbeats whose training is due, train each on its window of
//! history, save the model with the heartbeat's recounted deadlines, and sleep until the next
//! one is due. Any number of analyzer processes share the work (`SKIP LOCKED` plus a lease).

use std::time::{Duration, Instant};

use chrono::Utc;
use chrono_tz::Tz;
use lifeline_cadence::{HistoryPing, Model, Period, Strategy, Unusual};
use lifeline_store::ai_models::{self, Claimed, NewModel};
use lifeline_store::{PgPool, RedisKeys, StoreError, wake};
use redis::aio::ConnectionManager;
use tokio::sync::watch;

use crate::AnalyzerSettings;
use crate::learning::{WINDOW, next_training, relearn, train};

/// A pause after errors, so an outage is not a busy loop.
const ERROR_PAUSE: Duration = Duration::from_secs(1);

pub(crate) struct TrainingLoop {
    pub pool: PgPool,
    pub settings: AnalyzerSettings,
    pub redis: Option<(ConnectionManager, RedisKeys)>,
}

impl TrainingLoop {
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        while !*stop.borrow() {
            let pause = match self.pass().await {
                Ok(pause) => pause,
                Err(e) => {
                    tracing::warn!(error = %e, "training pass failed");
                    ERROR_PAUSE
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Trains what is due; returns how long to sleep.
    async fn pass(&mut self) -> Result<Duration, StoreError> {
        let mut conn = self.pool.get().await?;
        let lease =
            chrono::Duration::from_std(self.settings.lease).unwrap_or(chrono::Duration::MAX);
        let claimed = ai_models::claim_due(&conn, Utc::now(), self.settings.batch, lease).await?;
        let full = claimed.len() == self.settings.batch as usize;
        for heartbeat in claimed {
            let wake = train_one(&mut conn, heartbeat).await?;
            if wake && let Some((redis, keys)) = &mut self.redis {
                let woken = wake::Wake {
                    deadlines: true,
                    deliveries: false,
                };
                wake::publish(redis, keys, woken).await;
            }
        }
        if full {
            return Ok(Duration::ZERO);
        }
        let next = ai_models::next_due(&conn).await?;
        Ok(next
            .map(|at| (at - Utc::now()).to_std().unwrap_or(Duration::ZERO))
            .unwrap_or(self.settings.max_sleep)
            .min(self.settings.max_sleep))
    }
}

/// Trains one claimed heartbeat and saves the outcome; true when its deadlines moved earlier
/// and the scheduler must look again.
async fn train_one(
    conn: &mut lifeline_store::PooledConn,
    claimed: Claimed,
) -> Result<bool, StoreError> {
    let now = Utc::now();
    let tz: Tz = claimed.time_zone.parse().unwrap_or_else(|_| {
        tracing::warn!(zone = %claimed.time_zone, "unknown time zone in storage; training in UTC");
        Tz::UTC
    });
    let read = Instant::now();
    let (pings, unusual) = read_window(conn, claimed.heartbeat, now).await?;
    let read = read.elapsed();
    let started = Instant::now();
    let (model, pings) = tokio::task::spawn_blocking(move || {
        (train(&pings, &unusual, tz, now, Strategy::Combined), pings)
    })
    .await
    .unwrap_or_else(|e| {
        // Treated as not trained: the old model (if any) stays and the heartbeat is looked at
        // again on schedule.
        tracing::error!(heartbeat = %claimed.heartbeat, error = %e, "training panicked");
        (None, Vec::new())
    });
    let trained = started.elapsed();
    metrics::histogram!("lifeline_analyzer_read_seconds").record(read.as_secs_f64());
    metrics::histogram!("lifeline_analyzer_training_seconds").record(trained.as_secs_f64());
    let outcome = if model.is_some() {
        "trained"
    } else {
        "not_eligible"
    };
    metrics::counter!("lifeline_analyzer_trainings_total", "outcome" => outcome).increment(1);
    // Without a new model an older one stays: an outage that emptied the window is no reason
    // to forget the job.
    let has_model = model.is_some() || claimed.trained_at.is_some();
    let next = next_training(now, has_model);
    let stored = model.as_ref().map(new_model).transpose()?;
    let schedule = claimed.schedule;
    let saved = ai_models::save_trained(
        conn,
        claimed.heartbeat,
        stored,
        next,
        |timing| match &model {
            Some(m) => relearn(timing, Some(m), schedule, now, &pings),
            None => timing.decide_relearn(timing.cadence, now),
        },
    )
    .await?;
    tracing::debug!(
        heartbeat = %claimed.heartbeat,
        trained = model.is_some(),
        read_ms = read.as_secs_f64() * 1e3,
        train_ms = trained.as_secs_f64() * 1e3,
        "analyzed"
    );
    Ok(saved == Some(true))
}

/// A heartbeat's training window ending at `now`: its pings, and the stretches not to learn
/// from. Outages and early warnings nobody marked expected are anomalies: their gaps are not
/// learned as normal, nor (for warnings) their payloads.
pub async fn read_window(
    conn: &lifeline_store::PgConn,
    heartbeat: lifeline_domain::HeartbeatId,
    now: chrono::DateTime<Utc>,
) -> Result<(Vec<HistoryPing>, Unusual), StoreError> {
    let from = now - WINDOW;
    let pings = ai_models::history(conn, heartbeat, from)
        .await?
        .into_iter()
        .map(|p| HistoryPing {
            at: p.at,
            kind: p.kind,
            body_size: p.body_size,
        })
        .collect();
    let stretches = ai_models::unusual(conn, heartbeat, from, now).await?;
    let period = |(from, until)| Period { from, until };
    let unusual = Unusual {
        down: stretches
            .down
            .iter()
            .chain(&stretches.warned)
            .copied()
            .map(period)
            .collect(),
        payload: stretches.warned.into_iter().map(period).collect(),
    };
    Ok((pings, unusual))
}

/// The stored row of a trained model.
pub fn new_model(m: &Model) -> Result<NewModel, StoreError> {
    let (low, high) = m.typical_window_secs();
    Ok(NewModel {
        version: m.version,
        trained_at: m.trained_at,
        samples: i32::try_from(m.pings_used).unwrap_or(i32::MAX),
        window_from: m.window_from,
        window_until: m.window_until,
        window_low_secs: low,
        window_high_secs: high,
        params: serde_json::to_value(m)
            .map_err(|e| StoreError::Invalid(format!("model does not serialize: {e}")))?,
    })
}
