use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Typed ids: an id of one kind can never be passed where another is expected. No `Default`
/// and no public field, so ids only come from storage, parsing or `new()`.
macro_rules! typed_id {
    ($($(#[$doc:meta])* $name:ident),* $(,)?) => {$(
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        // No `Default` on purpose: an id is made deliberately, never conjured by a derive.
        #[allow(clippy::new_without_default)]
        impl $name {
            /// A fresh id; UUIDv7 so that new rows land at the right edge of their index.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }

            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            pub fn as_uuid(&self) -> Uuid {
                self.0
            }

            pub fn parse(s: &str) -> Result<Self, uuid::Error> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        /// So the CLI and forms parse ids straight into their type.
        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, uuid::Error> {
                Self::parse(s.trim())
            }
        }
    )*};
}

typed_id!(
    /// A team (the tenant).
    TeamId,
    /// A user account.
    UserId,
    /// A monitored heartbeat.
    HeartbeatId,
    /// An alert channel.
    ChannelId,
    /// An incident (down or early warning).
    IncidentId,
    /// A notification in the outbox: also the delivery id receivers dedupe on.
    NotificationId,
    /// One running ingest process, as its coverage beacon names it.
    InstanceId,
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text() {
        let id = HeartbeatId::new();
        assert_eq!(HeartbeatId::parse(&id.to_string()).ok(), Some(id));
        assert!(TeamId::parse("not-a-uuid").is_err());
        assert_eq!(format!(" {id} ").parse::<HeartbeatId>().ok(), Some(id));
    }
}
