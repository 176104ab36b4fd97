//! Channels and deliveries as pages show them: words and relative times.

use chrono::{DateTime, Utc};
use lifeline_domain::{ChannelKind, NotificationKind, NotificationStatus};
use lifeline_store::channels::{Channel, ChannelOverview};
use lifeline_store::notifications::Delivery;

use crate::heartbeats::view::{ago, iso};

pub fn kind_label(kind: ChannelKind) -> &'static str {
    match kind {
        ChannelKind::Email => "Email",
        ChannelKind::Webhook => "Webhook",
        ChannelKind::Slack => "Slack",
    }
}

fn notification_label(kind: NotificationKind) -> &'static str {
    match kind {
        NotificationKind::Alert => "Alert (down)",
        NotificationKind::Recovery => "Recovery (up)",
        NotificationKind::EarlyWarning => "Early warning",
        NotificationKind::Flapping => "Flapping",
        NotificationKind::Test => "Test",
    }
}

fn status_label(status: NotificationStatus) -> &'static str {
    match status {
        NotificationStatus::Pending => "Pending",
        NotificationStatus::Sent => "Sent",
        NotificationStatus::Failed => "Failed",
    }
}

/// A channel's own facts.
#[derive(Clone, Debug)]
pub struct ChannelView {
    pub id: String,
    /// `email`, `webhook` or `slack`.
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub name: String,
    pub target: String,
    pub confirmed: bool,
    pub is_email: bool,
    pub created: String,
    pub created_at: String,
}

impl ChannelView {
    pub fn of(c: &Channel, now: DateTime<Utc>) -> Self {
        ChannelView {
            id: c.id.to_string(),
            kind: c.kind.as_str(),
            kind_label: kind_label(c.kind),
            name: c.name.clone(),
            target: c.target.clone(),
            confirmed: c.is_confirmed(),
            is_email: c.kind == ChannelKind::Email,
            created: ago(Some(c.created_at), now),
            created_at: iso(Some(c.created_at)),
        }
    }
}

/// One row of the channel list.
#[derive(Clone, Debug)]
pub struct ChannelRow {
    pub channel: ChannelView,
    pub heartbeats: i64,
    /// `pending`, `sent` or `failed`: the newest delivery's `data-status`; empty when none.
    pub last_status: &'static str,
    pub last_label: &'static str,
    pub last_when: String,
    pub last_at: String,
    pub last_error: String,
}

impl ChannelRow {
    pub fn of(o: &ChannelOverview, now: DateTime<Utc>) -> Self {
        let last = o.last_delivery.as_ref();
        ChannelRow {
            channel: ChannelView::of(&o.channel, now),
            heartbeats: o.heartbeats,
            last_status: last.map_or("", |d| d.status.as_str()),
            last_label: last.map_or("", |d| status_label(d.status)),
            last_when: last.map_or_else(String::new, |d| {
                ago(Some(d.sent_at.unwrap_or(d.created_at)), now)
            }),
            last_at: last.map_or_else(String::new, |d| {
                iso(Some(d.sent_at.unwrap_or(d.created_at)))
            }),
            last_error: last.and_then(|d| d.last_error.clone()).unwrap_or_default(),
        }
    }
}

/// One attempt of a delivery.
#[derive(Clone, Debug)]
pub struct AttemptView {
    pub attempt: i32,
    pub started: String,
    pub started_at: String,
    /// `sent`, `failed`, `abandoned`, or `pending` while it runs.
    pub outcome: String,
    pub detail: String,
}

/// One notification to the channel, in "recent deliveries".
#[derive(Clone, Debug)]
pub struct DeliveryView {
    pub id: String,
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub heartbeat_id: String,
    pub heartbeat_name: String,
    pub status: &'static str,
    pub status_label: &'static str,
    pub attempts: i32,
    pub last_error: String,
    pub created: String,
    pub created_at: String,
    pub sent: String,
    pub sent_at: String,
    pub history: Vec<AttemptView>,
}

impl DeliveryView {
    pub fn of(d: &Delivery, now: DateTime<Utc>) -> Self {
        DeliveryView {
            id: d.id.to_string(),
            kind: d.kind.as_str(),
            kind_label: notification_label(d.kind),
            heartbeat_id: d.heartbeat_id.map(|h| h.to_string()).unwrap_or_default(),
            heartbeat_name: d.heartbeat_name.clone().unwrap_or_default(),
            status: d.status.as_str(),
            status_label: status_label(d.status),
            attempts: d.attempts,
            last_error: d.last_error.clone().unwrap_or_default(),
            created: ago(Some(d.created_at), now),
            created_at: iso(Some(d.created_at)),
            sent: d.sent_at.map(|t| ago(Some(t), now)).unwrap_or_default(),
            sent_at: iso(d.sent_at),
            history: d
                .history
                .iter()
                .map(|a| AttemptView {
                    attempt: a.attempt,
                    started: ago(Some(a.started_at), now),
                    started_at: iso(Some(a.started_at)),
                    outcome: a.outcome.clone().unwrap_or_else(|| "pending".to_owned()),
                    detail: a.detail.clone().unwrap_or_default(),
                })
                .collect(),
        }
    }
}
