//! Lifeline's rules as pure code: plans and their limits, heartbeat statuses and deadline math,
//! the decisions a ping, a passing deadline or an operator makes, ping signals, tokens, names,
//! time zones and the words stored for every enum. Nothing here does I/O, so all of it is
//! unit-tested; the storage crate loads rows, asks these rules, and writes what they decided.
//! `docs/architecture.md` describes where this crate sits.

pub mod alerting;
pub mod billing;
pub mod billing_service;
pub mod cadence;
pub mod deadline;
pub mod decision;
pub mod duration;
pub mod flapping;
pub mod heartbeat;
mod ids;
pub mod labels;
mod local_time;
pub mod ping;
pub mod plan;
pub mod status;
pub mod team;
#[cfg(test)]
mod test_support;
pub mod time_zone;
pub mod timing;
pub mod token;

pub use alerting::{ChannelKind, IncidentKind, NotificationKind, NotificationStatus};
pub use billing::{PlanChange, ScheduledPlan, Subscription, SubscriptionStatus};
pub use cadence::{Cadence, LearnedCadence, PayloadSurprise, StartExpectation};
pub use deadline::{DownCause, Transition, WarnCause};
pub use decision::{
    ChangeReason, Decision, IncidentChange, Ping, PingBatch, StatusChange, WarningChange,
};
pub use flapping::{FlapPolicy, FlapSummary};
pub use heartbeat::{HeartbeatDescription, HeartbeatMode, HeartbeatName};
pub use ids::{ChannelId, HeartbeatId, IncidentId, InstanceId, NotificationId, TeamId, UserId};
pub use labels::{Label, UnknownValue};
pub use ping::{DETAIL_BYTES, PingKind, Signal};
pub use plan::{Plan, PlanLimits};
pub use status::Status;
pub use team::{Email, InvalidInput, MemberChangeRefused, Role, TeamName};
pub use time_zone::{TimeZoneName, UnknownTimeZone};
pub use timing::{HeartbeatTiming, PingEffect, RunLimits, RunLimitsError, Schedule, ScheduleError};
pub use token::PingToken;
