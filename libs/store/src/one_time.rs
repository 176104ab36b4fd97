//! Emailed one-time links (password resets, invitations): whether one still works.

use chrono::{DateTime, Utc};
use serde::Serialize;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum LinkState {
    Usable,
    Expired,
    /// Used already (a link works once).
    Used,
}

impl LinkState {
    pub fn of(
        expires_at: DateTime<Utc>,
        used_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Self {
        if used_at.is_some() {
            LinkState::Used
        } else if expires_at <= now {
            LinkState::Expired
        } else {
            LinkState::Usable
        }
    }
}
