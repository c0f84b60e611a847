//! Mergeable accumulators. Everything here is an integer (counts, fixed-point
//! sums, difference arrays), so merging is exact, associative and commutative:
//! the result is the same bytes whatever the thread count, chunking or shard
//! split. Floats appear only when estimates are derived at the end.

use serde::{Deserialize, Serialize};

use super::patient::{Outcome, Scratch, Segment, N_STATES};

/// Fixed-point scale of accumulated values (2^20: ~1e-6 resolution).
pub const SCALE: f64 = 1_048_576.0;

/// Rounds to the fixed-point grid. Written with a truncating cast rather than
/// `round()`, which is a library call on baseline x86-64 and dominated the
/// per-patient accumulation.
#[inline(always)]
fn fixed(x: f64) -> i64 {
    let v = x * SCALE;
    // Half away from zero, without a branch (-0.0 and NaN still give 0).
    (v + 0.5f64.copysign(v)) as i64
}

/// `x.round() as i64` for `0 <= x < 2^52`, without the library call that
/// `round()` is on baseline x86-64 (the fractional part `x - trunc(x)` is
/// exact, so the result is the same: halves round away from zero).
#[inline(always)]
pub(crate) fn round_nonnegative(x: f64) -> i64 {
    let t = x as i64;
    t + i64::from(x - t as f64 >= 0.5)
}

/// `(q.ceil().max(0.0) as usize).min(cap)` without the `ceil` library call
/// (NaN and negatives give 0, like the float version).
#[inline(always)]
pub(crate) fn ceil_index(q: f64, cap: usize) -> usize {
    if q.is_nan() || q <= 0.0 {
        return 0;
    }
    if q >= cap as f64 {
        return cap;
    }
    if q >= f64::from(u32::MAX) {
        return q.ceil() as usize;
    }
    // 0 < q < 2^32: a 32-bit conversion, cheaper than the saturating 64-bit
    // unsigned one.
    let t = q as u32;
    t as usize + usize::from(f64::from(t) < q)
}

/// Sums for a ratio estimator `sum(y) / sum(x)` (a mean when every x is 1),
/// with what its standard error needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stat {
    /// Observations.
    pub n: u64,
    sy: i128,
    sx: i128,
    syy: i128,
    sxx: i128,
    sxy: i128,
}

impl Stat {
    /// Adds one observation of `y` over `x`.
    #[inline(always)]
    pub fn add(&mut self, y: f64, x: f64) {
        let (y, x) = (i128::from(fixed(y)), i128::from(fixed(x)));
        self.n += 1;
        self.sy += y;
        self.sx += x;
        self.syy += y * y;
        self.sxx += x * x;
        self.sxy += x * y;
    }

    /// Adds one observation of `y` over `x = 1` (a mean); the same sums as
    /// `add(y, 1.0)`, without converting and multiplying the constant.
    #[inline(always)]
    pub fn add_unit(&mut self, y: f64) {
        const ONE: i128 = 1 << 20;
        let y = i128::from(fixed(y));
        self.n += 1;
        self.sy += y;
        self.sx += ONE;
        self.syy += y * y;
        self.sxx += ONE * ONE;
        self.sxy += y << 20;
    }

    /// Adds an observation the way its estimator needs (a mean's x is 1).
    #[inline(always)]
    pub fn add_observation(&mut self, estimator: super::metrics::Estimator, y: f64, x: f64) {
        match estimator {
            super::metrics::Estimator::Mean => {
                debug_assert_eq!(x, 1.0, "a mean's observations have x = 1");
                self.add_unit(y)
            }
            super::metrics::Estimator::Ratio => self.add(y, x),
        }
    }

    /// Adds everything of `other`.
    pub fn merge(&mut self, o: &Stat) {
        self.n += o.n;
        self.sy += o.sy;
        self.sx += o.sx;
        self.syy += o.syy;
        self.sxx += o.sxx;
        self.sxy += o.sxy;
    }

    /// The estimate `sum(y) / sum(x)` (NaN without data).
    pub fn estimate(&self) -> f64 {
        if self.sx == 0 {
            f64::NAN
        } else {
            self.sy as f64 / self.sx as f64
        }
    }

    /// Standard error of the estimate (delta method for a ratio; the usual
    /// standard error of the mean when every x is 1).
    pub fn std_error(&self) -> f64 {
        if self.n < 2 || self.sx == 0 {
            return f64::NAN;
        }
        let n = self.n as f64;
        let r = self.estimate();
        let (syy, sxx, sxy) = (
            self.syy as f64 / (SCALE * SCALE),
            self.sxx as f64 / (SCALE * SCALE),
            self.sxy as f64 / (SCALE * SCALE),
        );
        let resid = (syy - 2.0 * r * sxy + r * r * sxx).max(0.0);
        let xbar = self.sx as f64 / SCALE / n;
        (resid / (n * (n - 1.0))).sqrt() / xbar
    }

    /// Sample variance of y (meaningful for means).
    pub fn variance(&self) -> f64 {
        if self.n < 2 {
            return f64::NAN;
        }
        let n = self.n as f64;
        let sy = self.sy as f64 / SCALE;
        let syy = self.syy as f64 / (SCALE * SCALE);
        ((syy - sy * sy / n) / (n - 1.0)).max(0.0)
    }
}

/// The sums of a mean's [`Stat`] (every x is 1) while it is being filled:
/// only n, Σy and Σy² vary between observations, so only they are summed,
/// and [`UnitStat::add_to`] adds the same integers to a [`Stat`] as
/// [`Stat::add_unit`] would for each observation. Whole observations (flags
/// and counts) are summed as whole numbers, and put on the fixed-point grid
/// (where they are exact) only then.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnitStat {
    n: u64,
    /// Flags that were true.
    flags: u64,
    /// Σk and Σk² of counts.
    counts: u64,
    counts_sq: u128,
    /// Σy and Σy² of other observations (fixed point).
    sy: i128,
    syy: i128,
}

impl UnitStat {
    /// Adds one observation `y` (x = 1).
    #[inline(always)]
    pub fn add(&mut self, y: f64) {
        let v = fixed(y);
        self.n += 1;
        // Shares are mostly 0: nothing to add to the sums.
        if v != 0 {
            let v = i128::from(v);
            self.sy += v;
            self.syy += v * v;
        }
    }

    /// Adds a yes/no observation: the same sums as `add(1.0)` or `add(0.0)`.
    #[inline(always)]
    pub fn add_flag(&mut self, b: bool) {
        self.n += 1;
        self.flags += u64::from(b);
    }

    /// Adds a count: the same sums as `add(f64::from(k))`, since whole
    /// numbers below 2^32 lie on the fixed-point grid.
    #[inline(always)]
    pub fn add_count(&mut self, k: u32) {
        let k = u64::from(k);
        self.n += 1;
        self.counts += k;
        self.counts_sq += u128::from(k * k);
    }

    /// Adds these sums to `stat`.
    pub fn add_to(&self, stat: &mut Stat) {
        const ONE: i128 = 1 << 20;
        let n = i128::from(self.n);
        // A flag's square is itself.
        let whole = i128::from(self.flags) + i128::from(self.counts);
        let whole_sq = i128::from(self.flags) + self.counts_sq as i128;
        let sy = self.sy + (whole << 20);
        stat.n += self.n;
        stat.sy += sy;
        stat.sx += n * ONE;
        stat.syy += self.syy + (whole_sq << 40);
        stat.sxx += n * ONE * ONE;
        stat.sxy += sy << 20;
    }
}

/// An exact sum of non-integer values: each is rounded to the fixed-point
/// grid ([`SCALE`]) before it is added, so sums merge exactly in any order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedSum(i128);

impl FixedSum {
    /// Adds one value.
    #[inline]
    pub fn add(&mut self, x: f64) {
        self.0 += i128::from(fixed(x));
    }

    /// Adds everything of `other`.
    pub fn merge(&mut self, other: &FixedSum) {
        self.0 += other.0;
    }

    /// The sum.
    pub fn value(&self) -> f64 {
        self.0 as f64 / SCALE
    }
}

/// An integer histogram over whole days (for medians).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayHistogram {
    /// Count per day; the last bin holds everything at or beyond it.
    pub counts: Vec<u64>,
}

impl DayHistogram {
    /// A histogram of `days` bins.
    pub fn new(days: usize) -> Self {
        Self {
            counts: vec![0; days.max(1)],
        }
    }

    /// Adds one value (days).
    pub fn add(&mut self, day: f64) {
        let i = (day.max(0.0) as usize).min(self.counts.len() - 1);
        self.counts[i] += 1;
    }

    /// Adds everything of `other`.
    pub fn merge(&mut self, o: &DayHistogram) {
        for (a, b) in self.counts.iter_mut().zip(&o.counts) {
            *a += b;
        }
    }

    /// Total count.
    pub fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The `p`-quantile (lower median convention: smallest day with
    /// cumulative share >= p), taken at the bin's midpoint.
    pub fn quantile(&self, p: f64) -> f64 {
        let n = self.total();
        if n == 0 {
            return f64::NAN;
        }
        let target = (p * n as f64).ceil().max(1.0) as u64;
        let mut cum = 0;
        for (i, c) in self.counts.iter().enumerate() {
            cum += c;
            if cum >= target {
                return i as f64 + 0.5;
            }
        }
        self.counts.len() as f64 - 0.5
    }

    /// Median with a distribution-free 95% interval from binomial order
    /// statistics, and the implied standard error.
    pub fn median_with_interval(&self) -> (f64, f64, f64, f64) {
        let n = self.total() as f64;
        let med = self.quantile(0.5);
        if n < 2.0 {
            return (med, f64::NAN, f64::NAN, f64::NAN);
        }
        let half = 1.96 * (0.25 / n).sqrt();
        let lo = self.quantile((0.5 - half).max(0.0));
        let hi = self.quantile((0.5 + half).min(1.0));
        (med, lo, hi, (hi - lo) / (2.0 * 1.96))
    }
}

/// Event and censoring counts per whole day, for a Kaplan–Meier curve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SurvivalCounts {
    /// Events per day.
    pub events: Vec<u64>,
    /// Censorings per day.
    pub censored: Vec<u64>,
}

impl SurvivalCounts {
    /// Counts over `days` whole days.
    pub fn new(days: usize) -> Self {
        Self {
            events: vec![0; days.max(1)],
            censored: vec![0; days.max(1)],
        }
    }

    fn bin(&self, day: f64) -> usize {
        (day.max(0.0) as usize).min(self.events.len() - 1)
    }

    /// Adds one subject: an event at `day`, or censoring at `day`.
    pub fn add(&mut self, day: f64, event: bool) {
        let i = self.bin(day);
        if event {
            self.events[i] += 1;
        } else {
            self.censored[i] += 1;
        }
    }

    /// Adds everything of `other`.
    pub fn merge(&mut self, o: &SurvivalCounts) {
        for (a, b) in self.events.iter_mut().zip(&o.events) {
            *a += b;
        }
        for (a, b) in self.censored.iter_mut().zip(&o.censored) {
            *a += b;
        }
    }
}

/// Weekly state occupancy and pain, as difference arrays over a time grid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occupancy {
    /// Grid step, days.
    pub step_days: u32,
    /// Per state, the difference array of counts.
    pub states: [Vec<i64>; N_STATES],
    /// Difference array of summed pain (fixed point, VAS x 1000).
    pub pain: Vec<i64>,
    /// Difference array of summed squared pain (fixed point squared).
    pub pain_sq: Vec<i128>,
    /// Per drug, the difference array of patients on it.
    pub drugs: Vec<Vec<i64>>,
}

/// Fixed-point scale of pain sums.
pub const PAIN_SCALE: f64 = 1000.0;

impl Occupancy {
    /// An empty grid of `points` points, `step_days` apart, with `drugs` drug rows.
    pub fn new(points: usize, step_days: u32, drugs: usize) -> Self {
        let z = || vec![0i64; points + 1];
        Self {
            step_days,
            states: [z(), z(), z(), z()],
            pain: z(),
            pain_sq: vec![0i128; points + 1],
            drugs: (0..drugs).map(|_| z()).collect(),
        }
    }

    /// Number of grid points.
    pub fn points(&self) -> usize {
        self.pain.len() - 1
    }

    /// Grid indices `[first, end)` whose time lies in `[start, end)`.
    fn span(&self, start: f64, end: f64) -> (usize, usize) {
        let step = f64::from(self.step_days);
        let cap = self.points();
        (ceil_index(start / step, cap), ceil_index(end / step, cap))
    }

    /// Adds one patient's state segments.
    pub fn add_segments(&mut self, segments: &[Segment]) {
        let step = f64::from(self.step_days);
        let cap = self.points();
        // Segments are contiguous: a segment's start is the previous one's
        // end, whose grid index is already known.
        let mut last = (f64::NAN, 0);
        for s in segments {
            let a = if s.start_day == last.0 {
                last.1
            } else {
                ceil_index(s.start_day / step, cap)
            };
            let b = ceil_index(s.end_day / step, cap);
            last = (s.end_day, b);
            if a >= b {
                continue;
            }
            let st = &mut self.states[s.state as usize];
            st[a] += 1;
            st[b] -= 1;
            if s.pain > 0.0 {
                let p = round_nonnegative(s.pain * PAIN_SCALE);
                self.pain[a] += p;
                self.pain[b] -= p;
                let p2 = i128::from(p) * i128::from(p);
                self.pain_sq[a] += p2;
                self.pain_sq[b] -= p2;
            }
        }
    }

    /// Adds one patient's drug intervals.
    pub fn add_drugs(&mut self, intervals: &[(u16, f64, f64)]) {
        for &(d, start, end) in intervals {
            let (a, b) = self.span(start, end);
            if a < b {
                if let Some(row) = self.drugs.get_mut(usize::from(d)) {
                    row[a] += 1;
                    row[b] -= 1;
                }
            }
        }
    }

    /// Adds everything of `other`.
    pub fn merge(&mut self, o: &Occupancy) {
        for (a, b) in self.states.iter_mut().zip(&o.states) {
            add_vec(a, b);
        }
        add_vec(&mut self.pain, &o.pain);
        for (a, b) in self.pain_sq.iter_mut().zip(&o.pain_sq) {
            *a += b;
        }
        for (a, b) in self.drugs.iter_mut().zip(&o.drugs) {
            add_vec(a, b);
        }
    }

    /// Prefix sums of a difference array: the values at each grid point.
    pub fn values<T: Copy + Default + std::ops::AddAssign>(diff: &[T]) -> Vec<T> {
        let mut acc = T::default();
        diff[..diff.len() - 1]
            .iter()
            .map(|d| {
                acc += *d;
                acc
            })
            .collect()
    }
}

fn add_vec(a: &mut [i64], b: &[i64]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += y;
    }
}

/// Kaplan–Meier endpoints written to `km.csv`.
pub const ENDPOINTS: [&str; 4] = [
    "first_remission_from_onset",
    "first_relapse_from_first_remission",
    "first_remission_from_diagnosis",
    "first_relapse_from_diagnosis",
];

/// Adds a patient's four time-to-event observations.
pub fn add_endpoints(km: &mut [SurvivalCounts; 4], o: &Outcome) {
    let end = o.observed_days;
    let time_to = |from: f64, at: Option<f64>| match at {
        Some(t) => (t - from, true),
        None => (end - from, false),
    };
    let (t, e) = time_to(0.0, o.first_remission_day);
    km[0].add(t, e);
    if let Some(r) = o.first_remission_day {
        let (t, e) = time_to(r, o.first_relapse_day);
        km[1].add(t, e);
    }
    if let Some(dx) = &o.diagnosis {
        let (t, e) = time_to(dx.day, o.first_remission_after_dx_day);
        km[2].add(t, e);
        let (t, e) = time_to(dx.day, o.first_relapse_after_dx_day);
        km[3].add(t, e);
    }
}

/// Adds a patient's time series (state segments and drug intervals).
pub fn add_timeseries(occ: &mut Occupancy, scratch: &Scratch) {
    occ.add_segments(&scratch.segments);
    occ.add_drugs(&scratch.drug_intervals);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mean_and_standard_error() {
        let mut s = Stat::default();
        for y in [1.0, 2.0, 3.0, 4.0] {
            s.add(y, 1.0);
        }
        assert!((s.estimate() - 2.5).abs() < 1e-9);
        // sd = 1.29099, se = sd / 2
        assert!((s.std_error() - 0.645_497).abs() < 1e-5);
        assert!((s.variance() - 1.666_667).abs() < 1e-5);
    }

    #[test]
    fn unit_observations_match_the_general_path() {
        let (mut a, mut b) = (Stat::default(), Stat::default());
        for y in [0.0, 1.0, 2.5, -3.25, 1e4] {
            a.add(y, 1.0);
            b.add_unit(y);
        }
        assert_eq!(a, b);
        assert_eq!(SCALE, (1u64 << 20) as f64);
    }

    #[test]
    fn unit_sums_match_observation_by_observation() {
        let (mut direct, mut lazy, mut unit) =
            (Stat::default(), Stat::default(), UnitStat::default());
        for y in [0.0, 1.0, 0.0, 2.5, -3.25, 1e4, 0.0, 7.1e-7] {
            direct.add_unit(y);
            unit.add(y);
        }
        unit.add_to(&mut lazy);
        assert_eq!(direct, lazy);
    }

    #[test]
    fn whole_observations_match_the_rounded_path() {
        let (mut rounded, mut whole) = (UnitStat::default(), UnitStat::default());
        let mut direct = Stat::default();
        for b in [false, true, true, false] {
            rounded.add(f64::from(u8::from(b)));
            direct.add_unit(f64::from(u8::from(b)));
            whole.add_flag(b);
        }
        for k in [0, 1, 2, 39, 65_535, 200_000, u32::MAX - 1, u32::MAX] {
            rounded.add(f64::from(k));
            direct.add_unit(f64::from(k));
            whole.add_count(k);
        }
        // Whole and other observations mixed in one sum.
        for y in [0.25, -3.5, 1e4 + 1e-7] {
            rounded.add(y);
            direct.add_unit(y);
            whole.add(y);
        }
        let (mut a, mut b) = (Stat::default(), Stat::default());
        rounded.add_to(&mut a);
        whole.add_to(&mut b);
        assert_eq!(a, b);
        assert_eq!(a, direct);
    }

    #[test]
    fn merge_equals_one_pass() {
        let (mut a, mut b, mut all) = (Stat::default(), Stat::default(), Stat::default());
        for i in 0..100 {
            let (y, x) = (f64::from(i) * 0.37, 1.0 + f64::from(i % 7));
            all.add(y, x);
            if i % 3 == 0 {
                a.add(y, x)
            } else {
                b.add(y, x)
            }
        }
        let mut ab = a;
        ab.merge(&b);
        let mut ba = b;
        ba.merge(&a);
        assert_eq!(ab, all);
        assert_eq!(ba, all);
    }

    #[test]
    fn integer_rounding_matches_the_float_library() {
        let values = [
            0.0,
            0.25,
            0.5,
            0.49999999999999994,
            1.5,
            2.5,
            7.0,
            13.999999,
            14.0,
            14.000001,
            1234.5,
            9999.499999999998,
            1e15 + 0.5,
            -0.0,
            -3.5,
            f64::NAN,
            f64::INFINITY,
        ];
        for x in values {
            if (0.0..4.5e15).contains(&x) {
                assert_eq!(round_nonnegative(x), x.round() as i64, "round {x}");
            }
            for cap in [0, 1, 10, 523] {
                let float = (x.ceil().max(0.0) as usize).min(cap);
                assert_eq!(ceil_index(x, cap), float, "ceil {x} cap {cap}");
            }
        }
    }

    #[test]
    fn histogram_median() {
        let mut h = DayHistogram::new(100);
        for d in [1.2, 5.0, 7.9, 9.0, 50.0] {
            h.add(d);
        }
        assert_eq!(h.quantile(0.5), 7.5);
    }

    #[test]
    fn occupancy_counts_grid_points_inside_segments() {
        let mut occ = Occupancy::new(5, 7, 0);
        occ.add_segments(&[Segment {
            start_day: 0.0,
            end_day: 14.5,
            state: super::super::patient::State::Active,
            pain: 5.0,
            activity: 4.0,
        }]);
        // Grid points 0, 7, 14 lie inside [0, 14.5).
        assert_eq!(Occupancy::values(&occ.states[0]), vec![1, 1, 1, 0, 0]);
        assert_eq!(Occupancy::values(&occ.pain), vec![5000, 5000, 5000, 0, 0]);
    }
}
