//! A heartbeat as pages show it: words and relative times instead of timestamps.

use chrono::{DateTime, Utc};
use lifeline_domain::duration::{human, human_rounded};
use lifeline_domain::{HeartbeatMode, Status};
use lifeline_store::heartbeats::Heartbeat;

/// One row of the list (and the header of the detail page).
#[derive(Clone, Debug)]
pub struct HeartbeatView {
    pub id: String,
    pub name: String,
    /// `new`, `up`, `late`, `early_warning`, `down` or `paused`: the `data-status` attribute.
    pub status: &'static str,
    pub status_label: &'static str,
    /// `fixed` or `ai`: the `data-mode` attribute.
    pub mode: &'static str,
    pub is_ai: bool,
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

/// A status as pages name it. An AI heartbeat's `late` is its early warning (the learned cadence
/// says the job strays), which is not the fixed mode's "past the interval": it gets its own word,
/// while the database and the API keep the one stored status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShownStatus {
    Stored(Status),
    EarlyWarning,
}

impl ShownStatus {
    /// In the order the list's filters show them.
    pub const ALL: [ShownStatus; 6] = [
        ShownStatus::Stored(Status::New),
        ShownStatus::Stored(Status::Up),
        ShownStatus::Stored(Status::Late),
        ShownStatus::EarlyWarning,
        ShownStatus::Stored(Status::Down),
        ShownStatus::Stored(Status::Paused),
    ];

    pub fn of(hb: &Heartbeat) -> Self {
        match (hb.mode, hb.timing.status) {
            (HeartbeatMode::Ai, Status::Late) => ShownStatus::EarlyWarning,
            (_, status) => ShownStatus::Stored(status),
        }
    }

    /// The `data-status` word and the `?status=` value.
    pub fn key(self) -> &'static str {
        match self {
            ShownStatus::Stored(status) => status.as_str(),
            ShownStatus::EarlyWarning => "early_warning",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ShownStatus::Stored(status) => status_label(status),
            ShownStatus::EarlyWarning => "Early warning",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
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
        let shown = ShownStatus::of(hb);
        HeartbeatView {
            id: hb.id.to_string(),
            name: hb.name.clone(),
            status: shown.key(),
            status_label: shown.label(),
            mode: hb.mode.as_str(),
            is_ai: hb.mode == HeartbeatMode::Ai,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shown_status_reads_back_from_its_key() {
        for shown in ShownStatus::ALL {
            assert_eq!(ShownStatus::parse(shown.key()), Some(shown));
        }
        assert_eq!(
            ShownStatus::parse("early_warning"),
            Some(ShownStatus::EarlyWarning)
        );
        assert_eq!(ShownStatus::EarlyWarning.label(), "Early warning");
        assert_eq!(ShownStatus::parse("warned"), None);
    }
}
