//! Lifeline's rules as pure code: plans and their limits, heartbeat statuses and deadline math,
//! ping signals, tokens and retention. Nothing here does I/O, so all of it is unit-tested.

pub mod deadline;
mod ids;
pub mod ping;
pub mod plan;
pub mod status;
#[cfg(test)]
mod test_support;
pub mod timing;
pub mod token;

pub use deadline::{DownCause, Transition};
pub use ids::{ChannelId, HeartbeatId, IncidentId, TeamId, UserId};
pub use ping::{PingKind, Signal};
pub use plan::{Plan, PlanLimits};
pub use status::Status;
pub use timing::{HeartbeatTiming, PingEffect, RunLimits, RunLimitsError, Schedule, ScheduleError};
pub use token::PingToken;
