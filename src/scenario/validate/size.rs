//! Size rules of the validation layer: the whole run (patients x
//! replicates x arms, and the memory kept per replicate), a sweep's grid
//! points summed, the engine's fixed drug slots, and the criteria
//! command's case mix. The limits themselves are declared in
//! [`crate::scenario::limits`], each with the reason for its value.

use std::ops::Range;

use super::{at_key, invalid_at};
use crate::error::{Error, Result};
use crate::scenario::differential::Mimic;
use crate::scenario::dist::num;
use crate::scenario::limits::{
    MAX_COURSES, MAX_PATIENTS, MAX_REPLICATE_ARM_YEARS, MAX_STEP_DRUGS, MAX_USED_DRUGS,
};
use crate::scenario::treatment::ArmSpec;
use crate::scenario::{LoadedScenario, Scenario};

/// Rule `run_size`: the run as the file asks for it, blamed on the key
/// [`check_run_size`] names.
pub(super) fn run_size(l: &LoadedScenario) -> Result<()> {
    check_run_size(&l.scenario).map_err(|(key, message)| at_key(l, key, message))
}

/// `--patients` and `--seed` (`patients`, `seed`: given) on a scenario
/// whose `[sweep]` varies that field: refused, since every grid point sets
/// its own.
pub fn overrides(l: &LoadedScenario, patients: bool, seed: bool) -> Result<()> {
    for (option, key, given) in [
        ("--patients", "patients", patients),
        ("--seed", "seed", seed),
    ] {
        if given && swept_key(l, key) {
            return Err(Error::Usage(format!(
                "{}: {option} cannot be used with a [sweep] of `{key}`: every grid point sets its own {key}; drop {option} or the swept `{key}`",
                l.origin
            )));
        }
    }
    Ok(())
}

/// Whether the scenario's `[sweep]` varies the top-level field `key`.
fn swept_key(l: &LoadedScenario, key: &str) -> bool {
    l.scenario
        .sweep
        .as_ref()
        .is_some_and(|t| t.get_ref().keys().any(|k| k.get_ref() == key))
}

/// The run size again after `--patients` (and `--seed`) replaced the
/// file's values: a usage error, since the file itself was accepted.
pub fn run_size_with_overrides(l: &LoadedScenario) -> Result<()> {
    check_run_size(&l.scenario)
        .map_err(|(_, m)| Error::Usage(format!("{}: with --patients: {m}", l.origin)))
}

/// Checks the size of the whole run (after command-line overrides):
/// patients x replicates x arms, and the memory kept per replicate.
/// Returns what is wrong and what is allowed; the key to blame comes first.
fn check_run_size(s: &Scenario) -> std::result::Result<(), (&'static str, String)> {
    let arms = s.arm.len().max(1) as u64;
    let courses = s
        .patients
        .saturating_mul(u64::from(s.replicates))
        .saturating_mul(arms);
    if courses > MAX_COURSES {
        return Err((
            "patients",
            format!(
                "{} patients x {} replicate(s) x {arms} arm(s) = {courses} patient courses in all; at most {MAX_COURSES} are allowed in one run: lower `patients` or `replicates`",
                s.patients, s.replicates
            ),
        ));
    }
    let load = f64::from(s.replicates) * arms as f64 * s.horizon_years;
    if load > MAX_REPLICATE_ARM_YEARS {
        return Err((
            "replicates",
            format!(
                "{} replicate(s) x {arms} arm(s) x {} horizon years = {} in all; at most {} are allowed (each replicate keeps day-resolution results per arm): lower `replicates`",
                s.replicates,
                num(s.horizon_years),
                num(load),
                num(MAX_REPLICATE_ARM_YEARS)
            ),
        ));
    }
    Ok(())
}

/// What a sweep grid point's pooled curves weigh, in replicates (see
/// [`check_sweep_size`]).
const CURVE_REPLICATES: f64 = 10.0;

/// What the run-size limits count of one sweep grid point, as it runs
/// (after command-line overrides and the point's own swept values).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointSize {
    /// Patients per replicate.
    pub patients: u64,
    /// Replicates.
    pub replicates: u32,
    /// Horizon, years.
    pub horizon_years: f64,
}

impl PointSize {
    /// The size of a scenario's run.
    pub fn of(s: &Scenario) -> Self {
        PointSize {
            patients: s.patients,
            replicates: s.replicates,
            horizon_years: s.horizon_years,
        }
    }
}

/// The size of a sweep whose grid points have `sizes` (see
/// [`check_sweep_size`]), blamed on the `[sweep]` table at `table`.
pub fn sweep_size(
    l: &LoadedScenario,
    table: Range<usize>,
    arms: usize,
    sizes: &[PointSize],
) -> Result<()> {
    check_sweep_size(arms, sizes)
        .map_err(|m| invalid_at(l, table.start, format!("[sweep] is too large: {m}")))
}

/// Checks the size of a sweep whose grid points have `sizes`, each run with
/// `arms` arms: the limits of [`check_run_size`] summed over the points,
/// each point's curves counted as ten more replicates (docs/scenarios.md, "Limits").
/// The message gives the figures the points have.
fn check_sweep_size(arms: usize, sizes: &[PointSize]) -> std::result::Result<(), String> {
    let arms = arms.max(1) as u64;
    let n = sizes.len();
    let first = sizes.first().copied().unwrap_or(PointSize {
        patients: 0,
        replicates: 0,
        horizon_years: 0.0,
    });
    let uniform = sizes.iter().all(|p| *p == first);
    let courses = sizes.iter().fold(0u64, |sum, p| {
        sum.saturating_add(
            p.patients
                .saturating_mul(u64::from(p.replicates))
                .saturating_mul(arms),
        )
    });
    if courses > MAX_COURSES {
        let how = if uniform {
            format!(
                "{} patients x {} replicate(s) x {arms} arm(s) x {n} grid points",
                first.patients, first.replicates
            )
        } else {
            format!("patients x replicates x {arms} arm(s), summed over the {n} grid points")
        };
        return Err(format!(
            "{how} = {courses} patient courses in all; at most {MAX_COURSES} are allowed in one run: lower `patients` (or --patients), `replicates` or the number of sweep values"
        ));
    }
    // Besides its replicates' results, every grid point keeps its pooled
    // curves (time series, Kaplan-Meier) until sweep.csv is written: about
    // as much memory as ten replicates (measured: 1000 points of 2 arms
    // over 100 years took 7 GB).
    let load: f64 = sizes
        .iter()
        .map(|p| (f64::from(p.replicates) + CURVE_REPLICATES) * arms as f64 * p.horizon_years)
        .sum();
    if load > MAX_REPLICATE_ARM_YEARS {
        let how = if uniform {
            format!(
                "{n} grid points x ({} replicate(s) + {} for the curves) x {arms} arm(s) x {} horizon years",
                first.replicates,
                num(CURVE_REPLICATES),
                num(first.horizon_years)
            )
        } else {
            format!(
                "(replicates + {}) x {arms} arm(s) x horizon years, summed over the {n} grid points",
                num(CURVE_REPLICATES)
            )
        };
        return Err(format!(
            "{how} = {} in all; at most {} are allowed (every grid point keeps day-resolution results per replicate and arm, and its curves): lower `replicates`, `horizon_years` or the number of sweep values",
            num(load),
            num(MAX_REPLICATE_ARM_YEARS)
        ));
    }
    Ok(())
}

/// Rule `engine_limits`: the engine's fixed slots, drugs in one step
/// ([`MAX_STEP_DRUGS`]) and different drugs over all arms
/// ([`MAX_USED_DRUGS`]). Also run again by a command that changes the
/// ladders after loading (a trial's usual first step).
pub fn engine_limits(l: &LoadedScenario) -> Result<()> {
    let mut seen: Vec<String> = Vec::new();
    for arm in &l.scenario.arm {
        for (span, step) in spanned_steps(arm) {
            if step.len() > MAX_STEP_DRUGS {
                return Err(invalid_at(
                    l,
                    span.start,
                    format!(
                        "a step of arm `{}` combines {} drugs; at most {MAX_STEP_DRUGS} are allowed in one step",
                        arm.name.get_ref(),
                        step.len()
                    ),
                ));
            }
            for d in step {
                if !seen.contains(&d) {
                    seen.push(d);
                    if seen.len() > MAX_USED_DRUGS {
                        return Err(invalid_at(
                            l,
                            span.start,
                            format!(
                                "the arms use more than {MAX_USED_DRUGS} different drugs (`{}` is number {}); at most {MAX_USED_DRUGS} are allowed in one scenario",
                                seen[seen.len() - 1],
                                seen.len()
                            ),
                        ));
                    }
                }
            }
        }
    }
    Ok(())
}

/// The steps of an arm with their spans, each step as its drug names.
pub(crate) fn spanned_steps(arm: &ArmSpec) -> Vec<(Range<usize>, Vec<String>)> {
    arm.ladder.as_ref().map_or_else(Vec::new, |l| {
        l.get_ref()
            .iter()
            .map(|step| {
                let drugs = step
                    .get_ref()
                    .split('+')
                    .map(|d| d.trim().to_string())
                    .collect();
                (step.span(), drugs)
            })
            .collect()
    })
}

/// The criteria command's populations: each mimic's count beside the
/// CRMO patients (after `--patients`) is at most [`MAX_PATIENTS`].
pub fn case_mix(l: &LoadedScenario) -> Result<()> {
    let s = &l.scenario;
    let mix = &s.differential.case_mix;
    let Some((m, n)) = Mimic::ALL
        .iter()
        .map(|m| (m, mix.mimic_count(*m, s.patients)))
        .find(|(_, n)| *n > MAX_PATIENTS)
    else {
        return Ok(());
    };
    Err(Error::Invalid {
        path: l.origin.clone(),
        location: crate::scenario::locate_key(&l.text, m.as_str())
            .or_else(|| crate::scenario::locate_key(&l.text, "case_mix")),
        message: format!(
            "the case mix gives {n} children with {} beside {} CRMO patients; at most {MAX_PATIENTS} are simulated per population: lower its share or --patients",
            m.as_str(),
            s.patients
        ),
    })
}
