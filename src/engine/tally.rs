//! One chunk's sums of the per-patient metrics (`summary.csv`) and of their
//! paired differences between arms (`differences.csv`).
//!
//! Each patient's outcome is tallied by walking the metric list
//! ([`metrics::visit`]) with a visitor that adds every observation where it
//! belongs: the observations are inlined code, not one call per metric.
//!
//! Most metrics are means (every x is 1), for which only n, Σy and Σy² vary:
//! they are summed as [`UnitStat`]s and added to the chunk's [`Stat`]s once
//! at the end, which gives the same integers as adding every observation to
//! a [`Stat`]. Ratio metrics go straight to their [`Stat`].
//!
//! The metrics of each anniversary of diagnosis ([`Visit::yearly`]) share
//! their population, the patients observed at the checkpoint: they are
//! summed together, checkpoint by checkpoint ([`CheckpointSums`]), with one
//! test and one count of the population for all of them.

use super::accum::{fixed, ReplicateStats, Stat, UnitStat};
use super::metrics::{self, About, Metric, MetricLayout, Part, Value, Visit, Yearly};
use super::outcome::{anniversary_index, Outcome};

/// The metric sums of one chunk, filled patient by patient.
pub(super) struct MetricTally<'m> {
    layout: &'m MetricLayout,
    /// Per arm, per metric: the sums of a mean (unused for ratios).
    means: Vec<Vec<UnitStat>>,
    /// Per arm other than the reference (in arm order), per metric: paired
    /// differences from the reference arm.
    differences: Vec<Vec<UnitStat>>,
    /// Index of the reference arm.
    reference: usize,
    /// The current patient's observations `(y, x)` in the reference arm (for differences).
    first: Vec<Option<(f64, f64)>>,
    /// Per arm before the reference, the current patient's paired
    /// observations, differenced once the reference arm is tallied.
    earlier: Vec<Vec<Option<(f64, f64)>>>,
    /// Per anniversary of diagnosis (the first at 0), the metric index of
    /// each [`Yearly`] kind (by [`Yearly::slot`]), None where not computed.
    yearly: Vec<YearlyIndexes>,
    /// Per arm, per anniversary: the sums of its [`Yearly`] metrics.
    checkpoints: Vec<Vec<CheckpointSums>>,
}

/// The metric index of each [`Yearly`] kind at one anniversary.
type YearlyIndexes = [Option<usize>; Yearly::ALL.len()];

impl<'m> MetricTally<'m> {
    /// Empty sums for `arms` arms of the metrics of `layout`, which are
    /// `metrics`, paired against arm `reference`.
    pub(super) fn new(
        metrics: &[Metric],
        layout: &'m MetricLayout,
        arms: usize,
        reference: usize,
    ) -> Self {
        let mut counted = Count(0);
        metrics::visit(&mut counted, layout);
        assert_eq!(
            counted.0,
            metrics.len(),
            "the metric layout gives the metric list"
        );
        assert!(reference < arms.max(1), "the reference is one of the arms");
        let zero = || vec![UnitStat::default(); metrics.len()];
        let mut found = FindYearly::default();
        metrics::visit(&mut found, layout);
        let years = found.indexes.len();
        MetricTally {
            layout,
            means: (0..arms).map(|_| zero()).collect(),
            differences: (1..arms).map(|_| zero()).collect(),
            reference,
            first: vec![None; metrics.len()],
            earlier: (0..reference).map(|_| vec![None; metrics.len()]).collect(),
            yearly: found.indexes,
            checkpoints: (0..arms)
                .map(|_| vec![CheckpointSums::default(); years])
                .collect(),
        }
    }

    /// Adds one patient's observations under arm `arm` (the arms in order
    /// for every patient); ratio metrics are added to `stats` directly.
    pub(super) fn add(&mut self, arm: usize, outcome: &Outcome, stats: &mut ReplicateStats) {
        let sums = Sums {
            means: &mut self.means[arm][..],
            ratios: &mut stats.arms[arm].stats[..],
            yearly: &self.yearly,
            checkpoints: &mut self.checkpoints[arm],
        };
        let layout = self.layout;
        if self.differences.is_empty() {
            // One arm: no paired differences, so nothing to keep.
            return tally(outcome, layout, sums, Unpaired);
        }
        match arm.cmp(&self.reference) {
            // The reference arm's observations are kept for paired
            // differences, and those of the arms before it are differenced.
            std::cmp::Ordering::Equal => {
                tally(outcome, layout, sums, Keep(&mut self.first));
                self.pair_earlier();
            }
            // An arm before the reference: kept until the reference is tallied.
            std::cmp::Ordering::Less => {
                tally(outcome, layout, sums, KeepPaired(&mut self.earlier[arm]))
            }
            std::cmp::Ordering::Greater => {
                let against = Against {
                    first: &self.first,
                    differences: &mut self.differences[arm - 1],
                };
                tally(outcome, layout, sums, against)
            }
        }
    }

    /// Adds the paired differences of the arms before the reference from
    /// the reference arm's observations (the same differences
    /// [`Against`] takes: a patient's own rate, a mean's `y / 1`).
    fn pair_earlier(&mut self) {
        for (kept, diffs) in self.earlier.iter().zip(&mut self.differences) {
            for ((obs, reference), diff) in kept.iter().zip(&self.first).zip(diffs.iter_mut()) {
                if let (Some((y, x)), Some((fy, fx))) = (obs, reference) {
                    if *x > 0.0 && *fx > 0.0 {
                        diff.add(y / x - fy / fx);
                    }
                }
            }
        }
    }

    /// Adds the sums of means and differences to `stats` (the chunk's own).
    pub(super) fn add_to(&self, stats: &mut ReplicateStats) {
        for ((arm, means), checkpoints) in stats
            .arms
            .iter_mut()
            .zip(&self.means)
            .zip(&self.checkpoints)
        {
            for (stat, mean) in arm.stats.iter_mut().zip(means) {
                mean.add_to(stat);
            }
            for (indexes, sums) in self.yearly.iter().zip(checkpoints) {
                for (what, index) in Yearly::ALL.into_iter().zip(indexes) {
                    if let Some(i) = *index {
                        sums.of(what).add_to(&mut arm.stats[i]);
                    }
                }
            }
        }
        for (into, diffs) in stats.differences.iter_mut().zip(&self.differences) {
            for (stat, diff) in into.iter_mut().zip(diffs) {
                diff.add_to(stat);
            }
        }
    }
}

/// Counts the metrics of a layout.
struct Count(usize);

impl Visit for Count {
    fn mean(
        &mut self,
        _: bool,
        _: impl FnOnce() -> About,
        _: impl FnOnce(&Outcome) -> Option<Value>,
    ) {
        self.0 += 1;
    }

    fn means<const N: usize>(
        &mut self,
        _: bool,
        _: impl Fn(usize) -> About,
        _: impl FnOnce(&Outcome) -> [Option<Value>; N],
    ) {
        self.0 += N;
    }

    fn ratio(
        &mut self,
        _: impl FnOnce() -> About,
        _: impl FnOnce(&Outcome) -> Option<(Value, Value)>,
    ) {
        self.0 += 1;
    }
}

/// Where one arm's observations go.
struct Sums<'a> {
    means: &'a mut [UnitStat],
    ratios: &'a mut [Stat],
    /// See [`MetricTally::yearly`].
    yearly: &'a [YearlyIndexes],
    /// Per anniversary.
    checkpoints: &'a mut [CheckpointSums],
}

/// Adds one patient's observations under one arm to `sums`, and what
/// paired differences need to `pairs`.
fn tally<P: Pairs>(outcome: &Outcome, layout: &MetricLayout, sums: Sums<'_>, pairs: P) {
    let Sums {
        means,
        ratios,
        yearly,
        checkpoints,
    } = sums;
    // Every list has its leading metrics: one check here spares those of
    // each of their indexes.
    assert!(means.len() >= metrics::LEADING && ratios.len() >= metrics::LEADING);
    let mut patient = PatientTally {
        outcome,
        next: 0,
        skip: false,
        means,
        ratios,
        pairs,
    };
    metrics::visit(&mut patient, layout);
    add_checkpoints(outcome, yearly, checkpoints, &mut patient.pairs);
}

/// What the [`Yearly`] metrics of one anniversary add up over the patients
/// observed at its checkpoint (one count of them for all).
#[derive(Debug, Clone, Copy, Default)]
struct CheckpointSums {
    observed: u64,
    remissions: u64,
    // Counts below 2^16 and fewer than 2^32 patients (`MAX_PATIENTS`): the
    // sums of their squares fit.
    symptomatic: u64,
    symptomatic_sq: u64,
    seen: u64,
    seen_sq: u64,
    /// The activity scores on the fixed-point grid, and their squares.
    activity: i128,
    activity_sq: i128,
    high_activity: u64,
}

impl CheckpointSums {
    /// The sums of metric `what`: the same as adding each observation.
    fn of(&self, what: Yearly) -> UnitStat {
        let n = self.observed;
        match what {
            Yearly::Remission => UnitStat::of_flags(n, self.remissions),
            Yearly::SymptomaticLesions => {
                UnitStat::of_counts(n, self.symptomatic, self.symptomatic_sq.into())
            }
            Yearly::SeenLesions => UnitStat::of_counts(n, self.seen, self.seen_sq.into()),
            Yearly::Activity => UnitStat::of_fixed(n, self.activity, self.activity_sq),
            Yearly::HighActivity => UnitStat::of_flags(n, self.high_activity),
        }
    }
}

/// Adds a patient's checkpoints at the anniversaries of diagnosis to
/// `sums` (one per anniversary), and tells `pairs` each metric's value.
#[inline(always)]
fn add_checkpoints<P: Pairs>(
    o: &Outcome,
    yearly: &[YearlyIndexes],
    sums: &mut [CheckpointSums],
    pairs: &mut P,
) {
    let c = &o.checkpoints;
    // The anniversaries are consecutive checkpoints: slicing them once
    // spares the bounds checks of each.
    let first = anniversary_index(1);
    let years = sums.len();
    debug_assert!(years == 0 || anniversary_index(years) == first + years - 1);
    let at = first..first + years;
    let checkpoints = c.state[at.clone()]
        .iter()
        .zip(&c.symptomatic_lesions[at.clone()])
        .zip(&c.seen_lesions[at.clone()])
        .zip(&c.activity[at]);
    for ((((&state, &symptomatic), &seen), &activity), (sums, indexes)) in
        checkpoints.zip(sums.iter_mut().zip(yearly))
    {
        let observed = state != 0;
        if observed {
            let (symptomatic, seen) = (u64::from(symptomatic), u64::from(seen));
            sums.observed += 1;
            sums.remissions += u64::from(state == 2);
            sums.symptomatic += symptomatic;
            sums.symptomatic_sq += symptomatic * symptomatic;
            sums.seen += seen;
            sums.seen_sq += seen * seen;
            // Out of a flare the score is 0, which adds nothing: most
            // checkpoints are in remission.
            if activity != 0.0 {
                let v = i128::from(fixed(f64::from(activity)));
                sums.activity += v;
                sums.activity_sq += v * v;
                sums.high_activity += u64::from(activity >= 4.0);
            }
        }
        for (what, index) in Yearly::ALL.into_iter().zip(indexes) {
            if let Some(i) = *index {
                let value = observed.then(|| match what {
                    Yearly::Remission => Value::Flag(state == 2),
                    Yearly::SymptomaticLesions => Value::Count(symptomatic.into()),
                    Yearly::SeenLesions => Value::Count(seen.into()),
                    Yearly::Activity => Value::Real(f64::from(activity)),
                    Yearly::HighActivity => Value::Flag(activity >= 4.0),
                });
                pairs.mean(i, metrics::PAIRED, value);
            }
        }
    }
}

/// Finds the index of every [`Yearly`] metric of a layout that is computed.
#[derive(Default)]
struct FindYearly {
    next: usize,
    /// The next metric rests on an inert part.
    skip: bool,
    indexes: Vec<YearlyIndexes>,
}

impl FindYearly {
    /// Passes a metric that is not yearly.
    fn other(&mut self, n: usize) {
        self.next += n;
        self.skip = false;
    }
}

impl Visit for FindYearly {
    fn inert(&mut self, _: Part) {
        self.skip = true;
    }

    fn mean(
        &mut self,
        _: bool,
        _: impl FnOnce() -> About,
        _: impl FnOnce(&Outcome) -> Option<Value>,
    ) {
        self.other(1);
    }

    fn means<const N: usize>(
        &mut self,
        _: bool,
        _: impl Fn(usize) -> About,
        _: impl FnOnce(&Outcome) -> [Option<Value>; N],
    ) {
        self.other(N);
    }

    fn ratio(
        &mut self,
        _: impl FnOnce() -> About,
        _: impl FnOnce(&Outcome) -> Option<(Value, Value)>,
    ) {
        self.other(1);
    }

    fn yearly(&mut self, what: Yearly, year: usize, _: impl FnOnce() -> About) {
        assert!(year >= 1, "anniversaries count from 1");
        if self.indexes.len() < year {
            self.indexes.resize(year, [None; Yearly::ALL.len()]);
        }
        if !self.skip {
            self.indexes[year - 1][what.slot()] = Some(self.next);
        }
        self.other(1);
    }
}

/// What paired differences between arms do with one arm's observation of
/// metric `i` (one type per case, so that a single-arm run has no such code).
trait Pairs {
    /// The observation of a mean.
    fn mean(&mut self, i: usize, paired: bool, value: Option<Value>);
    /// The observation `(y, x)` of a ratio.
    fn ratio(&mut self, i: usize, observation: Option<(f64, f64)>);
}

/// One arm only: nothing to pair.
struct Unpaired;

impl Pairs for Unpaired {
    #[inline(always)]
    fn mean(&mut self, _: usize, _: bool, _: Option<Value>) {}
    #[inline(always)]
    fn ratio(&mut self, _: usize, _: Option<(f64, f64)>) {}
}

/// The reference of several arms: its observations `(y, x)` are kept.
struct Keep<'a>(&'a mut [Option<(f64, f64)>]);

impl Pairs for Keep<'_> {
    #[inline(always)]
    fn mean(&mut self, i: usize, _: bool, value: Option<Value>) {
        self.0[i] = value.map(|v| (v.as_f64(), 1.0));
    }
    #[inline(always)]
    fn ratio(&mut self, i: usize, observation: Option<(f64, f64)>) {
        self.0[i] = observation;
    }
}

/// An arm before the reference: its observations `(y, x)` of the metrics
/// with a paired difference are kept (None for the others).
struct KeepPaired<'a>(&'a mut [Option<(f64, f64)>]);

impl Pairs for KeepPaired<'_> {
    #[inline(always)]
    fn mean(&mut self, i: usize, paired: bool, value: Option<Value>) {
        self.0[i] = value.filter(|_| paired).map(|v| (v.as_f64(), 1.0));
    }
    #[inline(always)]
    fn ratio(&mut self, i: usize, observation: Option<(f64, f64)>) {
        self.0[i] = observation;
    }
}

/// An arm after the reference: differences from the reference arm's observations.
struct Against<'a> {
    first: &'a [Option<(f64, f64)>],
    differences: &'a mut [UnitStat],
}

impl Pairs for Against<'_> {
    #[inline(always)]
    fn mean(&mut self, i: usize, paired: bool, value: Option<Value>) {
        if let (true, Some(v), Some(f)) = (paired, value, self.first[i]) {
            self.differences[i].add(v.as_f64() - f.0);
        }
    }
    #[inline(always)]
    fn ratio(&mut self, i: usize, observation: Option<(f64, f64)>) {
        // The difference of the patient's own rates, where both are defined.
        if let (Some((y, x)), Some((fy, fx))) = (observation, self.first[i]) {
            if x > 0.0 && fx > 0.0 {
                self.differences[i].add(y / x - fy / fx);
            }
        }
    }
}

/// Tallies one patient under one arm, metric by metric in list order.
struct PatientTally<'a, P> {
    outcome: &'a Outcome,
    /// Index of the next metric.
    next: usize,
    /// The next metric rests on an inert part: it is not computed.
    skip: bool,
    means: &'a mut [UnitStat],
    ratios: &'a mut [Stat],
    pairs: P,
}

impl<P: Pairs> PatientTally<'_, P> {
    /// The index of the metric being visited.
    #[inline(always)]
    fn index(&mut self) -> usize {
        let i = self.next;
        self.next += 1;
        i
    }

    /// Adds the value of mean metric `i`.
    #[inline(always)]
    fn add_mean(&mut self, i: usize, paired: bool, value: Option<Value>) {
        if let Some(v) = value {
            match v {
                Value::Flag(b) => self.means[i].add_flag(b),
                Value::Count(k) => self.means[i].add_count(k),
                Value::Real(y) => self.means[i].add(y),
            }
        }
        self.pairs.mean(i, paired, value);
    }
}

impl<P: Pairs> Visit for PatientTally<'_, P> {
    #[inline(always)]
    fn inert(&mut self, _: Part) {
        self.skip = true;
    }

    #[inline(always)]
    fn mean(
        &mut self,
        paired: bool,
        _: impl FnOnce() -> About,
        value: impl FnOnce(&Outcome) -> Option<Value>,
    ) {
        let i = self.index();
        // Not computed: no observation, as for a patient outside the
        // metric's population (the pairs are told so too).
        let value = if std::mem::take(&mut self.skip) {
            None
        } else {
            value(self.outcome)
        };
        self.add_mean(i, paired, value);
    }

    #[inline(always)]
    fn means<const N: usize>(
        &mut self,
        paired: bool,
        _: impl Fn(usize) -> About,
        values: impl FnOnce(&Outcome) -> [Option<Value>; N],
    ) {
        let first = self.next;
        self.next += N;
        let values = if std::mem::take(&mut self.skip) {
            [None; N]
        } else {
            values(self.outcome)
        };
        for (k, value) in values.into_iter().enumerate() {
            self.add_mean(first + k, paired, value);
        }
    }

    #[inline(always)]
    fn ratio(
        &mut self,
        _: impl FnOnce() -> About,
        observation: impl FnOnce(&Outcome) -> Option<(Value, Value)>,
    ) {
        let i = self.index();
        let obs = if std::mem::take(&mut self.skip) {
            None
        } else {
            observation(self.outcome)
        };
        if let Some((y, x)) = obs {
            // Counts go to the fixed-point grid without a float round trip.
            self.ratios[i].add_fixed(y.fixed(), x.fixed());
        }
        self.pairs
            .ratio(i, obs.map(|(y, x)| (y.as_f64(), x.as_f64())));
    }

    /// Only passed: [`add_checkpoints`] adds the yearly metrics, and
    /// [`FindYearly`] found whether they are computed.
    #[inline(always)]
    fn yearly(&mut self, _: Yearly, _: usize, _: impl FnOnce() -> About) {
        self.next += 1;
        self.skip = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::accum::{ArmStats, DayHistogram};
    use crate::engine::metrics::metrics_of;

    /// Every metric's observations added one by one to a [`Stat`], each
    /// yearly metric as the plain mean it is.
    struct Direct<'a> {
        outcome: &'a Outcome,
        stats: &'a mut [Stat],
        next: usize,
        skip: bool,
    }

    impl Direct<'_> {
        fn take(&mut self) -> (usize, bool) {
            let i = self.next;
            self.next += 1;
            (i, std::mem::take(&mut self.skip))
        }
    }

    impl Visit for Direct<'_> {
        fn inert(&mut self, _: Part) {
            self.skip = true;
        }

        fn mean(
            &mut self,
            _: bool,
            _: impl FnOnce() -> About,
            value: impl FnOnce(&Outcome) -> Option<Value>,
        ) {
            let (i, skip) = self.take();
            if let (false, Some(v)) = (skip, value(self.outcome)) {
                self.stats[i].add_unit(v.as_f64());
            }
        }

        fn means<const N: usize>(
            &mut self,
            _: bool,
            _: impl Fn(usize) -> About,
            values: impl FnOnce(&Outcome) -> [Option<Value>; N],
        ) {
            let skip = std::mem::take(&mut self.skip);
            for v in values(self.outcome) {
                let i = self.next;
                self.next += 1;
                if let (false, Some(v)) = (skip, v) {
                    self.stats[i].add_unit(v.as_f64());
                }
            }
        }

        fn ratio(
            &mut self,
            _: impl FnOnce() -> About,
            observation: impl FnOnce(&Outcome) -> Option<(Value, Value)>,
        ) {
            let (i, skip) = self.take();
            if let (false, Some((y, x))) = (skip, observation(self.outcome)) {
                self.stats[i].add(y.as_f64(), x.as_f64());
            }
        }
    }

    /// Outcomes observed at some anniversaries and not at others, in and
    /// out of flares, with and without lesions and activity.
    fn outcomes() -> Vec<Outcome> {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64::seed_from_u64(26);
        (0..200)
            .map(|_| {
                let mut o = Outcome {
                    flares: rng.random_range(1..9),
                    observed_days: 3650.0 * rng.random::<f64>(),
                    ..Outcome::default()
                };
                let c = &mut o.checkpoints;
                for i in 0..c.state.len() {
                    c.state[i] = rng.random_range(0..3);
                    c.symptomatic_lesions[i] = rng.random_range(0..4);
                    c.seen_lesions[i] = rng.random_range(0..6);
                    c.activity[i] = match rng.random_range(0..3) {
                        0 => 0.0,
                        1 => 4.0,
                        _ => 10.0 * rng.random::<f32>(),
                    };
                }
                o
            })
            .collect()
    }

    fn replicate(metrics: usize, arms: usize) -> ReplicateStats {
        ReplicateStats {
            arms: (0..arms)
                .map(|_| ArmStats {
                    stats: vec![Stat::default(); metrics],
                    delay: DayHistogram::new(1),
                    active_period: DayHistogram::new(1),
                })
                .collect(),
            differences: (1..arms).map(|_| vec![Stat::default(); metrics]).collect(),
        }
    }

    /// The tally, which adds the metrics of each anniversary together,
    /// gives the integers of adding every observation, and pairs them.
    #[test]
    fn the_checkpoints_summed_together_give_each_metrics_sums() {
        let inert = [Part::Lesions, Part::Fever];
        for layout in [
            MetricLayout::new(10.0, &[], 0),
            MetricLayout::new(4.5, &[], 0).with_inert(
                inert
                    .iter()
                    .fold(metrics::Inert::NONE, |set, &p| set.with(p)),
            ),
        ] {
            let metrics = metrics_of(&layout);
            let outcomes = outcomes();
            let mut direct = vec![Stat::default(); metrics.len()];
            for o in &outcomes {
                let mut v = Direct {
                    outcome: o,
                    stats: &mut direct,
                    next: 0,
                    skip: false,
                };
                metrics::visit(&mut v, &layout);
            }
            // One arm, and two arms that see the same outcomes.
            for arms in [1, 2] {
                let mut stats = replicate(metrics.len(), arms);
                let mut tally = MetricTally::new(&metrics, &layout, arms, 0);
                for o in &outcomes {
                    for arm in 0..arms {
                        tally.add(arm, o, &mut stats);
                    }
                }
                tally.add_to(&mut stats);
                for arm in &stats.arms {
                    assert_eq!(arm.stats, direct);
                }
                // Every paired observation differs by 0 from itself.
                let differences = stats.differences.iter().flatten();
                for (m, (d, s)) in metrics.iter().zip(differences.zip(&direct)) {
                    if m.paired && m.estimator == metrics::Estimator::Mean {
                        assert_eq!(d.n, s.n, "{}", m.name);
                        assert!(d.n == 0 || d.estimate() == 0.0, "{}", m.name);
                    }
                }
            }
            let yearly = metrics
                .iter()
                .position(|m| m.name == "activity_score_mean_year_1");
            let observed = direct[yearly.expect("a yearly metric")];
            assert!(observed.n > 0 && observed.estimate() > 0.0);
        }
    }
}
