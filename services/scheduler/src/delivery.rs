//! Delivery workers: claim due notifications (SKIP LOCKED, claim committed before sending), send
//! each through its channel, record the attempt, and retry failures with exponential backoff and
//! jitter until the attempt limit marks them failed with their last error.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lifeline_notify::{Message, MessageKind, Notifier, Target};
use lifeline_settings::span;
use lifeline_store::notifications::{self, Claimed, Outcome};
use lifeline_store::{PgPool, StoreError};
use rand::Rng;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;

use crate::SchedulerSettings;

pub(crate) struct DeliveryLoop {
    pub pool: PgPool,
    pub settings: SchedulerSettings,
    pub notifier: Notifier,
    pub wake: Arc<Notify>,
}

impl DeliveryLoop {
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let this = Arc::new(self);
        let slots = Arc::new(Semaphore::new(this.settings.delivery_concurrency));
        let mut sending = JoinSet::new();
        while !*stop.borrow() {
            while sending.try_join_next().is_some() {}
            let pause = match this.claim_and_send(&slots, &mut sending).await {
                Ok(pause) => pause,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming notifications failed");
                    Duration::from_secs(1)
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = this.wake.notified() => {}
                _ = stop.changed() => {}
            }
        }
        // Sends in flight finish (each is bounded by the channel timeout) and are recorded.
        while sending.join_next().await.is_some() {}
    }

    async fn claim_and_send(
        self: &Arc<Self>,
        slots: &Arc<Semaphore>,
        sending: &mut JoinSet<()>,
    ) -> Result<Duration, StoreError> {
        let free = slots.available_permits();
        if free == 0 {
            // All slots busy; a finishing send frees one soon.
            return Ok(Duration::from_millis(20));
        }
        let mut conn = self.pool.get().await?;
        let now = Utc::now();
        let claimed = notifications::claim(
            &mut conn,
            now,
            i64::try_from(free).unwrap_or(1),
            self.settings.delivery_lease(),
        )
        .await?;
        let more = claimed.len() == free;
        for job in claimed {
            let Ok(permit) = slots.clone().acquire_owned().await else {
                break;
            };
            let this = self.clone();
            sending.spawn(async move {
                this.deliver(job).await;
                drop(permit);
            });
        }
        if more {
            return Ok(Duration::ZERO);
        }
        let next = notifications::next_due(&mut conn).await?;
        Ok(match next {
            Some(at) => (at - Utc::now())
                .to_std()
                .unwrap_or_default()
                .min(self.settings.max_sleep),
            None => self.settings.max_sleep,
        })
    }

    async fn deliver(&self, job: Claimed) {
        let message = message_of(&job);
        let target = match job.channel_kind.as_str() {
            "email" => Target::Email { to: &job.target },
            "slack" => Target::Slack { url: &job.target },
            _ => Target::Webhook {
                url: &job.target,
                secret: job.secret.as_deref().unwrap_or_default(),
            },
        };
        let result = self.notifier.send(target, &message).await;
        let finished = Utc::now();
        let outcome = match result {
            Ok(delivered) => {
                metrics::counter!("lifeline_notifications_total", "result" => "sent").increment(1);
                Outcome::Sent {
                    detail: delivered.detail,
                }
            }
            Err(e) => {
                let last = e.permanent || job.attempt >= self.settings.max_attempts;
                metrics::counter!("lifeline_notifications_total",
                    "result" => if last { "failed" } else { "retry" })
                .increment(1);
                tracing::info!(
                    notification = %job.id, attempt = job.attempt, error = %e, gave_up = last,
                    "notification not delivered"
                );
                Outcome::Failed {
                    error: e.to_string(),
                    retry_at: (!last).then(|| finished + self.backoff(job.attempt)),
                }
            }
        };
        self.record(&job, finished, outcome).await;
    }

    /// Records the outcome, retrying briefly: the send already happened, so losing its record
    /// would send it again once the lease runs out.
    async fn record(&self, job: &Claimed, finished: DateTime<Utc>, outcome: Outcome) {
        for attempt in 0..5 {
            let recorded = async {
                let mut conn = self.pool.get().await?;
                notifications::record(&mut conn, job.id, job.attempt, finished, outcome.clone())
                    .await
            };
            match recorded.await {
                Ok(true) => return,
                Ok(false) => {
                    tracing::warn!(notification = %job.id, "attempt outcome arrived after its lease ran out");
                    return;
                }
                Err(e) if attempt < 4 => {
                    tracing::debug!(error = %e, "recording a delivery failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                }
                Err(e) => {
                    tracing::error!(notification = %job.id, error = %e, "delivery outcome not recorded");
                }
            }
        }
    }

    /// Exponential backoff with jitter: half the doubled delay is fixed, half is random, so
    /// retries of one outage spread out instead of arriving together.
    fn backoff(&self, attempt: i32) -> chrono::Duration {
        let doubled = self
            .settings
            .backoff
            .saturating_mul(1u32 << attempt.clamp(1, 20).saturating_sub(1))
            .min(self.settings.backoff_max);
        let half = doubled / 2;
        let jitter = rand::rng().random_range(0.0..=1.0);
        span(half + half.mul_f64(jitter))
    }
}

fn message_of(job: &Claimed) -> Message {
    let kind = match job.kind.as_str() {
        "recovery" => MessageKind::Recovery,
        "early_warning" => MessageKind::EarlyWarning,
        "test" => MessageKind::Test,
        _ => MessageKind::Alert,
    };
    let since = match kind {
        MessageKind::Recovery => job.resolved_at.or(job.opened_at),
        _ => job.opened_at,
    };
    Message {
        notification_id: job.id,
        kind,
        team_id: job.team_id,
        team_name: job.team_name.clone(),
        heartbeat_id: job.heartbeat_id.unwrap_or_default(),
        heartbeat_name: job.heartbeat_name.clone().unwrap_or_default(),
        status: job.heartbeat_status.clone().unwrap_or_default(),
        incident_id: job.incident_id,
        reason: match kind {
            MessageKind::Recovery => format!(
                "a ping arrived; the incident is resolved (it was: {})",
                job.reason.as_deref().unwrap_or("down")
            ),
            _ => job.reason.clone().unwrap_or_default(),
        },
        since: since.unwrap_or_else(Utc::now),
        deadline: job.deadline_at,
        last_ping_at: job.last_ping_at,
    }
}
