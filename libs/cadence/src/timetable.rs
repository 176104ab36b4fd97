//! The empirical estimate of "time until the next ping" conditioned on when the last one came:
//! the usual (median, log) gap for each quarter hour of the job's local week, from the gaps that
//! started within two hours of it. This is what catches calendar schedules — weekdays only, busy
//! by day and quiet at night — that no single interval can express.
//!
//! Three conditionings compete on leave-one-out error: by time of week, by time of day, or none.
//! Finer is chosen only when it predicts clearly better, so a job without a weekly rhythm is
//! not fitted to the two or three samples each hour of its week has.

use serde::{Deserialize, Serialize};

use crate::calendar::{DAY_SECS, Phase, WEEK_SECS};
use crate::features::Gap;
use crate::tail::median;

const SLOT_SECS: u32 = 900;
const WEEK_SLOTS: usize = (WEEK_SECS / SLOT_SECS) as usize;
const DAY_SLOTS: usize = (DAY_SECS / SLOT_SECS) as usize;
/// Gaps that started within this many slots (two hours) either side are neighbours.
const BAND: usize = 8;
/// A finer conditioning must cut the leave-one-out error by this factor to be chosen.
const BETTER_BY: f64 = 0.9;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Conditioning {
    Week,
    Day,
    None,
}

/// Usual log gap per slot of the conditioning (672 for a week, 96 for a day, 1 for none).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timetable {
    pub conditioning: Conditioning,
    usual: Vec<f64>,
}

/// The table and each gap's leave-one-out residual (log gap minus the usual log gap predicted
/// without it), from which the spread is learned.
pub struct Fitted {
    pub table: Timetable,
    pub residuals: Vec<f64>,
}

struct Level {
    slots: usize,
    /// Log gaps by the slot they started in.
    buckets: Vec<Vec<f64>>,
}

impl Level {
    fn new(conditioning: Conditioning, gaps: &[(Phase, f64)]) -> Self {
        let slots = match conditioning {
            Conditioning::Week => WEEK_SLOTS,
            Conditioning::Day => DAY_SLOTS,
            Conditioning::None => 1,
        };
        let mut buckets = vec![Vec::new(); slots];
        for (phase, log_gap) in gaps {
            buckets[slot(conditioning, *phase)].push(*log_gap);
        }
        Level { slots, buckets }
    }

    fn neighbours(&self, slot: usize) -> Vec<f64> {
        if self.slots == 1 {
            return self.buckets[0].clone();
        }
        (0..=2 * BAND)
            .flat_map(|d| &self.buckets[(slot + self.slots + d - BAND) % self.slots])
            .copied()
            .collect()
    }

    /// The usual log gap of every slot (`None` where fewer than two neighbours exist) and how
    /// many neighbours it came from.
    fn usual(&self) -> Vec<(Option<f64>, usize)> {
        (0..self.slots)
            .map(|s| {
                let mut n = self.neighbours(s);
                ((n.len() >= 2).then(|| median(&mut n)), n.len())
            })
            .collect()
    }

    /// The prediction for a gap from its own slot, leaving the gap itself out. With many
    /// neighbours one more or less does not move the median, and copying them for every gap
    /// would make training quadratic.
    fn leave_one_out(
        &self,
        slot: usize,
        own: f64,
        (usual, count): (Option<f64>, usize),
    ) -> Option<f64> {
        match count {
            0..=2 => None,
            3..=16 => {
                let mut n = self.neighbours(slot);
                if let Some(i) = n.iter().position(|v| *v == own) {
                    n.swap_remove(i);
                }
                Some(median(&mut n))
            }
            _ => usual,
        }
    }
}

fn slot(conditioning: Conditioning, phase: Phase) -> usize {
    match conditioning {
        Conditioning::Week => (phase.week_secs() / SLOT_SECS) as usize,
        Conditioning::Day => (phase.day_secs() / SLOT_SECS) as usize,
        Conditioning::None => 0,
    }
}

impl Timetable {
    /// `None` without gaps. `gaps` with positive lengths only.
    pub fn fit(gaps: &[Gap]) -> Option<Fitted> {
        let logs: Vec<(Phase, f64)> = gaps
            .iter()
            .filter(|g| g.secs > 0.0)
            .map(|g| (g.from, g.secs.ln()))
            .collect();
        if logs.is_empty() {
            return None;
        }
        // Coarse to fine; each level falls back to the coarser one where it has no prediction.
        let mut best: Option<(f64, Timetable, Vec<f64>)> = None;
        let mut coarser: Option<(Timetable, Vec<f64>)> = None;
        for conditioning in [Conditioning::None, Conditioning::Day, Conditioning::Week] {
            let level = Level::new(conditioning, &logs);
            let usual_own = level.usual();
            let usual: Vec<f64> = usual_own
                .iter()
                .enumerate()
                .map(|(s, (u, _))| {
                    u.or_else(|| {
                        coarser
                            .as_ref()
                            .map(|(t, _)| t.usual_at_slot(conditioning, s))
                    })
                    .unwrap_or_else(|| logs[0].1)
                })
                .collect();
            let table = Timetable {
                conditioning,
                usual,
            };
            let residuals: Vec<f64> = logs
                .iter()
                .enumerate()
                .map(|(i, (phase, own))| {
                    let s = slot(conditioning, *phase);
                    let predicted = level
                        .leave_one_out(s, *own, usual_own[s])
                        .or_else(|| coarser.as_ref().map(|(_, r)| own - r[i]))
                        .unwrap_or(*own);
                    own - predicted
                })
                .collect();
            let error = residuals.iter().map(|r| r.abs()).sum::<f64>() / residuals.len() as f64;
            if best.as_ref().is_none_or(|(e, _, _)| error < e * BETTER_BY) {
                best = Some((error, table.clone(), residuals.clone()));
            }
            coarser = Some((table, residuals));
        }
        best.map(|(_, table, residuals)| Fitted { table, residuals })
    }

    /// For a coarser table: its value at the finer level's slot `s`.
    fn usual_at_slot(&self, finer: Conditioning, s: usize) -> f64 {
        let secs = s as u32 * SLOT_SECS;
        let phase = Phase::from_week_secs(match finer {
            Conditioning::Week => secs,
            _ => secs % DAY_SECS,
        });
        self.usual_log_gap(phase)
    }

    /// The usual log gap after a ping at `phase`.
    pub fn usual_log_gap(&self, phase: Phase) -> f64 {
        self.usual[slot(self.conditioning, phase).min(self.usual.len() - 1)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gap(weekday: u32, hour: u32, secs: f64) -> Gap {
        Gap {
            from: Phase::from_week_secs(weekday * DAY_SECS + hour * 3600),
            secs,
        }
    }

    #[test]
    fn a_steady_job_needs_no_calendar() {
        let gaps: Vec<Gap> = (0..2000)
            .map(|i| gap((i / 288) % 7, (i / 12) % 24, 300.0 + (i % 7) as f64))
            .collect();
        let fitted = Timetable::fit(&gaps).unwrap_or_else(|| panic!("gaps"));
        assert_eq!(fitted.table.conditioning, Conditioning::None);
        let usual = fitted.table.usual_log_gap(Phase::from_week_secs(0)).exp();
        assert!((usual - 303.0).abs() < 2.0, "{usual}");
    }

    #[test]
    fn weekdays_only_learns_the_weekend() {
        // Daily at 02:00, Monday to Friday, three weeks: Friday's gap is three days.
        let gaps: Vec<Gap> = (0..3)
            .flat_map(|_| (0..5).map(|d| gap(d, 2, if d == 4 { 3.0 * 86_400.0 } else { 86_400.0 })))
            .collect();
        let fitted = Timetable::fit(&gaps).unwrap_or_else(|| panic!("gaps"));
        assert_eq!(fitted.table.conditioning, Conditioning::Week);
        let after = |d: u32| {
            fitted
                .table
                .usual_log_gap(gap(d, 2, 0.0).from)
                .exp()
                .round()
        };
        assert_eq!(after(1), 86_400.0);
        assert_eq!(after(4), 3.0 * 86_400.0);
    }

    #[test]
    fn busy_days_and_quiet_nights_are_told_apart() {
        // Every 2 minutes from 08:00 to 20:00, every hour at night, every day.
        let mut gaps = Vec::new();
        for day in 0..14 {
            for hour in 0..24 {
                let secs = if (8..20).contains(&hour) {
                    120.0
                } else {
                    3600.0
                };
                let n = (3600.0 / secs) as usize;
                gaps.extend((0..n).map(|_| gap(day % 7, hour, secs)));
            }
        }
        let fitted = Timetable::fit(&gaps).unwrap_or_else(|| panic!("gaps"));
        assert_ne!(fitted.table.conditioning, Conditioning::None);
        let after = |h: u32| {
            fitted
                .table
                .usual_log_gap(gap(2, h, 0.0).from)
                .exp()
                .round()
        };
        assert_eq!(after(12), 120.0);
        assert_eq!(after(3), 3600.0);
    }
}
