//! `crmo-sim trial`: virtual randomised trials of a scenario's arms (power,
//! type I error, sample size), written through a staging directory like
//! `run`; `trial --shard K/N` runs a slice of the trials and `merge`
//! combines the slices.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;

use crate::error::{Error, Result};
use crate::output::outdir::result_dir_name;
use crate::output::writer::RunInfo;
use crate::pipeline::OutputDir;
use crate::plot::power::{power_plots, PowerCaption};
use crate::study::shard::ShardSpec;
use crate::study::Study;
use crate::trial::design::{Overrides, TrialDesign};
use crate::trial::results::{power_rows, sample_size_rows};
use crate::trial::run::TrialContext;
use crate::trial::shard::{merge_trial_shards, TrialShardFile};
use crate::trial::{run_design, TrialRun};

use super::{load, progress_bar, with_threads, MergeArgs};

/// Options of `trial`.
#[derive(Debug, Args)]
#[command(after_long_help = TRIAL_HELP)]
pub struct TrialArgs {
    /// Scenario file (TOML) with at least two arms; its [trial] table sets
    /// the design, which these flags override
    pub scenario: PathBuf,
    /// Patients per arm, one trial size each, e.g. 20,40,80 (default 20,40,80)
    #[arg(long, value_delimiter = ',', value_name = "N,N,...")]
    pub per_arm: Option<Vec<u64>>,
    /// Simulated trials per size (default 1000)
    #[arg(long)]
    pub trials: Option<u64>,
    /// The endpoint: pedcno50_6_months, pedcno50_12_months (default),
    /// flare_free_12_months, time_to_relapse, flares_per_patient_year,
    /// activity_score_12_months
    #[arg(long)]
    pub endpoint: Option<String>,
    /// Two-sided significance level, in (0, 0.5] (default 0.05)
    #[arg(long, allow_negative_numbers = true)]
    pub alpha: Option<f64>,
    /// Find the smallest patients per arm reaching this power: the grid,
    /// then bisection between the sizes around it (not with --shard)
    #[arg(long, allow_negative_numbers = true)]
    pub target_power: Option<f64>,
    /// The control arm (default: [trial] control, else the first arm)
    #[arg(long)]
    pub control: Option<String>,
    /// Entry: diagnosis (default) or first_step_failed (the usual first
    /// step, [trial] first_step, has failed; the arm's ladder starts then)
    #[arg(long)]
    pub enrol: Option<String>,
    /// Test of a binary endpoint: chi_square (default) or fisher
    #[arg(long)]
    pub binary_test: Option<String>,
    /// Use replicate R's parameter draws (from 0; with parameters given as
    /// distributions, one PSA draw per command; default 0)
    #[arg(long, value_name = "R")]
    pub replicate: Option<u32>,
    /// Seed, 0 to 2^63-1 (overrides the scenario's `seed`)
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=crate::scenario::limits::MAX_SEED))]
    pub seed: Option<u64>,
    /// Output directory (default: output/<scenario name>-trial); an existing
    /// one is replaced only if it holds nothing but an earlier result's own files
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace --out even if it holds other files: the whole old directory is
    /// moved aside to <out>.old-<time>, never deleted
    #[arg(long)]
    pub replace: bool,
    /// Worker threads, 1 to 1024 (default: RAYON_NUM_THREADS, else all cores)
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=super::MAX_THREADS))]
    pub threads: Option<u64>,
    /// No progress bar and no table (the global `-q`)
    #[arg(skip)]
    pub quiet: bool,
    /// Do not draw the power curve
    #[arg(long)]
    pub no_plots: bool,
    /// Style of the power curve: paper, or slide (1920x1080, large text)
    #[arg(long, value_enum, default_value_t = crate::plot::Style::Paper)]
    pub style: crate::plot::Style,
    /// Run only slice K of N of the trials and write them for `merge`
    #[arg(long, value_name = "K/N")]
    pub shard: Option<ShardSpec>,
}

const TRIAL_HELP: &str = "\
Each simulated trial enrols its own patients into each arm (random streams
keyed by seed, patients per arm, trial, arm and patient), from diagnosis or
from failure of the usual first step, until each arm is full; measures the
endpoint from entry; and tests every arm against the control. Tests:
binary endpoints Pearson chi-square without continuity correction (or
Fisher's exact test), time_to_relapse the log-rank test (hazard ratio by the
O/E ratio), flares_per_patient_year a quasi-Poisson rate ratio, the activity
score Welch's t-test. Loss to follow-up censors time to relapse, shortens
the time of the rate, and makes the other endpoints missing.

Writes power.csv, trials.csv, trial_patients.csv (trial 0 of each size),
screening.csv, sample_size.csv (with --target-power), trial_design.json,
plots/power.png and .svg, report.html and manifest.json.

Example:
  crmo-sim trial scenarios/trial-nsaid-vs-pamidronate.toml \\
    --per-arm 20,40,80 --trials 1000 --endpoint pedcno50_12_months --target-power 0.8";

impl TrialArgs {
    fn overrides(&self) -> Overrides {
        Overrides {
            per_arm: self.per_arm.clone(),
            trials: self.trials,
            endpoint: self.endpoint.clone(),
            alpha: self.alpha,
            control: self.control.clone(),
            enrol: self.enrol.clone(),
            binary_test: self.binary_test.clone(),
            target_power: self.target_power,
            replicate: self.replicate,
        }
    }
}

/// Loads the scenario and resolves the design: every refusal happens here,
/// before any output directory is touched.
fn prepare(args: &TrialArgs) -> Result<(Study, TrialDesign, Overrides)> {
    let mut loaded = load(Some(&args.scenario))?;
    if let Some(s) = args.seed {
        loaded.scenario.seed = s;
    }
    super::thread_count(args.threads)?;
    let flags = args.overrides();
    let study = crate::trial::design::trial_study(loaded, &flags)?;
    let design = TrialDesign::resolve(&study, &flags)?;
    if args.shard.is_some() && design.target_power.is_some() {
        return Err(Error::Usage(
            "--target-power runs the sizes it needs one after another and cannot be split with --shard: run the grid in shards, then the search on one machine".into(),
        ));
    }
    // Fail on an impossible plan now rather than in the first trial.
    TrialContext::new(&study, &design)?;
    Ok((study, design, flags))
}

/// `crmo-sim trial`.
pub(super) fn trial(args: &TrialArgs) -> Result<PathBuf> {
    let (study, design, flags) = prepare(args)?;
    if let Some(shard) = args.shard {
        return trial_shard(&study, &design, &flags, shard, args);
    }
    let out = args.out.clone().unwrap_or_else(|| default_out(&study));
    let staging = OutputDir::prepare(&out, args.replace)?;
    let total = enrolled_total(&design, study.arms().len());
    let pb = progress_bar(total, args.quiet);
    let started = Instant::now();
    let (run, threads) = with_threads(args.threads, || {
        let r = run_design(&study, &design, &|n| pb.inc(n));
        (r, rayon::current_num_threads())
    })?;
    let run = run?;
    pb.finish_and_clear();
    let wall = started.elapsed().as_secs_f64();
    let mut info = write_all(&study, &run, staging.path(), args.no_plots, args.style)?;
    (info.threads, info.wall_seconds) = (threads, wall);
    let target = commit(staging, &mut info)?;
    if !args.quiet {
        print_table(&run, &target, wall);
    }
    Ok(target)
}

fn default_out(study: &Study) -> PathBuf {
    Path::new("output").join(format!("{}-trial", result_dir_name(&study.name())))
}

fn enrolled_total(design: &TrialDesign, arms: usize) -> u64 {
    design.per_arm.iter().sum::<u64>() * design.trials * arms as u64
}

/// Writes the manifest, puts the result directory in place and prints the
/// warnings; returns where it is.
fn commit(out: OutputDir, info: &mut RunInfo) -> Result<PathBuf> {
    let written = out.commit(info)?;
    super::print_warnings(&written.warnings);
    Ok(written.dir)
}

/// Writes the tables, the plot and the report of `run` into `dir`; returns
/// the manifest's facts (threads and seconds still 0), written at commit.
fn write_all(
    study: &Study,
    run: &TrialRun,
    dir: &Path,
    no_plots: bool,
    style: crate::plot::Style,
) -> Result<RunInfo> {
    crate::trial::output::write_tables(dir, run)?;
    if !no_plots {
        let rows = power_rows(&run.design, &run.arms, &run.records);
        let caption = PowerCaption {
            scenario: study.name(),
            alpha: run.design.alpha,
            target: run.design.target_power,
            entry: run.design.entry.as_str().into(),
        };
        power_plots(&rows, &caption, &dir.join("plots"), style)?;
    }
    crate::trial::report::write_report(dir, run, &study.name(), &study.loaded().text)?;
    Ok(info(study, run, 0, 0.0))
}

/// The manifest facts of a trial run (`patients`: patients screened).
fn info(study: &Study, run: &TrialRun, threads: usize, wall_seconds: f64) -> RunInfo {
    let mut info = crate::pipeline::run_info(
        study,
        threads,
        run.patient_years(),
        wall_seconds,
        &super::command_line(),
    );
    info.patients = run.screened();
    info.replicates = 1;
    (info.sweep, info.reference_arm) = (None, None);
    // A trial keys its arms' streams differently from a cohort run.
    info.rng = trial_rng();
    info
}

/// How `RNG_CRATES` names the patient streams, which a trial's manifest
/// completes with how its arms are keyed.
const PATIENT_STREAMS: &str = "(Pcg64Mcg patient streams)";

/// The manifest's `rng` of a trial.
fn trial_rng() -> String {
    crate::engine::rng::RNG_CRATES.replace(
        PATIENT_STREAMS,
        "(Pcg64Mcg patient streams; trial arms keyed by (seed, per_arm, trial, arm))",
    )
}

/// `trial --shard K/N`: runs slice K of the trials and writes them.
fn trial_shard(
    study: &Study,
    design: &TrialDesign,
    flags: &Overrides,
    shard: ShardSpec,
    args: &TrialArgs,
) -> Result<PathBuf> {
    let out = args.out.clone().unwrap_or_else(|| {
        Path::new("output").join(format!(
            "{}-trial-shard-{}-of-{}",
            result_dir_name(&study.name()),
            shard.index,
            shard.count
        ))
    });
    let staging = OutputDir::prepare(&out, args.replace)?;
    let ctx = TrialContext::new(study, design)?;
    let units = shard.units(ctx.units());
    let pb = progress_bar(
        (units.end - units.start) * design.per_arm[0] * study.arms().len() as u64,
        args.quiet,
    );
    let started = Instant::now();
    let (records, threads) = with_threads(args.threads, || {
        let r = ctx.run_units(units.clone(), &|n| pb.inc(n));
        (r, rayon::current_num_threads())
    })?;
    let records = records?;
    pb.finish_and_clear();
    let wall_seconds = started.elapsed().as_secs_f64();
    let file = TrialShardFile {
        identity: TrialShardFile::identity(study, flags, shard.count),
        shard,
        scenario_text: study.loaded().text.clone(),
        scenario_origin: study.loaded().origin.clone(),
        units: (units.start, units.end),
        wall_seconds,
        records: records.clone(),
    };
    file.write(staging.path())?;
    let run = TrialRun::new(design.clone(), study.arm_names(), records);
    let mut info = info(study, &run, threads, wall_seconds);
    info.shard = Some(shard.to_string());
    let target = commit(staging, &mut info)?;
    if !args.quiet {
        println!(
            "trial shard {shard}: trials {}..{} of {} in {wall_seconds:.2} s\nshard in {}/",
            units.start,
            units.end,
            ctx.units(),
            target.display()
        );
    }
    Ok(target)
}

/// `merge` of trial shards: the files one `trial` run writes.
pub(super) fn merge(args: &MergeArgs) -> Result<()> {
    let merged = merge_trial_shards(&args.shards)?;
    let study = &merged.study;
    let out = args.out.clone().unwrap_or_else(|| default_out(study));
    let staging = OutputDir::prepare(&out, args.replace)?;
    let mut info = write_all(
        study,
        &merged.run,
        staging.path(),
        args.no_plots,
        args.style,
    )?;
    info.wall_seconds = merged.wall_seconds;
    let target = commit(staging, &mut info)?;
    if !args.quiet {
        print_table(&merged.run, &target, merged.wall_seconds);
    }
    Ok(())
}

/// The power table printed after a run.
fn print_table(run: &TrialRun, target: &Path, wall_seconds: f64) {
    let d = &run.design;
    let rows = power_rows(d, &run.arms, &run.records);
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{} trials per size, endpoint {} ({}, two-sided alpha {}), entry at {}, in {wall_seconds:.2} s",
        d.trials,
        d.endpoint.as_str(),
        d.test_name(),
        d.alpha,
        d.entry.as_str()
    );
    let _ = writeln!(
        out,
        "  {:>7}  {:<28} {:>7} {:>17} {:>9} {:>9} {:>9}",
        "per_arm", "arm (against control)", "power", "95% interval", "control", "arm", "effect"
    );
    let num = |x: Option<f64>| x.map_or("-".into(), |v| format!("{v:.3}"));
    for r in &rows {
        let _ = writeln!(
            out,
            "  {:>7}  {:<28} {:>7.3} {:>17} {:>9} {:>9} {:>9}",
            r.per_arm,
            r.arm,
            r.power,
            format!("{:.3} - {:.3}", r.power_lower_95, r.power_upper_95),
            num(r.control_mean),
            num(r.arm_mean),
            num(r.effect_mean)
        );
    }
    if let Some(t) = d.target_power {
        for s in sample_size_rows(&rows, t) {
            let _ = match s.per_arm {
                Some(n) => writeln!(
                    out,
                    "smallest size reaching power {t} for {}: {n} per arm (power {:.3})",
                    s.arm,
                    s.power.unwrap_or(0.0)
                ),
                None => writeln!(
                    out,
                    "no simulated size reached power {t} for {}: add larger sizes to --per-arm",
                    s.arm
                ),
            };
        }
    }
    let screened = run.screened();
    let enrolled: u64 = run
        .records
        .iter()
        .map(|r| r.per_arm * r.groups.len() as u64)
        .sum();
    let _ = writeln!(
        out,
        "{enrolled} patients enrolled of {screened} screened (see screening.csv)\nresults in {}/",
        target.display()
    );
}

#[cfg(test)]
mod tests {
    /// A trial's manifest says how its arms are keyed whatever the
    /// generator is called: the text completed is in `RNG_CRATES`.
    #[test]
    fn the_trial_manifest_names_how_arms_are_keyed() {
        assert!(super::trial_rng().contains("trial arms keyed by"));
    }
}
