//! The command-line interface: argument parsing (clap), the commands, the
//! progress bar and the exit codes (0 success, 2 bad input, 1 anything else).

mod listing;
mod run;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::error::{Error, Result};
use crate::output::outdir::{result_dir_name, CHARTS_DIR};
use crate::scenario::{self, LoadedScenario};
use crate::study::shard::ShardSpec;
use crate::study::Study;

pub use listing::scenario_listing;

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
        Command::Run(args) => run::run(&args, false).map(|_| ()),
        Command::Calibrate(args) => run::run(&args, true).map(|_| ()),
        Command::Check { scenario } => check(&scenario),
        Command::Course(args) => course(&args),
        Command::Gallery(args) => gallery(&args),
        Command::Merge(args) => run::merge(&args),
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
