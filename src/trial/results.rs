//! What the simulated trials add up to, computed once from the trial
//! records (in size and trial order, so the sums are the same whatever the
//! threads or shards): power per size and arm with its Wilson interval, the
//! group means and mean effect, screening counts, and the smallest size
//! reaching a target power.

use serde::Serialize;

use super::design::TrialDesign;
use super::run::TrialRecord;
use super::stats::wilson;

/// One row of `power.csv`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PowerRow {
    /// Patients per arm.
    pub per_arm: u64,
    /// The arm compared with the control.
    pub arm: String,
    /// The control arm.
    pub control: String,
    /// The endpoint.
    pub endpoint: String,
    /// The test.
    pub test: String,
    /// Simulated trials.
    pub trials: u64,
    /// Share of trials rejecting the null hypothesis.
    pub power: f64,
    /// Wilson 95% interval of the power.
    pub power_lower_95: f64,
    /// Upper end of that interval.
    pub power_upper_95: f64,
    /// Mean over trials of the control group's summary.
    pub control_mean: Option<f64>,
    /// Mean over trials of the arm's summary.
    pub arm_mean: Option<f64>,
    /// Mean over trials of the estimate.
    pub effect_mean: Option<f64>,
}

/// One row of `screening.csv`: how many patients were simulated to fill an
/// arm, over all trials of a size.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScreeningRow {
    /// Patients per arm.
    pub per_arm: u64,
    /// The arm.
    pub arm: String,
    /// Simulated trials.
    pub trials: u64,
    /// Patients enrolled over all trials.
    pub enrolled: u64,
    /// Patients screened over all trials.
    pub screened: u64,
    /// Enrolled over screened.
    pub enrolled_frac: f64,
}

/// One row of `sample_size.csv`: the smallest simulated size per arm whose
/// power reached the target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SampleSizeRow {
    /// The arm compared with the control.
    pub arm: String,
    /// The control arm.
    pub control: String,
    /// The endpoint.
    pub endpoint: String,
    /// The target power.
    pub target_power: f64,
    /// The smallest size reaching it (None: no simulated size did).
    pub per_arm: Option<u64>,
    /// Its power.
    pub power: Option<f64>,
    /// Wilson 95% interval of that power.
    pub power_lower_95: Option<f64>,
    /// Upper end.
    pub power_upper_95: Option<f64>,
}

/// Mean of the values present (None without any).
fn mean_of(values: impl Iterator<Item = Option<f64>>) -> Option<f64> {
    let (sum, n) = values
        .flatten()
        .fold((0.0, 0u64), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// The sizes present in `records` (sorted by size, then trial), ascending.
pub fn sizes(records: &[TrialRecord]) -> Vec<u64> {
    let mut s: Vec<u64> = records.iter().map(|r| r.per_arm).collect();
    s.dedup();
    s
}

/// The records of size `n`.
fn of_size(records: &[TrialRecord], n: u64) -> impl Iterator<Item = &TrialRecord> + Clone {
    records.iter().filter(move |r| r.per_arm == n)
}

/// `power.csv`: per size and arm other than the control.
pub fn power_rows(design: &TrialDesign, arms: &[String], records: &[TrialRecord]) -> Vec<PowerRow> {
    let control = design.control;
    let mut rows = Vec::new();
    for n in sizes(records) {
        let trials = of_size(records, n);
        let count = trials.clone().count() as u64;
        for (k, arm) in (0..arms.len()).filter(|&a| a != control).enumerate() {
            let rejections = trials.clone().filter(|r| r.comparisons[k].reject).count() as u64;
            let (lo, hi) = wilson(rejections, count);
            rows.push(PowerRow {
                per_arm: n,
                arm: arms[arm].clone(),
                control: arms[control].clone(),
                endpoint: design.endpoint.as_str().into(),
                test: design.test_name().into(),
                trials: count,
                power: rejections as f64 / count as f64,
                power_lower_95: lo,
                power_upper_95: hi,
                control_mean: mean_of(trials.clone().map(|r| r.groups[control].summary)),
                arm_mean: mean_of(trials.clone().map(|r| r.groups[arm].summary)),
                effect_mean: mean_of(trials.clone().map(|r| r.comparisons[k].estimate)),
            });
        }
    }
    rows
}

/// `screening.csv`: per size and arm.
pub fn screening_rows(arms: &[String], records: &[TrialRecord]) -> Vec<ScreeningRow> {
    let mut rows = Vec::new();
    for n in sizes(records) {
        let trials = of_size(records, n);
        let count = trials.clone().count() as u64;
        for (a, arm) in arms.iter().enumerate() {
            let screened: u64 = trials.clone().map(|r| r.groups[a].screened).sum();
            let enrolled = n * count;
            rows.push(ScreeningRow {
                per_arm: n,
                arm: arm.clone(),
                trials: count,
                enrolled,
                screened,
                enrolled_frac: enrolled as f64 / screened.max(1) as f64,
            });
        }
    }
    rows
}

/// The smallest power over the comparisons at each size in `rows`.
pub fn min_power_at(rows: &[PowerRow], n: u64) -> Option<f64> {
    rows.iter()
        .filter(|r| r.per_arm == n)
        .map(|r| r.power)
        .reduce(f64::min)
}

/// The next size to simulate when searching the smallest size whose power
/// (the smallest over the comparisons) reaches `target`, given the power at
/// every size simulated so far: between the largest size below the target
/// and the smallest above it, the midpoint; None when they are adjacent, or
/// when no size reaches the target (the grid must be extended by the user).
pub fn next_bisection(rows: &[PowerRow], target: f64) -> Option<u64> {
    let mut sizes: Vec<u64> = rows.iter().map(|r| r.per_arm).collect();
    sizes.sort_unstable();
    sizes.dedup();
    let reached = |n: u64| min_power_at(rows, n).is_some_and(|p| p >= target);
    let hi = *sizes.iter().find(|&&n| reached(n))?;
    let lo = sizes
        .iter()
        .copied()
        .filter(|&n| n < hi && !reached(n))
        .max()
        .unwrap_or(1);
    (hi - lo > 1)
        .then(|| lo + (hi - lo) / 2)
        .filter(|&m| m >= 2)
}

/// `sample_size.csv`: per arm, the smallest simulated size reaching `target`.
pub fn sample_size_rows(rows: &[PowerRow], target: f64) -> Vec<SampleSizeRow> {
    let mut arms: Vec<&PowerRow> = Vec::new();
    for r in rows {
        if !arms.iter().any(|a| a.arm == r.arm) {
            arms.push(r);
        }
    }
    arms.into_iter()
        .map(|first| {
            let best = rows
                .iter()
                .filter(|r| r.arm == first.arm && r.power >= target)
                .min_by_key(|r| r.per_arm);
            SampleSizeRow {
                arm: first.arm.clone(),
                control: first.control.clone(),
                endpoint: first.endpoint.clone(),
                target_power: target,
                per_arm: best.map(|r| r.per_arm),
                power: best.map(|r| r.power),
                power_lower_95: best.map(|r| r.power_lower_95),
                power_upper_95: best.map(|r| r.power_upper_95),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(n: u64, power: f64) -> PowerRow {
        PowerRow {
            per_arm: n,
            arm: "b".into(),
            control: "a".into(),
            endpoint: "e".into(),
            test: "t".into(),
            trials: 100,
            power,
            power_lower_95: 0.0,
            power_upper_95: 1.0,
            control_mean: None,
            arm_mean: None,
            effect_mean: None,
        }
    }

    #[test]
    fn bisection_halves_the_bracket_until_adjacent() {
        let mut rows = vec![row(20, 0.3), row(40, 0.6), row(80, 0.9)];
        assert_eq!(next_bisection(&rows, 0.8), Some(60));
        rows.push(row(60, 0.85));
        assert_eq!(next_bisection(&rows, 0.8), Some(50));
        rows.push(row(50, 0.75));
        assert_eq!(next_bisection(&rows, 0.8), Some(55));
        rows.extend([row(55, 0.81), row(52, 0.79), row(53, 0.78), row(54, 0.8)]);
        assert_eq!(next_bisection(&rows, 0.8), None);
        assert_eq!(sample_size_rows(&rows, 0.8)[0].per_arm, Some(54));
        // Not reached on the grid: nothing to bisect.
        assert_eq!(next_bisection(&[row(20, 0.1)], 0.8), None);
        // Reached at the smallest size: search below it.
        assert_eq!(next_bisection(&[row(20, 0.9)], 0.8), Some(10));
    }
}
