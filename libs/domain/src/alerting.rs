//! The words of alerting: where notifications go, what they say, how an incident started, and
//! how far a notification got. Stored as text; read back through these enums, so an unknown
//! word in a row is an error, never a silent fallback.

use crate::labels::label_enum;

label_enum! {
    /// How an alert channel is reached.
    pub enum ChannelKind as "channel kind" {
        Email => "email",
        Webhook => "webhook",
        Slack => "slack",
    }
}

label_enum! {
    /// What a notification tells the team.
    pub enum NotificationKind as "notification kind" {
        /// The heartbeat went down: an incident opened.
        Alert => "alert",
        /// The heartbeat is up again: the incident closed.
        Recovery => "recovery",
        /// The heartbeat is about to miss its deadline, or a run is stalling.
        EarlyWarning => "early_warning",
        /// The heartbeat keeps changing between up and down: its changes are no longer
        /// announced one by one until it is stable again.
        Flapping => "flapping",
        /// Sent on request, to check that a channel works.
        Test => "test",
    }
}

label_enum! {
    /// Where a notification stands in the outbox.
    pub enum NotificationStatus as "notification status" {
        /// Waiting for its (next) attempt.
        Pending => "pending",
        Sent => "sent",
        /// Given up: a permanent error, or every attempt failed.
        Failed => "failed",
    }
}

label_enum! {
    /// Why an incident was opened.
    pub enum IncidentKind as "incident kind" {
        /// The heartbeat went down.
        Down => "down",
        /// The learned cadence says the next ping is becoming improbable (AI heartbeats).
        EarlyWarning => "early_warning",
        /// The heartbeat changed between up and down too often (see [`crate::FlapPolicy`]).
        Flapping => "flapping",
    }
}

impl IncidentKind {
    /// How pages name it.
    pub fn title(self) -> &'static str {
        match self {
            IncidentKind::Down => "Down",
            IncidentKind::EarlyWarning => "Early warning",
            IncidentKind::Flapping => "Flapping",
        }
    }
}
