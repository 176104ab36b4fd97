//! How far a quantity strays from its usual value, learned from samples: the central quantiles
//! (the expected window) and the upper tail extrapolated past the largest sample seen.
//!
//! The largest of n samples is exceeded about once in n new ones. A five-minute job sends 2,000
//! pings a week, so warning at the largest gap seen in two weeks would cry wolf every other
//! week. The tail above the 90th percentile is therefore taken as exponential (peaks over a
//! threshold) and the warning placed where the expected false warnings per week stay within a
//! budget; for light-tailed jobs that lands just past the largest sample, for heavy-tailed ones
//! well beyond it.

use serde::{Deserialize, Serialize};

/// Expected false warnings per heartbeat-week that the warning threshold allows for.
pub const FALSE_WARNINGS_PER_WEEK: f64 = 0.01;

/// The learned spread of residuals (log values relative to their expected value).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tail {
    /// 5th and 95th percentiles: the usual window.
    pub low: f64,
    pub high: f64,
    /// 90th percentile, where the exponential tail starts, and the mean excess above it.
    pub threshold: f64,
    pub mean_excess: f64,
    /// The largest residual seen.
    pub max: f64,
    pub samples: usize,
}

impl Tail {
    /// `None` without samples.
    pub fn learn(residuals: &[f64]) -> Option<Tail> {
        let mut sorted: Vec<f64> = residuals
            .iter()
            .copied()
            .filter(|r| r.is_finite())
            .collect();
        if sorted.is_empty() {
            return None;
        }
        sorted.sort_by(f64::total_cmp);
        let threshold = quantile(&sorted, 0.9);
        let excess: Vec<f64> = sorted
            .iter()
            .filter(|r| **r > threshold)
            .map(|r| r - threshold)
            .collect();
        let mean_excess = if excess.is_empty() {
            0.0
        } else {
            excess.iter().sum::<f64>() / excess.len() as f64
        };
        Some(Tail {
            low: quantile(&sorted, 0.05),
            high: quantile(&sorted, 0.95),
            threshold,
            mean_excess,
            max: sorted[sorted.len() - 1],
            samples: sorted.len(),
        })
    }

    /// The residual exceeded with probability `p` per sample, never below the largest seen.
    pub fn beyond(&self, p: f64) -> f64 {
        // P(r > threshold) = 0.1; above it, P(r > threshold + x) = 0.1 · exp(−x / mean_excess).
        let p = p.clamp(1e-12, 0.1);
        let extrapolated = self.threshold + self.mean_excess * (0.1 / p).ln();
        extrapolated.max(self.max)
    }

    /// [`Self::beyond`] for a quantity sampled `per_week` times a week, within the budget.
    pub fn warning(&self, per_week: f64) -> f64 {
        self.beyond(FALSE_WARNINGS_PER_WEEK / per_week.max(1.0))
    }
}

/// Linear-interpolated quantile of sorted values (not empty).
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos.fract());
    match sorted.get(i + 1) {
        Some(next) => sorted[i] + (next - sorted[i]) * frac,
        None => sorted[i],
    }
}

/// Median of values in any order (not empty).
pub fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    quantile(values, 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate() {
        let v = [0.0, 1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.5), 2.0);
        assert_eq!(quantile(&v, 0.125), 0.5);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert_eq!(median(&mut [3.0, 1.0, 2.0, 10.0]), 2.5);
    }

    #[test]
    fn a_constant_quantity_warns_at_its_value() {
        let tail = Tail::learn(&[0.0; 50]).unwrap_or_else(|| panic!("samples"));
        assert_eq!(tail.warning(2000.0), 0.0);
    }

    #[test]
    fn an_exponential_tail_is_extrapolated_past_the_largest_sample() {
        // Quantiles of an exponential with mean 1: −ln(1 − u).
        let samples: Vec<f64> = (0..1000)
            .map(|i| -(1.0 - (i as f64 + 0.5) / 1000.0).ln())
            .collect();
        let tail = Tail::learn(&samples).unwrap_or_else(|| panic!("samples"));
        assert!((tail.mean_excess - 1.0).abs() < 0.1, "{tail:?}");
        // True quantile at p = 1e-5 is ln(1e5) ≈ 11.5; the largest sample is ≈ 7.6.
        let at = tail.beyond(1e-5);
        assert!(at > tail.max && (at - 11.5).abs() < 1.0, "{at}");
        // A weekly budget over more samples moves the threshold out.
        assert!(tail.warning(2000.0) > tail.warning(7.0));
    }
}
