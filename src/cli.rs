//! The command-line interface: argument parsing (clap), the commands, the
//! progress bar and the exit codes (0 success, 2 bad input, 1 anything else).

mod calibrate;
mod charts;
mod criteria;
mod extras;
mod listing;
mod owsa;
mod run;
mod trial;

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use crate::error::{Error, Result};
use crate::scenario::{self, LoadedScenario};
use crate::study::shard::ShardSpec;

pub use charts::{CheckArgs, CourseArgs, GalleryArgs, ScenarioArgs};
pub use listing::scenario_listing;
pub use owsa::OwsaArgs;
pub use trial::TrialArgs;

/// Command-line arguments.
#[derive(Debug, Parser)]
#[command(
    name = "crmo-sim",
    version,
    about = "Disease-course simulation of CRMO and Majeed syndrome: virtual cohorts, treatment strategies, CSV summaries and plots",
    propagate_version = true
)]
pub struct Cli {
    /// Nothing on standard output but what was asked for: no progress bar,
    /// summary or calibration table, chosen patient or written path; results
    /// are still written and errors still reported
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate a scenario's cohort and write results to output/<scenario>/
    Run(RunArgs),
    /// Validate a scenario (default: the reference) and print its resolved parameters
    Check(CheckArgs),
    /// Run a scenario (default: the reference) and compare it with the published calibration targets C1-C15 (or your own, --targets); --fit searches parameter values closest to them
    Calibrate(CalibrateArgs),
    /// Draw one virtual patient's course (PNG or SVG), by number or by story
    Course(CourseArgs),
    /// Draw a grid of course charts showing the range of courses (PNG or SVG)
    Gallery(GalleryArgs),
    /// Merge the shards of a run (`run --shard K/N`) or of trials (`trial --shard K/N`) into the results of one run
    Merge(MergeArgs),
    /// Print a shell completion script (bash, zsh or fish) to standard output
    #[command(after_long_help = extras::COMPLETIONS_HELP)]
    Completions(extras::CompletionsArgs),
    /// Print the manual page (roff) to standard output; view it with `man -l -`
    Manpage,
    /// Validate the diagnostic criteria: simulate the CRMO cohort to diagnosis beside its mimics ([differential]) and write sensitivity, specificity, predictive values, ROC and AUC
    Criteria(CriteriaArgs),
    /// One-way sensitivity analysis of the parameters given as distributions: owsa.csv and tornado diagrams
    Owsa(OwsaArgs),
    /// Simulate randomised trials of the scenario's arms: power, type I error and sample size per arm
    Trial(trial::TrialArgs),
}

/// Options of `criteria`.
#[derive(Debug, Args)]
pub struct CriteriaArgs {
    /// Options shared with `run` (`--out` defaults to output/<scenario>-criteria).
    #[command(flatten)]
    pub run: RunArgs,
    /// Also give the predictive values at this prevalence of CRMO (above 0,
    /// below 1), besides the scenario's case mix
    #[arg(long, value_name = "P")]
    pub prevalence: Option<f64>,
    /// Merge the shard directories of `criteria --shard K/N` (all N, any
    /// order) into the files of one whole run, instead of simulating
    #[arg(long, num_args = 1.., value_name = "SHARD_DIR",
          conflicts_with_all = ["scenario", "shard", "patients", "seed", "threads"])]
    pub merge: Vec<PathBuf>,
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
    /// The global `-q` (set by [`main`], not parsed here).
    #[arg(skip)]
    pub quiet: bool,
    /// Do not draw the cohort plots
    #[arg(long)]
    pub no_plots: bool,
    /// Style of the cohort plots: paper, or slide (1920x1080, large text),
    /// as with `run --style`
    #[arg(long, value_enum, default_value_t = crate::plot::Style::Paper)]
    pub style: crate::plot::Style,
}

/// Options of `calibrate`.
#[derive(Debug, Args)]
#[command(after_long_help = CALIBRATE_HELP)]
pub struct CalibrateArgs {
    /// Options shared with `run`.
    #[command(flatten)]
    pub run: RunArgs,
    /// Compare with your own targets instead of C1-C15: a CSV file with the
    /// header id,target,metric,published,tolerance[,arm]; `metric` names a
    /// metric of summary.csv, read in the arm named in `arm` (empty or no
    /// column: the first arm)
    #[arg(long, value_name = "FILE.csv")]
    pub targets: Option<PathBuf>,
    /// Fit: search these parameters (dotted paths as in [sweep], e.g.
    /// natural_history.flare_rate_per_year=1..6) for the values closest to
    /// the targets; repeat --fit or separate with commas; bounds default to
    /// the parameter's allowed range. Writes fitted.toml and fit.csv
    #[arg(long, value_name = "NAME[=LO..HI]", value_delimiter = ',')]
    pub fit: Vec<String>,
    /// Most Nelder-Mead iterations of --fit (each simulates the cohort once
    /// or twice)
    #[arg(long, default_value_t = crate::calibrate::fit::DEFAULT_MAX_ITERS,
          value_parser = clap::value_parser!(u64).range(1..=100_000), requires = "fit")]
    pub max_iters: u64,
}

/// The long help of `calibrate`: the distance and how a fit searches.
const CALIBRATE_HELP: &str = "\
Distance to the targets (printed, and minimised by --fit):
  distance = sum over targets of ((simulated - published) / tolerance)^2
over the targets that apply to the scenario (a target without a simulated
value at a point of the search makes that point infinitely far).

--fit runs Nelder-Mead (the argmin crate) in the unit cube: each parameter's
[LO, HI] maps to [0, 1] (on a log scale when LO > 0 and HI/LO >= 1000); a
point outside is clamped, plus a penalty. Every evaluation simulates the same
patients (seed and --patients fixed: common random numbers). The search
starts from the scenario's values (moved into the bounds). It prints one
line per iteration (iteration, parameter values, best distance so far)
unless -q, and writes into --out (default output/<scenario>-fit):
fitted.toml (the scenario with the fitted values, 6 significant digits,
comments kept), fit.csv (iteration,<parameter>...,distance), and the
calibration.csv, summary.csv and other results of the fitted scenario.

Example:
  crmo-sim calibrate --patients 5000 --max-iters 40 \\
    --fit natural_history.flare_rate_per_year=1..8,natural_history.resolution_median_years=1..6";

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
    /// The global `-q` (set by [`main`], not parsed here): no progress bar
    /// and no summary table.
    #[arg(skip)]
    pub quiet: bool,
    /// Do not draw the cohort plots (for large batch runs)
    #[arg(long)]
    pub no_plots: bool,
    /// Style of the cohort plots: paper, or slide (1920x1080, large text)
    #[arg(long, value_enum, default_value_t = crate::plot::Style::Paper)]
    pub style: crate::plot::Style,
    /// The arm differences.csv pairs every other arm against, on the same
    /// patients (overrides the scenario's `reference_arm`; default: the
    /// first arm)
    #[arg(long, value_name = "NAME")]
    pub reference_arm: Option<String>,
    /// Run only slice K of N of the work and write its accumulators (K from 0,
    /// e.g. --shard $SLURM_ARRAY_TASK_ID/4); combine the N shards with `merge`
    #[arg(long, value_name = "K/N")]
    pub shard: Option<ShardSpec>,
}

/// Entry point of the binary: runs the command, prints any error once, and
/// returns the exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    install_interrupt_handler();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Error::Interrupted) => {
            report_interrupt();
            ExitCode::from(130)
        }
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

/// Set by the interrupt handler; a run's [`BarProgress`] reports it as a
/// cancel, and the run then stops and removes its unfinished result.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Set once the interrupt has been reported, so that it is said once.
static INTERRUPT_REPORTED: AtomicBool = AtomicBool::new(false);

/// How long a command has, after an interrupt, to stop on its own (a
/// simulation stops within one batch of work) before the handler removes
/// the unfinished result itself and ends the process: commands that do not
/// follow a cancel (drawing charts, writing files) end then.
const GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Says once that the run was interrupted.
fn report_interrupt() {
    if !INTERRUPT_REPORTED.swap(true, Ordering::SeqCst) {
        eprintln!("{}", Error::Interrupted);
    }
}

/// On SIGINT/SIGTERM/SIGHUP: ask the running command to stop (it removes
/// its unfinished result and exits with code 130); if it has not within
/// [`GRACE`], remove the unfinished result (and the lock and any chart's
/// temporary file) here, say so, and exit with code 130.
fn install_interrupt_handler() {
    // Fails only when a handler is installed already; that one then owns
    // interrupts.
    let _ = ctrlc::set_handler(|| {
        INTERRUPTED.store(true, Ordering::SeqCst);
        std::thread::sleep(GRACE);
        // The registry stays locked: no swap may start while the process ends.
        let (_held, removed) = crate::output::staging::remove_unfinished();
        if removed {
            report_interrupt();
        }
        std::process::exit(130);
    });
}

/// The command line as the manifest records it (arguments need not be
/// UTF-8: recorded lossily, never a panic).
pub(crate) fn command_line() -> Vec<String> {
    std::env::args_os()
        .map(|a| a.to_string_lossy().into_owned())
        .collect()
}

/// Prints the library's warnings for the user.
pub(crate) fn print_warnings(warnings: &[String]) {
    for w in warnings {
        eprintln!("warning: {w}");
    }
}

/// The progress bar of a simulation (hidden with `-q` or when standard
/// error is not a terminal), which also reports an interrupt as a cancel.
pub(crate) struct BarProgress {
    bar: ProgressBar,
}

impl BarProgress {
    /// A progress bar, hidden with `quiet`.
    pub(crate) fn new(quiet: bool) -> Self {
        Self {
            bar: progress_bar(0, quiet),
        }
    }

    /// Clears the bar from the terminal.
    pub(crate) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl crate::pipeline::Progress for BarProgress {
    fn start(&self, total_units: u64) {
        self.bar.set_length(total_units);
    }

    fn advance(&self, units: u64) {
        self.bar.inc(units);
    }

    fn cancelled(&self) -> bool {
        INTERRUPTED.load(Ordering::SeqCst)
    }

    fn warning(&self, message: &str) {
        self.bar.suspend(|| eprintln!("warning: {message}"));
    }
}

/// Runs the command. The global `-q` is handed to `run`, `calibrate` and
/// `merge` through their arguments (which their helpers pass around whole)
/// and to the other commands directly.
fn dispatch(cli: Cli) -> Result<()> {
    let quiet = cli.quiet;
    match cli.command {
        Command::Run(mut args) => {
            args.quiet = quiet;
            run::run(&args).map(|_| ())
        }
        Command::Calibrate(mut args) => {
            args.run.quiet = quiet;
            calibrate::calibrate(&args)
        }
        Command::Check(args) => charts::check(&args, quiet),
        Command::Course(args) => charts::course(&args, quiet),
        Command::Gallery(args) => charts::gallery(&args, quiet),
        Command::Merge(mut args) => {
            args.quiet = quiet;
            let trial_shards = args
                .shards
                .first()
                .is_some_and(|d| crate::trial::shard::is_trial_shard(d));
            if trial_shards {
                trial::merge(&args)
            } else {
                run::merge(&args)
            }
        }
        Command::Criteria(mut args) => {
            args.run.quiet = quiet;
            criteria::criteria(&args).map(|_| ())
        }
        Command::Completions(args) => extras::completions(&args),
        Command::Manpage => extras::manpage(),
        Command::Owsa(mut args) => {
            args.quiet = quiet;
            owsa::owsa_command(&args)
        }
        Command::Trial(mut args) => {
            args.quiet = quiet;
            trial::trial(&args).map(|_| ())
        }
    }
}

/// Loads the scenario named on the command line, or the built-in reference.
pub fn load(path: Option<&Path>) -> Result<LoadedScenario> {
    match path {
        Some(p) => scenario::load_file(p),
        None => Ok(scenario::reference()),
    }
}

/// Resolves a scenario with the command line's `--patients` and `--seed`
/// in force (see [`crate::pipeline::resolve_with_overrides`]).
pub(crate) fn resolve_with_overrides(
    loaded: LoadedScenario,
    patients: Option<u64>,
    seed: Option<u64>,
) -> Result<crate::study::Study> {
    crate::pipeline::resolve_with_overrides(loaded, patients, seed)
}

/// Most worker threads (`--threads` and `RAYON_NUM_THREADS`).
pub const MAX_THREADS: u64 = 1024;

/// The thread count: `--threads`, else `RAYON_NUM_THREADS` (checked like
/// `--threads`), else the number of cores.
pub fn thread_count(threads: Option<u64>) -> Result<usize> {
    crate::pipeline::thread_count(threads.map(|n| n as usize))
}

/// Runs `f` on a pool of worker threads (see [`thread_count`]); a pool that
/// cannot be started is an error, never a panic.
pub fn with_threads<T: Send>(threads: Option<u64>, f: impl FnOnce() -> T + Send) -> Result<T> {
    crate::pipeline::with_threads(threads.map(|n| n as usize), f)
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
