//! Whole-day histograms (medians) and Kaplan–Meier counts, and their
//! per-chunk form: lists of the days observed.

use std::ops::AddAssign;

use serde::{Deserialize, Serialize};

use crate::scenario::limits::MAX_PATIENTS;

use super::super::patient::Outcome;
use super::super::units::ROUNDING_SHIFT;

/// The bin of `day` among `bins` whole-day bins (the last one holds
/// everything at or beyond it; negative days and NaN go to the first).
#[inline]
fn day_bin(day: f64, bins: usize) -> usize {
    bin_below(day, last_bin(bins))
}

/// The last of `bins` bins, as a float for [`bin_below`] (exact: far
/// below 2^52, the histograms being in memory).
fn last_bin(bins: usize) -> f64 {
    let last = (bins - 1) as f64;
    assert!(last < ROUNDING_SHIFT / 2.0, "{bins} bins");
    last
}

/// `(day.max(0.0) as usize).min(last)` for a whole `last` below 2^51 (see
/// [`last_bin`]), without `max`'s NaN test or the saturation checks of a
/// float-to-integer conversion.
#[inline(always)]
fn bin_below(day: f64, last: f64) -> usize {
    // Into [0, last] first (NaN gives 0): the floor of that is the bin.
    let d = if day > 0.0 { day } else { 0.0 };
    let d = if d < last { d } else { last };
    // d + 2^52 is d rounded to a whole number r (half to even), which the
    // low bits of the sum hold; the floor is r less one where r is above d.
    let shifted = d + ROUNDING_SHIFT;
    let r = shifted.to_bits().wrapping_sub(ROUNDING_SHIFT.to_bits()) as usize;
    r - usize::from(shifted - ROUNDING_SHIFT > d)
}

/// An integer histogram over whole days (for medians).
///
/// Every replicate keeps two per arm, so a PSA holds thousands: counts are
/// 32-bit, which halves the largest part of a replicate's accumulators. A
/// histogram counts the patients of one arm in one replicate, at most
/// [`MAX_PATIENTS`], so no count can overflow; in a shard file `postcard`
/// writes a `u32` as the same variable-length integer as a `u64`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayHistogram {
    /// Count per day; the last bin holds everything at or beyond it.
    pub counts: Vec<u32>,
}

const _: () = assert!(MAX_PATIENTS <= u32::MAX as u64);

impl DayHistogram {
    /// A histogram of `days` bins.
    pub fn new(days: usize) -> Self {
        Self {
            counts: vec![0; days.max(1)],
        }
    }

    /// Adds one value (days).
    pub fn add(&mut self, day: f64) {
        let i = day_bin(day, self.counts.len());
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
        self.counts.iter().map(|&c| u64::from(c)).sum()
    }

    /// The `p`-quantile (lower median convention: smallest day with
    /// cumulative share >= p), taken at the bin's midpoint.
    pub fn quantile(&self, p: f64) -> f64 {
        self.quantiles(self.total(), [p])[0]
    }

    /// Median with a distribution-free 95% interval from binomial order
    /// statistics, and the implied standard error.
    pub fn median_with_interval(&self) -> (f64, f64, f64, f64) {
        let total = self.total();
        let n = total as f64;
        if n < 2.0 {
            return (
                self.quantiles(total, [0.5])[0],
                f64::NAN,
                f64::NAN,
                f64::NAN,
            );
        }
        let half = 1.96 * (0.25 / n).sqrt();
        let [med, lo, hi] =
            self.quantiles(total, [0.5, (0.5 - half).max(0.0), (0.5 + half).min(1.0)]);
        (med, lo, hi, (hi - lo) / (2.0 * 1.96))
    }

    /// The quantiles `ps` as [`DayHistogram::quantile`] gives each, of a
    /// histogram of `total` counts, in one pass over the days: a PSA takes
    /// two medians with their intervals per arm and replicate, twice.
    fn quantiles<const K: usize>(&self, total: u64, ps: [f64; K]) -> [f64; K] {
        if total == 0 {
            return [f64::NAN; K];
        }
        let targets = ps.map(|p| (p * total as f64).ceil().max(1.0) as u64);
        let mut found = [None; K];
        let mut open = K;
        let mut cum = 0;
        for (i, &c) in self.counts.iter().enumerate() {
            cum += u64::from(c);
            for (day, &target) in found.iter_mut().zip(&targets) {
                if day.is_none() && cum >= target {
                    *day = Some(i as f64 + 0.5);
                    open -= 1;
                }
            }
            if open == 0 {
                break;
            }
        }
        found.map(|day| day.unwrap_or(self.counts.len() as f64 - 0.5))
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

    /// Adds one subject: an event at `day`, or censoring at `day`.
    pub fn add(&mut self, day: f64, event: bool) {
        let i = day_bin(day, self.events.len());
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

/// Whole-day bins recorded one by one: what a chunk of patients adds to a
/// [`DayHistogram`] (or one column of [`SurvivalCounts`]) of `bins` bins.
/// A chunk fills a few of the thousands of bins, so a list is cheaper than
/// arrays of its own to make, zero and merge; the counts are the same.
#[derive(Debug, Clone)]
pub(crate) struct DayBins {
    bins: usize,
    /// The last bin, as [`bin_below`] takes it.
    last: f64,
    days: Vec<usize>,
}

impl DayBins {
    /// An empty list for `bins` bins (at least one, as in
    /// [`DayHistogram::new`]) with room for `values` values, so that
    /// recording them never grows it.
    pub(crate) fn with_capacity(bins: usize, values: usize) -> Self {
        let bins = bins.max(1);
        DayBins {
            bins,
            last: last_bin(bins),
            days: Vec::with_capacity(values),
        }
    }

    /// Records one value (days).
    #[inline]
    pub(crate) fn add(&mut self, day: f64) {
        self.days.push(bin_below(day, self.last));
    }

    /// Adds the recorded values to `counts` (of the same bins).
    pub(crate) fn add_to<C: AddAssign + From<u8>>(&self, counts: &mut [C]) {
        debug_assert_eq!(counts.len(), self.bins);
        for &i in &self.days {
            counts[i] += C::from(1);
        }
    }
}

/// Something time-to-event observations are added to.
pub trait SurvivalSink {
    /// Adds one subject: an event at `day`, or censoring at `day`.
    fn add_subject(&mut self, day: f64, event: bool);
}

impl SurvivalSink for SurvivalCounts {
    #[inline]
    fn add_subject(&mut self, day: f64, event: bool) {
        self.add(day, event);
    }
}

/// What a chunk of patients adds to [`SurvivalCounts`], recorded one by one
/// (see [`DayBins`]).
#[derive(Debug, Clone)]
pub(crate) struct SurvivalBins {
    events: DayBins,
    censored: DayBins,
}

impl SurvivalBins {
    /// An empty list for counts of `bins` days (as [`SurvivalCounts::new`]),
    /// with room for `subjects` subjects.
    pub(crate) fn new(bins: usize, subjects: usize) -> Self {
        SurvivalBins {
            events: DayBins::with_capacity(bins, subjects),
            censored: DayBins::with_capacity(bins, subjects),
        }
    }

    /// Adds the recorded subjects to `counts`.
    pub(crate) fn add_to(&self, counts: &mut SurvivalCounts) {
        self.events.add_to(&mut counts.events);
        self.censored.add_to(&mut counts.censored);
    }
}

impl SurvivalSink for SurvivalBins {
    #[inline]
    fn add_subject(&mut self, day: f64, event: bool) {
        if event {
            self.events.add(day);
        } else {
            self.censored.add(day);
        }
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
pub fn add_endpoints<S: SurvivalSink>(km: &mut [S; 4], o: &Outcome) {
    let end = o.observed_days;
    let time_to = |from: f64, at: Option<f64>| match at {
        Some(t) => (t - from, true),
        None => (end - from, false),
    };
    let (t, e) = time_to(0.0, o.first_remission_day);
    km[0].add_subject(t, e);
    if let Some(r) = o.first_remission_day {
        let (t, e) = time_to(r, o.first_relapse_day);
        km[1].add_subject(t, e);
    }
    if let Some(dx) = &o.diagnosis {
        let (t, e) = time_to(dx.day, o.first_remission_after_dx_day);
        km[2].add_subject(t, e);
        let (t, e) = time_to(dx.day, o.first_relapse_after_dx_day);
        km[3].add_subject(t, e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_bins_match_the_float_formula() {
        let days = [
            -3.0,
            -0.0,
            0.0,
            0.4,
            0.5,
            0.999_999_999_999_9,
            1.0,
            1.5,
            2.5,
            17.9,
            98.5,
            99.0,
            99.999,
            100.0,
            1e9,
            1e300,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NAN,
        ];
        for bins in [1, 2, 100, 36_525] {
            for day in days {
                let float = (day.max(0.0) as usize).min(bins - 1);
                assert_eq!(day_bin(day, bins), float, "day {day}, {bins} bins");
            }
        }
    }

    #[test]
    fn recorded_days_give_the_same_counts() {
        let days = [-3.0, 0.0, 0.4, 1.0, 17.9, 99.0, 100.0, 1e9, f64::NAN];
        let (mut h, mut bins) = (DayHistogram::new(100), DayBins::with_capacity(100, 0));
        let (mut km, mut listed) = (SurvivalCounts::new(100), SurvivalBins::new(100, 0));
        for (i, d) in days.into_iter().enumerate() {
            h.add(d);
            bins.add(d);
            km.add(d, i % 3 == 0);
            listed.add_subject(d, i % 3 == 0);
        }
        let mut from_bins = DayHistogram::new(100);
        bins.add_to(&mut from_bins.counts);
        assert_eq!(from_bins, h);
        let mut from_list = SurvivalCounts::new(100);
        listed.add_to(&mut from_list);
        assert_eq!(from_list, km);
    }

    #[test]
    fn a_shard_file_writes_32_bit_day_counts_as_it_wrote_64_bit_ones() {
        let counts = [0, 1, 127, 128, 300, 70_000, MAX_PATIENTS as u32];
        let h = DayHistogram {
            counts: counts.to_vec(),
        };
        let wide: Vec<u64> = counts.iter().map(|&c| u64::from(c)).collect();
        assert_eq!(
            postcard::to_stdvec(&h).unwrap(),
            postcard::to_stdvec(&wide).unwrap()
        );
    }

    #[test]
    fn one_pass_quantiles_are_each_quantile() {
        let mut h = DayHistogram::new(40);
        for d in [3.0, 3.2, 7.5, 8.0, 8.0, 12.9, 20.0, 39.0, 400.0, 0.0, 17.0] {
            h.add(d);
        }
        let ps = [0.0, 0.05, 0.31, 0.5, 0.5, 0.99, 1.0, 0.2];
        let each = ps.map(|p| h.quantile(p));
        let once = h.quantiles(h.total(), ps);
        assert_eq!(once, each);
        // Against the sorted days (bin midpoints) directly.
        assert_eq!(each[3], 8.5);
        assert_eq!(each[6], 39.5);
        let (med, lo, hi, _) = h.median_with_interval();
        assert!(lo <= med && med <= hi && (lo, hi) != (med, med));
        assert!(DayHistogram::new(5).median_with_interval().0.is_nan());
    }

    #[test]
    fn histogram_median() {
        let mut h = DayHistogram::new(100);
        for d in [1.2, 5.0, 7.9, 9.0, 50.0] {
            h.add(d);
        }
        assert_eq!(h.quantile(0.5), 7.5);
    }
}
