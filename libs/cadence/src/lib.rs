//! AI heartbeats: what a heartbeat's history says about when its next ping comes, how long its
//! runs take and how big its payloads are. Pure: it is given histories and never fetches them;
//! the analyzer trains, ingest and the scheduler evaluate, the replay command does both.

pub mod calendar;
pub mod features;
pub mod mixture;
pub mod model;
pub mod progress;
pub mod tail;
pub mod timetable;

pub use features::{HistoryPing, Period, Unusual, extract, run_start};
pub use model::{Expectation, Model, Strategy, VERSION};
pub use progress::Progress;
