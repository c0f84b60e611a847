//! Mergeable accumulators. Everything here is an integer (counts, fixed-point
//! sums, difference arrays), so merging is exact, associative and commutative:
//! the result is the same bytes whatever the thread count, chunking or shard
//! split. Floats appear only when estimates are derived at the end.

use serde::{Deserialize, Serialize};

mod days;
mod occupancy;

pub use days::{add_endpoints, DayHistogram, SurvivalCounts, SurvivalSink, ENDPOINTS};
pub(crate) use days::{DayBins, SurvivalBins};
pub(crate) use occupancy::{GridIndex, OccupancyCells, PatientCourse};
pub use occupancy::{Occupancy, PAIN_SCALE};

pub(crate) use super::units::round_nonnegative;

/// Fixed-point scale of accumulated values (2^20: ~1e-6 resolution).
pub const SCALE: f64 = 1_048_576.0;

/// Rounds to the fixed-point grid. Written with a truncating cast rather than
/// `round()`, which is a library call on baseline x86-64 and dominated the
/// per-patient accumulation.
#[inline(always)]
pub(crate) fn fixed(x: f64) -> i64 {
    let v = x * SCALE;
    // Half away from zero, without a branch (-0.0 and NaN still give 0).
    (v + 0.5f64.copysign(v)) as i64
}

/// A whole number on the fixed-point grid: the same as `fixed(f64::from(k))`
/// (`k * 2^20` is below 2^52, so exact), without the float round trip.
#[inline(always)]
pub(crate) fn fixed_whole(k: u32) -> i64 {
    i64::from(k) << 20
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
        self.add_fixed(fixed(y), fixed(x));
    }

    /// Adds one observation of `y` over `x`, both already on the
    /// fixed-point grid ([`fixed`], [`fixed_whole`]).
    #[inline(always)]
    pub(crate) fn add_fixed(&mut self, y: i64, x: i64) {
        let (y, x) = (i128::from(y), i128::from(x));
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
///
/// The fields are laid out so that the count `n` does not sit next to what
/// an observation adds with it: the compiler would otherwise pair the two
/// additions into one vector addition, which takes more instructions to
/// set up than it saves (about half a flag's cost).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[repr(C)]
pub struct UnitStat {
    n: u64,
    /// Σy and Σy² of other observations (fixed point).
    sy: i128,
    /// Flags that were true.
    flags: u64,
    /// Σk and Σk² of counts.
    counts: u64,
    syy: i128,
    counts_sq: u128,
}

impl UnitStat {
    /// Adds one observation `y` (x = 1).
    #[inline(always)]
    pub fn add(&mut self, y: f64) {
        self.n += 1;
        // Many values are 0 (days on a drug never given, time in flares of
        // a quiet patient): nothing to add to the sums, nor to round.
        if y != 0.0 {
            let v = i128::from(fixed(y));
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

    /// The sums of `n` yes/no observations of which `yes` were true: the
    /// same as [`add_flag`](Self::add_flag) for each.
    pub(crate) fn of_flags(n: u64, yes: u64) -> Self {
        UnitStat {
            n,
            flags: yes,
            ..UnitStat::default()
        }
    }

    /// The sums of `n` counts that add up to `sum`, their squares to
    /// `sum_sq`: the same as [`add_count`](Self::add_count) for each.
    pub(crate) fn of_counts(n: u64, sum: u64, sum_sq: u128) -> Self {
        UnitStat {
            n,
            counts: sum,
            counts_sq: sum_sq,
            ..UnitStat::default()
        }
    }

    /// The sums of `n` observations whose values on the fixed-point grid
    /// ([`fixed`]) add up to `sy`, their squares to `syy`: the same as
    /// [`add`](Self::add) for each.
    pub(crate) fn of_fixed(n: u64, sy: i128, syy: i128) -> Self {
        UnitStat {
            n,
            sy,
            syy,
            ..UnitStat::default()
        }
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

/// What one arm accumulates within one replicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmStats {
    /// One [`Stat`] per metric.
    pub stats: Vec<Stat>,
    /// Diagnostic delay, days.
    pub delay: DayHistogram,
    /// Active period (onset to the end of the last flare), days.
    pub active_period: DayHistogram,
}

/// Accumulators of one replicate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicateStats {
    /// Per arm.
    pub arms: Vec<ArmStats>,
    /// Per arm other than the reference (in arm order), per metric: paired
    /// differences from the reference arm (the first unless chosen).
    pub differences: Vec<Vec<Stat>>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use occupancy::GridIndex;

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
    fn whole_ratio_observations_match_the_rounded_path() {
        let (mut rounded, mut whole) = (Stat::default(), Stat::default());
        for (k, x) in [(0, 1.5), (3, 0.0), (39, 2.25), (u32::MAX, 1e4 + 1e-7)] {
            rounded.add(f64::from(k), x);
            whole.add_fixed(fixed_whole(k), fixed(x));
            rounded.add(x, f64::from(k));
            whole.add_fixed(fixed(x), fixed_whole(k));
        }
        assert_eq!(rounded, whole);
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
    fn rounding_near_two_to_the_52_matches_the_float_library() {
        let top = 4_503_599_627_370_496.0;
        for x in [
            top - 0.5,
            top - 1.0,
            top - 1.5,
            top / 2.0 + 0.5,
            top / 2.0 - 0.5,
        ] {
            assert_eq!(round_nonnegative(x), x.round() as i64, "round {x}");
        }
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
            1234.500000000001,
            3.5,
            8_388_608.5,
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
                for step in [1.0, 7.0, 30.436875] {
                    let grid = GridIndex::new(step, cap);
                    let float = ((x / step).ceil().max(0.0) as usize).min(cap);
                    assert_eq!(grid.index(x), float, "grid {x} step {step} cap {cap}");
                }
            }
        }
    }
}
