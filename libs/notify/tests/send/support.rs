//! What the send tests share: settings, a notifier, a sample message and targets. The servers
//! they send to (SMTP and HTTP, on 127.0.0.1) come from `lifeline-testkit`.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use lifeline_domain::NotificationKind;
use lifeline_notify::{Delivered, Message, Notifier, NotifySettings, SendError, Target};
pub use lifeline_testkit::{HttpServer, Reply, SmtpMode, SmtpServer};

pub const PUBLIC_URL: &str = "https://lifeline.test";

pub fn settings() -> NotifySettings {
    NotifySettings {
        smtp_url: None,
        smtp_from: "Lifeline <alerts@lifeline.local>".into(),
        allow_private_targets: true,
        timeout: Duration::from_secs(5),
        public_url: PUBLIC_URL.into(),
    }
}

pub fn notifier(settings: NotifySettings) -> Notifier {
    Notifier::new(settings).unwrap()
}

/// The secret of the webhook targets in these tests.
pub const SECRET: &str = "whsec_x";

pub fn webhook(url: &str) -> Target<'_> {
    Target::Webhook {
        url,
        secret: SECRET,
    }
}

pub fn email(to: &str) -> Target<'_> {
    Target::Email { to }
}

/// Sends an alert to `target` with a notifier made of `settings`.
pub async fn alert(settings: NotifySettings, target: Target<'_>) -> Result<Delivered, SendError> {
    notifier(settings)
        .send(target, &message(NotificationKind::Alert))
        .await
}

pub fn message(kind: NotificationKind) -> Message {
    Message {
        notification_id: lifeline_domain::NotificationId::new(),
        kind,
        team_id: lifeline_domain::TeamId::new(),
        team_name: "Acme".into(),
        channel_id: lifeline_domain::ChannelId::new(),
        channel_name: "ops".into(),
        heartbeat_id: Some(lifeline_domain::HeartbeatId::new()),
        heartbeat_name: "nightly-backup".into(),
        status: Some(lifeline_domain::Status::Down),
        incident_id: Some(lifeline_domain::IncidentId::new()),
        incident_kind: Some(lifeline_domain::IncidentKind::Down),
        reason: "no ping for 1 h 10 min (interval 1 h + grace 10 min)".into(),
        since: Utc.with_ymd_and_hms(2024, 5, 1, 3, 10, 0).unwrap(),
        deadline: Some(Utc.with_ymd_and_hms(2024, 5, 1, 3, 10, 0).unwrap()),
        last_ping_at: Some(Utc.with_ymd_and_hms(2024, 5, 1, 2, 0, 0).unwrap()),
    }
}
