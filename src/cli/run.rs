//! `run`, `run --shard K/N` and `merge`: the arguments, the progress bar,
//! and the short table printed at the end. The work itself — simulating,
//! the write order, the manifest, shards and their merge — is the library's
//! [`crate::pipeline`]; `calibrate` and `criteria` share the helpers here.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::output::rows::fmt_num;
use crate::pipeline::{self, OutputDir, RunOptions, ScenarioSource, StudyRun, WriteOptions};
use crate::results::headline::HEADLINE;
use crate::results::CohortResult;
use crate::study::Study;

use super::{BarProgress, MergeArgs, RunArgs};

/// The run options of the command line.
pub(super) fn run_options(args: &RunArgs) -> RunOptions {
    RunOptions {
        patients: args.patients,
        seed: args.seed,
        threads: args.threads.map(|n| n as usize),
        reference_arm: args.reference_arm.clone(),
        shard: args.shard,
    }
}

/// The study named on the command line, with `--patients`/`--seed` and
/// `--reference-arm` applied.
pub(super) fn load_study(args: &RunArgs) -> Result<Study> {
    let source = match &args.scenario {
        Some(p) => ScenarioSource::Path(p.clone()),
        None => ScenarioSource::Builtin,
    };
    pipeline::load_study(&source, &run_options(args))
}

/// How the command line writes results: plots unless `--no-plots`, in
/// `--style`, the command line in the manifest.
pub(super) fn write_options(
    replace: bool,
    no_plots: bool,
    style: crate::plot::Style,
) -> WriteOptions {
    WriteOptions {
        replace,
        plots: !no_plots,
        command: super::command_line(),
        style,
        ..WriteOptions::default()
    }
}

/// Simulates the study (or the shard of `--shard`) with a progress bar,
/// per-patient rows straight into `out`'s staging directory.
pub(super) fn simulate(study: &Study, args: &RunArgs, out: &OutputDir) -> Result<StudyRun> {
    let progress = BarProgress::new(args.quiet);
    let run = pipeline::run_study_into(study, &run_options(args), &progress, out);
    progress.finish();
    run
}

/// `crmo-sim run`: simulates the cohort (multi-threaded over patient
/// chunks) and writes every output file, staged and renamed into place.
/// With `--shard K/N` it runs slice K only and writes that slice's
/// accumulators for `merge`.
pub(super) fn run(args: &RunArgs) -> Result<PathBuf> {
    let study = load_study(args)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| pipeline::default_out(&study, args.shard));
    let dir = OutputDir::prepare(&out, args.replace)?;
    let run = simulate(&study, args, &dir)?;
    let shown = (!args.quiet).then(|| Shown::of(&study, &run));
    let opts = write_options(args.replace, args.no_plots, args.style);
    let written = pipeline::write_into(&study, run, dir, &opts)?;
    super::print_warnings(&written.warnings);
    if let Some(shown) = shown {
        shown.print(&written.dir);
    }
    Ok(written.dir)
}

/// What the command line prints of a run after it was written, rendered
/// before: the run's results move into the writer, and keeping (or
/// copying) every replicate's accumulators for a few printed lines would
/// double the memory a PSA holds while its files are written.
struct Shown {
    /// Every line but the last.
    body: Vec<u8>,
    /// The last line's words before the result directory.
    dir_prefix: &'static str,
}

impl Shown {
    fn of(study: &Study, run: &StudyRun) -> Self {
        let mut body = Vec::new();
        let dir_prefix = match run.shard().zip(run.shard_units()) {
            Some((shard, units)) => {
                let _ = writeln!(
                    body,
                    "shard {shard}: work units {}..{} of {}, {:.0} patient-years in {:.2} s",
                    units.start,
                    units.end,
                    study.work_units(),
                    run.patient_years(),
                    run.wall_seconds()
                );
                "shard in "
            }
            None => {
                write_summary(&mut body, study, run.results(), run.wall_seconds());
                "\nresults in "
            }
        };
        Self { body, dir_prefix }
    }

    fn print(&self, dir: &Path) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(&self.body);
        let _ = writeln!(out, "{}{}/", self.dir_prefix, dir.display());
    }
}

/// `crmo-sim merge`: reads all N shards of a run, checks they belong
/// together, and writes exactly the files one `run` writes (single-threaded
/// apart from the plots; merging is a sum of integers).
pub(super) fn merge(args: &MergeArgs) -> Result<()> {
    let (study, run) = pipeline::merge_shards(&args.shards)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| pipeline::default_out(&study, None));
    let dir = OutputDir::prepare_for(&run, &out, args.replace)?;
    let shown = (!args.quiet).then(|| Shown::of(&study, &run));
    let opts = write_options(args.replace, args.no_plots, args.style);
    let written = pipeline::write_into(&study, run, dir, &opts)?;
    super::print_warnings(&written.warnings);
    if let Some(shown) = shown {
        shown.print(&written.dir);
    }
    Ok(())
}

/// The short table printed after a run or merge (a sweep's, or the
/// headline of a study).
fn write_summary(out: &mut impl Write, study: &Study, results: &[CohortResult], wall_seconds: f64) {
    match study.sweep() {
        Some(sweep) => write_sweep(out, sweep, results, wall_seconds),
        None => write_headline(out, &results[0], wall_seconds),
    }
}

fn write_headline(out: &mut impl Write, res: &CohortResult, wall_seconds: f64) {
    let rows = res.summary();
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
        let mut without_value = 0;
        for (metric, label) in HEADLINE {
            if let Some(r) = rows.iter().find(|r| &r.arm == arm && r.metric == metric) {
                without_value +=
                    write_headline_row(out, label, r.mean, r.lower_95, r.upper_95) as usize;
            }
        }
        write_without_value_note(out, without_value);
    }
    write_headline_differences(out, res);
}

/// The headline metrics' paired differences of each arm from the reference
/// arm (the rows of `differences.csv`; nothing with one arm).
fn write_headline_differences(out: &mut impl Write, res: &CohortResult) {
    let rows = res.differences();
    let compared = res.arms.iter().filter(|a| *a != res.reference_arm());
    for arm in compared {
        let _ = writeln!(
            out,
            "\narm {arm} minus {} (paired, same patients)",
            res.reference_arm()
        );
        let _ = writeln!(
            out,
            "  {:<40} {:>10} {:>21}",
            "metric", "difference", "95% interval"
        );
        let mut without_value = 0;
        for (metric, label) in HEADLINE {
            if let Some(r) = rows.iter().find(|r| &r.arm == arm && r.metric == metric) {
                without_value +=
                    write_headline_row(out, label, r.mean_difference, r.lower_95, r.upper_95)
                        as usize;
            }
        }
        write_without_value_note(out, without_value);
    }
}

/// One line of a headline table; a metric without a value (not computed
/// in this scenario, or nobody to average over) is left out of the table,
/// which would otherwise show a column of dashes. True if left out.
fn write_headline_row(
    out: &mut impl Write,
    label: &str,
    value: f64,
    lower: f64,
    upper: f64,
) -> bool {
    if value.is_nan() {
        return true;
    }
    let _ = writeln!(
        out,
        "  {:<40} {:>10} {:>21}",
        label,
        fmt_num(round3(value)),
        format!("{} - {}", fmt_num(round3(lower)), fmt_num(round3(upper)))
    );
    false
}

/// Says how many headline metrics a table left out, and where to read why.
fn write_without_value_note(out: &mut impl Write, n: usize) {
    if n > 0 {
        let _ = writeln!(
            out,
            "  ({n} more without a value here: metrics.csv says why)"
        );
    }
}

/// The swept metric at every grid point, per arm.
fn write_sweep(
    out: &mut impl Write,
    sweep: &crate::study::sweep::Sweep,
    results: &[CohortResult],
    wall_seconds: f64,
) {
    let _ = writeln!(
        out,
        "sweep of {} grid point(s) in {:.2} s; {} (mean, 95% interval):",
        sweep.points.len(),
        wall_seconds,
        sweep.metric
    );
    for (p, res) in sweep.points.iter().zip(results) {
        let at: Vec<String> = sweep
            .parameters
            .iter()
            .zip(&p.values)
            .map(|(q, v)| format!("{} = {v}", q.path))
            .collect();
        let _ = writeln!(out, "\n  {}", at.join(", "));
        for r in res.summary().iter().filter(|r| r.metric == sweep.metric) {
            let _ = writeln!(
                out,
                "    {:<30} {:>10} {:>21}",
                r.arm,
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

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
