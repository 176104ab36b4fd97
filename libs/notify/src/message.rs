//! What a notification says, rendered as text (email, Slack) and as the webhook's JSON body,
//! and the webhook signature.

use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use lifeline_domain::duration::human_rounded;
use lifeline_domain::{
    ChannelId, HeartbeatId, IncidentId, IncidentKind, NotificationId, NotificationKind, Status,
    TeamId,
};
use serde_json::{Value, json};
use sha2::Sha256;

/// The webhook event type of a notification: `Lifeline-Event` header and the body's `type`.
pub fn event(message: &Message) -> &'static str {
    match message.kind {
        NotificationKind::Alert => "heartbeat.down",
        NotificationKind::Recovery if message.is_back_on_track() => "heartbeat.back_on_track",
        NotificationKind::Recovery if message.is_stable_again() => "heartbeat.stable",
        NotificationKind::Recovery => "heartbeat.up",
        NotificationKind::EarlyWarning => "heartbeat.early_warning",
        NotificationKind::Flapping => "heartbeat.flapping",
        NotificationKind::Test => "test",
    }
}

/// One notification, as the scheduler hands it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Also the delivery id that receivers dedupe on: the same for every retry.
    pub notification_id: NotificationId,
    pub kind: NotificationKind,
    pub team_id: TeamId,
    pub team_name: String,
    /// The channel it goes to (a test names it: it is about the channel).
    pub channel_id: ChannelId,
    pub channel_name: String,
    /// `None` only for a channel test that names no heartbeat.
    pub heartbeat_id: Option<HeartbeatId>,
    pub heartbeat_name: String,
    /// The heartbeat's status now (`None` with no heartbeat).
    pub status: Option<Status>,
    pub incident_id: Option<IncidentId>,
    /// What the incident is about (`None` for a test): the end of an `early_warning` is "back
    /// on track", not "up again" — the heartbeat never went down.
    pub incident_kind: Option<IncidentKind>,
    /// What happened, in words, e.g. "no ping for 1 h 10 min (interval 1 h + grace 10 min)".
    pub reason: String,
    /// When the incident started (alert, early warning) or ended (recovery, back on track).
    pub since: DateTime<Utc>,
    /// The deadline that was missed, if any.
    pub deadline: Option<DateTime<Utc>>,
    pub last_ping_at: Option<DateTime<Utc>>,
}

impl Message {
    /// The end of an AI heartbeat's early warning: a usual ping came.
    pub fn is_back_on_track(&self) -> bool {
        self.kind == NotificationKind::Recovery
            && self.incident_kind == Some(IncidentKind::EarlyWarning)
    }

    /// The end of a flapping spell: its summary.
    pub fn is_stable_again(&self) -> bool {
        self.kind == NotificationKind::Recovery
            && self.incident_kind == Some(IncidentKind::Flapping)
    }

    /// The heartbeat's page: `{public_url}/heartbeats/{heartbeat_id}`; the channel's page
    /// (`{public_url}/channels/{channel_id}`) when the message names no heartbeat (a test).
    pub fn detail_url(&self, public_url: &str) -> String {
        let base = public_url.trim_end_matches('/');
        match self.heartbeat_id {
            Some(id) => format!("{base}/heartbeats/{id}"),
            None => format!("{base}/channels/{}", self.channel_id),
        }
    }
}

/// Subject and plain-text body, for email and Slack; "… ago" counts from now.
pub fn render_text(message: &Message, public_url: &str) -> (String, String) {
    render_text_at(message, public_url, Utc::now())
}

/// [`render_text`] with "… ago" counted from `now`.
pub fn render_text_at(message: &Message, public_url: &str, now: DateTime<Utc>) -> (String, String) {
    if message.kind == NotificationKind::Test && message.heartbeat_id.is_none() {
        return channel_test_text(message, public_url, now);
    }
    let hb = one_line(&message.heartbeat_name);
    let team = one_line(&message.team_name);
    let back_on_track = message.is_back_on_track();
    let stable = message.is_stable_again();
    let status_now = message
        .status
        .map_or_else(String::new, |s| s.to_string().to_uppercase());
    let subject = match message.kind {
        NotificationKind::Alert => format!("[Lifeline] DOWN: {hb} ({team})"),
        NotificationKind::Recovery if back_on_track => {
            format!("[Lifeline] Back on track: {hb} ({team})")
        }
        NotificationKind::Recovery if stable => {
            format!("[Lifeline] Stable again, {status_now}: {hb} ({team})")
        }
        NotificationKind::Flapping => format!("[Lifeline] Flapping: {hb} ({team})"),
        NotificationKind::Recovery => format!("[Lifeline] UP again: {hb} ({team})"),
        NotificationKind::EarlyWarning => format!("[Lifeline] Early warning: {hb} ({team})"),
        NotificationKind::Test => format!("[Lifeline] Test notification: {hb} ({team})"),
    };

    let headline = match message.kind {
        NotificationKind::Alert => format!("Heartbeat \"{hb}\" of team {team} is DOWN."),
        NotificationKind::Recovery if back_on_track => format!(
            "Heartbeat \"{hb}\" of team {team} is back on track: it pinged as usual after an \
             early warning."
        ),
        NotificationKind::Recovery if stable => format!(
            "Heartbeat \"{hb}\" of team {team} has stopped flapping and is {status_now}. \
             Its changes are announced one by one again."
        ),
        NotificationKind::Recovery => format!("Heartbeat \"{hb}\" of team {team} is UP again."),
        NotificationKind::Flapping => format!(
            "Heartbeat \"{hb}\" of team {team} is flapping: it keeps changing between up and \
             down. Its changes are recorded but not announced until it is stable; a summary \
             follows then."
        ),
        NotificationKind::EarlyWarning => format!(
            "Early warning: heartbeat \"{hb}\" of team {team} is straying from what it learned \
             to expect of it. It is not down yet."
        ),
        NotificationKind::Test => format!(
            "This is a test notification from Lifeline for team {team}. \
             If you can read it, this channel works; nothing is wrong with \"{hb}\"."
        ),
    };
    let (since_label, deadline_label) = match message.kind {
        NotificationKind::Recovery if back_on_track => ("Back on track at", "Deadline"),
        NotificationKind::Recovery if stable => ("Ended at", "Deadline"),
        NotificationKind::Recovery => ("Recovered at", "Deadline"),
        NotificationKind::EarlyWarning => ("Warned at", "Unusual from"),
        _ => ("Since", "Deadline"),
    };

    let mut rows: Vec<(&str, String)> = vec![("What happened", one_line(&message.reason))];
    if message.kind == NotificationKind::EarlyWarning {
        rows.push(("What next", WARNING_NEXT.to_owned()));
    }
    rows.push((since_label, when(message.since, now)));
    if let Some(deadline) = message.deadline {
        rows.push((deadline_label, when(deadline, now)));
    }
    rows.push((
        "Last ping",
        message
            .last_ping_at
            .map_or_else(|| "never".to_owned(), |t| when(t, now)),
    ));
    if let Some(status) = message.status {
        rows.push(("Status now", status.to_string()));
    }

    let width = rows.iter().map(|(label, _)| label.len()).max().unwrap_or(0) + 1;
    let mut body = format!("{headline}\n\n");
    for (label, value) in rows {
        body.push_str(&format!("{:<width$} {value}\n", format!("{label}:")));
    }
    body.push_str(&format!(
        "\nDetails: {}\n\n-- \nYou get this because it is an alert channel of team {team} on Lifeline.\n",
        message.detail_url(public_url)
    ));
    (subject, body)
}

/// What an early warning leads to, told with it so nobody has to guess whether to act.
const WARNING_NEXT: &str = "if no usual ping comes, it will be marked down and you will get an \
                            alert; a usual ping ends the warning with a \"back on track\" notice";

/// A test of a channel, about no heartbeat: it only says the channel works.
fn channel_test_text(message: &Message, public_url: &str, now: DateTime<Utc>) -> (String, String) {
    let team = one_line(&message.team_name);
    let channel = one_line(&message.channel_name);
    let subject = format!("[Lifeline] Test notification for channel {channel} ({team})");
    let body = format!(
        "This is a test notification from Lifeline for channel \"{channel}\" of team {team}.\n\
         If you can read it, the channel works: alerts of the heartbeats attached to it arrive \
         here the same way. Nothing is down.\n\
         \n\
         Requested: {}\n\
         \n\
         Channel: {}\n\
         \n\
         -- \n\
         You get this because it is an alert channel of team {team} on Lifeline.\n",
        when(message.since, now),
        message.detail_url(public_url),
    );
    (subject, body)
}

/// Text for a Slack incoming webhook: the subject in bold, then the body, with Slack's
/// control characters escaped so a heartbeat name cannot mention `<!channel>`.
pub(crate) fn slack_text(message: &Message, public_url: &str) -> String {
    let (subject, body) = render_text(message, public_url);
    format!("*{}*\n{}", slack_escape(&subject), slack_escape(&body))
}

fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The webhook's JSON body (see the crate doc for the contract).
pub fn webhook_body(message: &Message, public_url: &str, sent_at: DateTime<Utc>) -> Value {
    let heartbeat = match message.heartbeat_id {
        // A channel test names no heartbeat.
        None => Value::Null,
        Some(id) => json!({
            "id": id,
            "name": message.heartbeat_name,
            "status": message.status,
            "last_ping_at": message.last_ping_at.map(rfc3339),
            "url": message.detail_url(public_url),
        }),
    };
    let incident = match message.kind {
        NotificationKind::Test => Value::Null,
        _ => json!({
            "id": message.incident_id,
            "reason": message.reason,
            "since": rfc3339(message.since),
            "deadline": message.deadline.map(rfc3339),
        }),
    };
    json!({
        "type": event(message),
        "delivery_id": message.notification_id,
        "sent_at": rfc3339(sent_at),
        "team": {
            "id": message.team_id,
            "name": message.team_name,
        },
        "channel": {
            "id": message.channel_id,
            "name": message.channel_name,
        },
        "heartbeat": heartbeat,
        "incident": incident,
    })
}

/// `sha256=` and the lowercase hex HMAC-SHA256 of `body`, keyed with the bytes of `secret`
/// (the whole secret, `whsec_` prefix included).
pub fn sign(secret: &str, body: &[u8]) -> String {
    // HMAC takes keys of any length, so this cannot fail.
    let mut mac = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of any length"),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// `2024-05-01 03:10 UTC (12 min ago)`.
fn when(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let relative = if now >= t {
        format!("{} ago", human_rounded(now - t))
    } else {
        format!("in {}", human_rounded(t - now))
    };
    format!("{} UTC ({relative})", t.format("%Y-%m-%d %H:%M:%S"))
}

/// Names and reasons are tenant input: keep them on one line (they go into headers too).
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .trim()
        .to_owned()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2024, 5, 1, h, m, 0).unwrap()
    }

    fn message(kind: NotificationKind) -> Message {
        use uuid::Uuid;
        Message {
            notification_id: NotificationId::from_uuid(Uuid::from_u128(1)),
            kind,
            team_id: TeamId::from_uuid(Uuid::from_u128(2)),
            team_name: "Acme".into(),
            channel_id: ChannelId::from_uuid(Uuid::from_u128(5)),
            channel_name: "ops hook".into(),
            heartbeat_id: Some(HeartbeatId::from_uuid(Uuid::from_u128(3))),
            heartbeat_name: "nightly-backup".into(),
            status: Some(Status::Down),
            incident_id: Some(IncidentId::from_uuid(Uuid::from_u128(4))),
            incident_kind: Some(IncidentKind::Down),
            reason: "no ping for 1 h 10 min (interval 1 h + grace 10 min)".into(),
            since: t(3, 10),
            deadline: Some(t(3, 10)),
            last_ping_at: Some(t(2, 0)),
        }
    }

    #[test]
    fn rfc4231_test_case_2() {
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn detail_url_trims_the_trailing_slash() {
        let m = message(NotificationKind::Alert);
        let want = "https://x.example/heartbeats/00000000-0000-0000-0000-000000000003";
        assert_eq!(m.detail_url("https://x.example/"), want);
        assert_eq!(m.detail_url("https://x.example"), want);
    }

    #[test]
    fn alert_text() {
        let (subject, body) = render_text_at(
            &message(NotificationKind::Alert),
            "https://x.example",
            t(3, 22),
        );
        assert_eq!(subject, "[Lifeline] DOWN: nightly-backup (Acme)");
        assert_eq!(
            body,
            "Heartbeat \"nightly-backup\" of team Acme is DOWN.\n\
             \n\
             What happened: no ping for 1 h 10 min (interval 1 h + grace 10 min)\n\
             Since:         2024-05-01 03:10:00 UTC (12 min ago)\n\
             Deadline:      2024-05-01 03:10:00 UTC (12 min ago)\n\
             Last ping:     2024-05-01 02:00:00 UTC (1 h 22 min ago)\n\
             Status now:    down\n\
             \n\
             Details: https://x.example/heartbeats/00000000-0000-0000-0000-000000000003\n\
             \n\
             -- \n\
             You get this because it is an alert channel of team Acme on Lifeline.\n"
        );
    }

    #[test]
    fn other_kinds() {
        let now = t(4, 0);
        let mut m = message(NotificationKind::Recovery);
        m.status = Some(Status::Up);
        m.deadline = None;
        let (subject, body) = render_text_at(&m, "https://x.example", now);
        assert_eq!(subject, "[Lifeline] UP again: nightly-backup (Acme)");
        assert!(body.contains("is UP again"));
        assert!(
            body.contains("Recovered at:  2024-05-01 03:10:00 UTC (50 min ago)"),
            "{body}"
        );
        assert!(!body.contains("Deadline"));

        let mut m = message(NotificationKind::EarlyWarning);
        m.last_ping_at = None;
        m.reason = "stalled run: no progress for 5 min".into();
        let (subject, body) = render_text_at(&m, "https://x.example", now);
        assert_eq!(subject, "[Lifeline] Early warning: nightly-backup (Acme)");
        assert!(body.contains("stalled run: no progress for 5 min"));
        assert!(body.contains("Last ping:     never\n"), "{body}");

        let (subject, body) =
            render_text_at(&message(NotificationKind::Test), "https://x.example", now);
        assert_eq!(
            subject,
            "[Lifeline] Test notification: nightly-backup (Acme)"
        );
        assert!(body.contains("test notification"));

        // A channel test names no heartbeat: it speaks of the channel, and links to it.
        let mut m = message(NotificationKind::Test);
        m.heartbeat_id = None;
        m.heartbeat_name = String::new();
        m.status = None;
        m.incident_id = None;
        m.since = t(3, 59);
        let (subject, body) = render_text_at(&m, "https://x.example/", now);
        assert_eq!(
            subject,
            "[Lifeline] Test notification for channel ops hook (Acme)"
        );
        assert!(
            body.starts_with(
                "This is a test notification from Lifeline for channel \"ops hook\" of team Acme."
            ),
            "{body}"
        );
        assert!(
            body.contains("Requested: 2024-05-01 03:59:00 UTC (1 min ago)"),
            "{body}"
        );
        assert!(
            body.contains("https://x.example/channels/00000000-0000-0000-0000-000000000005"),
            "{body}"
        );
        assert!(
            !body.contains("Last ping") && !body.contains("\"\""),
            "{body}"
        );
        let json = webhook_body(&m, "https://x.example", now);
        assert_eq!(json["heartbeat"], Value::Null);
        assert_eq!(json["channel"]["name"], "ops hook");
    }

    /// An AI heartbeat's early warning, as the store words it in the team's zone.
    fn early_warning() -> Message {
        let mut m = message(NotificationKind::EarlyWarning);
        m.incident_kind = Some(IncidentKind::EarlyWarning);
        m.status = Some(Status::Late);
        m.reason = "usually pings by 02:40 CET (95% of runs); it is 02:55 with no ping — it will \
                    be marked down at 03:30"
            .into();
        m.since = t(1, 55);
        m.deadline = Some(t(1, 55));
        m.last_ping_at = Some(t(0, 0));
        m
    }

    #[test]
    fn an_early_warning_says_what_was_learned_and_what_happens_next() {
        let (subject, body) = render_text_at(&early_warning(), "https://x.example", t(2, 0));
        assert_eq!(subject, "[Lifeline] Early warning: nightly-backup (Acme)");
        assert_eq!(
            body,
            "Early warning: heartbeat \"nightly-backup\" of team Acme is straying from what it \
             learned to expect of it. It is not down yet.\n\
             \n\
             What happened: usually pings by 02:40 CET (95% of runs); it is 02:55 with no ping — \
             it will be marked down at 03:30\n\
             What next:     if no usual ping comes, it will be marked down and you will get an \
             alert; a usual ping ends the warning with a \"back on track\" notice\n\
             Warned at:     2024-05-01 01:55:00 UTC (5 min ago)\n\
             Unusual from:  2024-05-01 01:55:00 UTC (5 min ago)\n\
             Last ping:     2024-05-01 00:00:00 UTC (2 h ago)\n\
             Status now:    late\n\
             \n\
             Details: https://x.example/heartbeats/00000000-0000-0000-0000-000000000003\n\
             \n\
             -- \n\
             You get this because it is an alert channel of team Acme on Lifeline.\n"
        );
        let json = webhook_body(&early_warning(), "https://x.example", t(2, 0));
        assert_eq!(json["type"], "heartbeat.early_warning");
        assert_eq!(json["heartbeat"]["name"], "nightly-backup");
        assert_eq!(json["team"]["name"], "Acme");
        assert!(
            json["incident"]["reason"]
                .as_str()
                .unwrap()
                .starts_with("usually pings by 02:40 CET")
        );
    }

    #[test]
    fn the_end_of_an_early_warning_is_back_on_track_not_up_again() {
        let mut m = early_warning();
        m.kind = NotificationKind::Recovery;
        m.status = Some(Status::Up);
        m.reason =
            "a usual ping arrived; the early warning is over (it was: usually pings by …)".into();
        m.since = t(2, 5);
        m.deadline = None;
        m.last_ping_at = Some(t(2, 5));
        assert!(m.is_back_on_track());
        let (subject, body) = render_text_at(&m, "https://x.example", t(2, 10));
        assert_eq!(subject, "[Lifeline] Back on track: nightly-backup (Acme)");
        assert!(
            body.starts_with(
                "Heartbeat \"nightly-backup\" of team Acme is back on track: it pinged as usual \
                 after an early warning.\n\n"
            ),
            "{body}"
        );
        assert!(
            body.contains("Back on track at: 2024-05-01 02:05:00 UTC (5 min ago)\n"),
            "{body}"
        );
        assert!(
            !body.contains("UP again") && !body.contains("What next"),
            "{body}"
        );
        let json = webhook_body(&m, "", t(2, 10));
        assert_eq!(json["type"], "heartbeat.back_on_track");
        assert_eq!(event(&m), "heartbeat.back_on_track");

        // The end of a down incident is still "up again".
        let up = message(NotificationKind::Recovery);
        assert!(!up.is_back_on_track());
        assert_eq!(event(&up), "heartbeat.up");
        let (subject, _) = render_text_at(&up, "https://x.example", t(4, 0));
        assert_eq!(subject, "[Lifeline] UP again: nightly-backup (Acme)");
    }

    #[test]
    fn tenant_text_stays_on_one_line() {
        let mut m = message(NotificationKind::Alert);
        m.heartbeat_name = "evil\r\nBcc: victim@example.com".into();
        let (subject, _) = render_text(&m, "https://x.example");
        assert!(
            !subject.contains('\n') && !subject.contains('\r'),
            "{subject}"
        );
    }

    #[test]
    fn slack_text_is_escaped() {
        let mut m = message(NotificationKind::Alert);
        m.heartbeat_name = "<!channel> & co".into();
        let text = slack_text(&m, "https://x.example");
        assert!(text.starts_with("*[Lifeline] DOWN: &lt;!channel&gt; &amp; co (Acme)*\n"));
        assert!(text.contains("https://x.example/heartbeats/"));
        assert!(!text.contains("<!channel>"));
    }

    #[test]
    fn webhook_json() {
        let sent = Utc.with_ymd_and_hms(2024, 5, 1, 3, 11, 0).unwrap()
            + chrono::Duration::milliseconds(250);
        let mut m = message(NotificationKind::Alert);
        m.last_ping_at = None;
        let body = webhook_body(&m, "https://x.example/", sent);
        assert_eq!(
            body,
            json!({
                "type": "heartbeat.down",
                "delivery_id": "00000000-0000-0000-0000-000000000001",
                "sent_at": "2024-05-01T03:11:00.250Z",
                "team": {"id": "00000000-0000-0000-0000-000000000002", "name": "Acme"},
                "channel": {"id": "00000000-0000-0000-0000-000000000005", "name": "ops hook"},
                "heartbeat": {
                    "id": "00000000-0000-0000-0000-000000000003",
                    "name": "nightly-backup",
                    "status": "down",
                    "last_ping_at": null,
                    "url": "https://x.example/heartbeats/00000000-0000-0000-0000-000000000003",
                },
                "incident": {
                    "id": "00000000-0000-0000-0000-000000000004",
                    "reason": "no ping for 1 h 10 min (interval 1 h + grace 10 min)",
                    "since": "2024-05-01T03:10:00Z",
                    "deadline": "2024-05-01T03:10:00Z",
                },
            })
        );
        let test = webhook_body(&message(NotificationKind::Test), "https://x.example", sent);
        assert_eq!(test["type"], "test");
        assert_eq!(test["incident"], Value::Null);
        assert_eq!(
            webhook_body(&message(NotificationKind::Recovery), "", sent)["type"],
            "heartbeat.up"
        );
        assert_eq!(
            webhook_body(&message(NotificationKind::EarlyWarning), "", sent)["type"],
            "heartbeat.early_warning"
        );
    }
}
