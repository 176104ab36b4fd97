//! A heartbeat as pages show it: words and relative times instead of timestamps.

use chrono::{DateTime, Utc};
use lifeline_domain::Status;
use lifeline_domain::duration::{human, human_rounded};
use lifeline_store::heartbeats::Heartbeat;

/// One row of the list (and the header of the detail page).
#[derive(Clone, Debug)]
pub struct HeartbeatView {
    pub id: String,
    pub name: String,
    /// `new`, `up`, `late`, `down` or `paused`: the `data-status` attribute.
    pub status: &'static str,
    pub status_label: &'static str,
    pub last_ping: String,
    pub last_ping_at: String,
    pub next_due: String,
    pub due_at: String,
    pub schedule: String,
}

pub fn status_label(status: Status) -> &'static str {
    match status {
        Status::New => "New",
        Status::Up => "Up",
        Status::Late => "Late",
        Status::Down => "Down",
        Status::Paused => "Paused",
    }
}

/// "3 min ago", "never".
pub fn ago(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match at {
        None => "never".to_owned(),
        Some(at) if now - at < chrono::Duration::seconds(1) => "just now".to_owned(),
        Some(at) => format!("{} ago", human_rounded(now - at)),
    }
}

/// "in 4 min", "2 min overdue", "—".
pub fn until(at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> String {
    match at {
        None => "—".to_owned(),
        Some(at) if at >= now => format!("in {}", human_rounded(at - now)),
        Some(at) => format!("{} overdue", human_rounded(now - at)),
    }
}

pub fn iso(at: Option<DateTime<Utc>>) -> String {
    at.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

impl HeartbeatView {
    pub fn of(hb: &Heartbeat, now: DateTime<Utc>) -> Self {
        let t = &hb.timing;
        let schedule = hb.schedule();
        let due = match t.status {
            Status::Up | Status::Late => t.due_at,
            _ => None,
        };
        HeartbeatView {
            id: hb.id.to_string(),
            name: hb.name.clone(),
            status: t.status.as_str(),
            status_label: status_label(t.status),
            last_ping: ago(t.last_ping_at, now),
            last_ping_at: iso(t.last_ping_at),
            next_due: until(due, now),
            due_at: iso(due),
            schedule: format!(
                "every {} (+{} grace)",
                human(schedule.interval()),
                human(schedule.grace())
            ),
        }
    }
}
