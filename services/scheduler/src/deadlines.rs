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
        let mut state = PassState {
            started: Instant::now(),
            first_now: None,
            was_blind: false,
        };
        while !*stop.borrow() {
            let pause = match self.pass(&mut state).await {
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
    async fn pass(&self, pass: &mut PassState) -> Result<Duration, StoreError> {
        let mut conn = self.pool.get().await?;
        let state = coverage::advance(&mut conn, self.blind_after).await?;
        // Postgres's clock, not this process's: a scheduler whose clock is off must neither
        // decide deadlines early nor late.
        let now = state.now;
        let first_now = *pass.first_now.get_or_insert(now);
        for outage in &state.outages {
            log_outage(outage, first_now);
        }
        let read_at = Instant::now();
        // Right after start-up the first beacon may simply not be written yet.
        let settling = pass.started.elapsed() < self.blind_after;
        let blind = state.blind_at(now, self.blind_after) && !settling;
        metrics::gauge!("lifeline_scheduler_blind").set(if blind { 1.0 } else { 0.0 });
        let was_blind = &mut pass.was_blind;
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

/// What the loop remembers between passes.
struct PassState {
    started: Instant,
    /// Postgres's now at this process's first pass.
    first_now: Option<DateTime<Utc>>,
    was_blind: bool,
}

/// A closed hole in coverage. One that began while this scheduler was running is an outage it
/// lived through (no ingest process alive, or Postgres unreachable): a warning, with its length
/// and how many heartbeats' deadlines moved. One that began before it started is the time
/// Lifeline was stopped, which every restart closes: the operator did that, so it is not a
/// warning, though the moved deadlines are still worth a line.
fn log_outage(outage: &coverage::Outage, first_now: DateTime<Utc>) {
    let length = outage.ended_at - outage.started_at;
    let lasted = lifeline_domain::duration::human_rounded(length);
    let moved = outage.shifted_heartbeats;
    let (started_at, ended_at) = (outage.started_at, outage.ended_at);
    if outage.started_at >= first_now {
        tracing::warn!(
            %started_at, %ended_at, seconds = length.num_seconds(), shifted_heartbeats = moved,
            "Lifeline could not receive pings for {lasted} (no ingest process could store \
             them); the deadlines of {moved} heartbeats moved by that long"
        );
    } else {
        tracing::info!(
            %started_at, %ended_at, seconds = length.num_seconds(), shifted_heartbeats = moved,
            "no ingest process ran for {lasted} before this start; the deadlines of {moved} \
             heartbeats moved by that long"
        );
    }
}

fn record(done: &deadlines::DueOutcome) {
    if done.claimed == 0 {
        return;
    }
    // `lifeline_scheduler_transitions_total` is counted by the store once the pass committed,
    // as for every other decision (pings, operators).
    tracing::debug!(
        late = done.late,
        down = done.down,
        alerts = done.notifications,
        "deadlines decided"
    );
}
