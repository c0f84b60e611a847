//! The cohort runner: replicates × fixed chunks of patients, in parallel with
//! rayon, each patient simulated under every arm (common random numbers).
//!
//! Determinism: chunk boundaries depend only on [`CHUNK_PATIENTS`], every
//! accumulator is an integer, and per-patient rows are gathered per chunk and
//! written in chunk order, so every output is byte-identical whatever the
//! thread count. Chunks run in batches of [`BATCH_CHUNKS_PER_THREAD`] per
//! worker, so memory stays flat in the cohort size.

use rayon::prelude::*;

use crate::scenario::Scenario;

use super::accum::{add_endpoints, add_timeseries, DayHistogram, Occupancy, Stat, SurvivalCounts};
use super::metrics::{metrics_for, Estimator, Metric};
use super::model_values::ReplicateModel;
use super::patient::{simulate_patient, Discard, EventLog, Limit, Outcome, Scratch};
use super::treatment::{TreatmentPlan, TreatmentState, MAX_DRUGS, MAX_STEP_DRUGS};
use crate::scenario::treatment::{ladder_steps, used_drugs};

/// Patients per chunk; part of the determinism contract (do not derive from threads).
pub const CHUNK_PATIENTS: u64 = 1024;
/// Chunks simulated between two merges, per worker thread. Only memory and
/// load balance depend on it: merges are exact, so results do not.
pub const BATCH_CHUNKS_PER_THREAD: u64 = 4;

/// One arm: a name and its strategy (None: natural history, no treatment).
#[derive(Debug, Clone)]
pub struct Arm {
    /// Name in the `arm` column.
    pub name: String,
    /// The strategy.
    pub plan: Option<TreatmentPlan>,
}

/// What one arm accumulates within one replicate.
#[derive(Debug, Clone, PartialEq)]
pub struct ArmStats {
    /// One [`Stat`] per metric.
    pub stats: Vec<Stat>,
    /// Diagnostic delay, days.
    pub delay: DayHistogram,
}

/// What one arm accumulates over all replicates (curves are pooled).
#[derive(Debug, Clone, PartialEq)]
pub struct ArmCurves {
    /// Time series.
    pub occupancy: Occupancy,
    /// Kaplan–Meier counts per endpoint.
    pub km: [SurvivalCounts; 4],
    /// Patients by number of flares while observed (last bin: that many or more).
    pub flares: Vec<u64>,
}

/// Bins of the flares-per-patient histogram (0..=49, and 50 or more).
pub const FLARE_BINS: usize = 51;

/// Accumulators of one replicate.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicateStats {
    /// Per arm.
    pub arms: Vec<ArmStats>,
    /// Per arm after the first, per metric: paired differences from the first arm.
    pub differences: Vec<Vec<Stat>>,
}

/// Everything a run accumulates.
#[derive(Debug, Clone, PartialEq)]
pub struct CohortResult {
    /// Arm names.
    pub arms: Vec<String>,
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
}

impl PartialEq for Metric {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// The arms of a scenario and the names of the drugs they use (indexed by
/// the drug numbers in events and intervals). A scenario without arms has one
/// arm, `natural_history`, without treatment.
pub fn scenario_arms(
    s: &crate::scenario::LoadedScenario,
) -> crate::Result<(Vec<Arm>, Vec<String>)> {
    let sc = &s.scenario;
    let drugs: Vec<String> = used_drugs(&sc.drugs, &sc.arm)
        .into_iter()
        .map(|u| u.name)
        .collect();
    if drugs.len() > MAX_DRUGS {
        return Err(crate::Error::Invalid {
            path: s.origin.clone(),
            location: None,
            message: format!(
                "the arms use {} drugs; at most {MAX_DRUGS} are supported",
                drugs.len()
            ),
        });
    }
    if let Some(arm) = sc
        .arm
        .iter()
        .find(|a| ladder_steps(a).iter().any(|st| st.len() > MAX_STEP_DRUGS))
    {
        return Err(crate::Error::Invalid {
            path: s.origin.clone(),
            location: Some(crate::scenario::line_column(&s.text, arm.name.span().start)),
            message: format!(
                "a step of arm `{}` combines more than {MAX_STEP_DRUGS} drugs",
                arm.name.get_ref()
            ),
        });
    }
    if sc.arm.is_empty() {
        return Ok((
            vec![Arm {
                name: "natural_history".into(),
                plan: None,
            }],
            drugs,
        ));
    }
    let arms = sc
        .arm
        .iter()
        .map(|a| Arm {
            name: a.name.get_ref().clone(),
            plan: (!a.untreated).then(|| TreatmentPlan::from_spec(a, &drugs)),
        })
        .collect();
    Ok((arms, drugs))
}

/// The arm called `name` (None: the first), or a usage error listing the arms.
pub fn choose_arm<'a>(
    loaded: &crate::scenario::LoadedScenario,
    arms: &'a [Arm],
    name: Option<&str>,
) -> crate::Result<&'a Arm> {
    match name {
        None => arms.first(),
        Some(n) => arms.iter().find(|a| a.name == n),
    }
    .ok_or_else(|| {
        let names: Vec<&str> = arms.iter().map(|a| a.name.as_str()).collect();
        crate::Error::Usage(format!(
            "unknown arm {:?}: scenario {} has arm{} {}",
            name.unwrap_or(""),
            loaded.name(),
            if names.len() == 1 { "" } else { "s" },
            names.join(", ")
        ))
    })
}

/// Receives per-patient rows, in patient order.
pub trait RowSink: Send {
    /// Whether per-patient rows are wanted at all.
    fn wants_rows(&self) -> bool;
    /// Takes one chunk's rows: for each arm, each patient, its outcome and events.
    fn write_chunk(&mut self, replicate: u32, rows: &[PatientRows]) -> crate::Result<()>;
}

/// One patient's rows under one arm.
#[derive(Debug, Clone)]
pub struct PatientRows {
    /// Arm index.
    pub arm: usize,
    /// The outcome.
    pub outcome: Outcome,
    /// The events.
    pub events: EventLog,
}

/// A sink that wants nothing.
#[derive(Debug, Default)]
pub struct NoRows;

impl RowSink for NoRows {
    fn wants_rows(&self) -> bool {
        false
    }
    fn write_chunk(&mut self, _: u32, _: &[PatientRows]) -> crate::Result<()> {
        Ok(())
    }
}

/// Shape of the accumulators, fixed by the scenario.
#[derive(Debug, Clone, Copy)]
struct Shape {
    horizon_days: usize,
    grid_points: usize,
    step_days: u32,
    drugs: usize,
}

impl Shape {
    fn arm_stats(&self, n_metrics: usize) -> ArmStats {
        ArmStats {
            stats: vec![Stat::default(); n_metrics],
            delay: DayHistogram::new(self.horizon_days + 1),
        }
    }

    fn replicate_stats(&self, n_arms: usize, n_metrics: usize) -> ReplicateStats {
        ReplicateStats {
            arms: (0..n_arms).map(|_| self.arm_stats(n_metrics)).collect(),
            differences: (1..n_arms)
                .map(|_| vec![Stat::default(); n_metrics])
                .collect(),
        }
    }

    fn curves(&self) -> ArmCurves {
        let km = || SurvivalCounts::new(self.horizon_days + 1);
        ArmCurves {
            occupancy: Occupancy::new(self.grid_points, self.step_days, self.drugs),
            km: [km(), km(), km(), km()],
            flares: vec![0; FLARE_BINS],
        }
    }
}

/// One chunk's accumulators.
struct ChunkAcc {
    stats: ReplicateStats,
    curves: Vec<ArmCurves>,
    rows: Vec<PatientRows>,
    patient_days: f64,
    /// The first patient (and arm) that hit a per-patient limit; the chunk stops there.
    limit: Option<(u64, usize, Limit)>,
}

/// Runs the whole cohort: every replicate, every patient, every arm.
///
/// Multi-threaded (rayon's global pool) over chunks of patients; results do
/// not depend on the number of threads. `progress` is called with the number
/// of patients finished after each batch.
pub fn run_cohort(
    scenario: &Scenario,
    arms: &[Arm],
    drugs: usize,
    sink: &mut dyn RowSink,
    progress: &(dyn Fn(u64) + Sync),
) -> crate::Result<CohortResult> {
    let max_steps = arms
        .iter()
        .filter_map(|a| a.plan.as_ref().map(|p| p.steps.len()))
        .max()
        .unwrap_or(0);
    let drug_names: Vec<String> = used_drugs(&scenario.drugs, &scenario.arm)
        .into_iter()
        .map(|u| u.name)
        .collect();
    let metrics = metrics_for(scenario.horizon_years, &drug_names, max_steps);
    let horizon_days =
        (scenario.horizon_years * super::model_values::DAYS_PER_YEAR).ceil() as usize;
    let step_days = scenario.output.timeseries_step_weeks * 7;
    let shape = Shape {
        horizon_days,
        grid_points: horizon_days / step_days as usize + 1,
        step_days,
        drugs,
    };
    let want_rows = sink.wants_rows();
    let n_chunks = scenario.patients.div_ceil(CHUNK_PATIENTS);
    let mut curves: Vec<ArmCurves> = arms.iter().map(|_| shape.curves()).collect();
    let mut replicates = Vec::new();
    let mut patient_days = 0.0;
    for r in 0..scenario.replicates {
        let model = ReplicateModel::new(scenario, r);
        let mut rep = shape.replicate_stats(arms.len(), metrics.len());
        let batch = BATCH_CHUNKS_PER_THREAD * rayon::current_num_threads() as u64;
        let mut first = 0;
        while first < n_chunks {
            let last = (first + batch).min(n_chunks);
            let chunks: Vec<ChunkAcc> = (first..last)
                .into_par_iter()
                .map(|c| {
                    let start = c * CHUNK_PATIENTS;
                    let end = (start + CHUNK_PATIENTS).min(scenario.patients);
                    let acc = simulate_chunk(&model, arms, &metrics, shape, start..end, want_rows);
                    progress(end - start);
                    acc
                })
                .collect();
            for chunk in chunks {
                if let Some((patient, arm, limit)) = chunk.limit {
                    return Err(crate::Error::PatientLimit(format!(
                        "patient {patient} of replicate {r} (arm `{}`) has {}",
                        arms[arm].name,
                        limit.describe()
                    )));
                }
                merge_replicate(&mut rep, &chunk.stats);
                for (a, b) in curves.iter_mut().zip(&chunk.curves) {
                    a.occupancy.merge(&b.occupancy);
                    for (x, y) in a.km.iter_mut().zip(&b.km) {
                        x.merge(y);
                    }
                    for (x, y) in a.flares.iter_mut().zip(&b.flares) {
                        *x += y;
                    }
                }
                // Sums of per-chunk f64 in chunk order: deterministic.
                patient_days += chunk.patient_days;
                if want_rows {
                    sink.write_chunk(r, &chunk.rows)?;
                }
            }
            first = last;
        }
        replicates.push(rep);
    }
    Ok(CohortResult {
        arms: arms.iter().map(|a| a.name.clone()).collect(),
        metrics,
        replicates,
        curves,
        patients: scenario.patients,
        patient_years: patient_days / super::model_values::DAYS_PER_YEAR,
    })
}

fn merge_replicate(into: &mut ReplicateStats, from: &ReplicateStats) {
    for (a, b) in into.arms.iter_mut().zip(&from.arms) {
        for (x, y) in a.stats.iter_mut().zip(&b.stats) {
            x.merge(y);
        }
        a.delay.merge(&b.delay);
    }
    for (a, b) in into.differences.iter_mut().zip(&from.differences) {
        for (x, y) in a.iter_mut().zip(b) {
            x.merge(y);
        }
    }
}

fn simulate_chunk(
    model: &ReplicateModel,
    arms: &[Arm],
    metrics: &[Metric],
    shape: Shape,
    patients: std::ops::Range<u64>,
    want_rows: bool,
) -> ChunkAcc {
    let mut acc = ChunkAcc {
        stats: shape.replicate_stats(arms.len(), metrics.len()),
        curves: arms.iter().map(|_| shape.curves()).collect(),
        rows: Vec::new(),
        patient_days: 0.0,
        limit: None,
    };
    let mut scratch = Scratch::default();
    let mut first_arm_obs: Vec<Option<(f64, f64)>> = vec![None; metrics.len()];
    for p in patients {
        for (a, arm) in arms.iter().enumerate() {
            let mut state = arm
                .plan
                .as_ref()
                .map(|plan| TreatmentState::new(plan, model, p));
            let outcome = if want_rows {
                let mut log = EventLog::default();
                let o = simulate_patient(model, p, state.as_mut(), &mut scratch, &mut log);
                acc.rows.push(PatientRows {
                    arm: a,
                    outcome: o.clone(),
                    events: log,
                });
                o
            } else {
                simulate_patient(model, p, state.as_mut(), &mut scratch, &mut Discard)
            };
            if let Some(limit) = outcome.limit {
                acc.limit = Some((p, a, limit));
                return acc;
            }
            acc.patient_days += outcome.observed_days;
            let arm_stats = &mut acc.stats.arms[a];
            let stats = &mut arm_stats.stats[..metrics.len()];
            let firsts = &mut first_arm_obs[..metrics.len()];
            if a == 0 {
                for ((metric, stat), first) in metrics.iter().zip(stats).zip(firsts) {
                    let obs = (metric.observe)(&outcome, metric.arg);
                    *first = obs;
                    if let Some((y, x)) = obs {
                        stat.add_observation(metric.estimator, y, x);
                    }
                }
            } else {
                let diffs = &mut acc.stats.differences[a - 1][..metrics.len()];
                for (((metric, stat), first), diff) in
                    metrics.iter().zip(stats).zip(firsts.iter()).zip(diffs)
                {
                    let obs = (metric.observe)(&outcome, metric.arg);
                    if let Some((y, x)) = obs {
                        stat.add_observation(metric.estimator, y, x);
                        if let (Estimator::Mean, Some((y0, _))) = (metric.estimator, first) {
                            diff.add_unit(y - y0);
                        }
                    }
                }
            }
            if let Some(d) = &outcome.diagnosis {
                arm_stats.delay.add(d.day);
            }
            let curves = &mut acc.curves[a];
            add_timeseries(&mut curves.occupancy, &scratch);
            add_endpoints(&mut curves.km, &outcome);
            curves.flares[(outcome.flares as usize).min(FLARE_BINS - 1)] += 1;
        }
    }
    acc
}
