//! The run pipeline as a library call: load a study ([`load_study`]), run it
//! into results ([`run_study`], with a [`Progress`] that can also cancel),
//! and write those results into a result directory under the
//! output-directory rule ([`write_results`]). Every front end — the command
//! line, a notebook binding, a service — goes through these calls, so a
//! result directory is the same whoever asked for it.
//!
//! This module owns what a run is beyond its arguments: the order in which
//! the files of a result directory are written, the manifest
//! ([`RunInfo`]), the per-patient row files (spooled while the cohort runs,
//! moved into place when written), shards and their merge. It never
//! prints, exits or handles signals: what a user should hear comes back as
//! warnings, and an interrupt is a [`Progress`] that says it was cancelled.

mod simulate;
mod spool;
mod write;

use std::path::{Path, PathBuf};

use crate::engine::cohort::Accumulators;
use crate::error::{Error, Result};
use crate::output::outdir::{result_dir_name, Staging};
use crate::results::CohortResult;
use crate::scenario::{self, LoadedScenario};
use crate::study::shard::ShardSpec;
use crate::study::Study;

pub use crate::output::outdir::Written;
pub use crate::output::writer::RunInfo;
pub use write::run_info;

use spool::RowSpool;

/// Where a scenario comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScenarioSource {
    /// The built-in reference scenario.
    Builtin,
    /// A scenario file (TOML).
    Path(PathBuf),
    /// Scenario text (TOML); `origin` names it in error messages (e.g.
    /// `"<string>"`).
    Text {
        /// The TOML text.
        text: String,
        /// The name used in error messages.
        origin: String,
    },
}

/// What a run may override of its scenario, and how it runs.
#[derive(Clone, Debug, Default)]
pub struct RunOptions {
    /// Patients per replicate (overrides the scenario's `patients`).
    pub patients: Option<u64>,
    /// Seed (overrides the scenario's `seed`).
    pub seed: Option<u64>,
    /// Worker threads (None: `RAYON_NUM_THREADS`, else every core). The
    /// results do not depend on it.
    pub threads: Option<usize>,
    /// The arm paired differences are taken against (overrides the
    /// scenario's `reference_arm`).
    pub reference_arm: Option<String>,
    /// Run only this slice of the work (a shard, combined later by
    /// [`merge_shards`]).
    pub shard: Option<ShardSpec>,
}

/// Most worker threads a run may ask for (`threads`, `RAYON_NUM_THREADS`).
pub const MAX_THREADS: usize = 1024;

/// Follows a run: told the total work once, then each piece as it is
/// done, and asked often whether the run should stop. Called from worker
/// threads, hence `Sync`.
pub trait Progress: Sync {
    /// The run will simulate `total_units` patients (per arm).
    fn start(&self, _total_units: u64) {}
    /// `units` more patients are done.
    fn advance(&self, _units: u64) {}
    /// True once the run should stop: it then returns
    /// [`Error::Interrupted`] promptly, without touching any result.
    fn cancelled(&self) -> bool {
        false
    }
    /// A warning for the user, at the moment it arises (e.g. that the
    /// per-patient files will be large). It is also kept in
    /// [`StudyRun::warnings`].
    fn warning(&self, _message: &str) {}
}

/// A [`Progress`] that follows nothing and never cancels.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// Loads the scenario of `source`, validates it and applies the overrides
/// of `opts` (patients, seed, reference arm); errors name the file, line
/// and column as the command line prints them.
pub fn load_study(source: &ScenarioSource, opts: &RunOptions) -> Result<Study> {
    let mut loaded = match source {
        ScenarioSource::Builtin => scenario::reference(),
        ScenarioSource::Path(p) => scenario::load_file(p)?,
        ScenarioSource::Text { text, origin } => scenario::parse(text, origin)?,
    };
    thread_count(opts.threads)?;
    if let Some(name) = &opts.reference_arm {
        set_reference_arm(&mut loaded, name)?;
    }
    resolve_with_overrides(loaded, opts.patients, opts.seed)
}

/// Sets the scenario's `reference_arm` to `name` (an override, or what a
/// shard records), refusing a name that is not one of its arms.
pub fn set_reference_arm(loaded: &mut LoadedScenario, name: &str) -> Result<()> {
    scenario::validate::reference_arm_option(loaded, name)?;
    loaded.scenario.reference_arm = Some(toml::Spanned::new(0..0, name.to_string()));
    Ok(())
}

/// Resolves a scenario with `patients` and `seed` overridden: the run-size
/// limits are checked with them, and a sweep's grid points are resolved
/// from them, so checking and running accept the same studies and a sweep
/// runs what its manifest records. An override of a field the sweep itself
/// varies is refused (each point sets its own).
pub fn resolve_with_overrides(
    mut loaded: LoadedScenario,
    patients: Option<u64>,
    seed: Option<u64>,
) -> Result<Study> {
    scenario::validate::overrides(&loaded, patients.is_some(), seed.is_some())?;
    if let Some(n) = patients {
        loaded.scenario.patients = n;
    }
    if let Some(s) = seed {
        loaded.scenario.seed = s;
    }
    scenario::validate::run_size_with_overrides(&loaded)?;
    Study::resolve(loaded)
}

/// The thread count: `threads`, else `RAYON_NUM_THREADS` (checked like
/// `threads`), else the number of cores.
pub fn thread_count(threads: Option<usize>) -> Result<usize> {
    if let Some(n) = threads {
        if !(1..=MAX_THREADS).contains(&n) {
            return Err(Error::Usage(format!(
                "{n} threads is not allowed: expected a whole number from 1 to {MAX_THREADS}"
            )));
        }
        return Ok(n);
    }
    match std::env::var_os("RAYON_NUM_THREADS") {
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
        Some(v) => v
            .to_str()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .filter(|n| (1..=MAX_THREADS).contains(n))
            .ok_or_else(|| {
                Error::Usage(format!(
                    "RAYON_NUM_THREADS={} is not allowed: expected a whole number from 1 to {MAX_THREADS} (like --threads), or unset it to use all cores",
                    scenario::limits::shown(&v.to_string_lossy())
                ))
            }),
    }
}

/// Runs `f` on a local pool of worker threads (see [`thread_count`]); a
/// pool that cannot be started is an error, never a panic.
pub fn with_threads<T: Send>(threads: Option<usize>, f: impl FnOnce() -> T + Send) -> Result<T> {
    let n = thread_count(threads)?;
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .map(|pool| pool.install(f))
        .map_err(|e| Error::Usage(format!("cannot start {n} threads: {e}")))
}

/// The results of a run, held until they are written (or dropped).
#[derive(Debug)]
pub struct StudyRun {
    /// The study that ran (the tables need its names and sweep).
    study: Study,
    /// Merged results, one per grid point (one without a sweep); empty for
    /// a shard.
    results: Vec<CohortResult>,
    /// What a shard ran (None for a whole run or a merge).
    shard: Option<ShardPart>,
    threads: usize,
    patient_years: f64,
    wall_seconds: f64,
    warnings: Vec<String>,
    rows: RowSpool,
}

/// The slice of the work a shard ran, and its accumulators per grid point.
#[derive(Debug)]
struct ShardPart {
    spec: ShardSpec,
    units: std::ops::Range<u64>,
    points: Vec<Accumulators>,
}

impl StudyRun {
    /// The merged results, one per grid point (one without a sweep; none
    /// for a shard, whose results exist only once merged).
    pub fn results(&self) -> &[CohortResult] {
        &self.results
    }

    /// Seconds the simulation took (a merge: the shards' sum).
    pub fn wall_seconds(&self) -> f64 {
        self.wall_seconds
    }

    /// Patient-years simulated (all arms, replicates and grid points).
    pub fn patient_years(&self) -> f64 {
        self.patient_years
    }

    /// Worker threads the simulation used (0 for a merge).
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// Warnings for the user that arose during the run.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The slice of the work a shard ran (`K/N`), or None.
    pub fn shard(&self) -> Option<ShardSpec> {
        self.shard.as_ref().map(|s| s.spec)
    }

    /// The work units a shard ran, or None for a whole run.
    pub fn shard_units(&self) -> Option<std::ops::Range<u64>> {
        self.shard.as_ref().map(|s| s.units.clone())
    }

    /// The per-patient row files (`patients.csv`, `events.csv`, perhaps
    /// gzipped) as they lie spooled now, before [`write_results`] moves
    /// them into the result directory; empty when the scenario asks for
    /// none or they are still parts of shards.
    pub fn row_files(&self) -> Vec<PathBuf> {
        self.rows.files()
    }

    /// Each CSV file of the result directory that is not a per-patient row
    /// file, as (file name, the exact text the file holds), in the order
    /// they are written; made by the same code that writes the files. A
    /// shard has none (its accumulators are not a table).
    pub fn tables(&self) -> Result<Vec<(String, String)>> {
        write::tables(&self.study, self, &[])
    }
}

/// How results are written.
#[derive(Clone, Debug, Default)]
pub struct WriteOptions {
    /// Move an existing target directory aside whole (to
    /// `<out>.old-<time>`) instead of refusing one that holds files
    /// crmo-sim did not write.
    pub replace: bool,
    /// Draw the plots (and embed them in the report).
    pub plots: bool,
    /// The command line recorded in the manifest.
    pub command: Vec<String>,
    /// The style of the plots.
    pub style: crate::plot::Style,
    /// The report's calibration section (default: the reference scenario
    /// against the published targets, nothing for other scenarios).
    pub calibration: Option<crate::plot::report::ReportCalibration>,
    /// More CSV files of the result (name, text), e.g. `calibration.csv`.
    pub extra_tables: Vec<(String, String)>,
}

/// The default result directory of a study: `output/<scenario>`, and
/// `output/<scenario>-shard-K-of-N` for a shard.
pub fn default_out(study: &Study, shard: Option<ShardSpec>) -> PathBuf {
    let name = result_dir_name(&study.name());
    Path::new("output").join(match shard {
        None => name,
        Some(s) => format!("{name}-shard-{}-of-{}", s.index, s.count),
    })
}

/// A result directory being prepared: checked and locked when made (every
/// refusal of the output-directory rule happens then, before any work),
/// written into its staging directory, and put in place by
/// [`OutputDir::commit`]. Dropped without commit, it leaves the target as it
/// was.
#[derive(Debug)]
pub struct OutputDir {
    staging: Staging,
}

impl OutputDir {
    /// Checks `out` and prepares the staging directory beside it.
    pub fn prepare(out: &Path, replace: bool) -> Result<Self> {
        Ok(Self {
            staging: Staging::new(out, replace)?,
        })
    }

    /// Checks `out` against the inputs of `run` too (a merge may not write
    /// into, over or around a shard it reads), then prepares it.
    pub fn prepare_for(run: &StudyRun, out: &Path, replace: bool) -> Result<Self> {
        if let RowSpool::Parts(dirs) = &run.rows {
            write::refuse_out_among_inputs(out, dirs)?;
        }
        Self::prepare(out, replace)
    }

    /// Where the files are written until commit.
    pub fn path(&self) -> &Path {
        self.staging.path()
    }

    /// Writes the manifest (listing and hashing everything written) and
    /// puts the directory in place.
    pub fn commit(self, info: &mut RunInfo) -> Result<Written> {
        crate::output::writer::write_manifest(self.path(), info)?;
        self.staging.commit()
    }
}

/// Runs `study` (the whole of it, or the shard of `opts`) on `opts.threads`
/// workers in a local pool; per-patient rows the scenario asks for are
/// spooled to a private directory until [`write_results`] moves them into
/// place. Returns [`Error::Interrupted`] soon after `progress` says it was
/// cancelled.
pub fn run_study(study: &Study, opts: &RunOptions, progress: &dyn Progress) -> Result<StudyRun> {
    simulate::run(study, opts, progress, None)
}

/// Like [`run_study`], with the per-patient rows written straight into
/// `out`'s staging directory (no move later): what the command line does,
/// having checked `out` before the work starts.
pub fn run_study_into(
    study: &Study,
    opts: &RunOptions,
    progress: &dyn Progress,
    out: &OutputDir,
) -> Result<StudyRun> {
    simulate::run(study, opts, progress, Some(out.path()))
}

/// Reads, checks and merges the N shards in `dirs` (any order) into the
/// run they are slices of; its row files are joined from the shards' parts
/// when written.
pub fn merge_shards(dirs: &[PathBuf]) -> Result<(Study, StudyRun)> {
    let merged = crate::study::shard::merge_shards(dirs)?;
    let patient_years = merged.results.iter().map(|r| r.patient_years).sum();
    let run = StudyRun {
        study: merged.study.clone(),
        results: merged.results,
        shard: None,
        threads: 0,
        patient_years,
        wall_seconds: merged.wall_seconds,
        warnings: Vec::new(),
        rows: RowSpool::Parts(merged.dirs),
    };
    Ok((merged.study, run))
}

/// Writes `run` into the result directory `out` (None: [`default_out`])
/// under the output-directory rule: staged beside the target, never over a
/// file crmo-sim did not write, a manifest with every file's SHA-256,
/// plots if asked. The returned warnings are those of writing (the run's
/// own are in [`StudyRun::warnings`], read before writing).
pub fn write_results(
    study: &Study,
    run: StudyRun,
    out: Option<&Path>,
    opts: &WriteOptions,
) -> Result<Written> {
    let out = out.map_or_else(|| default_out(study, run.shard()), Path::to_path_buf);
    let dir = OutputDir::prepare_for(&run, &out, opts.replace)?;
    write_into(study, run, dir, opts)
}

/// Writes `run` into a prepared result directory and commits it.
pub fn write_into(
    study: &Study,
    run: StudyRun,
    out: OutputDir,
    opts: &WriteOptions,
) -> Result<Written> {
    let mut info = write::write_files(study, &run, out.path(), opts)?;
    out.commit(&mut info)
}
