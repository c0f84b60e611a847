//! `calibrate`: runs a scenario and compares it with the published targets
//! C1–C15 (and C16–C17, from the differential of `criteria`) or a targets
//! file (`--targets`); with `--fit`, first searches the
//! named parameters for the values closest to the targets and writes
//! `fitted.toml` and `fit.csv` beside the results of the fitted scenario.
//! Everything is checked before any work; results go through a staging
//! directory like `run`'s.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::calibrate::fit::{fit, trace_header, trace_line, FitOutcome, OnRow};
use crate::calibrate::fitted::{fitted_toml, written_values};
use crate::calibrate::space::{parse_requests, FitSpace};
use crate::calibrate::targets::{distance, Targets};
use crate::calibrate::{calibration_table, CalibrationRow};
use crate::error::{Error, Result};
use crate::output::outdir::result_dir_name;
use crate::pipeline::{self, OutputDir};
use crate::plot::report::ReportCalibration;
use crate::scenario::dist::num;
use crate::study::Study;

use super::run::{load_study, simulate, write_options};
use super::{with_threads, CalibrateArgs, RunArgs};

/// `crmo-sim calibrate` (with or without `--fit`).
pub(super) fn calibrate(args: &CalibrateArgs) -> Result<()> {
    let run = &args.run;
    let study = load_study(run)?;
    if run.shard.is_some() || study.sweep().is_some() {
        return Err(Error::Usage(
            "calibrate compares one whole cohort with the targets: run it without --shard and without [sweep]".into(),
        ));
    }
    let targets = Targets::load(args.targets.as_deref())?;
    targets.check_against(&study)?;
    if args.fit.is_empty() {
        let out = run
            .out
            .clone()
            .unwrap_or_else(|| Path::new("output").join(result_dir_name(&study.name())));
        let staging = OutputDir::prepare(&out, run.replace)?;
        let done = run_and_write(&study, &targets, run, staging)?;
        if !run.quiet {
            print_report(&done, &targets, &study, None);
        }
        return Ok(());
    }
    fit_and_write(&study, &targets, args)
}

/// What a calibration run reports: the rows, the simulated PedCNO70 of the
/// first arm with its Monte Carlo error, and the result directory.
struct Calibrated {
    rows: Vec<CalibrationRow>,
    target: PathBuf,
}

/// Simulates `study` into `staging`, writes `calibration.csv` and every
/// result file, and commits.
fn run_and_write(
    study: &Study,
    targets: &Targets,
    run: &RunArgs,
    staging: OutputDir,
) -> Result<Calibrated> {
    let sim = simulate(study, run, &staging)?;
    let mut rows = targets.rows(&sim.results()[0], study.scenario());
    if targets.is_published() {
        rows.extend(differential_rows(study, run)?);
    }
    let report = ReportCalibration {
        rows: rows.clone(),
        against: match targets {
            Targets::Published => "the published targets".into(),
            Targets::File { path, .. } => {
                format!("the targets of {path} (this arm unless the file names another)")
            }
        },
    };
    let mut opts = write_options(run.replace, run.no_plots, run.style);
    opts.calibration = Some(report);
    opts.extra_tables = vec![(
        "calibration.csv".into(),
        crate::calibrate::calibration_csv(&rows)?,
    )];
    let written = pipeline::write_into(study, sim, staging, &opts)?;
    super::print_warnings(&written.warnings);
    Ok(Calibrated {
        rows,
        target: written.dir,
    })
}

/// C16 and C17: the differential of `crmo-sim criteria` (the cohort's
/// first arm to diagnosis beside the mimics), with the threads of the run.
fn differential_rows(study: &Study, run: &RunArgs) -> Result<Vec<CalibrationRow>> {
    let cs = crate::validation::CriteriaStudy::resolve(study.clone())?;
    let tally = with_threads(run.threads, || cs.run(0..cs.units(), &|_| {}))??;
    let mut rows = crate::calibrate::mimics::mimic_rows(&tally);
    crate::calibrate::mark_not_applicable(&mut rows, study.scenario());
    Ok(rows)
}

/// What the fit started from, for the report.
struct FitSummary<'a> {
    space: &'a FitSpace,
    outcome: &'a FitOutcome,
    written: &'a [f64],
}

/// Prints the calibration table, the distance and where the results are.
fn print_report(done: &Calibrated, targets: &Targets, study: &Study, fit: Option<FitSummary<'_>>) {
    let rows = &done.rows;
    let mut out = std::io::stdout().lock();
    let arm = &study.arm_names()[0];
    let title = match targets {
        Targets::Published => format!("calibration of arm `{arm}` against the published targets"),
        Targets::File { path, .. } => format!(
            "calibration against the targets of {path} (arm `{arm}` unless the file names one)"
        ),
    };
    let _ = write!(out, "{}", calibration_table(rows, &title));
    let applying = rows.iter().filter(|r| r.not_applicable.is_none()).count();
    let _ = writeln!(
        out,
        "distance to the targets: {:.4} (sum of ((simulated - published) / tolerance)^2 over {applying} target(s) that apply)",
        distance(rows)
    );
    if let Some(f) = fit {
        let first = &f.outcome.rows[0];
        let best = f.outcome.best();
        let _ = writeln!(
            out,
            "\nfit: distance {:.4} at the start, {:.4} at the best point ({} iteration(s), {} simulation(s)); fitted.toml has",
            first.distance,
            best.distance,
            best.iteration,
            f.outcome.evaluations
        );
        for ((p, start), v) in f.space.parameters.iter().zip(&first.values).zip(f.written) {
            let _ = writeln!(out, "  {} = {}   (start {})", p.path, num(*v), num(*start));
        }
        for (id, why) in &f.outcome.left_out {
            let _ = writeln!(out, "  {id} left out of the distance: {why}");
        }
    }
    let _ = writeln!(out, "\nresults in {}/", done.target.display());
}

/// `calibrate --fit`: checks the parameters and the output directory,
/// searches, then writes `fitted.toml`, `fit.csv` and the fitted
/// scenario's results.
fn fit_and_write(study: &Study, targets: &Targets, args: &CalibrateArgs) -> Result<()> {
    let run = &args.run;
    let requests = parse_requests(&args.fit)?;
    let space = FitSpace::new(study.loaded(), &requests, run.patients, run.seed)?;
    let out = run.out.clone().unwrap_or_else(|| {
        Path::new("output").join(format!("{}-fit", result_dir_name(&study.name())))
    });
    let staging = OutputDir::prepare(&out, run.replace)?;
    let s = study.scenario();
    if !run.quiet {
        println!(
            "fitting {} parameter(s) on {} patients (seed {}), at most {} iteration(s):",
            space.parameters.len(),
            s.patients,
            s.seed,
            args.max_iters
        );
        for p in &space.parameters {
            println!(
                "  {} in {}, from {}",
                p.path,
                p.shown_bounds(),
                num(p.start)
            );
        }
    }
    let quiet = run.quiet;
    let header = trace_header(&space);
    let print_trace: OnRow = Box::new(move |row| {
        if quiet {
            return;
        }
        if row.iteration == 0 {
            println!("{header}");
        }
        println!("{}", trace_line(row));
    });
    let outcome = with_threads(run.threads, || {
        fit(&space, targets, args.max_iters, print_trace)
    })??;
    let written = written_values(&space, &outcome.best().values);
    let text = fitted_toml(
        &study.loaded().text,
        &space,
        &written,
        &fitted_header(&space, &outcome, &written, study, args),
    )?;
    let fitted_path = staging.path().join("fitted.toml");
    std::fs::write(&fitted_path, &text).map_err(|e| Error::output(&fitted_path, e))?;
    write_fit_csv(&space, &outcome, &staging.path().join("fit.csv"))?;
    let mut loaded = crate::scenario::parse(&text, "fitted.toml")?;
    if let Some(n) = run.patients {
        loaded.scenario.patients = n;
    }
    if let Some(seed) = run.seed {
        loaded.scenario.seed = seed;
    }
    let fitted = Study::resolve(loaded)?;
    let done = run_and_write(&fitted, targets, run, staging)?;
    if run.quiet {
        return Ok(());
    }
    print_report(
        &done,
        targets,
        &fitted,
        Some(FitSummary {
            space: &space,
            outcome: &outcome,
            written: &written,
        }),
    );
    Ok(())
}

/// The comment lines at the top of `fitted.toml`.
fn fitted_header(
    space: &FitSpace,
    outcome: &FitOutcome,
    written: &[f64],
    study: &Study,
    args: &CalibrateArgs,
) -> String {
    let s = study.scenario();
    let against = match &args.targets {
        Some(p) => format!("the targets of {}", p.display()),
        None => "the published targets C1-C15".to_string(),
    };
    let mut h = format!(
        "# Fitted by `crmo-sim calibrate --fit` to {against} on {} patients (seed {}):\n# distance {:.4} at the start, {:.4} fitted.\n",
        s.patients,
        s.seed,
        outcome.rows[0].distance,
        outcome.best().distance
    );
    for ((p, start), v) in space
        .parameters
        .iter()
        .zip(&outcome.rows[0].values)
        .zip(written)
    {
        h += &format!("#   {} = {} (was {})\n", p.path, num(*v), num(*start));
    }
    h + "\n"
}

/// `fit.csv`: `iteration,<parameter>...,distance`, one row per iteration
/// (the best point so far; iteration 0 is the start).
fn write_fit_csv(space: &FitSpace, outcome: &FitOutcome, path: &Path) -> Result<()> {
    let err = |e: csv::Error| Error::output(path, e.into());
    let mut w = csv::Writer::from_path(path).map_err(err)?;
    let mut header = vec!["iteration".to_string()];
    header.extend(space.parameters.iter().map(|p| p.path.clone()));
    header.push("distance".into());
    w.write_record(&header).map_err(err)?;
    for row in &outcome.rows {
        let mut record = vec![row.iteration.to_string()];
        record.extend(row.values.iter().map(|v| v.to_string()));
        record.push(row.distance.to_string());
        w.write_record(&record).map_err(err)?;
    }
    w.flush().map_err(|e| Error::output(path, e))
}
