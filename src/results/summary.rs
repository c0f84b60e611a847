//! Summary rows and paired differences from the accumulators: per arm and metric, the mean over
//! replicates, a 95% interval and the Monte Carlo standard error.
//!
//! With one replicate the interval is the Monte Carlo interval
//! `mean ± 1.96 · mcse`. With several, it is the 2.5–97.5 percentile range of
//! the replicate estimates, which carries the parameter uncertainty of
//! distribution-valued parameters; `mcse` is always the Monte Carlo standard
//! error of the mean over replicates, `sqrt(sum se_r²) / R`.

use crate::engine::metrics::{MEDIAN_ACTIVE_PERIOD, MEDIAN_DELAY};
use crate::engine::model_values::DAYS_PER_MONTH;
use crate::results::CohortResult;

/// One row of `summary.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryRow {
    /// Arm name.
    pub arm: String,
    /// Metric name.
    pub metric: String,
    /// Mean over replicates.
    pub mean: f64,
    /// Lower end of the 95% interval.
    pub lower_95: f64,
    /// Upper end of the 95% interval.
    pub upper_95: f64,
    /// Monte Carlo standard error.
    pub mcse: f64,
}

/// One row of `differences.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct DifferenceRow {
    /// Arm name.
    pub arm: String,
    /// The arm it is compared with (the reference arm).
    pub reference_arm: String,
    /// Metric name.
    pub metric: String,
    /// What is paired per patient: `patient value` (means) or `patient rate`
    /// (ratio metrics: each patient's own rate, e.g. flares per observed year).
    pub paired_on: &'static str,
    /// Mean paired difference (arm − reference).
    pub mean_difference: f64,
    /// Lower end of the 95% interval.
    pub lower_95: f64,
    /// Upper end of the 95% interval.
    pub upper_95: f64,
    /// Standard error of the mean difference.
    pub std_error: f64,
}

/// Combines per-replicate estimates and standard errors into one row's numbers.
pub fn combine(estimates: &[(f64, f64)]) -> (f64, f64, f64, f64) {
    let finite: Vec<(f64, f64)> = estimates
        .iter()
        .copied()
        .filter(|e| e.0.is_finite())
        .collect();
    if finite.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN, f64::NAN);
    }
    let r = finite.len() as f64;
    let mean = finite.iter().map(|e| e.0).sum::<f64>() / r;
    let mcse = finite.iter().map(|e| e.1 * e.1).sum::<f64>().sqrt() / r;
    if finite.len() == 1 {
        return (mean, mean - 1.96 * mcse, mean + 1.96 * mcse, mcse);
    }
    let mut v: Vec<f64> = finite.iter().map(|e| e.0).collect();
    v.sort_by(f64::total_cmp);
    (mean, percentile(&v, 0.025), percentile(&v, 0.975), mcse)
}

/// Linear-interpolation percentile of sorted values (R's type 7).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let (lo, hi) = (h.floor() as usize, h.ceil() as usize);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// Each replicate's estimate and standard error of every metric of arm
/// `a`, in the row order of `summary.csv` (the metrics, then the median
/// diagnostic delay and the median active period).
pub fn replicate_estimates_se(res: &CohortResult, a: usize) -> Vec<(String, Vec<(f64, f64)>)> {
    let mut out: Vec<(String, Vec<(f64, f64)>)> = res
        .metrics
        .iter()
        .enumerate()
        .map(|(m, metric)| {
            let per_rep = res
                .replicates
                .iter()
                .map(|r| {
                    let s = &r.arms[a].stats[m];
                    (s.estimate(), s.std_error())
                })
                .collect();
            (metric.name.clone(), per_rep)
        })
        .collect();
    let medians = res
        .replicates
        .iter()
        .map(|r| {
            let (med, _, _, se) = r.arms[a].delay.median_with_interval();
            (med, se)
        })
        .collect();
    out.push((MEDIAN_DELAY.to_string(), medians));
    let active = res
        .replicates
        .iter()
        .map(|r| {
            let (med, _, _, se) = r.arms[a].active_period.median_with_interval();
            (med / DAYS_PER_MONTH, se / DAYS_PER_MONTH)
        })
        .collect();
    out.push((MEDIAN_ACTIVE_PERIOD.to_string(), active));
    out
}

/// Each replicate's estimate of every metric of arm `a` (see
/// [`replicate_estimates_se`]).
pub fn replicate_estimates(res: &CohortResult, a: usize) -> Vec<(String, Vec<f64>)> {
    replicate_estimates_se(res, a)
        .into_iter()
        .map(|(m, v)| (m, v.into_iter().map(|e| e.0).collect()))
        .collect()
}

/// All summary rows, arm by arm, metric by metric.
pub(crate) fn summary_rows(res: &CohortResult) -> Vec<SummaryRow> {
    let mut rows = Vec::new();
    for (a, arm) in res.arms.iter().enumerate() {
        for (metric, per_rep) in replicate_estimates_se(res, a) {
            let (mean, lower_95, upper_95, mcse) = combine(&per_rep);
            rows.push(SummaryRow {
                arm: arm.clone(),
                metric,
                mean,
                lower_95,
                upper_95,
                mcse,
            });
        }
    }
    rows
}

/// Paired differences of each arm from the reference arm, arm by arm in
/// scenario order, for every metric with a meaningful one (see
/// [`crate::engine::metrics::Metric::paired_quantity`]).
pub(crate) fn difference_rows(res: &CohortResult) -> Vec<DifferenceRow> {
    let mut rows = Vec::new();
    let compared = res
        .arms
        .iter()
        .enumerate()
        .filter(|&(a, _)| a != res.reference);
    for (k, (_, arm)) in compared.enumerate() {
        for (m, metric) in res.metrics.iter().enumerate() {
            let Some(paired_on) = metric.paired_quantity() else {
                continue;
            };
            let per_rep: Vec<(f64, f64)> = res
                .replicates
                .iter()
                .map(|r| {
                    let s = &r.differences[k][m];
                    (s.estimate(), s.std_error())
                })
                .collect();
            let (mean, lower_95, upper_95, se) = combine(&per_rep);
            rows.push(DifferenceRow {
                arm: arm.clone(),
                reference_arm: res.reference_arm().to_string(),
                metric: metric.name.clone(),
                paired_on,
                mean_difference: mean,
                lower_95,
                upper_95,
                std_error: se,
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_replicate_gives_a_monte_carlo_interval() {
        let (m, lo, hi, se) = combine(&[(0.5, 0.01)]);
        assert_eq!((m, se), (0.5, 0.01));
        assert!((lo - 0.4804).abs() < 1e-12 && (hi - 0.5196).abs() < 1e-12);
    }

    #[test]
    fn several_replicates_give_a_percentile_interval() {
        let est: Vec<(f64, f64)> = (0..=100).map(|i| (f64::from(i), 1.0)).collect();
        let (m, lo, hi, se) = combine(&est);
        assert_eq!(m, 50.0);
        assert!((lo - 2.5).abs() < 1e-9 && (hi - 97.5).abs() < 1e-9);
        assert!((se - (101f64).sqrt() / 101.0).abs() < 1e-12);
    }
}
