//! Alert channels (email over SMTP, webhook, Slack) and message rendering.
//!
//! The scheduler builds one [`Notifier`] from [`NotifySettings`] and calls
//! [`Notifier::send`] for each delivery; a [`SendError`] says whether another try may help
//! (`permanent == false`). Channel targets are checked once, when a channel is created, with
//! [`validate_target`], and again at every send.
//!
//! # Webhook contract
//!
//! Each delivery is one `POST` to the channel's URL with a JSON body and these headers:
//!
//! | header | value |
//! |---|---|
//! | `Content-Type` | `application/json` |
//! | `User-Agent` | `Lifeline-Webhooks/1` |
//! | `Lifeline-Event` | `heartbeat.down`, `heartbeat.up`, `heartbeat.early_warning`, `heartbeat.back_on_track` or `test` (see the table below) |
//! | `Lifeline-Delivery` | the delivery id, a UUID; **the same on every retry** of one notification, so receivers can drop duplicates |
//! | `Lifeline-Signature` | `sha256=` and the lowercase hex HMAC-SHA256 of the exact body bytes, keyed with the channel's secret (the whole string, `whsec_` prefix included) |
//!
//! The body (times are RFC 3339, UTC):
//!
//! ```json
//! {
//!   "type": "heartbeat.down",
//!   "delivery_id": "0190a6c4-…",
//!   "sent_at": "2024-05-01T03:11:02.500Z",
//!   "team": { "id": "…", "name": "Acme" },
//!   "channel": { "id": "…", "name": "ops webhook" },
//!   "heartbeat": {
//!     "id": "…", "name": "nightly-backup", "status": "down",
//!     "last_ping_at": "2024-05-01T02:00:00Z",
//!     "url": "https://lifeline.example.com/heartbeats/…"
//!   },
//!   "incident": {
//!     "id": "…",
//!     "reason": "no ping for 1 h 10 min (interval 1 h + grace 10 min)",
//!     "since": "2024-05-01T03:10:00Z",
//!     "deadline": "2024-05-01T03:10:00Z"
//!   }
//! }
//! ```
//!
//! `type` is the same as `Lifeline-Event`:
//!
//! | `type` | sent when | `incident.since` | `incident.deadline` |
//! |---|---|---|---|
//! | `heartbeat.down` | a heartbeat went down (silence past its deadline, a failure signal, a stalled or too long run): an incident opened | when it opened | the deadline missed; `null` for a failure signal |
//! | `heartbeat.up` | a ping came to a down heartbeat: its incident closed | when it closed | as in `heartbeat.down` |
//! | `heartbeat.early_warning` | an AI heartbeat strays from what its history taught (silence past the learned warning, a run far longer than usual, a surprising payload): its `early_warning` incident opened, it is `late`, not down. `incident.reason` says what was learned and when it will be marked down, in the heartbeat's time zone | when it opened | the warning deadline that passed; `null` for a payload surprise |
//! | `heartbeat.back_on_track` | a usual ping came after an early warning: the warning closed | when it closed | as in `heartbeat.early_warning` |
//! | `test` | someone tested the channel | when it was sent | `null` |
//!
//! A warning that ends because the heartbeat went down (the `heartbeat.down` alert follows) or
//! was paused closes without a notice. On one channel, `heartbeat.up` never comes before its
//! `heartbeat.down`, nor `heartbeat.back_on_track` before its `heartbeat.early_warning`.
//!
//! `heartbeat.last_ping_at` and `incident.deadline` may be `null`; `incident` is `null` for
//! `test` deliveries, `heartbeat` is `null` for a `test` sent from the channel's page (it is
//! about the channel, not a heartbeat), and `incident.id` is `null` when the event is not tied to
//! a recorded incident. New fields and event types may be added; receivers should ignore those
//! they do not know.
//!
//! To verify a delivery, compute the HMAC over the raw body *before* parsing it, compare it
//! with `Lifeline-Signature` in constant time, and reject deliveries whose `sent_at` is too old
//! (the timestamp is inside the signed body) to blunt replays.
//!
//! Any `2xx` answer is success. Redirects are not followed (a `3xx` is a failed attempt), and
//! a request taking longer than `LIFELINE_NOTIFY_TIMEOUT_MS` fails. A `4xx` other than `408`
//! and `429` is permanent and not retried; other failures are retried by the scheduler.
//!
//! Besides alerts, [`Notifier::send_email`] sends the dashboard's own plain-text emails
//! (confirmation links) through the same SMTP transport.
//!
//! Slack channels get `{"text": "…"}` (Slack's mrkdwn, with the link to the heartbeat) posted
//! to the incoming-webhook URL; emails are plain text.
//!
//! # Private addresses
//!
//! A tenant must not be able to make Lifeline call internal systems. Unless the operator sets
//! `LIFELINE_ALLOW_PRIVATE_WEBHOOKS=1`, webhook and Slack sends refuse URLs whose host is a
//! non-public IP literal ([`is_public`]), and host names are resolved by a resolver that fails
//! when *any* of the name's addresses is non-public — at connection time, so a name cannot
//! pass a check and then rebind. Refusals are permanent errors.

mod email;
mod http;
mod message;
mod settings;
mod target;

use std::sync::Arc;
use std::time::Duration;

use lettre::message::Mailbox;
use lifeline_domain::ChannelKind;

pub use lifeline_settings::SettingError;
pub use message::{Message, event, render_text, render_text_at, sign, webhook_body};
pub use settings::{DEFAULT_SMTP_FROM, DEFAULT_TIMEOUT_MS, NotifySettings};
pub use target::{TargetError, is_public, new_webhook_secret, validate_target};

/// Where one message goes: a channel's kind and target, with the webhook's secret.
#[derive(Clone, Copy)]
pub enum Target<'a> {
    Email { to: &'a str },
    Webhook { url: &'a str, secret: &'a str },
    Slack { url: &'a str },
}

impl Target<'_> {
    pub fn kind(&self) -> ChannelKind {
        match self {
            Self::Email { .. } => ChannelKind::Email,
            Self::Webhook { .. } => ChannelKind::Webhook,
            Self::Slack { .. } => ChannelKind::Slack,
        }
    }
}

/// The secret never prints.
impl std::fmt::Debug for Target<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Email { to } => f.debug_struct("Email").field("to", to).finish(),
            Self::Webhook { url, .. } => f
                .debug_struct("Webhook")
                .field("url", url)
                .field("secret", &"***")
                .finish(),
            Self::Slack { url } => f.debug_struct("Slack").field("url", url).finish(),
        }
    }
}

/// A successful send, with what the receiver answered: "HTTP 200", "250 OK queued".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub detail: String,
}

/// A failed send. `message` is short, meant for people and safe to show the team (it is stored
/// in the delivery log they read): it never holds an address Lifeline resolved nor what the
/// receiver answered, which would let a tenant map a network through their channel's target.
/// `detail`, for the operator's logs only, has the rest. `permanent` says that retrying the
/// same send cannot help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    pub message: String,
    pub detail: Option<String>,
    pub permanent: bool,
}

impl SendError {
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            detail: None,
            permanent: true,
        }
    }

    pub(crate) fn retryable(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            detail: None,
            permanent: false,
        }
    }

    /// Adds what only the operator's logs may show.
    pub(crate) fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }
}

/// Sends messages to channels. Cheap to clone: clones share one HTTP client and SMTP transport.
#[derive(Clone)]
pub struct Notifier {
    inner: Arc<Inner>,
}

struct Inner {
    settings: NotifySettings,
    http: reqwest::Client,
    smtp: Option<email::Transport>,
    from: Mailbox,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("settings", &self.inner.settings)
            .finish_non_exhaustive()
    }
}

impl Notifier {
    /// Validates `settings` and builds the clients; nothing connects yet.
    pub fn new(settings: NotifySettings) -> Result<Self, SettingError> {
        settings.validate()?;
        let smtp = match &settings.smtp_url {
            Some(url) => Some(email::transport(url, settings.timeout)?),
            None => None,
        };
        let from = email::from_mailbox(&settings.smtp_from)?;
        let http = http::client(settings.timeout, settings.allow_private_targets)?;
        Ok(Self {
            inner: Arc::new(Inner {
                settings,
                http,
                smtp,
                from,
            }),
        })
    }

    pub fn settings(&self) -> &NotifySettings {
        &self.inner.settings
    }

    /// Why no email can be sent at all (no SMTP server configured), if so; meant for people.
    pub fn email_unavailable(&self) -> Option<&'static str> {
        self.inner
            .smtp
            .is_none()
            .then_some("SMTP is not configured on this Lifeline server (LIFELINE_SMTP_URL)")
    }

    /// Sends one plain-text email of Lifeline's own, not a notification (a confirmation link, a
    /// password reset, an invitation), through the same SMTP transport and sender as alerts. No
    /// retries: the person waiting for it can ask again. Fails permanently without SMTP.
    pub async fn send_email(
        &self,
        to: &str,
        subject: &str,
        body: &str,
    ) -> Result<Delivered, SendError> {
        let Some(smtp) = &self.inner.smtp else {
            return Err(SendError::permanent(
                self.email_unavailable().unwrap_or("SMTP is not configured"),
            ));
        };
        // The subject goes into a header: one line only.
        let subject: String = subject
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        let text = email::Text {
            to,
            subject: subject.trim(),
            body,
            message_id: None,
        };
        let result =
            email::send_text(smtp, &self.inner.from, self.inner.settings.timeout, text).await;
        match &result {
            Ok(d) => tracing::debug!(%subject, detail = %d.detail, "email sent"),
            Err(e) => {
                tracing::info!(%subject, error = %e.message,
                    detail = e.detail.as_deref().unwrap_or_default(),
                    permanent = e.permanent, "email not sent")
            }
        }
        result
    }

    /// Sends one message to one target; no retries here, and no log: the scheduler decides
    /// whether another attempt follows and logs the outcome at the level that deserves.
    pub async fn send(
        &self,
        target: Target<'_>,
        message: &Message,
    ) -> Result<Delivered, SendError> {
        let s = &self.inner.settings;
        match target {
            Target::Email { to } => match &self.inner.smtp {
                None => Err(SendError::permanent(
                    "SMTP is not configured (LIFELINE_SMTP_URL)",
                )),
                Some(smtp) => {
                    email::send(
                        smtp,
                        &self.inner.from,
                        s.timeout,
                        to,
                        message,
                        &s.public_url,
                    )
                    .await
                }
            },
            Target::Webhook { url, secret } => {
                http::send(
                    &self.inner.http,
                    s.allow_private_targets,
                    s.timeout,
                    url,
                    http::Payload::Webhook { secret },
                    message,
                    &s.public_url,
                )
                .await
            }
            Target::Slack { url } => {
                http::send(
                    &self.inner.http,
                    s.allow_private_targets,
                    s.timeout,
                    url,
                    http::Payload::Slack,
                    message,
                    &s.public_url,
                )
                .await
            }
        }
    }
}

/// The error of a send that ran out of time.
pub(crate) fn timed_out(timeout: Duration) -> String {
    let span = chrono::Duration::from_std(timeout).unwrap_or(chrono::Duration::MAX);
    format!("timed out after {}", lifeline_domain::duration::human(span))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_read_well() {
        assert_eq!(timed_out(Duration::from_secs(10)), "timed out after 10 s");
        assert_eq!(
            timed_out(Duration::from_millis(300)),
            "timed out after 300 ms"
        );
    }

    #[test]
    fn target_debug_hides_the_secret() {
        let t = Target::Webhook {
            url: "https://x.example/",
            secret: "whsec_topsecret",
        };
        assert!(!format!("{t:?}").contains("topsecret"));
    }
}
