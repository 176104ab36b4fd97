//! A Gaussian mixture trained with linfa over one quantity `y` (a log gap, run time or body size)
//! and the circumstances `x` it came in (time of day and weekday as points on circles). What the
//! model is asked is conditional: given `x`, how probable is a `y` this large? Each component's
//! conditional of `y` given `x` is Gaussian, so the answer is a weighted sum of normal tails.
//!
//! Only what the conditional needs is kept (per component: weight, means, the inverse and log
//! determinant of the `x` covariance, the regression of `y` on `x` and the remaining variance),
//! so a stored mixture is a few hundred bytes and evaluating it needs no linear algebra.

use linfa::DatasetBase;
use linfa::traits::Fit;
use linfa_clustering::GaussianMixtureModel;
use linfa_linalg::cholesky::{Cholesky, InverseC};
use ndarray::{Array1, Array2, Axis};
use rand_xoshiro::Xoshiro256Plus;
use rand_xoshiro::rand_core::SeedableRng;
use serde::{Deserialize, Serialize};

/// Training looks at this many rows at most, evenly spread over the history: EM's cost grows
/// with rows, and a few hundred already pin down a handful of components.
const MAX_ROWS: usize = 400;
const MAX_COMPONENTS: usize = 4;
/// Rows per component needed before another component is tried.
const ROWS_PER_COMPONENT: usize = 25;
/// Added to covariance diagonals: a job that always pings at 02:00 has no spread in its time of
/// day, and a singular covariance has no inverse.
const REGULARISATION: f64 = 1e-6;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Mixture {
    components: Vec<Component>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Component {
    log_weight: f64,
    mean_y: f64,
    mean_x: Vec<f64>,
    /// Inverse of the `x` covariance, row-major.
    precision_x: Vec<f64>,
    log_det_x: f64,
    /// `Σxx⁻¹ Σxy`: how the expected `y` moves with `x`.
    gain: Vec<f64>,
    /// Variance of `y` left once `x` is known.
    var_y: f64,
}

/// The conditional distribution of `y` for one `x`: components as (weight, mean, sd).
pub struct Conditional(Vec<(f64, f64, f64)>);

impl Mixture {
    /// Trains on rows `[y, x…]`. `None` when there are no rows or EM fails at every size.
    pub fn train(rows: &[Vec<f64>]) -> Option<Mixture> {
        let dims = rows.first()?.len();
        let step = rows.len().div_ceil(MAX_ROWS).max(1);
        let picked: Vec<&Vec<f64>> = rows.iter().step_by(step).collect();
        let data = Array2::from_shape_fn((picked.len(), dims), |(i, j)| picked[i][j]);
        let most = (picked.len() / ROWS_PER_COMPONENT).clamp(1, MAX_COMPONENTS);
        (1..=most)
            .rev()
            .find_map(|k| fit(&data, k))
            .map(|gmm| Mixture::from_gmm(&gmm))
            .filter(|m| !m.components.is_empty())
    }

    fn from_gmm(gmm: &GaussianMixtureModel<f64>) -> Mixture {
        let dims = gmm.means().ncols();
        let d = dims - 1;
        let components = (0..gmm.weights().len())
            .filter_map(|k| {
                let weight = gmm.weights()[k];
                let mean = gmm.means().row(k);
                // ndarray's `s!` slicing expands to unsafe code, which the workspace forbids.
                let cov = gmm.covariances().index_axis(Axis(0), k);
                let cov_xx = Array2::from_shape_fn((d, d), |(i, j)| cov[[i + 1, j + 1]]);
                let cov_xy = Array1::from_shape_fn(d, |i| cov[[i + 1, 0]]);
                let (precision, log_det) = if d == 0 {
                    (Array2::zeros((0, 0)), 0.0)
                } else {
                    let l = cov_xx.cholesky().ok()?;
                    let log_det = 2.0 * l.diag().iter().map(|v| v.ln()).sum::<f64>();
                    (cov_xx.invc().ok()?, log_det)
                };
                let gain = precision.dot(&cov_xy);
                let explained: f64 = cov_xy.iter().zip(&gain).map(|(a, b)| a * b).sum();
                let var_y = (cov[[0, 0]] - explained).max(REGULARISATION);
                (weight > 0.0).then(|| Component {
                    log_weight: weight.ln(),
                    mean_y: mean[0],
                    mean_x: mean.iter().skip(1).copied().collect(),
                    precision_x: precision.iter().copied().collect(),
                    log_det_x: log_det,
                    gain: gain.to_vec(),
                    var_y,
                })
            })
            .collect();
        Mixture { components }
    }

    /// The distribution of `y` given `x` (as many values as the training rows had after `y`).
    pub fn given(&self, x: &[f64]) -> Conditional {
        let scored: Vec<(f64, f64, f64)> = self
            .components
            .iter()
            .map(|c| {
                let d = c.mean_x.len();
                let dx: Vec<f64> = x.iter().zip(&c.mean_x).map(|(a, m)| a - m).collect();
                let quad: f64 = (0..d)
                    .map(|i| {
                        dx[i]
                            * (0..d)
                                .map(|j| c.precision_x[i * d + j] * dx[j])
                                .sum::<f64>()
                    })
                    .sum();
                let log_w = c.log_weight - 0.5 * quad - 0.5 * c.log_det_x;
                let mean = c.mean_y + c.gain.iter().zip(&dx).map(|(g, v)| g * v).sum::<f64>();
                (log_w, mean, c.var_y.sqrt())
            })
            .collect();
        let top = scored.iter().map(|s| s.0).fold(f64::NEG_INFINITY, f64::max);
        let total: f64 = scored.iter().map(|s| (s.0 - top).exp()).sum();
        Conditional(
            scored
                .into_iter()
                .map(|(lw, m, sd)| ((lw - top).exp() / total, m, sd))
                .collect(),
        )
    }
}

fn fit(data: &Array2<f64>, k: usize) -> Option<GaussianMixtureModel<f64>> {
    let dataset = DatasetBase::from(data.clone());
    GaussianMixtureModel::params_with_rng(k, Xoshiro256Plus::seed_from_u64(0x11fe))
        .n_runs(1)
        .tolerance(1e-3)
        .max_n_iterations(60)
        .reg_covariance(REGULARISATION)
        .fit(&dataset)
        .ok()
}

impl Conditional {
    /// P(Y > y).
    pub fn survival(&self, y: f64) -> f64 {
        self.0
            .iter()
            .map(|(w, m, sd)| w * 0.5 * libm::erfc((y - m) / (sd * std::f64::consts::SQRT_2)))
            .sum()
    }

    /// The `y` exceeded with probability `p`.
    pub fn upper(&self, p: f64) -> f64 {
        let lo = self
            .0
            .iter()
            .map(|(_, m, sd)| m - 10.0 * sd)
            .fold(f64::MAX, f64::min);
        let hi = self
            .0
            .iter()
            .map(|(_, m, sd)| m + 12.0 * sd)
            .fold(f64::MIN, f64::max);
        let (mut lo, mut hi) = (lo, hi);
        for _ in 0..60 {
            let mid = 0.5 * (lo + hi);
            if self.survival(mid) > p {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        0.5 * (lo + hi)
    }

    /// How far `y` is from the nearest component's mean, in that component's standard
    /// deviations and in plain units.
    pub fn nearest(&self, y: f64) -> (f64, f64) {
        self.0
            .iter()
            .filter(|(w, _, _)| *w > 1e-3)
            .map(|(_, m, sd)| ((y - m).abs() / sd, (y - m).abs()))
            .fold((f64::MAX, f64::MAX), |a, b| if b.1 < a.1 { b } else { a })
    }
}

/// Time of day and weekday as points on two circles, so 23:59 sits next to 00:00 and Sunday
/// next to Monday.
pub fn circular(day_secs: u32, weekday: u32) -> Vec<f64> {
    let tau = std::f64::consts::TAU;
    let day = tau * day_secs as f64 / 86_400.0;
    let week = tau * (weekday as f64 * 86_400.0 + day_secs as f64) / (7.0 * 86_400.0);
    vec![day.cos(), day.sin(), week.cos(), week.sin()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_two_regimes_conditioned_on_time_of_day() {
        // Short gaps by day, long at night: log gap 5 around noon, 8 around midnight.
        let rows: Vec<Vec<f64>> = (0..600)
            .map(|i| {
                let night = i % 3 == 0;
                let jitter = ((i * 37) % 11) as f64 / 50.0 - 0.1;
                let y = if night { 8.0 } else { 5.0 } + jitter;
                let mut row = vec![y];
                row.extend(circular(
                    if night { 0 } else { 43_200 } + (i % 5) as u32 * 600,
                    2,
                ));
                row
            })
            .collect();
        let m = Mixture::train(&rows).unwrap_or_else(|| panic!("trained"));
        let noon = m.given(&circular(43_200, 2));
        let midnight = m.given(&circular(0, 2));
        assert!(noon.survival(6.5) < 1e-3, "{}", noon.survival(6.5));
        assert!(midnight.survival(6.5) > 0.99);
        assert!((noon.upper(0.5) - 5.0).abs() < 0.1);
    }

    #[test]
    fn a_one_dimensional_mixture_bounds_its_quantity() {
        let rows: Vec<Vec<f64>> = (0..200)
            .map(|i| vec![10.0 + (i % 10) as f64 / 100.0])
            .collect();
        let m = Mixture::train(&rows).unwrap_or_else(|| panic!("trained"));
        let c = m.given(&[]);
        assert!(
            c.upper(1e-6) > 10.09 && c.upper(1e-6) < 10.5,
            "{}",
            c.upper(1e-6)
        );
        assert!(c.nearest(3.0).1 > 6.0);
    }

    #[test]
    fn survives_serialization() {
        let rows: Vec<Vec<f64>> = (0..100)
            .map(|i| vec![(i % 7) as f64, (i % 3) as f64])
            .collect();
        let m = Mixture::train(&rows).unwrap_or_else(|| panic!("trained"));
        let json = serde_json::to_string(&m).unwrap_or_else(|e| panic!("{e}"));
        let back: Mixture = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, m);
    }
}
