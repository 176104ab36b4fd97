//! The "AI mode" panel of a heartbeat's page: the switch (or, on plans without AI heartbeats, why
//! there is none and where to upgrade); while an AI heartbeat has no model, how far its history
//! is from enough to learn from; once it has one, what the model learned, in the heartbeat's
//! time zone; its recent early warnings, each of which the team can mark "expected". It also
//! gives the chart the window the model expected each next ping in.

use chrono::{DateTime, Duration, TimeZone, Utc};
use lifeline_cadence::progress::{MIN_DAYS, MIN_FINISHED};
use lifeline_cadence::{Model, Progress};
use lifeline_domain::duration::{human, human_rounded};
use lifeline_domain::{HeartbeatMode, TimeZoneName};
use lifeline_store::ai::{self, LearningHistory, Warning};
use lifeline_store::heartbeats::Heartbeat;
use lifeline_store::{PgConn, StoreError, TeamScope, ai_models};

use super::chart::{ExpectedWindow, utc};
use super::detail::bytes;
use super::view::iso;
use crate::teams::plan_name;

/// Early warnings listed on the panel.
const WARNINGS_LISTED: i64 = 10;
/// Success pings of the chart's range after which the expected window is drawn: enough to
/// compare the job with its model over a day of a frequent job, few enough to stay light.
const WINDOWS_DRAWN: i64 = 60;

pub struct AiPanel {
    /// `ai` or `fixed`: the panel's `data-ai-mode`.
    pub mode: &'static str,
    pub is_ai: bool,
    /// The team's plan includes AI heartbeats.
    pub allowed: bool,
    /// "Standard", for the sentence saying it has no AI heartbeats.
    pub plan: &'static str,
    /// An AI heartbeat without a model: how far it is from learning.
    pub learning: Option<LearningView>,
    /// An AI heartbeat with a model: what it learned.
    pub learned: Option<LearnedView>,
    /// A stored model this dashboard cannot read (another version): it is being retrained.
    pub unreadable: bool,
    pub warnings: Vec<WarningView>,
}

pub struct LearningView {
    /// "5 of 7 days, 1,432 pings (at least 8 needed)".
    pub text: String,
    /// Days of history (at most the days needed), for the progress bar.
    pub days: i64,
    pub min_days: i64,
    pub min_finished: usize,
    /// Enough history: the model comes with the analyzer's next look.
    pub eligible: bool,
}

pub struct LearnedView {
    pub typical_gap: String,
    /// "22 h 30 min to 23 h 50 min after a ping".
    pub usual_after: String,
    /// "Wed 02:04 – 02:19", local to the heartbeat, after its newest ping.
    pub next_window: String,
    pub time_zone: String,
    pub typical_run: Option<String>,
    pub typical_size: Option<String>,
    pub trained_at: String,
    pub trained_at_iso: String,
    pub pings_used: String,
    /// "2026-11-05 02:00 – 2026-11-26 02:01", local.
    pub training_window: String,
}

pub struct WarningView {
    pub id: String,
    pub reason: String,
    pub opened_at: String,
    pub opened: String,
    /// "still open" or when it was resolved.
    pub resolved: String,
    pub open: bool,
    /// "Marked expected by ada@example.com on 2026-11-26 10:02:00 UTC".
    pub marked: Option<String>,
}

/// What the page reads for the panel and the chart's expected windows.
pub struct Loaded {
    pub panel: AiPanel,
    pub windows: Vec<ExpectedWindow>,
}

/// Reads what the panel shows; `chart_from`..`chart_to` is the chart's range (for the windows).
pub async fn load(
    conn: &mut PgConn,
    scope: &TeamScope,
    hb: &Heartbeat,
    zone: TimeZoneName,
    chart_from: DateTime<Utc>,
    chart_to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Loaded, StoreError> {
    let plan = scope.plan();
    let mut panel = AiPanel {
        mode: hb.mode.as_str(),
        is_ai: hb.mode == HeartbeatMode::Ai,
        allowed: plan.limits().ai_heartbeats,
        plan: plan_name(plan),
        learning: None,
        learned: None,
        unreadable: false,
        warnings: Vec::new(),
    };
    let mut windows = Vec::new();
    if !panel.is_ai {
        return Ok(Loaded { panel, windows });
    }
    panel.warnings = ai::warnings(conn, scope, hb.id, WARNINGS_LISTED)
        .await?
        .iter()
        .map(warning_view)
        .collect();
    match ai_models::for_heartbeat(conn, scope, hb.id).await? {
        None => {
            let history = ai::learning_history(conn, scope, hb.id).await?;
            panel.learning = Some(learning_view(history, now));
        }
        Some(stored) => match serde_json::from_value::<Model>(stored.params) {
            Ok(model) => {
                let successes =
                    ai::recent_successes(conn, scope, hb.id, chart_from, chart_to, WINDOWS_DRAWN)
                        .await?;
                windows = expected_windows(&model, hb, &successes);
                panel.learned = Some(learned_view(&model, hb, zone));
            }
            Err(e) => {
                tracing::warn!(heartbeat = %hb.id, error = %e, "stored model not readable");
                panel.unreadable = true;
            }
        },
    }
    Ok(Loaded { panel, windows })
}

fn learning_view(history: LearningHistory, now: DateTime<Utc>) -> LearningView {
    let finished = usize::try_from(history.finished).unwrap_or(0);
    let progress = Progress::new(history.first_ping_at, finished, now);
    LearningView {
        text: progress.describe(),
        days: progress.days.min(MIN_DAYS),
        min_days: MIN_DAYS,
        min_finished: MIN_FINISHED,
        eligible: progress.eligible(),
    }
}

/// The window after each success ping, as the model expects it now.
fn expected_windows(
    model: &Model,
    hb: &Heartbeat,
    successes: &[DateTime<Utc>],
) -> Vec<ExpectedWindow> {
    successes
        .iter()
        .map(|&after| {
            let e = model.expect_after(after, hb.schedule(), None);
            ExpectedWindow {
                after,
                from: e.expected_from,
                by: e.expected_by,
            }
        })
        .collect()
}

fn learned_view(model: &Model, hb: &Heartbeat, zone: TimeZoneName) -> LearnedView {
    let last = hb.timing.last_ping_at.unwrap_or(model.window_until);
    let e = model.expect_after(last, hb.schedule(), None);
    let local = |at: DateTime<Utc>, pattern: &str| {
        zone.tz()
            .from_utc_datetime(&at.naive_utc())
            .format(pattern)
            .to_string()
    };
    let same_day = local(e.expected_from, "%F") == local(e.expected_by, "%F");
    let next_window = format!(
        "{} – {}",
        local(e.expected_from, "%a %F %H:%M"),
        local(
            e.expected_by,
            if same_day { "%H:%M" } else { "%a %F %H:%M" }
        )
    );
    let secs = |s: f64| Duration::seconds(s.round() as i64);
    LearnedView {
        typical_gap: human(secs(model.gaps.typical_secs)),
        usual_after: format!(
            "{} to {} after a ping",
            human_rounded(e.expected_from - last),
            human_rounded(e.expected_by - last)
        ),
        next_window,
        time_zone: zone.to_string(),
        typical_run: model.runs.as_ref().map(|r| human(secs(r.typical_secs))),
        typical_size: model
            .sizes
            .as_ref()
            .map(|s| bytes(i64::try_from(s.typical_bytes).unwrap_or(i64::MAX))),
        trained_at: utc(model.trained_at),
        trained_at_iso: iso(Some(model.trained_at)),
        pings_used: lifeline_cadence::progress::thousands(model.pings_used),
        training_window: format!(
            "{} – {}",
            local(model.window_from, "%F %H:%M"),
            local(model.window_until, "%F %H:%M")
        ),
    }
}

fn warning_view(w: &Warning) -> WarningView {
    WarningView {
        id: w.id.to_string(),
        reason: w.reason.clone(),
        opened_at: iso(Some(w.opened_at)),
        opened: utc(w.opened_at),
        resolved: w
            .resolved_at
            .map(utc)
            .unwrap_or_else(|| "still open".to_owned()),
        open: w.resolved_at.is_none(),
        marked: w.marked_expected_at.map(|at| {
            let who = w.marked_expected_by.as_deref().unwrap_or("a former member");
            format!("Marked expected by {who} on {}", utc(at))
        }),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn learning_progress_says_what_is_missing() {
        let now = Utc::now();
        let view = learning_view(
            LearningHistory {
                first_ping_at: Some(now - Duration::days(5) - Duration::hours(1)),
                finished: 1432,
            },
            now,
        );
        assert_eq!(view.text, "5 of 7 days, 1,432 pings (at least 8 needed)");
        assert_eq!(view.days, 5);
        assert!(!view.eligible);
    }
}
