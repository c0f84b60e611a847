//! The cohort runner: replicates × fixed chunks of patients, in parallel with
//! rayon, each patient simulated under every arm (common random numbers).
//!
//! The work is a sequence of units (replicate × chunk of patients); any
//! range of units runs on its own ([`run_units`]) into [`Accumulators`] that
//! serialise and merge exactly, which is what shards and merges are made of.
//!
//! Determinism: chunk boundaries depend only on [`CHUNK_PATIENTS`], every
//! accumulator is an integer, and per-patient rows are gathered per chunk and
//! written in chunk order, so every output is byte-identical whatever the
//! thread count or shard split. Chunks are merged on the worker threads as
//! they finish; when per-patient rows are written, the patients run in
//! batches of [`BATCH_CHUNKS_PER_THREAD`] pieces per worker instead, so that
//! rows go out in order, and each piece is short enough that the rows held
//! at once stay near [`ROW_BUFFER_BYTES`] however many events a patient
//! has. Memory stays flat in the cohort size either way.

use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::scenario::Scenario;

pub use super::accum::{ArmStats, ReplicateStats};

use super::accrual::{Accrual, Both};
use super::accum::{
    add_endpoints, DayBins, DayHistogram, FixedSum, Occupancy, OccupancyCells, PatientCourse, Stat,
    SurvivalBins, SurvivalCounts,
};
use super::drugs::DrugTable;
use super::from_diagnosis::{FromDiagnosis, FromDiagnosisCells};
use super::metrics::{Inert, Metric, MetricLayout, Part as ModelPart};
use super::model_values::ReplicateModel;
use super::patient::{
    fixed_flare_pain, runs_on_flare_kernel, simulate_flares, simulate_patient_into, Discard,
    EventKind, EventLog, Limit, Observer, Outcome, Scratch, Segments,
};
use super::tally::MetricTally;
use super::treatment::{TreatmentPlan, TreatmentState};
use super::units::DAYS_PER_YEAR;

/// What decides a study's metric list: its horizon, its drugs and the
/// longest ladder of its arms.
pub fn metric_layout(scenario: &Scenario, drugs: &DrugTable, arms: &[Arm]) -> MetricLayout {
    let max_steps = arms
        .iter()
        .filter_map(|a| a.plan.as_ref().map(|p| p.steps.len()))
        .max()
        .unwrap_or(0);
    MetricLayout::new(scenario.horizon_years, &drugs.names(), max_steps)
        .with_economics(scenario.economics.is_some())
        .with_inert(inert_parts(scenario))
}

/// The parts of the model a scenario leaves inert in every replicate: a
/// part counts only when its parameters are fixed (not drawn per
/// replicate) at the value that switches it off and the cohort has no
/// Majeed patients (whose built-in defaults differ).
pub fn inert_parts(scenario: &Scenario) -> Inert {
    use crate::scenario::dist::{Kind, Param};
    fn fixed_at<K: Kind>(p: &Param<K>, value: f64) -> bool {
        !p.is_random() && p.central() == value
    }
    let nh = &scenario.natural_history;
    if !fixed_at(&scenario.cohort.majeed_frac, 0.0) {
        return Inert::NONE;
    }
    let lesions = fixed_at(&nh.p_lesion_at_onset, 0.0)
        && fixed_at(&nh.initial_extra_lesions_mean, 0.0)
        && fixed_at(&nh.new_lesions_per_flare, 0.0);
    let conditions = [
        &nh.p_ppp_at_onset,
        &nh.p_psoriasis_at_onset,
        &nh.p_acne_at_onset,
        &nh.p_ibd_at_onset,
        &nh.p_arthritis_at_onset,
    ]
    .iter()
    .all(|p| fixed_at(*p, 0.0))
        && [
            &nh.ppp_per_year,
            &nh.psoriasis_per_year,
            &nh.acne_per_year,
            &nh.ibd_per_year,
            &nh.arthritis_per_year,
        ]
        .iter()
        .all(|p| fixed_at(*p, 0.0));
    [
        (ModelPart::Lesions, lesions),
        (ModelPart::Fever, fixed_at(&nh.p_fever, 0.0)),
        (
            ModelPart::Fractures,
            lesions || fixed_at(&nh.p_vertebral_fracture_per_flare, 0.0),
        ),
        (ModelPart::Conditions, conditions),
        (
            ModelPart::Resolution,
            fixed_at(&nh.resolution_median_years, f64::INFINITY),
        ),
        (
            ModelPart::LossToFollowUp,
            fixed_at(&nh.loss_to_follow_up_per_year, 0.0),
        ),
        (
            ModelPart::Diagnosis,
            fixed_at(&nh.symptomatic_months_to_diagnosis_median, f64::INFINITY)
                && fixed_at(&nh.p_early_diagnosis, 0.0),
        ),
    ]
    .into_iter()
    .filter(|&(_, inert)| inert)
    .fold(Inert::NONE, |set, (part, _)| set.with(part))
}

/// Patients per chunk; part of the determinism contract (do not derive from threads).
pub const CHUNK_PATIENTS: u64 = 1024;
/// Pieces of patients simulated between two writes of per-patient rows, per
/// worker thread. Only memory and load balance depend on it: merges are
/// exact, so results do not.
pub const BATCH_CHUNKS_PER_THREAD: u64 = 4;
/// Bytes of per-patient rows (outcomes and event logs in memory) that a
/// batch of pieces is sized to hold at once. A piece has at most
/// [`CHUNK_PATIENTS`] patients (a piece never spans two chunks) and at
/// least one; its length follows the heaviest patients of the previous
/// batch (see [`piece_len`]), so the batch holds about this much, more only
/// when its patients are much heavier than those seen before (each patient
/// is bounded by the event cap, [`crate::scenario::limits::MAX_EVENTS`]).
/// The split of a chunk into pieces changes no result: sums merge exactly
/// and rows go out in patient order.
pub const ROW_BUFFER_BYTES: u64 = 64 << 20;

/// One arm: a name and its strategy (None: natural history, no treatment).
#[derive(Debug, Clone)]
pub struct Arm {
    /// Name in the `arm` column.
    pub name: String,
    /// The strategy.
    pub plan: Option<TreatmentPlan>,
}

impl Arm {
    /// Simulates patient `patient` of `model`'s replicate under this arm:
    /// the one way a patient is simulated, by the cohort runner, the course
    /// chart and the tests alike (the cohort runner only lets the flare
    /// kernel's segments go straight to its time series, `simulate_arm`).
    /// `observer` receives the events; `scratch` holds the course's
    /// segments afterwards.
    ///
    /// Single-threaded and pure: the outcome depends only on the model, the
    /// arm and the patient index.
    #[inline]
    pub fn simulate<O: Observer>(
        &self,
        model: &ReplicateModel,
        patient: u64,
        scratch: &mut Scratch,
        observer: &mut O,
    ) -> Outcome {
        let mut out = Outcome::default();
        self.simulate_into(model, patient, scratch, observer, &mut out);
        out
    }

    /// [`Arm::simulate`] with the outcome written to `out` (whatever it held
    /// before is overwritten), so a runner reusing one slot moves no
    /// outcome per patient.
    #[inline]
    pub fn simulate_into<O: Observer>(
        &self,
        model: &ReplicateModel,
        patient: u64,
        scratch: &mut Scratch,
        observer: &mut O,
        out: &mut Outcome,
    ) {
        let mut state = self
            .plan
            .as_ref()
            .map(|plan| TreatmentState::new(plan, model, patient));
        simulate_accrued(model, patient, state.as_mut(), scratch, observer, out);
    }

    /// The treatment state for simulating this arm's patients of `model`
    /// one after another with [`Arm::simulate_reusing`] (none without
    /// treatment).
    pub fn treatment_state<'a>(&'a self, model: &'a ReplicateModel) -> Option<TreatmentState<'a>> {
        self.plan
            .as_ref()
            .map(|plan| TreatmentState::new(plan, model, 0))
    }

    /// [`Arm::simulate_into`] with `state`, this arm's
    /// [`Arm::treatment_state`] for `model`, reset for the patient rather
    /// than a state built anew: a runner simulating patient after patient
    /// then clears no treatment state it does not use.
    #[inline]
    pub fn simulate_reusing<O: Observer>(
        &self,
        model: &ReplicateModel,
        patient: u64,
        state: Option<&mut TreatmentState<'_>>,
        scratch: &mut Scratch,
        observer: &mut O,
        out: &mut Outcome,
    ) {
        let mut state = state;
        if let Some(s) = state.as_deref_mut() {
            s.reset(patient);
        }
        simulate_accrued(model, patient, state, scratch, observer, out);
    }
}

/// What one arm accumulates over all replicates (curves are pooled).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArmCurves {
    /// Time series.
    pub occupancy: Occupancy,
    /// Kaplan–Meier counts per endpoint.
    pub km: [SurvivalCounts; 4],
    /// Patients by number of flares while observed (last bin: that many or more).
    pub flares: Vec<u64>,
    /// Monthly occupancy and activity after diagnosis.
    pub from_diagnosis: FromDiagnosis,
}

/// Bins of the flares-per-patient histogram (0..=49, and 50 or more).
pub const FLARE_BINS: usize = 51;

/// Everything a slice of the work accumulates: a value that serialises and
/// merges exactly (every field is an integer), so a run, a shard and a chunk
/// are all the same kind of thing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Accumulators {
    /// Per replicate (replicates the slice does not touch stay empty).
    pub replicates: Vec<ReplicateStats>,
    /// Per arm, pooled over replicates.
    pub curves: Vec<ArmCurves>,
    /// Days observed, all arms and replicates.
    pub observed_days: FixedSum,
}

impl Accumulators {
    /// Adds everything of `other` (same shape).
    pub fn merge(&mut self, other: &Accumulators) {
        for (a, b) in self.replicates.iter_mut().zip(&other.replicates) {
            merge_replicate(a, b);
        }
        merge_arm_curves(&mut self.curves, &other.curves);
        self.observed_days.merge(&other.observed_days);
    }

    /// Adds the sums of some units of replicate `r`.
    fn add_replicate(&mut self, r: u32, sums: &Sums) {
        merge_replicate(&mut self.replicates[r as usize], &sums.stats);
        merge_arm_curves(&mut self.curves, &sums.curves);
        self.observed_days.merge(&sums.observed_days);
    }
}

impl PartialEq for Metric {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name
    }
}

/// The arm called `name` (None: the first), or a usage error listing the arms.
pub fn choose_arm<'a>(
    scenario_name: &str,
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
            scenario_name,
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
    /// Flushes everything written, reporting a failed final write (called
    /// once after the last chunk).
    fn finish(&mut self) -> crate::Result<()> {
        Ok(())
    }
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

impl PatientRows {
    /// Bytes these rows hold in memory (the event log's whole allocation).
    pub fn held_bytes(&self) -> u64 {
        let event = std::mem::size_of::<(f64, EventKind)>();
        (std::mem::size_of::<Self>() + self.events.0.capacity() * event) as u64
    }
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

/// Shape of the accumulators, fixed by the study.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shape {
    /// Whole days of the horizon (histogram bins).
    pub horizon_days: usize,
    /// Points of the time-series grid.
    pub grid_points: usize,
    /// Days between grid points.
    pub step_days: u32,
    /// Drugs in the drug table.
    pub drugs: usize,
    /// Arms.
    pub arms: usize,
    /// Metrics.
    pub metrics: usize,
}

impl Shape {
    /// The shape of a scenario's accumulators.
    pub fn of(scenario: &Scenario, drugs: usize, arms: usize, metrics: usize) -> Self {
        let horizon_days = (scenario.horizon_years * DAYS_PER_YEAR).ceil() as usize;
        let step_days = scenario.output.timeseries_step_weeks * 7;
        Shape {
            horizon_days,
            grid_points: horizon_days / step_days as usize + 1,
            step_days,
            drugs,
            arms,
            metrics,
        }
    }

    /// Bins of the whole-day histograms and Kaplan–Meier counts: none for
    /// a chunk, which records its days as lists ([`ChunkDays`]).
    fn day_bins(&self, dense_days: bool) -> usize {
        if dense_days {
            self.horizon_days + 1
        } else {
            0
        }
    }

    fn arm_stats(&self, dense_days: bool) -> ArmStats {
        let days = self.day_bins(dense_days);
        ArmStats {
            stats: vec![Stat::default(); self.metrics],
            delay: DayHistogram {
                counts: vec![0; days],
            },
            active_period: DayHistogram {
                counts: vec![0; days],
            },
        }
    }

    fn replicate_stats(&self, dense_days: bool) -> ReplicateStats {
        ReplicateStats {
            arms: (0..self.arms).map(|_| self.arm_stats(dense_days)).collect(),
            differences: (1..self.arms)
                .map(|_| vec![Stat::default(); self.metrics])
                .collect(),
        }
    }

    fn curves(&self, dense_days: bool) -> ArmCurves {
        let days = self.day_bins(dense_days);
        let km = || SurvivalCounts {
            events: vec![0; days],
            censored: vec![0; days],
        };
        ArmCurves {
            occupancy: Occupancy::new(self.grid_points, self.step_days, self.drugs),
            km: [km(), km(), km(), km()],
            flares: vec![0; FLARE_BINS],
            from_diagnosis: FromDiagnosis::new(
                (self.horizon_days as f64 / super::units::DAYS_PER_MONTH).ceil() as usize,
            ),
        }
    }

    /// What a chunk's arm records of whole days.
    /// Empty day lists for a chunk of `patients` patients, with room for
    /// a value of each (a list that grows patient by patient costs more).
    fn chunk_days(&self, patients: usize) -> ChunkDays {
        let bins = self.horizon_days + 1;
        ChunkDays {
            delay: DayBins::with_capacity(bins, patients),
            active_period: DayBins::with_capacity(bins, patients),
            km: std::array::from_fn(|_| SurvivalBins::new(bins, patients)),
        }
    }

    /// Empty accumulators for `replicates` replicates.
    pub fn accumulators(&self, replicates: u32) -> Accumulators {
        Accumulators {
            replicates: (0..replicates)
                .map(|_| self.replicate_stats(true))
                .collect(),
            curves: (0..self.arms).map(|_| self.curves(true)).collect(),
            observed_days: FixedSum::default(),
        }
    }
}

/// What a cohort run needs, resolved once (by [`crate::study::Study`]).
#[derive(Debug, Clone, Copy)]
pub struct CohortSpec<'a> {
    /// The scenario.
    pub scenario: &'a Scenario,
    /// Its drug table.
    pub drugs: &'a DrugTable,
    /// Its arms.
    pub arms: &'a [Arm],
    /// Its metrics.
    pub metrics: &'a [Metric],
    /// Its accumulator shape.
    pub shape: Shape,
    /// Index of the arm the paired differences are taken against.
    pub reference: usize,
}

impl CohortSpec<'_> {
    /// Chunks of patients per replicate.
    pub fn chunks_per_replicate(&self) -> u64 {
        self.scenario.patients.div_ceil(CHUNK_PATIENTS)
    }

    /// Work units (replicate × chunk of patients) of the whole cohort.
    pub fn units(&self) -> u64 {
        self.chunks_per_replicate() * u64::from(self.scenario.replicates)
    }

    /// Patients in work units `units`.
    pub fn patients_in(&self, units: &Range<u64>) -> u64 {
        let per = self.chunks_per_replicate();
        units
            .clone()
            .map(|u| self.chunk_patients(u % per).count() as u64)
            .sum()
    }

    fn chunk_patients(&self, chunk: u64) -> Range<u64> {
        let start = chunk * CHUNK_PATIENTS;
        start..(start + CHUNK_PATIENTS).min(self.scenario.patients)
    }

    /// What decides the metric list (as [`CohortSpec::metrics`] was made).
    fn metric_layout(&self) -> MetricLayout {
        metric_layout(self.scenario, self.drugs, self.arms)
    }

    /// One replicate's model.
    pub fn replicate_model(&self, replicate: u32) -> ReplicateModel {
        ReplicateModel::new(self.scenario, self.drugs, replicate)
    }
}

/// One chunk's accumulators. The day histograms and Kaplan–Meier counts of
/// its sums stay empty: the chunk records those days as lists instead
/// (`days`).
struct ChunkAcc {
    sums: Sums,
    /// Per arm, the whole days observed.
    days: Vec<ChunkDays>,
    rows: Vec<PatientRows>,
    /// What `rows` hold in memory ([`PatientRows::held_bytes`]).
    row_bytes: u64,
    /// The first patient (and arm) that hit a per-patient limit; the chunk stops there.
    limit: Option<(u64, usize, Limit)>,
    /// Patients simulated.
    patients: u64,
}

/// What one arm of a chunk records of whole days, for the histograms and
/// Kaplan–Meier counts of [`ArmStats`] and [`ArmCurves`].
struct ChunkDays {
    delay: DayBins,
    active_period: DayBins,
    km: [SurvivalBins; 4],
}

impl ChunkDays {
    /// Adds the recorded days to an arm's accumulators.
    fn add_to(&self, stats: &mut ArmStats, curves: &mut ArmCurves) {
        self.delay.add_to(&mut stats.delay.counts);
        self.active_period.add_to(&mut stats.active_period.counts);
        for (bins, counts) in self.km.iter().zip(&mut curves.km) {
            bins.add_to(counts);
        }
    }
}

/// Runs work units `units` (in order: replicate by replicate, chunk by chunk
/// of [`CHUNK_PATIENTS`] patients), every patient under every arm.
///
/// Multi-threaded (rayon's current pool) over chunks of patients; results do
/// not depend on the number of threads, and the accumulators of disjoint
/// unit ranges merge into exactly those of their union. Per-patient rows go
/// to `sink` in unit order. `progress` is called with the number of patients
/// of each finished chunk.
pub fn run_units(
    spec: &CohortSpec,
    units: Range<u64>,
    sink: &mut dyn RowSink,
    progress: &(dyn Fn(u64) + Sync),
) -> crate::Result<Accumulators> {
    run_units_until(spec, units, sink, progress, &|| false)
}

/// [`run_units`] that stops early with [`crate::Error::Interrupted`] once
/// `stop` says so: workers skip the chunks not yet started, so a front end
/// can cancel a long run without cutting it into slices (each slice would
/// build and merge accumulators for every replicate).
pub fn run_units_until(
    spec: &CohortSpec,
    units: Range<u64>,
    sink: &mut dyn RowSink,
    progress: &(dyn Fn(u64) + Sync),
    stop: &(dyn Fn() -> bool + Sync),
) -> crate::Result<Accumulators> {
    let mut acc = spec.shape.accumulators(spec.scenario.replicates);
    let layout = spec.metric_layout();
    let per = spec.chunks_per_replicate();
    let mut first = units.start;
    while first < units.end {
        let r = (first / per) as u32;
        // One replicate (one model) at a time.
        let last = units.end.min((u64::from(r) + 1) * per);
        let run = ReplicateRun {
            spec,
            model: &spec.replicate_model(r),
            layout: &layout,
            replicate: r,
        };
        let part = if sink.wants_rows() {
            run.in_unit_order(first..last, sink, progress, stop)?
        } else {
            run.merged_on_workers(first..last, progress, stop)
        };
        if stop() {
            return Err(crate::Error::Interrupted);
        }
        if let Some((_, (patient, arm, limit))) = part.limit {
            return Err(crate::Error::PatientLimit(format!(
                "patient {patient} of replicate {r} (arm `{}`) has {}",
                spec.arms[arm].name,
                limit.describe()
            )));
        }
        acc.add_replicate(r, &part.sums);
        first = last;
    }
    Ok(acc)
}

/// The units of one replicate being run.
struct ReplicateRun<'a> {
    spec: &'a CohortSpec<'a>,
    model: &'a ReplicateModel,
    layout: &'a MetricLayout,
    replicate: u32,
}

impl ReplicateRun<'_> {
    /// Simulates the chunk of work unit `unit`.
    fn chunk(&self, unit: u64, want_rows: bool) -> ChunkAcc {
        let patients = self
            .spec
            .chunk_patients(unit % self.spec.chunks_per_replicate());
        simulate_chunk(self.model, self.spec, self.layout, patients, want_rows)
    }

    /// Without per-patient rows nothing needs unit order (every merge is
    /// exact), so chunks are merged on the workers as they finish, with no
    /// pause between batches and no merging left to one thread.
    fn merged_on_workers(
        &self,
        units: Range<u64>,
        progress: &(dyn Fn(u64) + Sync),
        stop: &(dyn Fn() -> bool + Sync),
    ) -> Part {
        // A chunk after one that hit a limit is not needed: the run fails
        // with the first such chunk, which always runs (only later ones are
        // skipped), so the error does not depend on timing.
        let first_failed = AtomicU64::new(u64::MAX);
        units
            .into_par_iter()
            .fold(
                || Part::new(self.spec.shape),
                |mut part, u| {
                    if u > first_failed.load(Ordering::Relaxed) || stop() {
                        return part;
                    }
                    let chunk = self.chunk(u, false);
                    progress(chunk.patients);
                    if chunk.limit.is_some() {
                        first_failed.fetch_min(u, Ordering::Relaxed);
                    }
                    part.absorb(u, &chunk);
                    part
                },
            )
            .reduce(|| Part::new(self.spec.shape), Part::merged)
    }

    /// With per-patient rows, patients run in batches of
    /// [`BATCH_CHUNKS_PER_THREAD`] pieces per worker, and their rows go to
    /// `sink` in unit (and patient) order; pieces are sized so that a batch
    /// holds about [`ROW_BUFFER_BYTES`] of rows, so memory stays flat in
    /// the cohort size and in the events per patient.
    fn in_unit_order(
        &self,
        units: Range<u64>,
        sink: &mut dyn RowSink,
        progress: &(dyn Fn(u64) + Sync),
        stop: &(dyn Fn() -> bool + Sync),
    ) -> crate::Result<Part> {
        let mut part = Part::new(self.spec.shape);
        let pieces_per_batch = BATCH_CHUNKS_PER_THREAD * rayon::current_num_threads() as u64;
        let per = self.spec.chunks_per_replicate();
        // Patients are unknown until simulated: start with one per piece.
        let mut len = 1;
        let mut next = (
            units.start,
            self.spec.chunk_patients(units.start % per).start,
        );
        while next.0 < units.end {
            if stop() {
                return Err(crate::Error::Interrupted);
            }
            let mut pieces = Vec::new();
            while pieces.len() < pieces_per_batch as usize && next.0 < units.end {
                let (unit, first) = next;
                let chunk = self.spec.chunk_patients(unit % per);
                let last = (first + len).min(chunk.end);
                pieces.push((unit, first..last));
                next = if last == chunk.end {
                    let unit = unit + 1;
                    (unit, self.spec.chunk_patients(unit % per).start)
                } else {
                    (unit, last)
                };
            }
            let done: Vec<ChunkAcc> = pieces
                .par_iter()
                .map(|(_, patients)| {
                    let piece =
                        simulate_chunk(self.model, self.spec, self.layout, patients.clone(), true);
                    progress(piece.patients);
                    piece
                })
                .collect();
            let mut heaviest = 0;
            for ((unit, _), piece) in pieces.iter().zip(done) {
                part.absorb(*unit, &piece);
                if part.limit.is_some() {
                    return Ok(part);
                }
                sink.write_chunk(self.replicate, &piece.rows)?;
                heaviest = heaviest.max(piece.row_bytes.div_ceil(piece.patients.max(1)));
            }
            len = piece_len(len, heaviest, pieces_per_batch);
        }
        Ok(part)
    }
}

/// Patients per piece of the next batch, from `len` of this one and the
/// heaviest piece's bytes of rows per patient: as many as keep a batch of
/// `pieces` pieces within [`ROW_BUFFER_BYTES`], at least one and at most
/// [`CHUNK_PATIENTS`], growing at most eightfold a batch (a few light
/// patients say little about the next ones).
pub fn piece_len(len: u64, bytes_per_patient: u64, pieces: u64) -> u64 {
    let fits = ROW_BUFFER_BYTES / pieces.max(1) / bytes_per_patient.max(1);
    fits.min(len.saturating_mul(8)).clamp(1, CHUNK_PATIENTS)
}

/// One replicate's sums over some of its patients: the metrics, the curves
/// and the days observed.
struct Sums {
    stats: ReplicateStats,
    curves: Vec<ArmCurves>,
    observed_days: FixedSum,
}

impl Sums {
    /// Empty sums; `dense_days` as in [`Shape::day_bins`].
    fn new(shape: Shape, dense_days: bool) -> Sums {
        Sums {
            stats: shape.replicate_stats(dense_days),
            curves: (0..shape.arms).map(|_| shape.curves(dense_days)).collect(),
            observed_days: FixedSum::default(),
        }
    }

    /// Adds everything of `other`.
    fn merge(&mut self, other: &Sums) {
        merge_replicate(&mut self.stats, &other.stats);
        merge_arm_curves(&mut self.curves, &other.curves);
        self.observed_days.merge(&other.observed_days);
    }
}

/// What consecutive units of one replicate add up to.
struct Part {
    sums: Sums,
    /// The first unit whose chunk hit a per-patient limit, with that
    /// patient (and arm); its sums are not needed.
    limit: Option<(u64, (u64, usize, Limit))>,
}

impl Part {
    fn new(shape: Shape) -> Part {
        Part {
            sums: Sums::new(shape, true),
            limit: None,
        }
    }

    /// Adds the chunk of work unit `unit`.
    fn absorb(&mut self, unit: u64, chunk: &ChunkAcc) {
        if let Some(limit) = chunk.limit {
            self.note_limit((unit, limit));
            return;
        }
        let sums = &mut self.sums;
        sums.merge(&chunk.sums);
        for ((days, stats), curves) in chunk
            .days
            .iter()
            .zip(&mut sums.stats.arms)
            .zip(&mut sums.curves)
        {
            days.add_to(stats, curves);
        }
    }

    /// Keeps the limit of the earliest unit.
    fn note_limit(&mut self, limit: (u64, (u64, usize, Limit))) {
        if self.limit.map_or(true, |(u, _)| limit.0 < u) {
            self.limit = Some(limit);
        }
    }

    /// The sums of both parts.
    fn merged(mut self, other: Part) -> Part {
        self.sums.merge(&other.sums);
        if let Some(limit) = other.limit {
            self.note_limit(limit);
        }
        self
    }
}

/// Adds each arm's curves of `from` to those of `into`.
fn merge_arm_curves(into: &mut [ArmCurves], from: &[ArmCurves]) {
    for (a, b) in into.iter_mut().zip(from) {
        a.occupancy.merge(&b.occupancy);
        a.from_diagnosis.merge(&b.from_diagnosis);
        for (x, y) in a.km.iter_mut().zip(&b.km) {
            x.merge(y);
        }
        for (x, y) in a.flares.iter_mut().zip(&b.flares) {
            *x += y;
        }
    }
}

fn merge_replicate(into: &mut ReplicateStats, from: &ReplicateStats) {
    for (a, b) in into.arms.iter_mut().zip(&from.arms) {
        for (x, y) in a.stats.iter_mut().zip(&b.stats) {
            x.merge(y);
        }
        a.delay.merge(&b.delay);
        a.active_period.merge(&b.active_period);
    }
    for (a, b) in into.differences.iter_mut().zip(&from.differences) {
        for (x, y) in a.iter_mut().zip(b) {
            x.merge(y);
        }
    }
}

/// Simulates one patient, with its costs and QALYs accrued when the
/// replicate has economic values.
fn simulate_accrued<O: Observer>(
    model: &ReplicateModel,
    patient: u64,
    treatment: Option<&mut TreatmentState<'_>>,
    scratch: &mut Scratch,
    obs: &mut O,
    out: &mut Outcome,
) {
    match &model.economics {
        None => simulate_patient_into(model, patient, treatment, scratch, obs, out),
        Some(e) => {
            let mut accrual = Accrual::new(e);
            simulate_patient_into(
                model,
                patient,
                treatment,
                scratch,
                &mut Both(obs, &mut accrual),
                out,
            );
            out.economics = accrual.finish();
        }
    }
}

/// Simulates patient `patient` under `arm`, its outcome written to `out`:
/// with `straight` cells, on the flare kernel with its segments added to
/// them as they close (no drugs, no diagnosis), `out` being a slot only
/// the kernel writes (see [`simulate_flares`]); otherwise as
/// [`Arm::simulate_reusing`] with `state`, the segments left in `scratch`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn simulate_arm<O: Observer>(
    straight: Option<&mut OccupancyCells>,
    arm: &Arm,
    state: Option<&mut TreatmentState<'_>>,
    model: &ReplicateModel,
    patient: u64,
    scratch: &mut Scratch,
    obs: &mut O,
    out: &mut Outcome,
) {
    match straight {
        Some(cells) => cells.run_patient(FlareCourse {
            model,
            patient,
            obs,
            out,
        }),
        None => arm.simulate_reusing(model, patient, state, scratch, obs, out),
    }
}

/// A patient's course on the flare kernel, for [`OccupancyCells::run_patient`].
struct FlareCourse<'a, O> {
    model: &'a ReplicateModel,
    patient: u64,
    obs: &'a mut O,
    /// Where the outcome goes (see [`simulate_flares`]).
    out: &'a mut Outcome,
}

impl<O: Observer> PatientCourse for FlareCourse<'_, O> {
    type Output = ();
    #[inline(always)]
    fn run<S: Segments>(self, segments: &mut S) {
        simulate_flares(self.model, self.patient, segments, self.obs, self.out);
    }
}

fn simulate_chunk(
    model: &ReplicateModel,
    spec: &CohortSpec,
    layout: &MetricLayout,
    patients: std::ops::Range<u64>,
    want_rows: bool,
) -> ChunkAcc {
    let (arms, shape) = (spec.arms, spec.shape);
    let mut acc = ChunkAcc {
        sums: Sums::new(shape, false),
        days: arms
            .iter()
            .map(|_| shape.chunk_days((patients.end - patients.start) as usize))
            .collect(),
        rows: Vec::new(),
        row_bytes: 0,
        limit: None,
        patients: patients.end - patients.start,
    };
    // An arm without treatment (or economics) of a model with only the
    // flare process live runs on the flare kernel, whose segments go
    // straight to the time series as they close.
    let straight: Vec<bool> = arms
        .iter()
        .map(|arm| arm.plan.is_none() && model.economics.is_none() && runs_on_flare_kernel(model))
        .collect();
    // Occupancy and time since diagnosis are added per grid point side by
    // side, and to the chunk's arrays at the end.
    let mut cells: Vec<OccupancyCells> = acc
        .sums
        .curves
        .iter()
        .zip(arms)
        .zip(&straight)
        .map(|((c, arm), &straight)| {
            // Without treatment, a model whose flares all have one pain
            // has its pain sums counted rather than added.
            let fixed_pain = arm
                .plan
                .as_ref()
                .map_or_else(|| fixed_flare_pain(model), |_| None);
            let cells = OccupancyCells::new(&c.occupancy).with_fixed_pain(fixed_pain);
            // The kernel's courses are flares and remissions only.
            if straight {
                cells.with_two_states()
            } else {
                cells
            }
        })
        .collect();
    let mut dx_cells: Vec<FromDiagnosisCells> = acc
        .sums
        .curves
        .iter()
        .map(|c| FromDiagnosisCells::new(&c.from_diagnosis))
        .collect();
    let mut scratch = Scratch::default();
    let mut tally = MetricTally::new(spec.metrics, layout, arms.len(), spec.reference);
    // One outcome slot per arm, reused patient after patient: the flare
    // kernel writes only the fields its courses change, the rest staying
    // at their defaults (an arm's slot is written by the kernel alone or
    // wholly by the general loop).
    let mut outcomes: Vec<Outcome> = arms.iter().map(|_| Outcome::default()).collect();
    // One treatment state per arm likewise, reset for each patient.
    let mut states: Vec<Option<TreatmentState>> =
        arms.iter().map(|arm| arm.treatment_state(model)).collect();
    for p in patients {
        for (a, arm) in arms.iter().enumerate() {
            let outcome = &mut outcomes[a];
            let straight_cells = straight[a].then_some(&mut cells[a]);
            if want_rows {
                let mut log = EventLog::default();
                simulate_arm(
                    straight_cells,
                    arm,
                    states[a].as_mut(),
                    model,
                    p,
                    &mut scratch,
                    &mut log,
                    outcome,
                );
                let rows = PatientRows {
                    arm: a,
                    outcome: outcome.clone(),
                    events: log,
                };
                acc.row_bytes += rows.held_bytes();
                acc.rows.push(rows);
            } else {
                simulate_arm(
                    straight_cells,
                    arm,
                    states[a].as_mut(),
                    model,
                    p,
                    &mut scratch,
                    &mut Discard,
                    outcome,
                );
            }
            let outcome = &*outcome;
            if let Some(limit) = outcome.limit {
                // The run fails: the sums are not needed.
                acc.limit = Some((p, a, limit));
                return acc;
            }
            acc.sums.observed_days.add(outcome.observed_days);
            tally.add(a, outcome, &mut acc.sums.stats);
            let days = &mut acc.days[a];
            if let Some(d) = &outcome.diagnosis {
                days.delay.add(d.day);
            }
            days.active_period.add(outcome.last_flare_end_day);
            add_endpoints(&mut days.km, outcome);
            let curves = &mut acc.sums.curves[a];
            if !straight[a] {
                // One walk over the segments for both grids.
                match &outcome.diagnosis {
                    Some(d) => {
                        let mut after_dx = dx_cells[a].walk(d.day);
                        cells[a].add_segments_and(&scratch.segments, |s| after_dx.add(s));
                    }
                    None => cells[a].add_segments(&scratch.segments),
                }
                cells[a].add_drugs(&mut curves.occupancy, &scratch.drug_intervals);
            }
            curves.flares[(outcome.flares as usize).min(FLARE_BINS - 1)] += 1;
        }
    }
    tally.add_to(&mut acc.sums.stats);
    for ((cells, dx_cells), curves) in cells.iter().zip(&dx_cells).zip(&mut acc.sums.curves) {
        cells.add_to(&mut curves.occupancy);
        dx_cells.add_to(&mut curves.from_diagnosis);
    }
    acc
}
