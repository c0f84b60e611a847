//! The design of a set of virtual trials, resolved from the scenario's
//! `[trial]` table and the command-line flags that override it, and checked
//! before any work: sizes, trial count, endpoint, level, control arm, entry,
//! the binary test and the follow-up.

use crate::error::{Error, Result};
use crate::scenario::trial::TrialTable;
use crate::scenario::LoadedScenario;
use crate::study::Study;

pub use super::endpoint::BinaryTest;
use super::endpoint::Endpoint;

/// Default sizes per arm.
pub const DEFAULT_PER_ARM: [u64; 3] = [20, 40, 80];
/// Default number of simulated trials per size.
pub const DEFAULT_TRIALS: u64 = 1000;
/// Default two-sided level.
pub const DEFAULT_ALPHA: f64 = 0.05;
/// Default follow-up from entry, months.
pub const DEFAULT_FOLLOW_UP_MONTHS: f64 = 24.0;
/// Most patients per arm of one trial.
pub const MAX_PER_ARM: u64 = 100_000;
/// Most simulated trials per size.
pub const MAX_TRIALS: u64 = 1_000_000;
/// Most enrolled patients over all trials, sizes and arms (the bound on work).
pub const MAX_ENROLLED: u64 = 1_000_000_000;

/// When a patient enters a trial.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Entry {
    /// At diagnosis: the arm's ladder starts then.
    Diagnosis,
    /// When the usual first step has failed (escalation from it, for lack of
    /// response or an adverse event): the patient is on that step from
    /// diagnosis and the arm's ladder starts at entry.
    FirstStepFailed,
}

impl Entry {
    /// The name in `[trial] enrol` and `--enrol`.
    pub fn as_str(self) -> &'static str {
        match self {
            Entry::Diagnosis => "diagnosis",
            Entry::FirstStepFailed => "first_step_failed",
        }
    }
}

/// Everything the trial runner needs to know, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialDesign {
    /// Patients per arm, one trial size each, ascending, without repeats.
    pub per_arm: Vec<u64>,
    /// Simulated trials per size.
    pub trials: u64,
    /// The primary endpoint.
    pub endpoint: Endpoint,
    /// Two-sided level.
    pub alpha: f64,
    /// Index of the control arm among the study's arms.
    pub control: usize,
    /// Entry point.
    pub entry: Entry,
    /// The usual first step (drug names) of a [`Entry::FirstStepFailed`] design.
    pub first_step: Vec<String>,
    /// The test of a binary endpoint.
    pub binary_test: BinaryTest,
    /// Follow-up from entry, days.
    pub follow_up_days: f64,
    /// The power whose smallest per-arm size is searched.
    pub target_power: Option<f64>,
    /// The scenario replicate whose parameter draws every trial uses (with
    /// parameters given as distributions: one PSA draw per command).
    pub replicate: u32,
}

/// The flags of `crmo-sim trial` that override `[trial]` (None: not given).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Overrides {
    /// `--per-arm`.
    pub per_arm: Option<Vec<u64>>,
    /// `--trials`.
    pub trials: Option<u64>,
    /// `--endpoint`.
    pub endpoint: Option<String>,
    /// `--alpha`.
    pub alpha: Option<f64>,
    /// `--control`.
    pub control: Option<String>,
    /// `--enrol`.
    pub enrol: Option<String>,
    /// `--binary-test`.
    pub binary_test: Option<String>,
    /// `--target-power`.
    pub target_power: Option<f64>,
    /// `--replicate`.
    pub replicate: Option<u32>,
}

fn usage(msg: String) -> Error {
    Error::Usage(msg)
}

/// The usual first step of a `first_step_failed` design (`[trial]
/// first_step`, default `nsaid`), as drug names.
fn first_step_drugs(t: &TrialTable) -> Vec<String> {
    let step = t.first_step.clone().unwrap_or_else(|| "nsaid".into());
    step.split('+').map(|d| d.trim().to_string()).collect()
}

/// The study trials of `loaded` run on. With entry after the usual first
/// step, every arm's ladder becomes that step followed by the arm's own
/// ladder, so the patient is on the step from diagnosis and the arm's
/// ladder starts when it fails (the drug table then holds the step's
/// drugs, and the scenario's checks apply to the ladders the trials give).
pub fn trial_study(mut loaded: LoadedScenario, flags: &Overrides) -> Result<Study> {
    let t = loaded.scenario.trial.clone().unwrap_or_default();
    if entry(flags.enrol.as_deref().or(t.enrol.as_deref()))? == Entry::FirstStepFailed {
        let drugs = first_step_drugs(&t);
        crate::scenario::validate::trial_first_step(&loaded, &drugs)?;
        let step = drugs.join("+");
        for arm in &mut loaded.scenario.arm {
            if let Some(ladder) = &mut arm.ladder {
                let span = ladder.span();
                ladder
                    .get_mut()
                    .insert(0, toml::Spanned::new(span, step.clone()));
            }
        }
    }
    Study::resolve(loaded)
}

impl TrialDesign {
    /// Resolves the design of `study`'s `[trial]` table with `flags` applied,
    /// refusing (as a usage error, exit code 2) anything out of range.
    pub fn resolve(study: &Study, flags: &Overrides) -> Result<TrialDesign> {
        let t = study.scenario().trial.clone().unwrap_or_default();
        let origin = &study.loaded().origin;
        if study.sweep().is_some() {
            return Err(usage(format!(
                "{origin}: a scenario with [sweep] cannot run trials: remove [sweep] (trials compare the arms at one set of parameter values)"
            )));
        }
        let arms = study.arm_names();
        if arms.len() < 2 {
            return Err(usage(format!(
                "{origin}: a trial needs at least two arms ([[arm]] tables); the scenario has {}: {}",
                arms.len(),
                arms.join(", ")
            )));
        }
        let per_arm = per_arm(flags.per_arm.clone().or(t.per_arm.clone()))?;
        let trials = trial_count(flags.trials.or(t.trials))?;
        check_work(&per_arm, trials, arms.len())?;
        let endpoint = endpoint(flags.endpoint.as_deref().or(t.endpoint.as_deref()))?;
        let alpha = alpha(flags.alpha.or(t.alpha))?;
        let control = control(flags.control.as_deref().or(t.control.as_deref()), &arms)?;
        let entry = entry(flags.enrol.as_deref().or(t.enrol.as_deref()))?;
        let binary_test = binary_test(flags.binary_test.as_deref().or(t.binary_test.as_deref()))?;
        let follow_up_days = follow_up(&t, study.scenario().horizon_years)?;
        let target_power = target_power(flags.target_power.or(t.target_power))?;
        let first_step = first_step(&t, study, entry)?;
        let replicate = replicate(flags.replicate, study.scenario().replicates)?;
        if entry == Entry::FirstStepFailed && !endpoint.after_any_entry() {
            return Err(usage(format!(
                "endpoint {} is measured against the diagnosis visit and is not available with enrol = \"first_step_failed\"; use one of: {}",
                endpoint.as_str(),
                Endpoint::ALL
                    .iter()
                    .filter(|e| e.after_any_entry())
                    .map(|e| e.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        Ok(TrialDesign {
            per_arm,
            trials,
            endpoint,
            alpha,
            control,
            entry,
            first_step,
            binary_test,
            follow_up_days,
            target_power,
            replicate,
        })
    }

    /// The name of the test applied to the endpoint.
    pub fn test_name(&self) -> &'static str {
        self.endpoint.test_name(self.binary_test)
    }
}

fn per_arm(given: Option<Vec<u64>>) -> Result<Vec<u64>> {
    let mut sizes = given.unwrap_or_else(|| DEFAULT_PER_ARM.to_vec());
    if sizes.is_empty() {
        return Err(usage(
            "--per-arm / [trial] per_arm is empty: give at least one size, e.g. 20,40,80".into(),
        ));
    }
    if let Some(bad) = sizes.iter().find(|&&n| !(2..=MAX_PER_ARM).contains(&n)) {
        return Err(usage(format!(
            "--per-arm / [trial] per_arm: {bad} patients per arm is not allowed: each size must be a whole number from 2 to {MAX_PER_ARM}"
        )));
    }
    sizes.sort_unstable();
    sizes.dedup();
    Ok(sizes)
}

fn trial_count(given: Option<u64>) -> Result<u64> {
    let n = given.unwrap_or(DEFAULT_TRIALS);
    if !(1..=MAX_TRIALS).contains(&n) {
        return Err(usage(format!(
            "--trials / [trial] trials: {n} is not allowed: expected a whole number from 1 to {MAX_TRIALS}"
        )));
    }
    Ok(n)
}

fn check_work(per_arm: &[u64], trials: u64, arms: usize) -> Result<()> {
    let enrolled: u128 = per_arm
        .iter()
        .map(|&n| u128::from(n) * u128::from(trials) * arms as u128)
        .sum();
    if enrolled > u128::from(MAX_ENROLLED) {
        return Err(usage(format!(
            "{enrolled} enrolled patients (sizes x trials x arms) is more than the {MAX_ENROLLED} one command may simulate: fewer --trials or smaller --per-arm"
        )));
    }
    Ok(())
}

fn endpoint(given: Option<&str>) -> Result<Endpoint> {
    match given {
        None => Ok(Endpoint::PedCno50At12Months),
        Some(name) => Endpoint::from_name(name).ok_or_else(|| {
            usage(format!(
                "unknown endpoint {}: expected one of {}",
                crate::scenario::limits::shown(name),
                Endpoint::ALL
                    .iter()
                    .map(|e| e.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }),
    }
}

fn alpha(given: Option<f64>) -> Result<f64> {
    let a = given.unwrap_or(DEFAULT_ALPHA);
    if !(a > 0.0 && a <= 0.5) {
        return Err(usage(format!(
            "--alpha / [trial] alpha: {a} is not allowed: the two-sided level must be in (0, 0.5]"
        )));
    }
    Ok(a)
}

fn control(given: Option<&str>, arms: &[String]) -> Result<usize> {
    match given {
        None => Ok(0),
        Some(name) => arms.iter().position(|a| a == name).ok_or_else(|| {
            usage(format!(
                "control arm {} does not exist: the scenario's arms are {}",
                crate::scenario::limits::shown(name),
                arms.join(", ")
            ))
        }),
    }
}

fn entry(given: Option<&str>) -> Result<Entry> {
    match given.unwrap_or("diagnosis") {
        "diagnosis" => Ok(Entry::Diagnosis),
        "first_step_failed" => Ok(Entry::FirstStepFailed),
        other => Err(usage(format!(
            "--enrol / [trial] enrol: {} is not allowed: expected diagnosis or first_step_failed",
            crate::scenario::limits::shown(other)
        ))),
    }
}

fn binary_test(given: Option<&str>) -> Result<BinaryTest> {
    match given.unwrap_or("chi_square") {
        "chi_square" => Ok(BinaryTest::ChiSquare),
        "fisher" => Ok(BinaryTest::Fisher),
        other => Err(usage(format!(
            "--binary-test / [trial] binary_test: {} is not allowed: expected chi_square or fisher",
            crate::scenario::limits::shown(other)
        ))),
    }
}

fn follow_up(t: &TrialTable, horizon_years: f64) -> Result<f64> {
    let months = t.follow_up_months.unwrap_or(DEFAULT_FOLLOW_UP_MONTHS);
    if !(12.0..=1200.0).contains(&months) || months > horizon_years * 12.0 {
        return Err(usage(format!(
            "[trial] follow_up_months: {months} is not allowed: at least 12 (the 12-month endpoints) and at most the horizon ({} months)",
            horizon_years * 12.0
        )));
    }
    Ok(months * crate::engine::units::DAYS_PER_MONTH)
}

fn target_power(given: Option<f64>) -> Result<Option<f64>> {
    match given {
        Some(p) if !(p > 0.0 && p < 1.0) => Err(usage(format!(
            "--target-power / [trial] target_power: {p} is not allowed: expected a power in (0, 1), e.g. 0.8"
        ))),
        other => Ok(other),
    }
}

fn replicate(given: Option<u32>, replicates: u32) -> Result<u32> {
    let r = given.unwrap_or(0);
    if r >= replicates {
        return Err(usage(format!(
            "--replicate {r} is not allowed: the scenario has {replicates} replicate(s), numbered from 0"
        )));
    }
    Ok(r)
}

fn first_step(t: &TrialTable, study: &Study, entry: Entry) -> Result<Vec<String>> {
    let drugs = first_step_drugs(t);
    if entry == Entry::FirstStepFailed {
        let known = study.drug_names();
        if let Some(bad) = drugs.iter().find(|d| !known.contains(d)) {
            return Err(usage(format!(
                "[trial] first_step: unknown drug {}: the scenario's drugs are {}",
                crate::scenario::limits::shown(bad),
                known.join(", ")
            )));
        }
    }
    Ok(drugs)
}
