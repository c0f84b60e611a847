//! Running simulated trials: each trial enrols its own patients into each
//! arm (streams of their own, keyed by seed, size, trial, arm and patient),
//! measures the endpoint from entry, and applies the endpoint's test to
//! every arm against the control. A trial is one unit of work; units run in
//! parallel and come back in unit order, so results do not depend on the
//! number of threads or on how units are split into shards.

use std::ops::Range;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::engine::model_values::ReplicateModel;
use crate::engine::outcome::Outcome;
use crate::engine::patient::{simulate_patient, Scratch};
use crate::engine::rng::ReplicateKey;
use crate::engine::treatment::{TreatmentPlan, TreatmentState};
use crate::error::{Error, Result};
use crate::study::Study;

use super::design::{BinaryTest, Entry, TrialDesign};
use super::endpoint::{Course, Endpoint, FlareLog, Kind, Measure};
use super::stats::{self, TestResult};

/// Patients screened per arm of a trial before it gives up: this many per
/// place plus a fixed allowance (a scenario where hardly anyone reaches
/// entry is refused rather than simulated for ever).
const SCREEN_PER_PLACE: u64 = 100;
const SCREEN_ALLOWANCE: u64 = 1000;

/// One arm of one trial: how many were screened to enrol it, and the
/// group's summary of the endpoint (None: nobody could be analysed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupResult {
    /// Patients simulated until the arm was full.
    pub screened: u64,
    /// The group summary ([`Endpoint::group_summary_name`]).
    pub summary: Option<f64>,
}

/// One arm against the control in one trial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The arm's index among the study's arms.
    pub arm: usize,
    /// The estimate ([`Endpoint::estimate_name`]).
    pub estimate: Option<f64>,
    /// Two-sided p-value.
    pub p_value: f64,
    /// p-value below the level.
    pub reject: bool,
}

/// One enrolled patient's data (kept for trial 0 of each size).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PatientData {
    /// The arm's index.
    pub arm: usize,
    /// The patient's number under the arm's stream key (counting the
    /// screened patients who were not enrolled).
    pub patient: u64,
    /// The endpoint.
    pub value: Option<f64>,
    /// Days to event or censoring, or days observed.
    pub time_days: Option<f64>,
    /// Event observed.
    pub event: Option<bool>,
}

/// Everything one simulated trial yields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrialRecord {
    /// Patients per arm.
    pub per_arm: u64,
    /// Trial number within the size, from 0.
    pub trial: u64,
    /// Per arm, in the study's order.
    pub groups: Vec<GroupResult>,
    /// Per arm other than the control, in the study's order.
    pub comparisons: Vec<Comparison>,
    /// The enrolled patients' data (trial 0 only; empty otherwise).
    pub patients: Vec<PatientData>,
    /// Days observed of every screened patient (for the manifest).
    pub observed_days: f64,
}

/// What every trial of a design shares: the model (one replicate of the
/// scenario, 0 unless `--replicate`: drawn parameters are fixed across
/// trials) and each arm's treatment plan as a trial gives it.
#[derive(Debug)]
pub struct TrialContext<'a> {
    design: &'a TrialDesign,
    model: ReplicateModel,
    plans: Vec<Option<TreatmentPlan>>,
    origin: String,
}

impl<'a> TrialContext<'a> {
    /// Prepares the trials of `design` on `study` (the parameter values of
    /// the design's replicate); with entry after the first step, each arm's
    /// ladder is the usual first step followed by the arm's own ladder.
    pub fn new(study: &Study, design: &'a TrialDesign) -> Result<Self> {
        let mut model = study.replicate_model(design.replicate);
        model.drawn.clear();
        let plans = study
            .arms()
            .iter()
            .map(|arm| trial_plan(design, arm))
            .collect::<Result<Vec<_>>>()?;
        Ok(TrialContext {
            design,
            model,
            plans,
            origin: study.loaded().origin.clone(),
        })
    }

    /// The work units: one per (size, trial), size by size.
    pub fn units(&self) -> u64 {
        self.design.per_arm.len() as u64 * self.design.trials
    }

    /// Runs units `units` of the design's sizes (multi-threaded on rayon's
    /// current pool, results in unit order); `progress` is called with each
    /// finished trial's enrolled patients.
    pub fn run_units(
        &self,
        units: Range<u64>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Vec<TrialRecord>> {
        let trials = self.design.trials;
        self.run_list(
            units
                .map(|u| (self.design.per_arm[(u / trials) as usize], u % trials))
                .collect(),
            progress,
        )
    }

    /// Runs every trial of one size `per_arm` (which need not be on the grid).
    pub fn run_size(
        &self,
        per_arm: u64,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Vec<TrialRecord>> {
        self.run_list(
            (0..self.design.trials).map(|t| (per_arm, t)).collect(),
            progress,
        )
    }

    fn run_list(
        &self,
        list: Vec<(u64, u64)>,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Vec<TrialRecord>> {
        list.into_par_iter()
            .map(|(n, t)| {
                let r = self.run_trial(n, t);
                progress(n * self.plans.len() as u64);
                r
            })
            .collect()
    }

    /// One trial of `per_arm` patients per arm.
    pub fn run_trial(&self, per_arm: u64, trial: u64) -> Result<TrialRecord> {
        let d = self.design;
        let mut scratch = Scratch::default();
        let mut log = FlareLog::default();
        let mut groups = Vec::with_capacity(self.plans.len());
        let mut measures = Vec::with_capacity(self.plans.len());
        let mut patients = Vec::new();
        let mut observed_days = 0.0;
        for arm in 0..self.plans.len() {
            let key = self.model.key.trial_arm(per_arm, trial, arm as u64);
            let enrolled = self.enrol(key, arm, per_arm, &mut scratch, &mut log)?;
            observed_days += enrolled.observed_days;
            if trial == 0 {
                patients.extend(enrolled.patients.iter().map(|&(patient, m)| PatientData {
                    arm,
                    patient,
                    value: m.value,
                    time_days: m.time_days,
                    event: m.event,
                }));
            }
            let values: Vec<Measure> = enrolled.patients.iter().map(|p| p.1).collect();
            groups.push(GroupResult {
                screened: enrolled.screened,
                summary: summary(d.endpoint, &values),
            });
            measures.push(values);
        }
        let comparisons = (0..self.plans.len())
            .filter(|&a| a != d.control)
            .map(|a| {
                let r = test(
                    d.endpoint,
                    d.binary_test,
                    &measures[d.control],
                    &measures[a],
                );
                Comparison {
                    arm: a,
                    estimate: r.estimate.filter(|e| e.is_finite()),
                    p_value: r.p_value,
                    reject: r.p_value < d.alpha,
                }
            })
            .collect();
        Ok(TrialRecord {
            per_arm,
            trial,
            groups,
            comparisons,
            patients,
            observed_days,
        })
    }

    /// Screens patients 0, 1, 2, ... under the arm's key until `per_arm`
    /// have entered.
    fn enrol(
        &self,
        key: ReplicateKey,
        arm: usize,
        per_arm: u64,
        scratch: &mut Scratch,
        log: &mut FlareLog,
    ) -> Result<Enrolled> {
        let d = self.design;
        let model = ReplicateModel {
            key,
            ..self.model.clone()
        };
        let plan = self.plans[arm].as_ref();
        let limit = per_arm * SCREEN_PER_PLACE + SCREEN_ALLOWANCE;
        let mut out = Enrolled::default();
        let mut patient = 0;
        while (out.patients.len() as u64) < per_arm {
            if patient >= limit {
                return Err(Error::Usage(format!(
                    "{}: only {} of {patient} screened patients reached entry ({}) with {} months of follow-up within the horizon: the trial cannot fill its arms; lengthen horizon_years or shorten [trial] follow_up_months",
                    self.origin,
                    out.patients.len(),
                    d.entry.as_str(),
                    d.follow_up_days / crate::engine::units::DAYS_PER_MONTH
                )));
            }
            log.clear();
            let mut treatment = plan.map(|p| TreatmentState::new(p, &model, patient));
            let o = simulate_patient(&model, patient, treatment.as_mut(), scratch, log);
            if let Some(limit) = o.limit {
                return Err(Error::PatientLimit(format!(
                    "{}: trial patient {patient} of arm {arm}: {}",
                    self.origin,
                    limit.describe()
                )));
            }
            out.observed_days += o.observed_days;
            if let Some(entry_day) = self.entry_day(&o) {
                let course = Course {
                    outcome: &o,
                    flares: &log.flares,
                };
                let m = d.endpoint.measure(&course, entry_day, d.follow_up_days);
                out.patients.push((patient, m));
            }
            patient += 1;
        }
        out.screened = patient;
        Ok(out)
    }

    /// The day the patient enters the trial, if they do: diagnosed (or,
    /// after the first step, escalated from it), still followed then, and
    /// with the whole follow-up within the horizon.
    fn entry_day(&self, o: &Outcome) -> Option<f64> {
        let d = self.design;
        let day = match d.entry {
            Entry::Diagnosis => o.diagnosis.map(|dx| dx.day)?,
            Entry::FirstStepFailed => {
                Some(o.treatment.second_step_day).filter(|s| s.is_finite())?
            }
        };
        let followed = o.lost_day.map_or(true, |lost| lost > day);
        (followed && day + d.follow_up_days <= self.model.horizon_days).then_some(day)
    }
}

/// The patients one arm enrolled: (patient number, endpoint).
#[derive(Debug, Default)]
struct Enrolled {
    patients: Vec<(u64, Measure)>,
    screened: u64,
    observed_days: f64,
}

/// An arm's plan as the trial gives it: the arm's own (with entry after
/// the first step, the study's ladders already begin with that step: see
/// [`super::design::trial_study`]).
fn trial_plan(
    design: &TrialDesign,
    arm: &crate::engine::cohort::Arm,
) -> Result<Option<TreatmentPlan>> {
    if design.entry == Entry::FirstStepFailed && arm.plan.is_none() {
        return Err(Error::Usage(format!(
            "arm {} is untreated: with enrol = \"first_step_failed\" every arm needs a ladder that starts at entry",
            arm.name
        )));
    }
    Ok(arm.plan.clone())
}

/// Binary values and their count of ones, among the analysed patients.
fn binary(values: &[Measure]) -> (u64, u64) {
    let analysed: Vec<f64> = values.iter().filter_map(|m| m.value).collect();
    let ones = analysed.iter().filter(|&&v| v > 0.5).count() as u64;
    (ones, analysed.len() as u64)
}

fn survival(values: &[Measure]) -> Vec<stats::Survival> {
    values
        .iter()
        .filter_map(|m| Some((m.time_days?, m.event?)))
        .collect()
}

fn counts(values: &[Measure]) -> Vec<stats::Count> {
    values
        .iter()
        .filter_map(|m| Some((m.value?, m.time_days? / crate::engine::units::DAYS_PER_YEAR)))
        .collect()
}

fn scores(values: &[Measure]) -> Vec<f64> {
    values.iter().filter_map(|m| m.value).collect()
}

/// The group's summary of the endpoint ([`Endpoint::group_summary_name`]).
fn summary(endpoint: Endpoint, values: &[Measure]) -> Option<f64> {
    match endpoint.kind() {
        Kind::Binary => {
            let (ones, n) = binary(values);
            (n > 0).then(|| ones as f64 / n as f64)
        }
        Kind::TimeToEvent => {
            let s = survival(values);
            (!s.is_empty()).then(|| s.iter().filter(|x| x.1).count() as f64 / s.len() as f64)
        }
        Kind::Rate => {
            let c = counts(values);
            let (y, t) = c.iter().fold((0.0, 0.0), |a, x| (a.0 + x.0, a.1 + x.1));
            (t > 0.0).then(|| y / t)
        }
        Kind::Continuous => {
            let s = scores(values);
            (!s.is_empty()).then(|| s.iter().sum::<f64>() / s.len() as f64)
        }
    }
}

/// The endpoint's test of `arm` against `control`.
fn test(
    endpoint: Endpoint,
    binary_test: BinaryTest,
    control: &[Measure],
    arm: &[Measure],
) -> TestResult {
    match endpoint.kind() {
        Kind::Binary => {
            let ((x0, n0), (x1, n1)) = (binary(control), binary(arm));
            match binary_test {
                BinaryTest::ChiSquare => stats::chi_square(x0, n0, x1, n1),
                BinaryTest::Fisher => stats::fisher_exact(x0, n0, x1, n1),
            }
        }
        Kind::TimeToEvent => stats::log_rank(&survival(control), &survival(arm)),
        Kind::Rate => stats::quasi_poisson(&counts(control), &counts(arm)),
        Kind::Continuous => stats::welch(&scores(control), &scores(arm)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::events::{EventKind, EventLog};
    use crate::trial::design::Overrides;

    const REFRACTORY: &str = r#"
seed = 3
horizon_years = 6

[[arm]]
name = "methotrexate"
ladder = ["methotrexate", "tnf_inhibitor"]

[[arm]]
name = "tnf"
ladder = ["tnf_inhibitor"]

[trial]
enrol = "first_step_failed"
endpoint = "time_to_relapse"
per_arm = [30]
trials = 2
"#;

    fn study(text: &str) -> Study {
        let loaded = crate::scenario::parse(text, "t.toml").unwrap();
        crate::trial::design::trial_study(loaded, &Overrides::default()).unwrap()
    }

    /// With entry after the first step, every enrolled patient was
    /// diagnosed, was on the usual first step (NSAID) from diagnosis, and
    /// starts the arm's own first drug on the day of entry.
    #[test]
    fn refractory_patients_start_the_arm_ladder_at_entry() {
        let s = study(REFRACTORY);
        let design = TrialDesign::resolve(&s, &Overrides::default()).unwrap();
        assert_eq!(design.entry, Entry::FirstStepFailed);
        let ctx = TrialContext::new(&s, &design).unwrap();
        let nsaid = s.drugs().index("nsaid").unwrap();
        for (arm, first) in [(0, "methotrexate"), (1, "tnf_inhibitor")] {
            let first = s.drugs().index(first).unwrap();
            let model = ReplicateModel {
                key: ctx.model.key.trial_arm(30, 0, arm as u64),
                ..ctx.model.clone()
            };
            let plan = ctx.plans[arm].as_ref().unwrap();
            let (mut enrolled, mut screened) = (0, 0);
            for patient in 0..400 {
                let mut log = EventLog::default();
                let mut t = TreatmentState::new(plan, &model, patient);
                let o = simulate_patient(
                    &model,
                    patient,
                    Some(&mut t),
                    &mut Scratch::default(),
                    &mut log,
                );
                screened += 1;
                let Some(entry) = ctx.entry_day(&o) else {
                    continue;
                };
                enrolled += 1;
                let dx = o.diagnosis.unwrap().day;
                assert!(entry > dx, "entry {entry} after diagnosis {dx}");
                let starts: Vec<(f64, u16, u16)> = log
                    .0
                    .iter()
                    .filter_map(|(d, k)| match k {
                        EventKind::DrugStart { drug, step } => Some((*d, *drug, *step)),
                        _ => None,
                    })
                    .collect();
                assert_eq!(starts[0], (dx, nsaid, 0), "NSAID from diagnosis");
                let at_entry = starts.iter().find(|s| s.2 == 1).unwrap();
                assert_eq!((at_entry.0, at_entry.1), (entry, first));
            }
            // Some patients never fail the first step: fewer enter than are screened.
            assert!(
                enrolled > 20 && enrolled < screened,
                "{enrolled} of {screened}"
            );
        }
    }

    #[test]
    fn refractory_entry_refuses_endpoints_measured_at_diagnosis_and_untreated_arms() {
        let s = study(REFRACTORY);
        let pedcno = Overrides {
            endpoint: Some("pedcno50_12_months".into()),
            ..Overrides::default()
        };
        let e = TrialDesign::resolve(&s, &pedcno).unwrap_err();
        assert!(e.to_string().contains("not available with enrol"), "{e}");
        let untreated = study(&REFRACTORY.replace(
            "name = \"tnf\"\nladder = [\"tnf_inhibitor\"]",
            "name = \"none\"\nuntreated = true",
        ));
        let design = TrialDesign::resolve(&untreated, &Overrides::default()).unwrap();
        let e = TrialContext::new(&untreated, &design).unwrap_err();
        assert!(e.to_string().contains("untreated"), "{e}");
    }
}
