//! The results of a run: the merged accumulators of a study ([`CohortResult`]:
//! its arms, replicates and pooled curves) and every estimate made from them,
//! computed once when the result is made — summary rows and paired
//! differences ([`summary`]), Kaplan–Meier curves ([`km`]) and time series
//! ([`timeseries`]).
//!
//! The engine produces accumulators; everything downstream (the CSV writers
//! of [`crate::output`], the plots, the calibration report) reads these
//! estimates and computes none of its own.

pub mod headline;
pub mod km;
pub mod summary;
pub mod timeseries;

use crate::engine::accum::ENDPOINTS;
use crate::engine::cohort::{Accumulators, ArmCurves, CohortSpec, ReplicateStats};
use crate::engine::metrics::Metric;
use crate::engine::units::DAYS_PER_YEAR;

use self::km::{kaplan_meier, KmRow};
use self::summary::{difference_rows, summary_rows, DifferenceRow, SummaryRow};
use self::timeseries::{flare_shares, since_diagnosis, since_onset, MonthPoint, TimePoint};

/// Everything a run accumulates, with the names that say what it is, and the
/// estimates made from it. The fields are the accumulators as merged; the
/// estimates are computed from them by [`CohortResult::new`] and read
/// through the methods.
#[derive(Debug, Clone)]
pub struct CohortResult {
    /// Arm names.
    pub arms: Vec<String>,
    /// Index of the reference arm of the paired differences.
    pub reference: usize,
    /// The metrics, in order.
    pub metrics: Vec<Metric>,
    /// Per replicate.
    pub replicates: Vec<ReplicateStats>,
    /// Per arm, pooled over replicates.
    pub curves: Vec<ArmCurves>,
    /// Patients per replicate.
    pub patients: u64,
    /// Patient-years simulated (all arms, all replicates).
    pub patient_years: f64,
    estimates: Estimates,
}

/// The estimates of a result, computed once.
#[derive(Debug, Clone, Default)]
struct Estimates {
    summary: Vec<SummaryRow>,
    differences: Vec<DifferenceRow>,
    /// Per arm, per endpoint of [`ENDPOINTS`].
    km: Vec<Vec<Vec<KmRow>>>,
    /// Per arm.
    since_onset: Vec<Vec<TimePoint>>,
    /// Per arm.
    since_diagnosis: Vec<Vec<MonthPoint>>,
    /// Per arm.
    flare_shares: Vec<Vec<f64>>,
}

/// Two results are equal when their accumulators are (the estimates follow
/// from them; a NaN estimate would make a derived comparison fail).
impl PartialEq for CohortResult {
    fn eq(&self, other: &Self) -> bool {
        self.arms == other.arms
            && self.reference == other.reference
            && self.metrics == other.metrics
            && self.replicates == other.replicates
            && self.curves == other.curves
            && self.patients == other.patients
            && self.patient_years == other.patient_years
    }
}

impl CohortResult {
    /// The result of a whole study from its merged accumulators, with every
    /// estimate.
    pub fn new(spec: &CohortSpec, acc: Accumulators) -> Self {
        let mut result = CohortResult {
            arms: spec.arms.iter().map(|a| a.name.clone()).collect(),
            reference: spec.reference,
            metrics: spec.metrics.to_vec(),
            replicates: acc.replicates,
            curves: acc.curves,
            patients: spec.scenario.patients,
            patient_years: acc.observed_days.value() / DAYS_PER_YEAR,
            estimates: Estimates::default(),
        };
        result.estimates = Estimates::of(&result);
        result
    }

    /// The name of the reference arm of the paired differences.
    pub fn reference_arm(&self) -> &str {
        &self.arms[self.reference]
    }

    /// Patients of the cohort: per replicate times replicates.
    pub fn total_patients(&self) -> u64 {
        self.patients * self.replicates.len() as u64
    }

    /// The rows of `summary.csv`: per arm and metric, the mean over
    /// replicates, a 95% interval and the Monte Carlo standard error.
    pub fn summary(&self) -> &[SummaryRow] {
        &self.estimates.summary
    }

    /// The rows of `differences.csv`: paired differences of each arm from
    /// the reference arm (empty with one arm).
    pub fn differences(&self) -> &[DifferenceRow] {
        &self.estimates.differences
    }

    /// The Kaplan–Meier curve of arm `arm` for endpoint `endpoint` (an index
    /// of [`ENDPOINTS`]).
    pub fn km(&self, arm: usize, endpoint: usize) -> &[KmRow] {
        &self.estimates.km[arm][endpoint]
    }

    /// Arm `arm`'s time series since onset, on the time grid.
    pub fn since_onset(&self, arm: usize) -> &[TimePoint] {
        &self.estimates.since_onset[arm]
    }

    /// Arm `arm`'s monthly series since diagnosis.
    pub fn since_diagnosis(&self, arm: usize) -> &[MonthPoint] {
        &self.estimates.since_diagnosis[arm]
    }

    /// Arm `arm`'s shares of patients by flares while observed (bins
    /// 0..=49 and 50 or more).
    pub fn flare_shares(&self, arm: usize) -> &[f64] {
        &self.estimates.flare_shares[arm]
    }
}

impl Estimates {
    fn of(res: &CohortResult) -> Self {
        let total = res.total_patients() as f64;
        Estimates {
            summary: summary_rows(res),
            differences: difference_rows(res),
            km: res
                .curves
                .iter()
                .map(|c| {
                    debug_assert_eq!(c.km.len(), ENDPOINTS.len());
                    c.km.iter().map(kaplan_meier).collect()
                })
                .collect(),
            since_onset: res
                .curves
                .iter()
                .map(|c| since_onset(&c.occupancy, total))
                .collect(),
            since_diagnosis: res
                .curves
                .iter()
                .map(|c| since_diagnosis(&c.from_diagnosis))
                .collect(),
            flare_shares: res.curves.iter().map(|c| flare_shares(&c.flares)).collect(),
        }
    }
}
