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
    /// Tails fitted above several thresholds.
    pub fits: Vec<Fit>,
    /// The largest residual seen.
    pub max: f64,
    pub samples: usize,
}

/// A generalised Pareto tail over the ratio to the usual value (`exp` of the residual), above
/// one threshold: exponential gaps (a queue worker's) give a shape near 0, skewed run times a
/// positive one (the tail goes on). A negative shape (a tail that ends) is not believed: ten
/// samples cannot show where a job's tail ends, and believing it cries wolf.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Fit {
    threshold: f64,
    /// Share of samples above the threshold.
    share: f64,
    scale: f64,
    shape: f64,
}

impl Fit {
    /// Method of moments on the excesses above `threshold` (most stable for small counts).
    fn of(threshold: f64, excesses: &[f64], share: f64) -> Fit {
        let k = excesses.len() as f64;
        let mean = excesses.iter().sum::<f64>() / k;
        let var = excesses.iter().map(|e| (e - mean).powi(2)).sum::<f64>() / (k - 1.0).max(1.0);
        let (scale, shape) = if var > 0.0 && mean > 0.0 {
            let r = mean * mean / var;
            (0.5 * mean * (1.0 + r), (0.5 * (1.0 - r)).clamp(0.0, 0.5))
        } else {
            (mean, 0.0)
        };
        Fit {
            threshold,
            share,
            scale,
            shape,
        }
    }

    /// The ratio exceeded with probability `p`.
    fn beyond(&self, p: f64) -> f64 {
        let odds = self.share / p;
        let excess = if self.shape.abs() < 1e-6 {
            self.scale * odds.ln()
        } else {
            self.scale / self.shape * (odds.powf(self.shape) - 1.0)
        };
        self.threshold + excess.max(0.0)
    }
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
                let threshold = sorted[n - 1 - k].exp();
                let excesses: Vec<f64> = sorted[n - k..]
                    .iter()
                    .map(|r| r.exp() - threshold)
                    .collect();
                Fit::of(threshold, &excesses, k as f64 / n as f64)
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
            .filter(|f| p < f.share)
            .map(|f| f.beyond(p).ln())
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

/// Median of values in any order (not empty: callers check).
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
        // (Its ratios are all 1: no excess above any threshold.)
        let tail = Tail::learn(&[0.0; 50]).unwrap_or_else(|| panic!("samples"));
        assert_eq!(tail.warning(2000.0), 0.0);
    }

    #[test]
    fn an_exponential_tail_is_extrapolated_past_the_largest_sample() {
        // Log residuals of exponential gaps with mean 1: ln(−ln(1 − u)).
        let samples: Vec<f64> = (0..1000)
            .map(|i| (-(1.0 - (i as f64 + 0.5) / 1000.0).ln()).ln())
            .collect();
        let tail = Tail::learn(&samples).unwrap_or_else(|| panic!("samples"));
        // True ratio at p = 1e-5 is ln(1e5) ≈ 11.5; the largest sample is ≈ 7.6.
        let at = tail.beyond(1e-5).exp();
        assert!(at > tail.max.exp() && (at - 11.5).abs() < 2.0, "{at}");
        // A weekly budget over more samples moves the threshold out.
        assert!(tail.warning(2000.0) > tail.warning(7.0));
    }

    #[test]
    fn bounded_jitter_warns_soon_past_it() {
        // Uniform jitter of ±2% around the usual value.
        let samples: Vec<f64> = (0..2000)
            .map(|i| (0.98 + 0.04 * (i as f64 / 1999.0)).ln())
            .collect();
        let tail = Tail::learn(&samples).unwrap_or_else(|| panic!("samples"));
        let at = tail.beyond(1e-6).exp();
        assert!((1.02..1.1).contains(&at), "{at}");
    }
}
