//! `owsa`: one-way sensitivity analysis of a scenario's distribution-valued
//! parameters ([`crate::economics::owsa`]), written as `owsa.csv` and a
//! tornado diagram per outcome, through a staging directory and with a manifest, like `run`.

use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;

use crate::economics::owsa::{owsa, OwsaOutcome, OwsaRow};
use crate::error::{Error, Result};
use crate::output::outdir::result_dir_name;
use crate::pipeline::{run_info, OutputDir};

use super::{load, with_threads};

/// Options of `owsa`.
#[derive(Debug, Args)]
pub struct OwsaArgs {
    /// Scenario file (TOML) with parameters given as distributions
    pub scenario: PathBuf,
    /// Outcome: `incremental_nmb` (net monetary benefit per patient of each
    /// arm minus the reference arm's (reference_arm, else the first), at --wtp; needs [economics]) or any metric
    /// of summary.csv
    #[arg(long, default_value = "incremental_nmb")]
    pub outcome: String,
    /// Willingness to pay per QALY for incremental_nmb (default: the middle
    /// of the scenario's wtp grid)
    #[arg(long)]
    pub wtp: Option<f64>,
    /// Patients per run (overrides the scenario's `patients`)
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=crate::scenario::limits::MAX_PATIENTS))]
    pub patients: Option<u64>,
    /// Output directory (default: output/<scenario name>-owsa)
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace --out even if it holds other files (moved aside, never deleted)
    #[arg(long)]
    pub replace: bool,
    /// Worker threads, 1 to 1024 (default: RAYON_NUM_THREADS, else all cores)
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=super::MAX_THREADS))]
    pub threads: Option<u64>,
    /// No progress and no table (the global `-q`)
    #[arg(skip)]
    pub quiet: bool,
    /// Do not draw the tornado diagrams
    #[arg(long)]
    pub no_plots: bool,
}

/// `crmo-sim owsa`: runs the base setting and every parameter low and high
/// (each run multi-threaded over patient chunks, one after the other), and
/// writes `owsa.csv` and the tornado diagrams.
pub(super) fn owsa_command(args: &OwsaArgs) -> Result<()> {
    let mut loaded = load(Some(&args.scenario))?;
    if let Some(n) = args.patients {
        loaded.scenario.patients = n;
        let text = loaded.text.parse::<toml::Table>().map(|mut doc| {
            doc.insert("patients".into(), toml::Value::Integer(n as i64));
            toml::to_string(&doc).unwrap_or_else(|_| loaded.text.clone())
        });
        loaded.text = text.unwrap_or_else(|_| loaded.text.clone());
    }
    let outcome = match args.outcome.as_str() {
        "incremental_nmb" => {
            let grid = loaded
                .scenario
                .economics
                .as_ref()
                .map(|e| e.wtp.values().to_vec())
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "{}: --outcome incremental_nmb needs [economics] in the scenario (or choose a metric with --outcome)",
                        loaded.origin
                    ))
                })?;
            let wtp = args
                .wtp
                .unwrap_or_else(|| crate::plot::economics::plane_threshold(&grid));
            if !(wtp.is_finite() && wtp >= 0.0) {
                return Err(Error::Usage(format!(
                    "--wtp {wtp} is not allowed: a finite number of 0 or more"
                )));
            }
            OwsaOutcome::IncrementalNmb { wtp }
        }
        m => OwsaOutcome::Metric(m.to_string()),
    };
    let name = format!("{}-owsa", loaded.name());
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("output").join(result_dir_name(&name)));
    // The base setting as a study: what the manifest records.
    let study = crate::study::Study::resolve(loaded.clone())?;
    let staging = OutputDir::prepare(&out, args.replace)?;
    let quiet = args.quiet;
    let started = std::time::Instant::now();
    let (rows, threads) = with_threads(args.threads, || {
        let rows = owsa(&loaded, &outcome, &|k, n| {
            if !quiet {
                eprintln!("owsa: run {k} of {n} done");
            }
        });
        (rows, rayon::current_num_threads())
    })?;
    let rows = rows?;
    let wall_seconds = started.elapsed().as_secs_f64();
    crate::study::psa::write_rows(staging.path(), "owsa.csv", &rows)?;
    if !args.no_plots {
        crate::plot::economics::tornado_plots(
            &rows,
            &loaded.name(),
            &staging.path().join("plots"),
        )?;
    }
    let mut info = run_info(&study, threads, 0.0, wall_seconds, &super::command_line());
    let written = staging.commit(&mut info)?;
    super::print_warnings(&written.warnings);
    let target = written.dir;
    if !quiet {
        print_rows(&rows, &outcome, &target);
    }
    Ok(())
}

/// The console table: per outcome, parameters by the width of their effect.
fn print_rows(rows: &[OwsaRow], outcome: &OwsaOutcome, target: &Path) {
    let mut out = std::io::stdout().lock();
    if let OwsaOutcome::IncrementalNmb { wtp } = outcome {
        let _ = writeln!(
            out,
            "incremental net monetary benefit per patient at {wtp} per QALY"
        );
    }
    let mut sorted: Vec<&OwsaRow> = rows.iter().collect();
    sorted.sort_by(|a, b| {
        a.outcome
            .cmp(&b.outcome)
            .then((b.high - b.low).abs().total_cmp(&(a.high - a.low).abs()))
    });
    let mut last = "";
    for r in sorted {
        if r.outcome != last {
            let _ = writeln!(out, "\n{} (base {:.4})", r.outcome, r.base);
            last = &r.outcome;
        }
        let _ = writeln!(
            out,
            "  {:<50} {:>12.4} .. {:>12.4}   (at {} .. {})",
            r.parameter,
            r.low,
            r.high,
            crate::scenario::dist::num(r.low_value),
            crate::scenario::dist::num(r.high_value)
        );
    }
    let _ = writeln!(out, "\nresults in {}/", target.display());
}
