//! The command-line interface: argument parsing (clap), the commands, the
//! progress bar and the exit codes (0 success, 2 bad input, 1 anything else).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::engine::cohort::{CohortResult, NoRows, RowSink};
use crate::error::{Error, Result};
use crate::output::outdir::{result_dir_name, Staging, CHARTS_DIR};
use crate::output::rows::{fmt_num, CsvRows};
use crate::output::summary::summary_rows;
use crate::output::writer::{sha256_hex, write_manifest, write_run, RunInfo};
use crate::scenario::{self, LoadedScenario};
use crate::study::shard::{merge_shards, ShardFile, ShardSpec, StudyIdentity};
use crate::study::Study;

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(
    name = "crmo-sim",
    version,
    about = "Disease-course simulation of CRMO and Majeed syndrome: virtual cohorts, treatment strategies, CSV summaries and plots",
    propagate_version = true
)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a scenario's cohort and write results to output/<scenario>/
    Run(RunArgs),
    /// Validate a scenario and print its resolved parameters
    Check {
        /// Scenario file (TOML)
        scenario: PathBuf,
    },
    /// Run a scenario (default: the reference) and compare it with the published calibration targets C1-C7
    Calibrate(RunArgs),
    /// Draw one virtual patient's course (PNG or SVG)
    Course(CourseArgs),
    /// Draw a grid of course charts showing the range of courses (PNG or SVG)
    Gallery(GalleryArgs),
    /// Merge the shards of a run (`run --shard K/N`) into the results of one run
    Merge(MergeArgs),
}

/// Options of `merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Shard directories written by `run --shard K/N`, all N of them, in any order
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Output directory (default: output/<scenario name>); an existing one is
    /// replaced only if it holds nothing but an earlier result's own files
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace --out even if it holds other files: the whole old directory is
    /// moved aside to <out>.old-<time>, never deleted
    #[arg(long)]
    pub replace: bool,
    /// No summary table
    #[arg(long, short)]
    pub quiet: bool,
    /// Do not draw the cohort plots
    #[arg(long)]
    pub no_plots: bool,
}

/// Options of `course`.
#[derive(Debug, Args)]
pub struct CourseArgs {
    /// Scenario file (TOML)
    pub scenario: PathBuf,
    /// Patient index (0 .. patients-1 of the scenario)
    #[arg(long)]
    pub patient: u64,
    /// Arm to follow (default: the first)
    #[arg(long)]
    pub arm: Option<String>,
    /// Image file, .png or .svg (default: output/charts/<scenario>/course-<patient>.png)
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Width in pixels
    #[arg(long, default_value_t = 1600, value_parser = clap::value_parser!(u32).range(400..=8000))]
    pub width: u32,
    /// Height in pixels
    #[arg(long, default_value_t = 900, value_parser = clap::value_parser!(u32).range(300..=8000))]
    pub height: u32,
}

/// Options of `gallery`.
#[derive(Debug, Args)]
pub struct GalleryArgs {
    /// Scenario file (TOML)
    pub scenario: PathBuf,
    /// Number of course charts
    #[arg(long, default_value_t = 6, value_parser = clap::value_parser!(u64).range(1..=24))]
    pub count: u64,
    /// Arm to follow (default: the first)
    #[arg(long)]
    pub arm: Option<String>,
    /// Image file, .png or .svg (default: output/charts/<scenario>/gallery.png)
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Options of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario file (TOML); without it, the built-in reference scenario runs
    pub scenario: Option<PathBuf>,
    /// Patients per replicate (overrides the scenario's `patients`)
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=scenario::limits::MAX_PATIENTS))]
    pub patients: Option<u64>,
    /// Seed, 0 to 2^63-1 (overrides the scenario's `seed`)
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=scenario::limits::MAX_SEED))]
    pub seed: Option<u64>,
    /// Output directory (default: output/<scenario name>); an existing one is
    /// replaced only if it holds nothing but an earlier result's own files
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace --out even if it holds other files: the whole old directory is
    /// moved aside to <out>.old-<time>, never deleted
    #[arg(long)]
    pub replace: bool,
    /// Worker threads, 1 to 1024 (default: RAYON_NUM_THREADS, else all cores)
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=MAX_THREADS))]
    pub threads: Option<u64>,
    /// No progress bar and no summary table
    #[arg(long, short)]
    pub quiet: bool,
    /// Do not draw the cohort plots (for large batch runs)
    #[arg(long)]
    pub no_plots: bool,
    /// Run only slice K of N of the work and write its accumulators (K from 0,
    /// e.g. --shard $SLURM_ARRAY_TASK_ID/4); combine the N shards with `merge`
    #[arg(long, value_name = "K/N")]
    pub shard: Option<ShardSpec>,
}

/// Entry point of the binary: runs the command, prints any error once, and
/// returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            if e.is_input_error() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Run(args) => run(&args, false).map(|_| ()),
        Command::Calibrate(args) => run(&args, true).map(|_| ()),
        Command::Check { scenario } => check(&scenario),
        Command::Course(args) => course(&args),
        Command::Gallery(args) => gallery(&args),
        Command::Merge(args) => merge(&args),
    }
}

/// Loads the scenario named on the command line, or the built-in reference.
pub fn load(path: Option<&Path>) -> Result<LoadedScenario> {
    match path {
        Some(p) => scenario::load_file(p),
        None => Ok(scenario::reference()),
    }
}

/// Most worker threads (`--threads` and `RAYON_NUM_THREADS`).
pub const MAX_THREADS: u64 = 1024;

/// The thread count: `--threads`, else `RAYON_NUM_THREADS` (checked like
/// `--threads`), else the number of cores.
pub fn thread_count(threads: Option<u64>) -> Result<usize> {
    if let Some(n) = threads {
        return Ok(n as usize);
    }
    match std::env::var_os("RAYON_NUM_THREADS") {
        None => Ok(std::thread::available_parallelism().map_or(1, |n| n.get())),
        Some(v) => v
            .to_str()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .filter(|n| (1..=MAX_THREADS).contains(n))
            .map(|n| n as usize)
            .ok_or_else(|| {
                Error::Usage(format!(
                    "RAYON_NUM_THREADS={} is not allowed: expected a whole number from 1 to {MAX_THREADS} (like --threads), or unset it to use all cores",
                    scenario::limits::shown(&v.to_string_lossy())
                ))
            }),
    }
}

/// Runs `f` on a pool of worker threads (see [`thread_count`]); a pool that
/// cannot be started is an error, never a panic.
pub fn with_threads<T: Send>(threads: Option<u64>, f: impl FnOnce() -> T + Send) -> Result<T> {
    let n = thread_count(threads)?;
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .map(|pool| pool.install(f))
        .map_err(|e| Error::Usage(format!("cannot start {n} threads: {e}")))
}

/// Names the scenario file in a per-patient limit error (the engine does not know it).
fn with_origin(e: Error, origin: &str) -> Error {
    match e {
        Error::PatientLimit(m) => Error::PatientLimit(format!("{origin}: {m}")),
        e => e,
    }
}

fn progress_bar(total: u64, quiet: bool) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(total);
    pb.set_style(
        ProgressStyle::with_template(
            "{spinner} {elapsed_precise} [{bar:40}] {human_pos}/{human_len} patients ({eta} left)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    pb
}

/// The study named on the command line, with `--patients`/`--seed` applied.
fn load_study(args: &RunArgs) -> Result<Study> {
    let mut loaded = load(args.scenario.as_deref())?;
    if let Some(n) = args.patients {
        loaded.scenario.patients = n;
    }
    if let Some(s) = args.seed {
        loaded.scenario.seed = s;
    }
    scenario::check_run_size(&loaded.scenario)
        .map_err(|(_, m)| Error::Usage(format!("{}: with --patients: {m}", loaded.origin)))?;
    thread_count(args.threads)?;
    Study::resolve(loaded)
}

/// The per-patient row writer the study asks for, writing into `dir`.
fn row_sink(study: &Study, dir: &Path) -> Result<Box<dyn RowSink>> {
    let o = &study.scenario().output;
    Ok(if o.patients || o.events {
        Box::new(CsvRows::new(
            dir,
            study.arm_names(),
            study.drug_names(),
            o.patients,
            o.events,
        )?)
    } else {
        Box::new(NoRows)
    })
}

/// The manifest of a run, before its files are listed.
fn run_info(study: &Study, threads: usize, patient_years: f64, wall_seconds: f64) -> RunInfo {
    let s = study.scenario();
    RunInfo {
        crmo_sim_version: env!("CARGO_PKG_VERSION").into(),
        scenario: study.name(),
        scenario_source: study.loaded().origin.clone(),
        scenario_sha256: sha256_hex(&study.loaded().text),
        seed: s.seed,
        patients: s.patients,
        replicates: s.replicates,
        horizon_years: s.horizon_years,
        arms: study.arm_names(),
        threads,
        // Arguments need not be UTF-8 (paths): record them lossily, never panic.
        command_line: std::env::args_os()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        patient_years,
        wall_seconds,
        rng: "rand 0.9.2, rand_chacha 0.9.0 (ChaCha8 replicate keys), rand_pcg 0.9.0 (Pcg64 patient streams), rand_distr 0.5.1".into(),
        files: Vec::new(),
    }
}

/// The per-patient files a study writes.
fn row_files(study: &Study) -> Vec<&'static str> {
    let o = &study.scenario().output;
    let mut files = Vec::new();
    if o.patients {
        files.push("patients.csv");
    }
    if o.events {
        files.push("events.csv");
    }
    files
}

/// `crmo-sim run` and `crmo-sim calibrate`: simulates the cohort
/// (multi-threaded over patient chunks) and writes every output file, staged
/// and renamed into place; `calibrate` adds `calibration.csv` and its table.
/// With `--shard K/N` it runs slice K only and writes that slice's
/// accumulators for `merge`.
fn run(args: &RunArgs, calibrate: bool) -> Result<PathBuf> {
    let study = load_study(args)?;
    if let Some(shard) = args.shard {
        if calibrate {
            return Err(Error::Usage(
                "calibrate runs a whole cohort: use `run --shard` and `merge`, then compare".into(),
            ));
        }
        return run_shard(&study, shard, args);
    }
    let name = study.name();
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(result_dir_name(&name)));
    let s = study.scenario();
    let staging = Staging::new(&out, args.replace)?;
    let mut sink = row_sink(&study, staging.path())?;
    let pb = progress_bar(s.patients * u64::from(s.replicates), args.quiet);
    let started = Instant::now();
    let (result, threads) = with_threads(args.threads, || {
        let r = study.run(sink.as_mut(), &|n| pb.inc(n));
        (r, rayon::current_num_threads())
    })?;
    let result = result.map_err(|e| with_origin(e, &study.loaded().origin))?;
    pb.finish_and_clear();
    let wall_seconds = started.elapsed().as_secs_f64();
    sink.finish()?;
    drop(sink);
    let mut info = run_info(&study, threads, result.patient_years, wall_seconds);
    let calibration = calibrate.then(|| {
        let mut rows = crate::calibrate::calibration_rows(&result);
        crate::calibrate::mark_not_applicable(&mut rows, study.scenario());
        rows
    });
    if let Some(rows) = &calibration {
        let path = staging.path().join("calibration.csv");
        std::fs::write(&path, crate::output::tables::calibration_csv(rows)?)
            .map_err(|e| Error::output(&path, e))?;
    }
    write_results(&study, &result, staging.path(), &mut info, !args.no_plots)?;
    let target = staging.commit()?;
    if let Some(rows) = &calibration {
        let mut out = std::io::stdout().lock();
        let _ = write!(
            out,
            "{}",
            crate::calibrate::calibration_table(rows, &result.arms[0])
        );
        let _ = writeln!(out, "\nresults in {}/", target.display());
    } else if !args.quiet {
        print_headline(&result, &target, wall_seconds);
    }
    Ok(target)
}

/// Writes the result files of a whole study (run or merge) into `dir`:
/// the PSA tables, the cohort plots, then summary, differences, time
/// series, Kaplan–Meier curves and the manifest.
fn write_results(
    study: &Study,
    result: &CohortResult,
    dir: &Path,
    info: &mut RunInfo,
    plots: bool,
) -> Result<()> {
    if crate::study::psa::wants_tables(study) {
        crate::study::psa::write_tables(study, result, dir)?;
    }
    let drugs = study.drug_names();
    if plots {
        crate::plot::cohort::cohort_plots(result, &drugs, &study.name(), &dir.join("plots"))?;
    }
    write_run(dir, result, &drugs, info)
}

/// `crmo-sim run --shard K/N`: runs slice K of the work (multi-threaded,
/// like `run`) and writes its accumulators (`shard.crmo`), its part of any
/// per-patient files and a manifest into the shard directory.
fn run_shard(study: &Study, shard: ShardSpec, args: &RunArgs) -> Result<PathBuf> {
    let out = args.out.clone().unwrap_or_else(|| {
        Path::new("output").join(format!(
            "{}-shard-{}-of-{}",
            result_dir_name(&study.name()),
            shard.index,
            shard.count
        ))
    });
    let staging = Staging::new(&out, args.replace)?;
    let mut sink = row_sink(study, staging.path())?;
    let units = study.shard_units(shard);
    let pb = progress_bar(study.cohort().patients_in(&units), args.quiet);
    let started = Instant::now();
    let (acc, threads) = with_threads(args.threads, || {
        let r = study.run_units(units.clone(), sink.as_mut(), &|n| pb.inc(n));
        (r, rayon::current_num_threads())
    })?;
    let acc = acc.map_err(|e| with_origin(e, &study.loaded().origin))?;
    pb.finish_and_clear();
    sink.finish()?;
    drop(sink);
    let wall_seconds = started.elapsed().as_secs_f64();
    let patient_years = acc.observed_days.value() / crate::engine::units::DAYS_PER_YEAR;
    let file = ShardFile {
        identity: StudyIdentity::of(study, shard.count),
        shard,
        scenario_text: study.loaded().text.clone(),
        scenario_origin: study.loaded().origin.clone(),
        units: (units.start, units.end),
        wall_seconds,
        accumulators: acc,
    };
    file.write(staging.path())?;
    let mut info = run_info(study, threads, patient_years, wall_seconds);
    write_manifest(staging.path(), &mut info)?;
    let target = staging.commit()?;
    if !args.quiet {
        println!(
            "shard {shard}: work units {}..{} of {}, {:.0} patient-years in {:.2} s\nshard in {}/",
            units.start,
            units.end,
            study.units(),
            patient_years,
            wall_seconds,
            target.display()
        );
    }
    Ok(target)
}

/// `crmo-sim merge`: reads all N shards of a run, checks they belong
/// together, and writes exactly the files one `run` writes (single-threaded
/// apart from the plots; merging is a sum of integers).
fn merge(args: &MergeArgs) -> Result<()> {
    let merged = merge_shards(&args.shards)?;
    let study = &merged.study;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(result_dir_name(&study.name())));
    let staging = Staging::new(&out, args.replace)?;
    let mut info = run_info(study, 0, merged.result.patient_years, merged.wall_seconds);
    for f in row_files(study) {
        concatenate_rows(&merged.dirs, f, &staging.path().join(f))?;
    }
    write_results(
        study,
        &merged.result,
        staging.path(),
        &mut info,
        !args.no_plots,
    )?;
    let target = staging.commit()?;
    if !args.quiet {
        print_headline(&merged.result, &target, merged.wall_seconds);
    }
    Ok(())
}

/// Joins the shards' parts of a per-patient file: the first whole, the
/// others without their header line (shards hold contiguous work in order).
fn concatenate_rows(dirs: &[PathBuf], name: &str, to: &Path) -> Result<()> {
    let mut out = std::fs::File::create(to).map_err(|e| Error::output(to, e))?;
    for (i, dir) in dirs.iter().enumerate() {
        let part = dir.join(name);
        let bytes = std::fs::read(&part)
            .map_err(|e| Error::Shard(format!("{}: cannot read {name}: {e}", dir.display())))?;
        let body = if i == 0 {
            &bytes[..]
        } else {
            let header_end = bytes
                .iter()
                .position(|&b| b == b'\n')
                .map_or(bytes.len(), |p| p + 1);
            &bytes[header_end..]
        };
        out.write_all(body).map_err(|e| Error::output(to, e))?;
    }
    Ok(())
}

/// Metrics shown in the short table after a run.
const HEADLINE: [(&str, &str); 12] = [
    (
        "remission_6_months_frac",
        "not in flare 6 months after diagnosis",
    ),
    (
        "remission_24_months_frac",
        "not in flare 24 months after diagnosis",
    ),
    ("reached_step_2_frac", "reached ladder step 2 (share)"),
    ("flares_per_patient_year", "flares per patient-year"),
    ("time_in_flare_frac", "time in flare (share)"),
    (
        "diagnostic_delay_median_days",
        "median diagnostic delay (days)",
    ),
    (
        "silent_lesion_share_at_diagnosis",
        "silent share of lesions at diagnosis",
    ),
    (
        "solitary_lesion_frac_at_diagnosis",
        "solitary lesion at diagnosis (share)",
    ),
    ("jansson_ge39_frac", "Jansson score >= 39 (share)"),
    ("bristol_criterion1_frac", "Bristol criterion 1 (share)"),
    ("resolved_frac", "resolved within horizon (share)"),
    ("vertebral_fracture_frac", "vertebral fracture (share)"),
];

fn print_headline(res: &CohortResult, target: &Path, wall_seconds: f64) {
    let rows = summary_rows(res);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{} patients x {} replicate(s), {:.0} patient-years in {:.2} s",
        res.patients,
        res.replicates.len(),
        res.patient_years,
        wall_seconds
    );
    for arm in &res.arms {
        let _ = writeln!(out, "\narm {arm}");
        let _ = writeln!(
            out,
            "  {:<40} {:>10} {:>21}",
            "metric", "mean", "95% interval"
        );
        for (metric, label) in HEADLINE {
            if let Some(r) = rows.iter().find(|r| &r.arm == arm && r.metric == metric) {
                let _ = writeln!(
                    out,
                    "  {:<40} {:>10} {:>21}",
                    label,
                    fmt_num(round3(r.mean)),
                    format!(
                        "{} - {}",
                        fmt_num(round3(r.lower_95)),
                        fmt_num(round3(r.upper_95))
                    )
                );
            }
        }
    }
    let _ = writeln!(out, "\nresults in {}/", target.display());
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// `crmo-sim check`: validates and prints the resolved parameters
/// (single-threaded). It resolves the same [`Study`] `run` does, so it
/// accepts and refuses exactly what `run` does.
fn check(path: &Path) -> Result<()> {
    let study = Study::resolve(scenario::load_file(path)?)?;
    let text = scenario_listing(&study);
    let mut out = std::io::stdout().lock();
    // A closed pipe (e.g. `| head`) is a normal end, not an error.
    let _ = out.write_all(text.as_bytes());
    Ok(())
}

/// The resolved parameters of a scenario, as printed by `check`.
pub fn scenario_listing(study: &Study) -> String {
    let l = study.loaded();
    let s = &l.scenario;
    let mut t = String::new();
    t += &format!("scenario {} ({}): valid\n", l.name(), l.origin);
    t += &format!(
        "seed {}, {} patients, {} replicate(s), horizon {} years\n\n",
        s.seed, s.patients, s.replicates, s.horizon_years
    );
    t += "[cohort]\n";
    t += &format!("  female_frac = {}\n", s.cohort.female_frac);
    t += &format!("  onset_age_years = {}\n", s.cohort.onset_age_years);
    t += &format!("  majeed_frac = {}\n", s.cohort.majeed_frac);
    t += &format!(
        "  majeed_onset_age_years = {}\n",
        s.cohort.majeed_onset_age_years
    );
    t += "\n[natural_history]   (value; Majeed value where it differs; source)\n";
    for row in s.natural_history.listing() {
        let majeed = row
            .majeed
            .map_or(String::new(), |m| format!("  [majeed: {m}]"));
        t += &format!(
            "  {} = {}{}\n      {} -- {}\n",
            row.name, row.value, majeed, row.doc, row.source
        );
    }
    let w = &s.natural_history.site_weights;
    t += "\n[natural_history.site_weights]\n";
    for (site, weight) in crate::model::Site::ALL.iter().zip(w.as_array()) {
        t += &format!("  {} = {}\n", site.as_str(), weight);
    }
    let im = &s.imaging;
    t += "\n[imaging]\n";
    t += &format!(
        "  at_diagnosis = {}, follow_up = {} every {} months\n  sensitivity: wbmri {}, scintigraphy {}, radiograph {}\n",
        snake(im.at_diagnosis),
        snake(im.follow_up),
        im.follow_up_every_months,
        im.sensitivity_wbmri,
        im.sensitivity_scintigraphy,
        im.sensitivity_radiograph
    );
    t += &format!(
        "\n[output]\n  patients = {}, events = {}, timeseries_step_weeks = {}\n",
        s.output.patients, s.output.events, s.output.timeseries_step_weeks
    );
    t += &drug_listing(study);
    t += &drawn_listing(study);
    t
}

/// The drugs and arms, as printed by `check`: each drug with the values
/// replicate 0 uses.
fn drug_listing(study: &Study) -> String {
    use crate::scenario::treatment::{catalogue, ladder_steps};
    let s = study.scenario();
    let model = study.replicate_model(0);
    let cat = catalogue();
    let mut t = String::from("\n[drugs]   (values of replicate 0: p_response sporadic/majeed, onset lag, hazard ratio, duration factor, lesion factor, heal-time factor, partial effect, AE per year, courses)\n");
    for d in &model.drugs {
        let v = &d.values;
        let courses = if v.course_days > 0.0 {
            format!(
                "{} day(s) every {} weeks, at most {} courses",
                v.course_days, v.course_every_weeks, v.max_courses
            )
        } else if v.max_weeks > 0.0 {
            format!("continuous, at most {} weeks", v.max_weeks)
        } else {
            "continuous".to_string()
        };
        let source = cat
            .iter()
            .find(|c| c.name == d.name)
            .map_or("defined in this scenario", |c| c.source);
        t += &format!(
            "  {}: p {}/{}, lag {} wk, HR {}, duration x{}, lesions x{}, healing x{}, partial {}, AE {}/yr, {courses}\n      -- {source}\n",
            d.name, v.p_response, v.p_response_majeed, v.onset_lag_weeks, v.flare_hazard_ratio, v.flare_duration_factor,
            v.lesion_factor, v.heal_time_factor, v.partial_effect, v.adverse_event_per_year
        );
    }
    let unused: Vec<String> = cat
        .iter()
        .map(|c| c.name.to_string())
        .chain(s.drugs.keys().map(|k| k.get_ref().clone()))
        .filter(|n| study.drugs().index(n).is_none())
        .fold(Vec::new(), |mut v, n| {
            if !v.contains(&n) {
                v.push(n);
            }
            v
        });
    if !unused.is_empty() {
        t += &format!("  (known, not used by any arm: {})\n", unused.join(", "));
    }
    if s.arm.is_empty() {
        t += "\n(no [[arm]]: one arm, natural_history, without treatment)\n";
    }
    for a in &s.arm {
        let ladder: Vec<String> = ladder_steps(a).iter().map(|st| st.join("+")).collect();
        t += &format!(
            "\n[[arm]] {}: {}\n  assess every {} weeks; escalate when {} after >= {} weeks on a step; taper after {} weeks of remission; relapse after taper: {}; at the top: {}\n",
            a.name.get_ref(),
            if a.untreated { "untreated".to_string() } else { ladder.join(" -> ") },
            a.assess_every_weeks, snake(a.escalate_when), a.min_weeks_on_step, a.stop_after_remission_weeks, snake(a.on_relapse_after_stop), snake(a.at_top)
        );
    }
    t
}

/// The values replicate 0 drew from distributions, as printed by `check`.
fn drawn_listing(study: &Study) -> String {
    let drawn = study.replicate_model(0).drawn;
    if drawn.is_empty() {
        return "\n(no parameter is drawn from a distribution: every replicate uses the values above)\n".into();
    }
    let mut t = String::from(
        "\n[replicate 0]   (values drawn from distributions; each replicate draws its own, see parameters.csv)\n",
    );
    for d in drawn {
        t += &format!(
            "  {} = {}   (drawn from {})\n",
            d.parameter, d.value, d.distribution
        );
    }
    t
}

/// Where an image goes: `--out`, else `output/charts/<scenario>/<default_name>`,
/// a place no `run` replaces (the directory is created).
fn image_path(study: &Study, out: Option<&Path>, default_name: &str) -> Result<PathBuf> {
    let path = out.map_or_else(
        || {
            Path::new("output")
                .join(CHARTS_DIR)
                .join(result_dir_name(&study.name()))
                .join(default_name)
        },
        Path::to_path_buf,
    );
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
    }
    Ok(path)
}

/// `crmo-sim course`: one patient's chart (single-threaded; one patient).
fn course(args: &CourseArgs) -> Result<()> {
    let study = Study::resolve(scenario::load_file(&args.scenario)?)?;
    crate::plot::Format::of(args.out.as_deref().unwrap_or(Path::new("x.png")))?;
    let trace = crate::plot::course::course_trace(&study, args.arm.as_deref(), args.patient)?;
    let path = image_path(
        &study,
        args.out.as_deref(),
        &format!("course-{}.png", args.patient),
    )?;
    crate::plot::course::render_course(&trace, &path, args.width, args.height)?;
    println!("{}", path.display());
    Ok(())
}

/// `crmo-sim gallery`: a grid of course charts (single-threaded; scans a few
/// thousand patients to pick a spread of course types).
fn gallery(args: &GalleryArgs) -> Result<()> {
    let study = Study::resolve(scenario::load_file(&args.scenario)?)?;
    crate::plot::Format::of(args.out.as_deref().unwrap_or(Path::new("x.png")))?;
    let path = image_path(&study, args.out.as_deref(), "gallery.png")?;
    crate::plot::gallery::gallery(&study, args.arm.as_deref(), args.count as usize, &path)?;
    println!("{}", path.display());
    Ok(())
}

/// A unit enum variant as a scenario file spells it (`NotInRemission` -> `not_in_remission`).
fn snake(v: impl std::fmt::Debug) -> String {
    let mut out = String::new();
    for (i, c) in format!("{v:?}").chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
