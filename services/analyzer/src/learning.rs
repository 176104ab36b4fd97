//! When and on what a heartbeat's model is (re)trained, and what training changes in the
//! heartbeat's current deadlines. The live service and the replay command both go through here,
//! so replay sees exactly the retraining the service would do.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use lifeline_cadence::{HistoryPing, Model, Progress, Strategy, Unusual, run_start};
use lifeline_domain::{Cadence, Decision, HeartbeatTiming, Schedule};

/// Models learn from this much recent history: three of every weekday (a weekly rhythm has
/// only those to go by), while a job that changes is followed within three weeks and old
/// behaviour is forgotten.
pub const WINDOW: Duration = Duration::days(21);
/// A model is retrained this long after it was trained.
pub const RETRAIN_EVERY: Duration = Duration::days(1);
/// A heartbeat without a model is looked at again this often, so it learns within the hour it
/// becomes eligible.
pub const ELIGIBILITY_EVERY: Duration = Duration::hours(1);

/// When to train next, after an attempt at `at` that did (or did not) produce a model.
pub fn next_training(at: DateTime<Utc>, has_model: bool) -> DateTime<Utc> {
    at + if has_model {
        RETRAIN_EVERY
    } else {
        ELIGIBILITY_EVERY
    }
}

/// The pings of `history` (time order) inside the training window ending at `now`.
pub fn window(history: &[HistoryPing], now: DateTime<Utc>) -> &[HistoryPing] {
    let from = now - WINDOW;
    let start = history.partition_point(|p| p.at < from);
    let end = history.partition_point(|p| p.at <= now);
    &history[start..end]
}

/// Trains on the window if the heartbeat is eligible. A heartbeat that had a model keeps it when
/// the window cannot train a new one (an outage took most of its pings): the old model is
/// still the best knowledge of the job.
pub fn train(
    window: &[HistoryPing],
    unusual: &Unusual,
    tz: Tz,
    now: DateTime<Utc>,
    strategy: Strategy,
) -> Option<Model> {
    let finished = window.iter().filter(|p| p.kind.ends_run()).count();
    Progress::new(window.first().map(|p| p.at), finished, now)
        .eligible()
        .then(|| Model::train(window, unusual, tz, now, strategy))
        .flatten()
}

/// The heartbeat's deadlines counted again with a new model (or without one: back to the fixed
/// schedule). `history` is what it was trained on: the last run's start, when no run started
/// since, is where the next start is expected from.
pub fn relearn(
    timing: &HeartbeatTiming,
    model: Option<&Model>,
    fixed: Schedule,
    now: DateTime<Utc>,
    history: &[HistoryPing],
) -> Decision {
    let learned = model.zip(timing.last_ping_at).and_then(|(m, last)| {
        let waiting = timing.started_at.is_none();
        let began = waiting.then(|| run_start(history, last)).flatten();
        m.cadence_after(last, fixed, began)
    });
    let cadence = learned.map_or(Cadence::Fixed(fixed), Cadence::Learned);
    timing.decide_relearn(cadence, now)
}
