//! The deadline loop: decide every heartbeat whose deadline passed inside verified coverage,
//! then sleep until the next deadline or a wake-up — never a minute-long poll.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use lifeline_domain::FlapPolicy;
use lifeline_store::coverage;
use lifeline_store::{PgPool, StoreError, deadlines};
use tokio::sync::{Notify, watch};

use crate::SchedulerSettings;

/// A pause after errors, so an outage is not a busy loop.
const ERROR_PAUSE: Duration = Duration::from_secs(1);

pub(crate) struct DeadlineLoop {
    pub pool: PgPool,
    pub settings: SchedulerSettings,
    pub beacon_every: Duration,
    pub blind_after: Duration,
    pub flapping: FlapPolicy,
    pub wake: Arc<Notify>,
    pub deliveries: Arc<Notify>,
}

impl DeadlineLoop {
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut was_blind = false;
        let started = Instant::now();
        while !*stop.borrow() {
            let pause = match self.pass(started, &mut was_blind).await {
                Ok(pause) => pause,
                Err(e) => {
                    tracing::warn!(error = %e, "deadline pass failed");
                    ERROR_PAUSE
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = self.wake.notified() => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Decides everything due, and says how long to sleep.
    async fn pass(&self, started: Instant, was_blind: &mut bool) -> Result<Duration, StoreError> {
        let mut conn = self.pool.get().await?;
        let state = coverage::advance(&mut conn, self.blind_after).await?;
        // Postgres's clock, not this process's: a scheduler whose clock is off must neither
        // decide deadlines early nor late.
        let now = state.now;
        let read_at = Instant::now();
        // Right after start-up the first beacon may simply not be written yet.
        let settling = started.elapsed() < self.blind_after;
        let blind = state.blind_at(now, self.blind_after) && !settling;
        metrics::gauge!("lifeline_scheduler_blind").set(if blind { 1.0 } else { 0.0 });
        if blind != *was_blind {
            *was_blind = blind;
            if blind {
                tracing::error!(
                    covered_until = ?state.covered_until,
                    "no ingest beacon: Lifeline cannot receive pings; holding deadlines until it can"
                );
            } else {
                tracing::info!("ingest beacons are back; deciding deadlines again");
            }
        }
        let Some(until) = state.covered_until.map(|c| c.min(now)) else {
            return Ok(self.settings.max_sleep.min(ERROR_PAUSE));
        };
        loop {
            let done =
                deadlines::process_due(&mut conn, until, now, self.settings.batch, &self.flapping)
                    .await?;
            record(&done);
            if done.notifications > 0 {
                self.deliveries.notify_one();
            }
            if done.claimed < usize::try_from(self.settings.batch).unwrap_or(usize::MAX) {
                break;
            }
        }
        let next = deadlines::next_deadline(&mut conn).await?;
        // Postgres's now, moved on by the time this pass took.
        let now = now + chrono::Duration::from_std(read_at.elapsed()).unwrap_or_default();
        Ok(self.sleep_for(next, until, now))
    }

    fn sleep_for(
        &self,
        next: Option<DateTime<Utc>>,
        until: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Duration {
        match next {
            None => self.settings.max_sleep,
            // Still due: rows held by a ping batch (skipped) — look again in a moment.
            Some(next) if next <= until => Duration::from_millis(20),
            // Passed, but no beacon proves yet that we could have heard a ping: wait for one.
            Some(next) if next <= now => self.beacon_every / 4,
            Some(next) => (next - now)
                .to_std()
                .unwrap_or_default()
                .min(self.settings.max_sleep),
        }
    }
}

fn record(done: &deadlines::DueOutcome) {
    if done.claimed == 0 {
        return;
    }
    metrics::counter!("lifeline_scheduler_transitions_total", "to" => "late")
        .increment(done.late as u64);
    metrics::counter!("lifeline_scheduler_transitions_total", "to" => "down")
        .increment(done.down as u64);
    tracing::debug!(
        late = done.late,
        down = done.down,
        alerts = done.notifications,
        "deadlines decided"
    );
}
