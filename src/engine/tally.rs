//! One chunk's sums of the per-patient metrics (`summary.csv`) and of their
//! paired differences between arms (`differences.csv`).
//!
//! Most metrics are means (every x is 1), for which only n, Σy and Σy² vary:
//! they are summed as [`UnitStat`]s and added to the chunk's [`Stat`]s once
//! at the end, which gives the same integers as adding every observation to
//! a [`Stat`]. Ratio metrics go straight to their [`Stat`].

use super::accum::{Stat, UnitStat};
use super::cohort::ReplicateStats;
use super::metrics::{Estimator, Metric, Observe};
use super::outcome::Outcome;

/// What the loop over metrics needs of one metric, packed densely.
#[derive(Clone, Copy)]
struct Op {
    observe: Observe,
    arg: usize,
    estimator: Estimator,
}

/// The metric sums of one chunk, filled patient by patient.
pub(super) struct MetricTally<'m> {
    metrics: &'m [Metric],
    ops: Vec<Op>,
    /// Per arm, per metric: the sums of a mean (unused for ratios).
    means: Vec<Vec<UnitStat>>,
    /// Per arm after the first, per metric: paired differences from the first arm.
    differences: Vec<Vec<UnitStat>>,
    /// The current patient's observations in the first arm (for differences).
    first: Vec<Option<(f64, f64)>>,
}

impl<'m> MetricTally<'m> {
    /// Empty sums for `arms` arms.
    pub(super) fn new(metrics: &'m [Metric], arms: usize) -> Self {
        let zero = || vec![UnitStat::default(); metrics.len()];
        MetricTally {
            metrics,
            ops: metrics
                .iter()
                .map(|m| Op {
                    observe: m.observe,
                    arg: m.arg,
                    estimator: m.estimator,
                })
                .collect(),
            means: (0..arms).map(|_| zero()).collect(),
            differences: (1..arms).map(|_| zero()).collect(),
            first: vec![None; metrics.len()],
        }
    }

    /// Adds one patient's observations under arm `arm` (arm 0 first for
    /// every patient); ratio metrics are added to `stats` directly.
    pub(super) fn add(&mut self, arm: usize, outcome: &Outcome, stats: &mut ReplicateStats) {
        let metrics = self.metrics;
        let n = self.ops.len();
        let ratios = &mut stats.arms[arm].stats[..n];
        let means = &mut self.means[arm][..n];
        if arm == 0 && self.differences.is_empty() {
            // One arm: no paired differences, so nothing to keep.
            for (i, (op, mean)) in self.ops.iter().zip(means).enumerate() {
                if let Some((y, x)) = (op.observe)(outcome, op.arg) {
                    add_observation(op.estimator, &mut ratios[i], mean, y, x);
                }
            }
            return;
        }
        let firsts = &mut self.first[..n];
        if arm == 0 {
            // The first arm's observations are kept for paired differences.
            for (((metric, ratio), mean), first) in
                metrics.iter().zip(ratios).zip(means).zip(firsts)
            {
                let obs = (metric.observe)(outcome, metric.arg);
                *first = obs;
                if let Some((y, x)) = obs {
                    add_observation(metric.estimator, ratio, mean, y, x);
                }
            }
        } else {
            let diffs = &mut self.differences[arm - 1][..metrics.len()];
            for ((((metric, ratio), mean), first), diff) in metrics
                .iter()
                .zip(ratios)
                .zip(means)
                .zip(firsts.iter())
                .zip(diffs)
            {
                let obs = (metric.observe)(outcome, metric.arg);
                if let Some((y, x)) = obs {
                    add_observation(metric.estimator, ratio, mean, y, x);
                    if let Some(d) = first.and_then(|f| metric.paired_difference((y, x), f)) {
                        diff.add(d);
                    }
                }
            }
        }
    }

    /// Adds the sums of means and differences to `stats` (the chunk's own).
    pub(super) fn add_to(&self, stats: &mut ReplicateStats) {
        for (arm, means) in stats.arms.iter_mut().zip(&self.means) {
            for (stat, mean) in arm.stats.iter_mut().zip(means) {
                mean.add_to(stat);
            }
        }
        for (into, diffs) in stats.differences.iter_mut().zip(&self.differences) {
            for (stat, diff) in into.iter_mut().zip(diffs) {
                diff.add_to(stat);
            }
        }
    }
}

#[inline(always)]
fn add_observation(estimator: Estimator, ratio: &mut Stat, mean: &mut UnitStat, y: f64, x: f64) {
    match estimator {
        Estimator::Mean => {
            debug_assert_eq!(x, 1.0, "a mean's observations have x = 1");
            mean.add(y)
        }
        Estimator::Ratio => ratio.add(y, x),
    }
}
