//! Time series estimated from the occupancy accumulators: per grid point
//! after onset, the share of patients in each state, the mean pain with its
//! 95% band and the share on each drug; per month after diagnosis, the state
//! shares and the mean activity score. `timeseries.csv`,
//! `timeseries_from_diagnosis.csv` and the cohort plots all read these.

use crate::engine::accum::{Occupancy, PAIN_SCALE};
use crate::engine::from_diagnosis::{FromDiagnosis, ACTIVITY_SCALE};
use crate::engine::patient::N_STATES;

/// Mean pain (VAS) among `n` observed patients from the sum and sum of
/// squares of their fixed-point pain ([`PAIN_SCALE`]), with a normal 95%
/// confidence band (lower end clipped at 0). NaN when nobody is observed.
pub fn pain_band(sum: i64, sum_sq: i128, n: f64) -> (f64, f64, f64) {
    if n < 1.0 {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let mean = sum as f64 / PAIN_SCALE / n;
    let ex2 = sum_sq as f64 / (PAIN_SCALE * PAIN_SCALE) / n;
    let var = (ex2 - mean * mean).max(0.0) * n / (n - 1.0).max(1.0);
    let se = (var / n).sqrt();
    (mean, (mean - 1.96 * se).max(0.0), mean + 1.96 * se)
}

/// One grid point of an arm's time series since onset.
#[derive(Debug, Clone, PartialEq)]
pub struct TimePoint {
    /// Days since onset.
    pub day: usize,
    /// Patients observed (active, in remission or resolved).
    pub observed: f64,
    /// Share of all patients in each state (active, remission, resolved, lost).
    pub shares: [f64; N_STATES],
    /// Mean pain among the observed, VAS 0-10 (0 outside flares; NaN when
    /// nobody is observed).
    pub mean_pain: f64,
    /// Lower end of the mean pain's 95% band.
    pub pain_lower_95: f64,
    /// Upper end of the mean pain's 95% band.
    pub pain_upper_95: f64,
    /// Share of all patients on each drug of the drug table.
    pub on_drug: Vec<f64>,
}

/// The time series of one arm's occupancy over `total` patients.
pub fn since_onset(occ: &Occupancy, total: f64) -> Vec<TimePoint> {
    let states: Vec<Vec<i64>> = occ.states.iter().map(|d| Occupancy::values(d)).collect();
    let pain = Occupancy::values(&occ.pain);
    let pain_sq = Occupancy::values(&occ.pain_sq);
    let drugs: Vec<Vec<i64>> = occ.drugs.iter().map(|d| Occupancy::values(d)).collect();
    let step = occ.step_days as usize;
    (0..occ.points())
        .map(|i| {
            let observed = (states[0][i] + states[1][i] + states[2][i]) as f64;
            let (mean_pain, pain_lower_95, pain_upper_95) =
                pain_band(pain[i], pain_sq[i], observed);
            TimePoint {
                day: i * step,
                observed,
                shares: std::array::from_fn(|s| states[s][i] as f64 / total),
                mean_pain,
                pain_lower_95,
                pain_upper_95,
                on_drug: drugs.iter().map(|d| d[i] as f64 / total).collect(),
            }
        })
        .collect()
}

/// One month of an arm's time series since diagnosis.
#[derive(Debug, Clone, PartialEq)]
pub struct MonthPoint {
    /// Whole months since diagnosis.
    pub month: usize,
    /// Share of the diagnosed patients whose month still lies within the
    /// horizon in each state (active, remission, resolved, lost).
    pub shares: [f64; N_STATES],
    /// Mean activity score of those observed (not lost).
    pub mean_activity_score: f64,
    /// Patients behind the month: diagnosed, within the horizon, not lost.
    pub observed: i64,
}

/// The monthly series after diagnosis, up to the last month anyone reaches.
pub fn since_diagnosis(f: &FromDiagnosis) -> Vec<MonthPoint> {
    let states: Vec<Vec<i64>> = f.states.iter().map(|d| Occupancy::values(d)).collect();
    let activity = Occupancy::values(&f.activity);
    let mut points = Vec::new();
    for month in 0..f.points() {
        let total: i64 = states.iter().map(|s| s[month]).sum();
        if total == 0 {
            break;
        }
        let observed = states[0][month] + states[1][month] + states[2][month];
        points.push(MonthPoint {
            month,
            shares: std::array::from_fn(|s| states[s][month] as f64 / total as f64),
            mean_activity_score: activity[month] as f64 / ACTIVITY_SCALE / observed as f64,
            observed,
        });
    }
    points
}

/// Shares of patients by flares while observed (bins 0..=49 and 50 or more).
pub fn flare_shares(counts: &[u64]) -> Vec<f64> {
    let n: u64 = counts.iter().sum();
    counts
        .iter()
        .map(|&c| if n == 0 { 0.0 } else { c as f64 / n as f64 })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::patient::{Segment, State};

    #[test]
    fn shares_sum_to_one_and_pain_counts_the_observed() {
        let mut occ = Occupancy::new(4, 7, 0);
        let seg = |a: f64, b: f64, state, pain| Segment {
            start_day: a,
            end_day: b,
            state,
            pain,
            activity: pain / 2.0,
        };
        occ.add_segments(&[
            seg(0.0, 10.0, State::Active, 6.0),
            seg(10.0, 28.0, State::Remission, 0.0),
        ]);
        occ.add_segments(&[
            seg(0.0, 15.0, State::Active, 4.0),
            seg(15.0, 28.0, State::Lost, 0.0),
        ]);
        let series = since_onset(&occ, 2.0);
        for p in &series {
            assert!((p.shares.iter().sum::<f64>() - 1.0).abs() < 1e-12, "{p:?}");
        }
        assert_eq!(series[0].observed, 2.0);
        assert!((series[0].mean_pain - 5.0).abs() < 1e-9);
        // Day 14: one patient in a flare (4), one in remission (0).
        assert!((series[2].mean_pain - 2.0).abs() < 1e-9);
        // Day 21: one observed patient in remission; the lost one does not count.
        assert_eq!((series[3].observed, series[3].mean_pain), (1.0, 0.0));
        assert_eq!(flare_shares(&[0, 3, 1]), vec![0.0, 0.75, 0.25]);
    }

    #[test]
    fn nobody_observed_has_no_mean_pain() {
        assert!(pain_band(0, 0, 0.0).0.is_nan());
    }
}
