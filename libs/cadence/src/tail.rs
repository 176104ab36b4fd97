//! How far a quantity strays from its usual value, learned from samples: the central quantiles
//! (the expected window) and the upper tail extrapolated past the largest sample seen.
//!
//! The largest of n samples is exceeded about once in n new ones. A five-minute job sends 2,000
//! pings a week, so warning at the largest gap seen in two weeks would cry wolf every other
//! week. The tail is therefore taken as exponential above a threshold (peaks over threshold)
//! and the warning placed where the expected false warnings per week stay within a budget; for
//! light-tailed jobs that lands just past the largest sample, for heavy-tailed ones well beyond
//! it.

use serde::{Deserialize, Serialize};

/// Expected false warnings per heartbeat-week that the warning threshold allows for.
pub const FALSE_WARNINGS_PER_WEEK: f64 = 0.02;

/// The learned spread of residuals (log values relative to their expected value).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tail {
    /// 5th and 95th percentiles: the usual window.
    pub low: f64,
    pub high: f64,
    /// Exponential tails fitted above several thresholds, as (threshold, share of samples
    /// above it, mean excess above it).
    pub fits: Vec<(f64, f64, f64)>,
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
        let n = sorted.len();
        // The top tenth, the top hundredth and the top ten: a job's tail is often a mixture
        // (jitter, plus rare long delays), and the rare part shows only at the top. Fewer than
        // ten make too noisy a fit, unless that is all there is.
        let mut tops: Vec<usize> = vec![n / 10, n / 100, 10];
        tops.retain(|k| (10..n).contains(k));
        if tops.is_empty() && n > 3 {
            tops.push(3);
        }
        tops.sort_unstable();
        tops.dedup();
        let fits = tops
            .into_iter()
            .map(|k| {
                let threshold = sorted[n - 1 - k];
                let excess = sorted[n - k..].iter().map(|r| r - threshold).sum::<f64>() / k as f64;
                (threshold, k as f64 / n as f64, excess)
            })
            .collect();
        Some(Tail {
            low: quantile(&sorted, 0.05),
            high: quantile(&sorted, 0.95),
            fits,
            max: sorted[n - 1],
            samples: n,
        })
    }

    /// The residual exceeded with probability `p` per sample: the most cautious of the fitted
    /// tails, never below the largest residual seen.
    pub fn beyond(&self, p: f64) -> f64 {
        let p = p.clamp(1e-12, 1.0);
        self.fits
            .iter()
            .filter(|(_, share, _)| p < *share)
            .map(|(threshold, share, excess)| threshold + excess * (share / p).ln())
            .fold(self.max, f64::max)
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
        assert!(
            tail.fits.iter().all(|f| (f.2 - 1.0).abs() < 0.35),
            "{tail:?}"
        );
        // True quantile at p = 1e-5 is ln(1e5) ≈ 11.5; the largest sample is ≈ 7.6.
        let at = tail.beyond(1e-5);
        assert!(at > tail.max && (at - 11.5).abs() < 1.0, "{at}");
        // A weekly budget over more samples moves the threshold out.
        assert!(tail.warning(2000.0) > tail.warning(7.0));
    }
}
