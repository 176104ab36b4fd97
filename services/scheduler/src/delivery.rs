//! Delivery workers: claim due notifications (SKIP LOCKED, claim committed before sending), send
//! each through its channel, record the attempt, and retry failures with exponential backoff and
//! jitter until the attempt limit marks them failed with their last error.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use lifeline_domain::{ChannelKind, IncidentKind, NotificationId, NotificationKind};
use lifeline_notify::{Message, Notifier, SendError, Target};
use lifeline_store::notifications::{self, Claimed, Outcome, Unreadable};
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
        let claimed = notifications::claim(
            &mut conn,
            i64::try_from(free).unwrap_or(1),
            self.settings.delivery_lease(),
        )
        .await?;
        let more = claimed.len() == free;
        for job in claimed {
            let job = match job {
                Ok(job) => job,
                Err(unreadable) => {
                    self.give_up(unreadable).await;
                    continue;
                }
            };
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
        Ok(next.map_or(self.settings.max_sleep, |due| {
            due.min(self.settings.max_sleep)
        }))
    }

    /// A notification this code cannot read is not sent by guesswork: it fails for good, loudly.
    async fn give_up(&self, job: Unreadable) {
        tracing::error!(notification = %job.id, error = %job.error, "notification cannot be read; marked failed");
        metrics::counter!("lifeline_notifications_total", "result" => "failed").increment(1);
        let outcome = Outcome::Failed {
            error: job.error,
            retry_in: None,
        };
        self.record(job.id, job.attempt, outcome).await;
    }

    async fn deliver(&self, job: Claimed) {
        let message = message_of(&job);
        let result = match target_of(&job) {
            Ok(target) => self.notifier.send(target, &message).await,
            Err(e) => Err(e),
        };
        // The operator's lines: a delivery and a retry are INFO, an alert given up is a
        // warning (someone was not told). `detail` (what the receiver answered, the address
        // refused) is for these logs only; the team's delivery log gets the safe summary.
        let (kind, channel) = (job.kind.as_str(), job.channel.as_str());
        let outcome = match result {
            Ok(delivered) => {
                metrics::counter!("lifeline_notifications_total", "result" => "sent").increment(1);
                tracing::info!(
                    notification = %job.id, kind, channel, attempt = job.attempt,
                    detail = %delivered.detail, "notification delivered"
                );
                Outcome::Sent {
                    detail: delivered.detail,
                }
            }
            Err(e) => {
                let last = e.permanent || job.attempt >= self.settings.max_attempts;
                metrics::counter!("lifeline_notifications_total",
                    "result" => if last { "failed" } else { "retry" })
                .increment(1);
                let detail = e.detail.as_deref().unwrap_or_default();
                let retry_in = (!last).then(|| self.backoff(job.attempt));
                match retry_in {
                    Some(wait) => tracing::info!(
                        notification = %job.id, kind, channel, attempt = job.attempt,
                        error = %e, detail, retry_in_ms = wait.as_millis(),
                        "notification not delivered; will retry"
                    ),
                    None => tracing::warn!(
                        notification = %job.id, kind, channel, attempt = job.attempt,
                        error = %e, detail, permanent = e.permanent,
                        "notification given up: not delivered, no more attempts"
                    ),
                }
                Outcome::Failed {
                    error: e.to_string(),
                    retry_in,
                }
            }
        };
        self.record(job.id, job.attempt, outcome).await;
    }

    /// Records the outcome, retrying briefly: the send already happened, so losing its record
    /// would send it again once the lease runs out.
    async fn record(&self, id: NotificationId, job_attempt: i32, outcome: Outcome) {
        for attempt in 0..5 {
            let recorded = async {
                let mut conn = self.pool.get().await?;
                notifications::record(&mut conn, id, job_attempt, outcome.clone()).await
            };
            match recorded.await {
                Ok(true) => return,
                Ok(false) => {
                    tracing::warn!(notification = %id, "attempt outcome arrived after its lease ran out");
                    return;
                }
                Err(e) if attempt < 4 => {
                    tracing::debug!(error = %e, "recording a delivery failed; retrying");
                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                }
                Err(e) => {
                    tracing::error!(notification = %id, error = %e, "delivery outcome not recorded");
                }
            }
        }
    }

    /// Exponential backoff with jitter: half the doubled delay is fixed, half is random, so
    /// retries of one outage spread out instead of arriving together.
    fn backoff(&self, attempt: i32) -> Duration {
        let doubled = self
            .settings
            .backoff
            .saturating_mul(1u32 << attempt.clamp(1, 20).saturating_sub(1))
            .min(self.settings.backoff_max);
        let half = doubled / 2;
        let jitter = rand::rng().random_range(0.0..=1.0);
        half + half.mul_f64(jitter)
    }
}

/// Where the notification goes. A webhook channel without its signing secret is refused, never
/// sent unsigned; so is an email address that has not confirmed (its channel was pointed at a
/// new address after this notification was queued).
fn target_of(job: &Claimed) -> Result<Target<'_>, SendError> {
    if !job.confirmed {
        return Err(SendError::permanent(
            "the channel's email address has not confirmed it wants Lifeline's alerts",
        ));
    }
    Ok(match job.channel {
        ChannelKind::Email => Target::Email { to: &job.target },
        ChannelKind::Slack => Target::Slack { url: &job.target },
        ChannelKind::Webhook => Target::Webhook {
            url: &job.target,
            secret: job
                .secret
                .as_deref()
                .ok_or_else(|| SendError::permanent("webhook channel has no signing secret"))?,
        },
    })
}

fn message_of(job: &Claimed) -> Message {
    let since = match job.kind {
        NotificationKind::Recovery => job.resolved_at.or(job.opened_at),
        _ => job.opened_at,
    };
    Message {
        notification_id: job.id,
        kind: job.kind,
        team_id: job.team_id,
        team_name: job.team_name.clone(),
        channel_id: job.channel_id,
        channel_name: job.channel_name.clone(),
        heartbeat_id: job.heartbeat_id,
        heartbeat_name: job.heartbeat_name.clone().unwrap_or_default(),
        status: job.heartbeat_status,
        incident_id: job.incident_id,
        incident_kind: job.incident_kind,
        reason: match (job.kind, job.incident_kind) {
            (NotificationKind::Recovery, Some(IncidentKind::EarlyWarning)) => format!(
                "a usual ping arrived; the early warning is over (it was: {})",
                job.reason.as_deref().unwrap_or("an early warning")
            ),
            // A flapping spell's end: its reason is the summary.
            (NotificationKind::Recovery, Some(IncidentKind::Flapping)) => {
                job.reason.clone().unwrap_or_default()
            }
            (NotificationKind::Recovery, _) => format!(
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
