//! `lifeline analyzer replay`: learns from a training history, then walks through a test history
//! as the live service would — retraining on the service's schedule from pings already seen,
//! applying each ping with what the model expected after it, and judging every deadline with
//! the domain's rules — and reports every alert it would have sent, when it would have sent it.

use std::io::Read;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use lifeline_cadence::{HistoryPing, Model, Period, Strategy, Unusual};
use lifeline_domain::{
    Decision, HeartbeatTiming, IncidentChange, Ping, PingBatch, PingKind, Schedule, WarnCause,
    WarningChange,
};
use serde::Serialize;

use crate::learning::{next_training, relearn, train, window};

/// How deadlines are predicted: a learned strategy, or none (the plain fixed interval + grace,
/// the baseline a careful user configures).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Predictor {
    Learned(Strategy),
    Fixed,
}

#[derive(Clone, Copy, Debug)]
pub struct Replay {
    pub tz: Tz,
    pub fixed: Schedule,
    pub until: Option<DateTime<Utc>>,
    pub predictor: Predictor,
    /// Describe every training on stderr.
    pub verbose: bool,
}

/// One alert, printed as one JSON line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Alert {
    pub at: DateTime<Utc>,
    pub kind: AlertKind,
    pub expected_by: Option<DateTime<Utc>>,
    pub reason: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    EarlyWarning,
    Down,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{file}: {message}")]
    Csv { file: String, message: String },
}

/// Reads a history CSV (`received_at,kind,body_size`, RFC 3339 UTC, time order).
pub fn read_history(file: &str, input: impl Read) -> Result<Vec<HistoryPing>, ReplayError> {
    #[derive(serde::Deserialize)]
    struct Row {
        received_at: String,
        kind: String,
        body_size: u64,
    }
    let err = |message: String| ReplayError::Csv {
        file: file.to_owned(),
        message,
    };
    let mut pings: Vec<HistoryPing> = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(input);
    let headers = reader.headers().map_err(|e| err(e.to_string()))?.clone();
    if headers.iter().collect::<Vec<_>>() != ["received_at", "kind", "body_size"] {
        return Err(err(format!(
            "the header must be `received_at,kind,body_size`, found `{}`",
            headers.iter().collect::<Vec<_>>().join(",")
        )));
    }
    for (i, row) in reader.deserialize::<Row>().enumerate() {
        let line = i + 2;
        let row = row.map_err(|e| err(format!("line {line}: {e}")))?;
        let at = DateTime::parse_from_rfc3339(&row.received_at)
            .map_err(|e| {
                err(format!(
                    "line {line}: received_at `{}`: {e}",
                    row.received_at
                ))
            })?
            .with_timezone(&Utc);
        let kind = match row.kind.as_str() {
            "success" => PingKind::Success,
            "start" => PingKind::Start,
            "fail" => PingKind::Fail,
            other => {
                return Err(err(format!(
                    "line {line}: kind `{other}` is not success, start or fail"
                )));
            }
        };
        if pings.last().is_some_and(|p| p.at > at) {
            return Err(err(format!("line {line}: rows must be in time order")));
        }
        pings.push(HistoryPing {
            at,
            kind,
            body_size: row.body_size,
        });
    }
    Ok(pings)
}

/// The walk: the heartbeat as the service holds it, the history seen so far, and the model.
struct Walk {
    config: Replay,
    timing: HeartbeatTiming,
    seen: Vec<HistoryPing>,
    model: Option<Model>,
    next_training: Option<DateTime<Utc>>,
    alerts: Vec<Alert>,
    /// Closed incidents, and when the open ones opened: what training leaves out, as the
    /// service reads it from its incidents.
    unusual: Unusual,
    down_since: Option<DateTime<Utc>>,
    warned_since: Option<DateTime<Utc>>,
}

impl Replay {
    /// Every alert the service would have sent during `test`, after learning from `train`.
    pub fn run(&self, train: &[HistoryPing], test: &[HistoryPing]) -> Vec<Alert> {
        let mut walk = Walk {
            config: *self,
            timing: HeartbeatTiming::new(self.fixed),
            seen: Vec::with_capacity(train.len() + test.len()),
            model: None,
            next_training: None,
            alerts: Vec::new(),
            unusual: Unusual::default(),
            down_since: None,
            warned_since: None,
        };
        // The training history is the past: it sets the heartbeat's state, nobody is alerted.
        for p in train {
            walk.ping(*p);
        }
        walk.alerts.clear();
        let Some(start) = train.last().or(test.first()).map(|p| p.at) else {
            return Vec::new();
        };
        let end = self.until.or(test.last().map(|p| p.at)).unwrap_or(start);
        if let Predictor::Learned(_) = self.predictor {
            walk.learn(start);
        }
        let mut pings = test.iter().filter(|p| p.at <= end).peekable();
        loop {
            let next_ping = pings.peek().map(|p| p.at);
            // A deadline fires only if strictly before the next ping: a ping at the deadline
            // itself is in time.
            let horizon = next_ping.unwrap_or(end);
            let deadline = walk
                .timing
                .next_check_at()
                .filter(|d| *d <= end && next_ping.map_or(*d <= horizon, |p| *d < p));
            let training = walk.next_training.filter(|t| *t <= horizon);
            match (deadline, training) {
                (Some(d), t) if t.is_none_or(|t| d <= t) => walk.check(d),
                (_, Some(t)) => walk.learn(t),
                _ => match pings.next() {
                    Some(p) => walk.ping(*p),
                    None => break,
                },
            }
        }
        walk.alerts
    }
}

impl Walk {
    fn ping(&mut self, p: HistoryPing) {
        let learned = self
            .model
            .as_ref()
            .and_then(|m| m.after_ping(p.at, p.kind, p.body_size, &self.timing));
        let mut batch = PingBatch::new(self.timing);
        batch.apply(Ping {
            kind: p.kind,
            exit_code: None,
            at: p.at,
            learned,
        });
        self.seen.push(p);
        let decision = batch.finish();
        self.record(&decision, None);
    }

    fn check(&mut self, at: DateTime<Utc>) {
        let expected_by = self.expected_by();
        let decision = self.timing.decide(at, at);
        self.record(&decision, expected_by);
    }

    fn learn(&mut self, at: DateTime<Utc>) {
        let Predictor::Learned(strategy) = self.config.predictor else {
            return;
        };
        let mut unusual = self.unusual.clone();
        let open = |since: Option<DateTime<Utc>>| since.map(|from| Period { from, until: at });
        unusual.down.extend(open(self.down_since));
        unusual.down.extend(open(self.warned_since));
        unusual.payload.extend(open(self.warned_since));
        let trained = train(
            window(&self.seen, at),
            &unusual,
            self.config.tz,
            at,
            strategy,
        );
        if trained.is_some() {
            self.model = trained;
        }
        if self.config.verbose {
            match &self.model {
                Some(m) => eprintln!("{at}: trained: {}", m.describe()),
                None => eprintln!("{at}: not eligible"),
            }
        }
        self.next_training = Some(next_training(at, self.model.is_some()));
        let decision = relearn(
            &self.timing,
            self.model.as_ref(),
            self.config.fixed,
            at,
            &self.seen,
        );
        self.record(&decision, None);
    }

    fn remember_unusual(&mut self, decision: &Decision) {
        match &decision.incident {
            Some(IncidentChange::Open { at, .. }) => {
                self.down_since = self.down_since.or(Some(*at))
            }
            Some(IncidentChange::Resolve { at, .. }) => {
                if let Some(from) = self.down_since.take() {
                    self.unusual.down.push(Period { from, until: *at });
                }
            }
            None => {}
        }
        // An early warning nobody marked expected (the replay has nobody to) is an anomaly,
        // like an outage: neither its gap nor its payloads are learned as normal.
        match &decision.warning {
            Some(WarningChange::Open { at, .. }) => self.warned_since = Some(*at),
            Some(WarningChange::Resolve { at, .. }) => {
                if let Some(from) = self.warned_since.take() {
                    // The usual ping that ended it is not part of the odd stretch.
                    let stretch = Period {
                        from,
                        until: *at - chrono::Duration::milliseconds(1),
                    };
                    self.unusual.down.push(stretch);
                    self.unusual.payload.push(stretch);
                }
            }
            None => {}
        }
    }

    /// When the next ping was expected in the current period: what a down alert reports.
    fn expected_by(&self) -> Option<DateTime<Utc>> {
        let last = self.timing.last_ping_at?;
        Some(match self.timing.cadence.learned() {
            Some(l) => last + l.expected_by(),
            None => self.timing.cadence.fixed().due_at(last),
        })
    }

    fn record(&mut self, decision: &Decision, expected_by: Option<DateTime<Utc>>) {
        self.timing = decision.timing;
        self.remember_unusual(decision);
        if let Some(WarningChange::Open { cause, reason, at }) = &decision.warning {
            let expected_by = match cause {
                WarnCause::Silent { expected_by, .. }
                | WarnCause::NotStarted { expected_by, .. } => Some(*expected_by),
                WarnCause::LongRun { .. }
                | WarnCause::Payload { .. }
                | WarnCause::Unfinished { .. } => None,
            };
            self.alerts.push(Alert {
                at: *at,
                kind: AlertKind::EarlyWarning,
                expected_by,
                reason: reason.clone(),
            });
        }
        if let Some(IncidentChange::Open { reason, at, .. }) = &decision.incident {
            self.alerts.push(Alert {
                at: *at,
                kind: AlertKind::Down,
                expected_by,
                reason: reason.clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};
    use chrono_tz::Europe::Berlin;

    /// Daily at 03:30 Berlin (02:30 does not exist on the spring change) with a few seconds of jitter, from `from` for `days` days.
    fn nightly(from: DateTime<Utc>, days: i64, skip: &[i64]) -> Vec<HistoryPing> {
        (0..days)
            .filter(|d| !skip.contains(d))
            .map(|d| {
                let local = (from + Duration::days(d))
                    .with_timezone(&Berlin)
                    .date_naive();
                let at = Berlin
                    .from_local_datetime(&local.and_hms_opt(3, 30, 0).unwrap_or_default())
                    .earliest()
                    .unwrap_or_else(|| panic!("03:30 exists"))
                    .with_timezone(&Utc)
                    + Duration::seconds((d * 7919) % 40);
                HistoryPing {
                    at,
                    kind: PingKind::Success,
                    body_size: 4096,
                }
            })
            .collect()
    }

    fn replay(predictor: Predictor) -> Replay {
        Replay {
            tz: Berlin,
            fixed: Schedule::from_secs(86_400, 3600).unwrap_or_else(|e| panic!("{e}")),
            until: None,
            predictor,
            verbose: false,
        }
    }

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, 12, 0, 0)
            .single()
            .unwrap_or_else(|| panic!("date"))
    }

    #[test]
    fn a_missed_nightly_run_is_warned_before_fixed_mode_would_alert() {
        let train = nightly(day(1), 14, &[]);
        // 15 March onwards; the run of the 17th (day 2 of the test) never comes.
        let test = nightly(day(15), 5, &[2]);
        let fixed = replay(Predictor::Fixed).run(&train, &test);
        let ai = replay(Predictor::Learned(Strategy::Combined)).run(&train, &test);
        assert_eq!(fixed.len(), 1, "{fixed:?}");
        assert_eq!(fixed[0].kind, AlertKind::Down);
        let warning = ai
            .iter()
            .find(|a| a.kind == AlertKind::EarlyWarning)
            .unwrap_or_else(|| panic!("no early warning: {ai:?}"));
        assert!(warning.at < fixed[0].at, "{ai:?} vs {fixed:?}");
        // The run was due at 03:30 local (02:30 UTC) on the 17th.
        assert!(warning.at > Utc.with_ymd_and_hms(2026, 3, 17, 2, 30, 0).unwrap());
        assert!(
            warning
                .reason
                .starts_with("usually pings by 2026-03-17 02:3"),
            "{}",
            warning.reason
        );
        // One warning and one down for the one overdue period, nothing else.
        assert_eq!(ai.len(), 2, "{ai:?}");
        assert_eq!(ai[1].kind, AlertKind::Down);
    }

    #[test]
    fn a_daily_local_job_is_quiet_across_the_dst_change() {
        // Test from 22 March: Berlin moves to summer time on the 29th, the UTC gap is 23 h.
        let train = nightly(day(8), 14, &[]);
        let test = nightly(day(22), 12, &[]);
        let ai = replay(Predictor::Learned(Strategy::Combined)).run(&train, &test);
        assert_eq!(ai, vec![]);
    }

    #[test]
    fn histories_are_read_strictly() {
        let ok = "received_at,kind,body_size\n2026-03-01T02:00:13Z,success,12\n2026-03-01T03:00:00Z,start,0\n";
        let pings = read_history("t.csv", ok.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(pings.len(), 2);
        assert_eq!(pings[0].body_size, 12);
        let cases = [
            ("at,kind,body_size\n", "the header must be"),
            (
                "received_at,kind,body_size\nyesterday,success,0\n",
                "line 2: received_at `yesterday`",
            ),
            (
                "received_at,kind,body_size\n2026-03-01T02:00:13Z,progress,0\n",
                "line 2: kind `progress`",
            ),
            (
                "received_at,kind,body_size\n2026-03-02T00:00:00Z,success,0\n2026-03-01T00:00:00Z,success,0\n",
                "line 3: rows must be in time order",
            ),
        ];
        for (csv, message) in cases {
            let err = read_history("t.csv", csv.as_bytes())
                .err()
                .map(|e| e.to_string());
            assert!(
                err.as_deref().is_some_and(|e| e.contains(message)),
                "{csv}: {err:?}"
            );
        }
    }
}
